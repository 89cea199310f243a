"""The debrief at 80x24 (issue 20): an exam's debrief says, for each mistake, what happened (the feedback practice would
have shown at once: "the extinguisher was empty"), and a deduction's wrapped lines hang under its text instead of
running back to the points column. Keys pressed, screen read."""

from __future__ import annotations

import pytest
from screen import make_app, open_course, screen_text, settled, shows, sign_in
from test_trainee_app import EXPERT, play_expert

from trainer.course.library import load_library
from trainer.engine.clock import ManualClock
from trainer.engine.modes import Mode
from trainer.session_service import DurableSession
from trainer.store.store import Store
from trainer.tui.app import TrainerApp
from trainer.tui.screens.debrief import DebriefScreen

LIBRARY = load_library()
# The CO2 extinguisher on the column is empty (hidden fault co2_spent, drawn by seed 5); the trainee takes it unchecked.
GRAB_THE_SPENT_ONE = [
    "raise_alarm", "cut_power", "take_co2", "approach_aisle", "pull_pin", "discharge_base_empty",
    "back_off", "close_fire_door", "take_stairs", "report_in", "wait_all_clear",
]  # fmt: skip
TOLD = {
    "en": ("What happened: You squeeze: a short hiss", "the extinguisher was empty"),
    "zh": ("当时的情况：压把一压", "这具灭火器是空的"),
}
RULE = {"en": "Check an extinguisher before you count on it", "zh": "使用灭火器前先检查"}
SECTIONS = {"en": ("Deductions", "Time per step"), "zh": ("扣分明细", "各步骤用时")}


@pytest.fixture(scope="module")
def exam(tmp_path_factory):
    db = tmp_path_factory.mktemp("debrief") / "d.db"
    course = LIBRARY.get("fire-response")
    clock = ManualClock()
    with Store.open(f"sqlite:///{db}") as store:
        store.upsert_trainee("D5", "Du", "Welding")
        durable = DurableSession.begin(store, course, "D5", seed=5, clock=clock, mode=Mode.EXAM)
        assert durable.engine.variables["co2_spent"] is True  # the fault the trainee misses
        for step in GRAB_THE_SPENT_ONE:
            clock.advance(2000)
            durable.tick()
            durable.choose(step)
        assert durable.engine.ended
        return db, durable.id


async def read_debrief(db, session_id: str, lang: str) -> list[str]:
    """Every line the debrief shows at 80x24, scrolled from top to bottom with PgDn."""
    store = Store.open(f"sqlite:///{db}")
    app = TrainerApp(LIBRARY, store, lang=lang)
    seen: dict[int, str] = {}  # line of the pane's text -> as shown
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(DebriefScreen(LIBRARY.get("fire-response"), session_id))
        await pilot.pause(0.5)
        body = app.screen.query_one("#debrief-body")
        while True:
            top = 1  # below the header
            shown = screen_text(app).split("\n")[top : top + body.size.height - 1]  # without the pane's bottom edge
            seen.update((int(body.scroll_y) + n, line) for n, line in enumerate(shown))
            if body.scroll_y >= body.max_scroll_y:
                break
            await pilot.press("pagedown")
            await pilot.pause(0.2)
    store.close()
    return [seen[n] for n in sorted(seen)]


_READ: dict[str, list[str]] = {}


async def debrief_lines(exam, lang: str) -> list[str]:
    """The debrief's lines in `lang`, read once for the tests below."""
    if lang not in _READ:
        _READ[lang] = await read_debrief(*exam, lang)
    return _READ[lang]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_exam_debrief_says_what_happened_under_the_rule_it_broke(exam, lang):
    lines = await debrief_lines(exam, lang)
    text = "\n".join(lines)
    # In the exam the trainee was told nothing at the time: the debrief is where they first read it.
    rule_at = next(n for n, line in enumerate(lines) if RULE[lang] in line)
    told_at = next((n for n, line in enumerate(lines) if TOLD[lang][0] in line), None)
    assert told_at is not None, f"the debrief does not say what happened:\n{text}"
    assert rule_at < told_at <= rule_at + 3, text
    assert TOLD[lang][1] in "".join(line.strip() for line in lines[told_at : told_at + 3]), text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_deductions_wrapped_lines_hang_under_its_text(exam, lang):
    lines = await debrief_lines(exam, lang)
    text = "\n".join(lines)
    # Only a deduction's first line starts at the points column (" -15 ▲▲ ..."); every other line is indented under
    # the text, and the right way's wrapped lines under the right way's text.
    start = next(n for n, line in enumerate(lines) if line.strip() == SECTIONS[lang][0])
    end = next(n for n, line in enumerate(lines) if line.strip() == SECTIONS[lang][1])
    block = [line for line in lines[start + 1 : end] if line.strip()]
    assert sum(line.startswith(" -") for line in block) == 2, text  # the two deductions
    assert any(not line.startswith(" -") and "→" not in line for line in block), text  # some line did wrap
    # No blank lines left under the deductions by the height of their text before it was wrapped: the final newline
    # and the margin, no more.
    last = max(n for n in range(start, end) if lines[n].strip())
    assert end - last <= 3, text
    right_way = False
    for line in block:
        if line.startswith(" -"):
            right_way = False
            continue
        assert line.startswith(" " * 5), f"not under its deduction's text:\n{line}\n{text}"
        if right_way:  # the right way's wrapped lines: under its text, past the arrow
            assert line.startswith(" " * 7), f"not under the right way's text:\n{line}\n{text}"
        right_way = right_way or line.startswith(" " * 5 + "→")


async def test_the_buttons_show_their_whole_labels_in_both_languages_and_after_switching(tmp_path):
    """The debrief's labels are set once its worker has read the session, after the first layout: the English "Back to
    courses" was cut to "Back to" (the button kept the width of its empty label) unless something else happened to lay
    the screen out again. The same after F2 switches the language, either way."""
    app = make_app(tmp_path / "b.db", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "B7", "Bai", "Stamping")
        await open_course(pilot, "press-loto")
        await play_expert(pilot, EXPERT)
        for lang, labels in [
            ("en", ("Retry", "Back to courses")),
            ("zh", ("再练一次", "返回课程列表")),
            ("en", ("Retry", "Back to courses")),
        ]:
            if app.lang != lang:
                await pilot.press("f2")
            await shows(pilot, SECTIONS[lang][0])
            await settled(pilot)
            buttons = [line for line in screen_text(app).split("\n") if labels[1] in line]
            assert len(buttons) == 1, screen_text(app)
            for label in labels:
                assert f" {label} " in buttons[0], (lang, buttons[0])
