"""Who is at the keyboard: PINs at sign-in when the site turns them on, the registered name before unfinished sessions
when it does not. Driven as a trainee does (keys), read off the screen, in both languages.

Before: a badge number alone signed in, and another tab typing someone's badge was offered their unfinished sessions.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from screen import burst, make_app, screen_text, sign_in

from trainer import pins
from trainer.store import access as store_access
from trainer.tui.app import TrainerApp

TEXTS = {
    "zh": {
        "choose": "请设置你的PIN码",
        "ask": "请输入你的PIN码",
        "differ": "两次输入的PIN码不一致",
        "wrong": "PIN码错误。",
        "wrong_wait": "PIN码错误。请 1 秒后再试。",
        "wait": "PIN码错误次数过多，请 1 秒后再试。",
        "welcome": "欢迎，钱立（冲压）",
        "name": "请输入此工号登记的姓名",
        "not_name": "姓名与此工号登记的不一致。",
        "resume": "继续上次的实训",
        "catalog": "选择课程",
        "badge": "请刷卡或输入工号",
    },
    "en": {
        "choose": "Choose yours (4 to 8 digits)",
        "ask": "Type your PIN",
        "differ": "The two PINs differ",
        "wrong": "Wrong PIN.",
        "wrong_wait": "Wrong PIN. Try again in 1 s.",
        "wait": "Too many wrong PINs: try again in 1 s.",
        "welcome": "Welcome, 钱立 (冲压)",
        "name": "Type the name registered for it",
        "not_name": "That is not the name registered for this badge.",
        "resume": "Resume it:",
        "catalog": "Choose a course",
        "badge": "Scan your badge",
    },
}
LANGS = pytest.mark.parametrize("lang", ["zh", "en"])


async def shows(pilot, text: str) -> str:
    """The screen once it shows `text` (a PIN is checked off the UI thread: scrypt takes tens of milliseconds)."""
    for _ in range(500):  # up to 10 s: a loaded 2-core CI machine can take seconds where an idle one takes 50 ms
        await pilot.pause(0.02)
        seen = " ".join(screen_text(pilot.app).replace("│", " ").split())  # wrapped lines of a framed box, joined
        if text in seen:
            return seen
    raise AssertionError(f"{text!r} never appeared; the screen shows:\n{screen_text(pilot.app)}")


def app_with(db: Path, lang: str, *, pins_on: bool) -> TrainerApp:
    app = make_app(db, lang=lang)
    app.store.set_setting(pins.SETTING, "on" if pins_on else "off")
    return app


def interrupted_session(app: TrainerApp, badge: str) -> str:
    """An unfinished session of `badge` whose terminal is gone (as after closing a browser tab mid-way)."""
    course = app.library.get("press-loto-die-change")
    assert course is not None
    record = app.store.create_session(badge, course.id, course.version, course.content_hash, 1, "en")
    app.store.release(record.id)
    return record.id


@LANGS
async def test_with_pins_on_a_new_trainee_chooses_a_pin_and_then_needs_it(tmp_path: Path, lang: str) -> None:
    said = TEXTS[lang]
    db = tmp_path / "t.db"
    app = app_with(db, lang, pins_on=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "E7", "钱立", "冲压")
        await shows(pilot, said["choose"])
        await pilot.press(*"1234", "enter", *"1243", "enter")  # typed twice, differently
        await shows(pilot, said["differ"])
        assert "1234" not in screen_text(app)  # never shown as typed
        await pilot.press(*"1234", "enter", *"1234", "enter")
        await shows(pilot, said["welcome"])
    assert app.store.has_pin("E7")

    app = app_with(db, lang, pins_on=True)  # another tab, the same badge
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "E7")
        await shows(pilot, said["ask"])
        await pilot.press(*"9999", "enter")
        text = await shows(pilot, said["wrong"])
        assert said["welcome"] not in text and app.trainee is None
        await pilot.press(*"1234", "enter")
        await shows(pilot, said["welcome"])


@LANGS
async def test_wrong_pins_wait_longer_and_esc_goes_back_to_the_badge(tmp_path: Path, lang: str, monkeypatch) -> None:
    said = TEXTS[lang]
    # The store's wall clock stands still: "too soon" stays too soon however long a loaded machine takes to type a PIN
    # (the wait is 1 s of real time otherwise).
    frozen = store_access.utcnow()
    monkeypatch.setattr(store_access, "utcnow", lambda: frozen)
    app = app_with(tmp_path / "t.db", lang, pins_on=True)
    app.store.upsert_trainee("E8", "钱立", "冲压")
    app.store.set_pin("E8", pins.hash_pin("20261206"), by="instructor")  # set by an instructor
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "E8")
        await shows(pilot, said["ask"])
        for _ in range(pins.FREE_FAILURES):
            await pilot.press(*"1111", "enter")
            await shows(pilot, said["wrong"])
        await pilot.press(*"1111", "enter")
        await shows(pilot, said["wrong_wait"])
        # The right PIN, too soon: not even tried. Typed in one burst: each wrong PIN now counts once (one typed while
        # another was checked used to be lost, its Enter counted as an empty one), so the wait is exactly 1 s.
        await burst(pilot, *"20261206", "enter")
        text = await shows(pilot, said["wait"])
        assert app.trainee is None and said["welcome"] not in text
        await pilot.press("escape")
        await shows(pilot, said["badge"])
        assert app.trainee is None and app.screen.query_one("#badge").value == ""


@LANGS
async def test_without_pins_unfinished_sessions_need_the_registered_name(tmp_path: Path, lang: str) -> None:
    said = TEXTS[lang]
    app = app_with(tmp_path / "t.db", lang, pins_on=False)
    app.store.upsert_trainee("E9", "Qian Li", "Stamping")
    interrupted_session(app, "E9")
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "E9")  # a stranger who knows the badge number
        text = await shows(pilot, said["name"])
        assert said["resume"] not in text
        await pilot.press(*"Wang Fang", "enter")
        text = await shows(pilot, said["not_name"])
        assert said["resume"] not in text
        await pilot.press(*"qian  li", "enter")  # the trainee: case and spaces do not matter
        await shows(pilot, said["resume"])


@LANGS
async def test_three_wrong_names_leave_the_unfinished_sessions_alone(tmp_path: Path, lang: str) -> None:
    said = TEXTS[lang]
    app = app_with(tmp_path / "t.db", lang, pins_on=False)
    app.store.upsert_trainee("E10", "Qian Li", "Stamping")
    session_id = interrupted_session(app, "E10")
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "E10")
        for _ in range(3):
            await shows(pilot, said["name"])
            await pilot.press(*"Wang Fang", "enter")
        text = await shows(pilot, said["catalog"])
        assert said["resume"] not in text and said["name"] not in text
    assert app.store.session(session_id).status == "interrupted"  # untouched, still the trainee's to resume


@LANGS
async def test_with_pins_on_the_pin_is_enough_to_see_unfinished_sessions(tmp_path: Path, lang: str) -> None:
    said = TEXTS[lang]
    app = app_with(tmp_path / "t.db", lang, pins_on=True)
    app.store.upsert_trainee("E11", "Qian Li", "Stamping")
    app.store.set_pin("E11", pins.hash_pin("4821"), by="instructor")
    interrupted_session(app, "E11")
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "E11")
        await shows(pilot, said["ask"])
        await pilot.press(*"4821", "enter")
        text = await shows(pilot, said["resume"])
        assert said["name"] not in text


async def test_a_pin_typed_while_the_one_before_is_checked_is_tried_after_it(tmp_path: Path, monkeypatch) -> None:
    """A typo, then the right PIN typed while the typo is still being checked: each is tried, in turn (the second used
    to be wiped when the first was found wrong, and its Enter tried an empty PIN)."""
    said = TEXTS["en"]
    app = app_with(tmp_path / "t.db", "en", pins_on=True)
    app.store.upsert_trainee("E10", "钱立", "冲压")
    app.store.set_pin("E10", pins.hash_pin("2468"), by="instructor")
    real = pins.pin_matches

    def slow_check(pin: str, stored: str) -> bool:  # a loaded machine: each check takes half a second
        time.sleep(0.5)
        return real(pin, stored)

    monkeypatch.setattr(pins, "pin_matches", slow_check)
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "E10")
        await shows(pilot, said["ask"])
        await pilot.press(*"1357", "enter", *"2468", "enter")
        await shows(pilot, said["welcome"])
