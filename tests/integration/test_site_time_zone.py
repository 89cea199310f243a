"""The site's time zone (#18 item 4): dates, periods and expiry are counted in the database's zone, not the machine's.

An attempt at 07:30 China time on 2026-11-01 is 23:30 UTC on 2026-10-31: a server running in UTC used to leave it out
of `--since 2026-11-01` and move its expiry a day earlier. Every command here runs in a process whose TZ is UTC.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from cliproc import run_cli, trainer
from test_export_support import EXPERT, FIXTURES, course, play, register

from trainer import sitetime
from trainer.export.cells import TEXT_MARK
from trainer.store.store import Store

UTC_MACHINE = {"TZ": "UTC", "TRAINER_TODAY": "2026-11-20"}
SEVEN_THIRTY_IN_CHINA = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # 2026-11-01 07:30 in Asia/Shanghai


@pytest.fixture
def db(tmp_path: Path, utc_machine) -> Path:
    path = tmp_path / "site.db"
    with Store.open(path) as store:
        register(store, "000123", "张伟", "冲压车间")
        play(store, course(), "000123", EXPERT, at=SEVEN_THIRTY_IN_CHINA)  # passed, 100
    return path


def run(db: Path, *args: str, env: dict[str, str] | None = None):
    return run_cli(*args, db=str(db), env={**UTC_MACHINE, **(env or {})})


def sheet_rows(db: Path, out: Path, *args: str) -> list[dict[str, str]]:
    done = run(db, "export", "scores", "--courses", str(FIXTURES), "--out", str(out), "--force", *args)
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))


def test_a_china_morning_is_in_its_chinese_day_on_a_utc_server(db, tmp_path):
    done = run(db, "db", "set", "timezone", "Asia/Shanghai", "--reason", "the plant is in Chongqing")
    assert done.returncode == 0, done.stderr
    assert "timezone = Asia/Shanghai (was UTC)" in done.stdout

    rows = sheet_rows(db, tmp_path / "s.csv", "--since", "2026-11-01")
    assert [(r["badge"].removeprefix(TEXT_MARK), r["latest date"], r["certification valid until"]) for r in rows] == [
        ("000123", "2026-11-01", "2027-11-01")  # mini: 365 days after the day of the pass, the plant's day
    ]
    assert sheet_rows(db, tmp_path / "s.csv", "--until", "2026-10-31") == []
    # The XLSX reads the period in SQL (an aware 2026-11-01 00:00+08:00 used to be compared as text on SQLite).
    xlsx = tmp_path / "s.xlsx"
    done = run(db, "export", "scores", "--courses", str(FIXTURES), "--out", str(xlsx), "--since", "2026-11-01")
    assert done.returncode == 0, done.stderr
    attempts = list(openpyxl.load_workbook(xlsx)["Attempts"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[7]) for r in attempts] == [("000123", datetime(2026, 11, 1, 7, 30))]

    # --tz: the same sheet as a UTC site would see it, for one command; the database keeps its zone.
    assert sheet_rows(db, tmp_path / "s.csv", "--since", "2026-11-01", "--tz", "UTC") == []
    (utc_row,) = sheet_rows(db, tmp_path / "s.csv", "--tz", "UTC")
    assert (utc_row["latest date"], utc_row["certification valid until"]) == ("2026-10-31", "2027-10-31")

    due = run(db, "report", "due", "--courses", str(FIXTURES), "--within", "400")
    assert due.returncode == 0, due.stderr
    assert "2027-11-01" in due.stdout and "2027-10-31" not in due.stdout
    mine = run(db, "report", "trainee", "000123", "--courses", str(FIXTURES))
    assert "2027-11-01" in mine.stdout and "2026-11-01 07:30" in mine.stdout

    trail = run(db, "audit", "list")
    assert "setting timezone changed from UTC to Asia/Shanghai" in trail.stdout
    assert "the plant is in Chongqing" in trail.stdout
    assert "timezone: Asia/Shanghai" in run(db, "db", "info").stdout


@pytest.mark.parametrize("command", [("db", "set", "timezone", "Asia/Shangai"), ("report", "due", "--tz", "CST")])
def test_a_zone_that_does_not_exist_is_one_line_and_changes_nothing(db, command):
    done = run(db, *command)
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("trainer: error: ")
    assert "not a time zone" in done.stderr and "Traceback" not in done.stderr
    assert "timezone: UTC" in run(db, "db", "info").stdout


def test_a_new_database_takes_the_zone_of_the_machine_that_creates_it(tmp_path):
    path = tmp_path / "new.db"
    done = trainer("db", "info", db=str(path), env={"TZ": "Asia/Shanghai"})
    assert "timezone: Asia/Shanghai" in done.stdout, done.stderr
    # ... and keeps it when a machine in another zone opens it.
    assert "timezone: Asia/Shanghai" in trainer("db", "info", db=str(path), env={"TZ": "UTC"}).stdout


def test_sessions_and_the_audit_trail_show_and_filter_by_the_sites_time(db):
    run(db, "db", "set", "timezone", "Asia/Shanghai")
    listed = run(db, "sessions", "list", "--since", "2026-11-01")
    assert "2026-11-01 07:30" in listed.stdout, listed.stderr  # on the plant's clock, inside its day
    assert "000123" not in run(db, "sessions", "list", "--since", "2026-11-01T08:00").stdout
    (trail,) = [line for line in run(db, "audit", "list").stdout.splitlines() if "setting.set" in line]
    assert trail.startswith(datetime.now(UTC).astimezone(sitetime.zone("Asia/Shanghai")).strftime("%Y-%m-%d"))


def test_an_upgraded_database_gets_the_upgrading_machines_zone_and_a_plant_column(tmp_path):
    from test_store_migrations import _database_at

    from trainer.store import schema

    path = tmp_path / "v4.db"
    _database_at(f"sqlite:///{path}", 4)
    done = trainer("db", "upgrade", db=str(path), env={"TZ": "Asia/Shanghai"})
    assert done.returncode == 0, done.stderr
    assert "5: the roster (trainees' role, plant, hire date, merges), required courses, the site's time zone" in done.stdout
    assert "timezone: Asia/Shanghai" in trainer("db", "info", db=str(path), env={"TZ": "UTC"}).stdout
    with Store.open(path) as store:
        store.upsert_trainee("B1", "王芳", "冲压车间")
        with store._engine.begin() as conn:
            conn.execute(schema.trainees.update().values(plant="重庆一厂"))
        assert store.get_trainee("B1").plant == "重庆一厂"
