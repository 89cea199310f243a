"""The site's time zone (trainer/sitetime.py): days, midnights and wall times in a named zone, whatever the machine's."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from trainer import sitetime
from trainer.errors import UsageError

SHANGHAI = sitetime.zone("Asia/Shanghai")


def test_an_early_morning_in_china_is_that_chinese_day_on_a_utc_machine(utc_machine):
    at = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # 07:30 on 2026-11-01 in China
    assert sitetime.day(at, SHANGHAI) == date(2026, 11, 1)
    assert sitetime.midnight(date(2026, 11, 1), SHANGHAI) == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert sitetime.wall(at.replace(microsecond=999), SHANGHAI) == datetime(2026, 11, 1, 7, 30)


@pytest.mark.parametrize("bad", ["Asia/Shangai", "asia/shanghai", "", "../etc/passwd", "/etc/localtime", "CST-8"])
def test_a_zone_that_is_not_an_iana_name_is_refused_with_a_hint(bad):
    with pytest.raises(UsageError, match="not a time zone") as err:
        sitetime.zone(bad, "--tz")
    assert str(err.value).startswith("--tz")
    if bad.lower().startswith("asia"):
        assert "Asia/Shanghai" in str(err.value)


@pytest.mark.parametrize(
    ("tz", "expected"),
    [("Asia/Shanghai", "Asia/Shanghai"), (":Europe/Berlin", "Europe/Berlin"), ("CST-8", "Etc/GMT-8")],
)
def test_the_machines_zone_is_named_from_tz(monkeypatch, tz, expected):
    monkeypatch.setenv("TZ", tz)
    time.tzset()
    try:
        assert sitetime.machine_zone() == expected
    finally:
        monkeypatch.undo()
        time.tzset()


class _Settings:
    def __init__(self, value):
        self.value = value

    def get_setting(self, key):
        assert key == sitetime.SETTING
        return self.value


def test_the_site_zone_is_tz_then_the_setting_then_the_machine(monkeypatch):
    assert sitetime.site_zone(_Settings("Asia/Shanghai")) == SHANGHAI
    assert sitetime.site_zone(_Settings("Asia/Shanghai"), "UTC").key == "UTC"
    monkeypatch.setenv("TZ", "Europe/Berlin")
    assert sitetime.site_zone(_Settings(None)).key == "Europe/Berlin"
    with pytest.raises(UsageError, match="db set timezone"):
        sitetime.site_zone(_Settings("Mars/Olympus"))


def test_today_is_the_sites_date_or_trainer_today(monkeypatch):
    monkeypatch.setenv(sitetime.TODAY_ENV, "2027-03-05")
    assert sitetime.today(SHANGHAI) == date(2027, 3, 5)
    monkeypatch.setenv(sitetime.TODAY_ENV, "soon")
    with pytest.raises(UsageError, match="TRAINER_TODAY"):
        sitetime.today(SHANGHAI)
    monkeypatch.delenv(sitetime.TODAY_ENV)
    assert sitetime.today(SHANGHAI) == datetime.now(SHANGHAI).date()
