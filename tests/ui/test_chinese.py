"""No English in Chinese mode: the catalog's Chinese strings use full-width punctuation, and the screens a trainee and an
instructor walk through at 80x24 show no English word the catalog has a translation for."""

from __future__ import annotations

import re

from screen import choose, make_app, open_course, screen_text, settled, shows, sign_in
from test_instructor import instructor_app
from test_trainee_app import EXPERT, PRESS, play_expert

from trainer.engine.events import EventKind
from trainer.tui.i18n import STRINGS
from trainer.tui.screens.reports import TEXT as REPORT_TEXT

PLACEHOLDER = re.compile(r"\{\w+\}")
WORD = re.compile(r"(?<![\w-])[A-Za-z]{3,}(?![\w-])")  # a word, not part of an id such as fire-response
# Names of keys and of the other language are the same in both: Enter, Esc, PgDn, Home, English...
KEPT = {w.lower() for zh, _ in STRINGS.values() for w in WORD.findall(PLACEHOLDER.sub("", zh))}
ENGLISH = (
    {w.lower() for _, en in STRINGS.values() for w in WORD.findall(PLACEHOLDER.sub("", en))}
    | {w.lower() for text in REPORT_TEXT["en"].values() for w in WORD.findall(PLACEHOLDER.sub("", text))}
    | {str(kind) for kind in EventKind}
    | {"palette", "screenshot", "theme", "maximize", "keys"}  # Textual's own
) - KEPT


def english_words(text: str) -> set[str]:
    return {w for w in WORD.findall(text) if w.lower() in ENGLISH}


def test_chinese_strings_use_full_width_punctuation():
    for key, (zh, _) in STRINGS.items():
        body = PLACEHOLDER.sub("", zh)
        # `?` is a key's name in the help text (a line starting "?："), never a question mark.
        assert not re.search(r"[,;:!()]|(?<!^)\?|\?(?!：)", body, re.M), f"{key}: {zh!r} has an ASCII mark"


async def test_the_trainees_screens_in_chinese_show_no_english_word(tmp_path):
    app = make_app(tmp_path / "t.db", lang="zh")
    seen: dict[str, str] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"E1", "enter")
        seen["sign-in"] = await shows(pilot, "第一次使用")
        await pilot.press(*"王芳", "enter", *"冲压", "enter")
        seen["catalog"] = await shows(pilot, "选择课程")
        await pilot.press(*PRESS, "enter")
        seen["briefing"] = await shows(pilot, "学习目标")
        await pilot.press("end")
        seen["briefing end"] = await shows(pilot, "合格标准")
        await pilot.press("enter")
        await shows(pilot, "你现在要做什么")
        await choose(pilot, "review_energy")
        await choose(pilot, "normal_stop")  # skips notifying: a mistake and its rule
        seen["player"] = screen_text(app)
        await pilot.press("question_mark")
        seen["help"] = await shows(pilot, "帮助")
        await pilot.press("escape", "escape")
        seen["pause"] = await shows(pilot, "已暂停")
        await pilot.press("escape")
        await settled(pilot)
        await play_expert(pilot, EXPERT[3:])
        seen["debrief"] = await shows(pilot, "扣分明细")
        screen = app.screen
        seen["replay"] = "\n".join(screen.describe(frame.event).plain for frame in screen.frames)
        await pilot.press("left")
        seen["replay frame"] = screen_text(app)
    found = {name: english_words(text) for name, text in seen.items()}
    assert not any(found.values()), found


async def test_the_instructors_screens_in_chinese_show_no_english_word(tmp_path):
    db = tmp_path / "t.db"
    trainee = make_app(db, lang="zh")
    async with trainee.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E77", "吴", "冲压")
        await open_course(pilot, PRESS)
        for step in ["notify_affected", "normal_stop", "isolate_electrical", "to_press_electrical_only"]:
            await choose(pilot, step)
    app = instructor_app(db)
    app.lang = "zh"
    seen: dict[str, str] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        seen["lists"] = await shows(pilot, "E77")
        await pilot.press("ctrl+r")
        seen["reports"] = await shows(pilot, "最常见的错误")
        for _ in range(len(app.library.courses)):
            await pilot.press("c")
            await settled(pilot)
            seen[f"report {app.screen.course_id}"] = screen_text(app)
        await pilot.press("escape")
        await settled(pilot)
        await pilot.press("enter")  # the session list has the focus: the trainee's session
        seen["session"] = await shows(pilot, "扣分明细")
        await pilot.press("left")
        seen["session replay"] = await shows(pilot, "回放 ")
        await pilot.press("escape")
        await settled(pilot)
        await pilot.press("tab", "enter")  # to the course list, and the first course's preview
        seen["preview"] = await shows(pilot, "你现在要做什么")
        await pilot.press("v")
        seen["variables"] = await shows(pilot, "变量")
    found = {name: english_words(text) for name, text in seen.items()}
    assert not any(found.values()), found
