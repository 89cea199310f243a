"""The small dialogs at 80x24 (issue 20): Chinese in them uses full-width punctuation, also where the app puts a course
title and a time together (the resume dialog said "继续上次的实训:" and "(开始于 …)"), and a key name is never split by
wrapping (the name check said "…后继续。Es" / "c：稍后。"). Keys pressed, screen read, in both languages."""

from __future__ import annotations

import re

import pytest
from screen import make_app, open_course, screen_text, shows, sign_in
from test_identity import interrupted_session

from trainer import pins
from trainer.tui.i18n import STRINGS
from trainer.tui.screens.reports import TEXT as REPORT_TEXT

CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
# An ASCII mark right next to a Chinese character (or full-width mark): in Chinese text it should be full width.
ASCII_BY_CJK = re.compile(rf"(?<={CJK})[:(),;?!]|[:(),;?!](?={CJK})")
KEY_NAME = re.compile(r"(?m)^\?(?=：)")  # `?` is a key's name in the help text ("?：本帮助"), not a question mark
KEYS = ("Esc", "Enter")


def ascii_by_cjk(text: str) -> list[str]:
    return [text[max(m.start() - 8, 0) : m.end() + 8] for m in ASCII_BY_CJK.finditer(KEY_NAME.sub("", text))]


def test_the_chinese_catalog_filled_in_uses_full_width_punctuation():
    # Filled in with Chinese values, as the screens show them (a course title, a name, a department next to the marks).
    values = {"title": "电气柜火灾", "name": "王芳", "department": "冲压", "course": "消防", "state": "决定"}

    def filled(text: str) -> str:
        return re.sub(r"\{(\w+)[^}]*\}", lambda m: values.get(m.group(1), "一"), text)

    texts = {key: filled(zh) for key, (zh, _) in STRINGS.items()}
    texts |= {f"reports.{key}": filled(zh) for key, zh in REPORT_TEXT["zh"].items()}
    found = {key: ascii_by_cjk(text) for key, text in texts.items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}


def test_the_resume_option_is_in_the_catalog_with_full_width_punctuation():
    zh, en = STRINGS["resume.option"]
    assert "继续上次的实训：" in zh and "（开始于 {time}）" in zh
    assert "Resume it:" in en and "(started {time})" in en


def keys_whole(text: str) -> None:
    """A key name of the catalog's texts is never split over two lines (a line ending in "Es", the next one "c：")."""
    lines = [line.replace("│", " ").strip() for line in text.split("\n")]
    for key in KEYS:
        for n in range(1, len(key)):
            head, tail = key[:n], key[n:]
            for above, below in zip(lines, lines[1:], strict=False):
                assert not (above.endswith(head) and below.startswith(tail)), f"{key} split:\n{above}\n{below}"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_name_check_and_the_resume_dialog_at_80x24(tmp_path, lang):
    app = make_app(tmp_path / "t.db", lang=lang)
    app.store.set_setting(pins.SETTING, "off")
    app.store.upsert_trainee("R1", "Qian Li", "Stamping")
    interrupted_session(app, "R1")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "R1")
        await pilot.pause(0.3)
        text = screen_text(app)
        assert app.screen.query("#confirm-name"), text
        keys_whole(text)
        assert ("Esc：稍后。" if lang == "zh" else "Esc: later.") in text, text
        assert not ascii_by_cjk(text), ascii_by_cjk(text)
        await pilot.press(*"Qian Li", "enter")
        await pilot.pause(0.3)
        text = screen_text(app)
        if lang == "zh":
            assert "继续上次的实训：" in text and "（开始于 " in text, text
        else:
            assert "Resume it:" in text and "(started " in text, text
        assert not ascii_by_cjk(text), ascii_by_cjk(text)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_pin_dialog_keeps_key_names_whole_at_80x24(tmp_path, lang):
    app = make_app(tmp_path / "t.db", lang=lang)
    app.store.set_setting(pins.SETTING, "on")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "R2", "钱立", "冲压")
        await pilot.pause(0.3)
        text = screen_text(app)
        assert app.screen.query("#pin-again"), text  # choosing a PIN: the longest text of these dialogs
        keys_whole(text)
        assert ("Esc：返回。" if lang == "zh" else "Esc: back.") in text, text
        assert not ascii_by_cjk(text), ascii_by_cjk(text)


async def test_f2_while_paused_says_the_pause_dialog_again_in_the_other_language_whole(tmp_path):
    """The pause dialog set its words once, when it opened: F2 switched the app to English around a dialog still in
    Chinese, and a longer label laid out again would have been cut (the buttons kept their first width)."""
    app = make_app(tmp_path / "p.db", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "P2", "Pan", "冲压")
        await open_course(pilot, "press-loto")
        await pilot.press("escape")
        await shows(pilot, STRINGS["pause.abort"][0])
        await pilot.press("f2")
        for key in ("pause.resume", "pause.abort"):
            await shows(pilot, f" {STRINGS[key][1]} ")
        await pilot.press("down", "enter")  # Abandon: asks to confirm
        await shows(pilot, STRINGS["pause.yes"][1])
        await pilot.press("f2")
        for key in ("pause.yes", "pause.no", "pause.confirm"):
            await shows(pilot, STRINGS[key][0])
