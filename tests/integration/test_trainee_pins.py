"""Trainee PINs in the store and on the command line: `trainer trainees pins on|off`, `trainer trainees set-pin BADGE`,
the salted hash, and the growing wait after wrong PINs (kept in the database).

Before: a badge number alone signed a trainee in, anywhere; there was no PIN to set or check.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from backends import scalars
from test_store_migrations import _database_at

from trainer import pins
from trainer.cli import main
from trainer.store import Store
from trainer.store.records import PinResult


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> tuple:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_instructor_turns_pins_on_and_sets_a_trainees_pin(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(db_url) as store:
        store.upsert_trainee("B1", "Ann Lee", "Press")
    assert run(capsys, monkeypatch, "trainees", "pins", "--db", db_url)[1].startswith("trainee PINs are off")
    code, out, _ = run(capsys, monkeypatch, "trainees", "pins", "on", "--db", db_url)
    assert code == 0 and out.startswith("trainee PINs are on")

    code, out, err = run(capsys, monkeypatch, "trainees", "set-pin", "B1", "--db", db_url, stdin="4821\n")
    assert (code, out, err) == (0, "PIN of B1 set\n", "")
    stored = scalars(db_url, "SELECT pin_hash FROM trainee_pins WHERE badge = 'B1'")[0]
    assert stored.startswith("scrypt$") and "4821" not in stored  # a salted hash, never the PIN
    with Store.open(db_url) as store:
        assert store.get_setting(pins.SETTING) == "on" and store.has_pin("B1")
        assert store.try_pin("B1", lambda h: pins.pin_matches("4821", h), pins.wait_ms).result is PinResult.RIGHT
        assert store.try_pin("B1", lambda h: pins.pin_matches("1111", h), pins.wait_ms).result is PinResult.WRONG

    code, out, _ = run(capsys, monkeypatch, "trainees", "set-pin", "B1", "--clear", "--db", db_url)
    assert code == 0 and "cleared" in out
    with Store.open(db_url) as store:
        assert not store.has_pin("B1")


@pytest.mark.parametrize(
    ("argv", "stdin", "says"),
    [
        (["trainees", "set-pin", "B1"], "12a4\n", "a PIN is 4 to 8 digits"),
        (["trainees", "set-pin", "B1"], "123\n", "a PIN is 4 to 8 digits"),
        (["trainees", "set-pin", "B1"], "123456789\n", "a PIN is 4 to 8 digits"),
        (["trainees", "set-pin", "NOBODY"], "1234\n", "no trainee with badge NOBODY"),
    ],
)
def test_a_bad_pin_or_badge_is_one_line_and_changes_nothing(
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    stdin: str,
    says: str,
) -> None:
    with Store.open(db_url) as store:
        store.upsert_trainee("B1", "Ann Lee", "Press")
    code, out, err = run(capsys, monkeypatch, *argv, "--db", db_url, stdin=stdin)
    assert code != 0 and out == "" and err.count("\n") == 1 and says in err and "Traceback" not in err
    with Store.open(db_url) as store:
        assert not store.has_pin("B1")


def test_wrong_pins_make_the_next_wait_longer_and_a_right_one_forgets_them(db_url: str) -> None:
    with Store.open(db_url) as store:
        store.upsert_trainee("B1", "Ann Lee", "Press")
        store.set_pin("B1", pins.hash_pin("4821"), by="trainee")
        t0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)

        def guess(pin: str, at: timedelta) -> tuple[PinResult, int]:
            attempt = store.try_pin("B1", lambda h: pins.pin_matches(pin, h), pins.wait_ms, now=t0 + at)
            return attempt.result, attempt.wait_ms

        for _ in range(pins.FREE_FAILURES):  # typos cost nothing
            assert guess("0000", timedelta(0)) == (PinResult.WRONG, 0)
        assert guess("0000", timedelta(0)) == (PinResult.WRONG, 1000)
        # too soon: refused without being tried, even the right PIN, however many tabs ask
        assert guess("4821", timedelta(milliseconds=400)) == (PinResult.WAIT, 600)
        assert guess("0000", timedelta(seconds=1)) == (PinResult.WRONG, 2000)
        assert guess("0000", timedelta(seconds=3)) == (PinResult.WRONG, 4000)
        assert guess("4821", timedelta(seconds=7)) == (PinResult.RIGHT, 0)
        assert guess("0000", timedelta(seconds=7)) == (PinResult.WRONG, 0)  # counting starts again
    with Store.open(db_url) as store:  # another process sees the same count (it is in the database)
        assert (
            store.try_pin("B1", lambda h: False, pins.wait_ms, now=t0 + timedelta(seconds=8)).result is PinResult.WRONG
        )
        assert scalars(db_url, "SELECT failures FROM trainee_pins")[0] == 2
    assert pins.wait_ms(100) == pins.MAX_WAIT_MS


def test_a_version_3_database_gets_the_pin_table(db_url: str) -> None:
    _database_at(db_url, 3)
    with Store.open(db_url) as store:
        assert store.upgraded_from == 3
        store.upsert_trainee("B1", "Ann Lee", "Press")
        store.set_pin("B1", pins.hash_pin("4821"), by="trainee")
        assert store.has_pin("B1")


def test_names_match_whatever_their_case_width_or_spaces() -> None:
    assert pins.same_name("  ann  LEE ", "Ann Lee")
    assert pins.same_name("张 三", "张三") and pins.same_name("ＡＮＮ", "Ann")
    assert not pins.same_name("Ann", "Ann Lee") and not pins.same_name("", "")
