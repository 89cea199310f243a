"""The instructor's sign-in in the app: wrong passwords in a row make the next try wait, shown in both languages,
kept in the database (a new app on the same database still waits), and every attempt is in the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from screen import Clock, library, screen_text, settled

from trainer.instructor_password import SETTING, hash_password
from trainer.store.store import Store
from trainer.tui.app import TrainerApp


class WallClock:
    """The store's UTC clock, moved by the test: the waits are checked without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def wall(monkeypatch):
    clock = WallClock()
    monkeypatch.setattr("trainer.store.access.utcnow", clock)
    return clock


def signin_app(db, lang: str) -> TrainerApp:
    store = Store.open(f"sqlite:///{db}")
    return TrainerApp(library(), store, lang=lang, clock=Clock(), seed=lambda: 1, instructor=True, sign_in=True)


async def test_wrong_passwords_make_the_next_try_wait_in_both_languages_and_survive_a_restart(tmp_path, wall):
    db = tmp_path / "t.db"
    with Store.open(f"sqlite:///{db}") as store:
        store.set_instructor_password(SETTING, hash_password("correct horse"))
    app = signin_app(db, "en")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "Instructor password" in screen_text(app)
        for _ in range(2):
            await pilot.press(*"wrong horse", "enter")
            await settled(pilot)
        assert "Wrong password." in screen_text(app)
        await pilot.press(*"wrong horse", "enter")
        await settled(pilot)
        assert "Wrong password (3 in a row): wait 1 s before the next try." in screen_text(app)
        await pilot.press(*"correct horse", "enter")  # within the second: refused without being checked
        await settled(pilot)
        text = screen_text(app)
        assert "Too many wrong passwords: wait 1 s" in text and "Preview a course" not in text
        await pilot.press("f2")
        await pilot.pause()
        assert "密码错误次数太多：请等 1 秒再试" in screen_text(app)
    app.store.close()
    # A new app (a restarted process) on the same database: the wait is read from the database, not from memory.
    app = signin_app(db, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press(*"correct horse", "enter")
        await settled(pilot)
        assert "请等 1 秒再试" in screen_text(app)
        wall.now += timedelta(seconds=1)  # the wait is over: the right password opens the lists
        await pilot.press(*"correct horse", "enter")
        await settled(pilot)
        assert "预览课程" in screen_text(app)
    with Store.open(f"sqlite:///{db}") as store:
        actions = [r.action for r in store.audit_trail()]
    assert actions == [
        "instructor.password_set",
        *["instructor.login_failed"] * 3,
        "instructor.login_refused",
        "instructor.login_refused",
        "instructor.login_ok",
    ]
    app.store.close()


async def test_the_right_password_opens_the_instructor_lists_and_is_recorded(tmp_path, wall):
    db = tmp_path / "t.db"
    with Store.open(f"sqlite:///{db}") as store:
        store.set_instructor_password(SETTING, hash_password("correct horse"))
    app = signin_app(db, "en")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press(*"correct horse", "enter")
        await settled(pilot)
        assert "Preview a course" in screen_text(app)
    with Store.open(f"sqlite:///{db}") as store:
        assert [r.action for r in store.audit_trail()][-1] == "instructor.login_ok"
    app.store.close()
