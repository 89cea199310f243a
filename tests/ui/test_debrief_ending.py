"""The last action is shown (issue 16): when a choice ends the session, the debrief shows that choice's feedback and
the ending's own text, and the ending says what happened (no "first part good" when no part was tested)."""

from __future__ import annotations

import pytest
from screen import make_app, open_course, screen_text, settled, sign_in
from test_trainee_app import EXPERT, PRESS, play_expert


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_going_straight_to_production_shows_its_feedback_and_an_ending_that_fits(tmp_path, lang):
    app = make_app(tmp_path / "t.db", lang=lang)
    async with app.run_test(size=(100, 60)) as pilot:
        await sign_in(pilot, "E21", "Qian", "Stamping")
        await open_course(pilot, PRESS)
        await play_expert(pilot, [*EXPERT[: EXPERT.index("single_stroke")], "continuous_run"])
        await settled(pilot)
        text = screen_text(app)
    if lang == "zh":
        assert "运气好没出事" in text and "没有试冲" in text and "首件合格" not in text
    else:
        assert "after a die change single strokes" in text and "No test stroke" in text
        assert "first part is good" not in text


async def test_the_expert_ending_keeps_its_own_text(tmp_path):
    app = make_app(tmp_path / "t.db", lang="zh")
    async with app.run_test(size=(100, 60)) as pilot:
        await sign_in(pilot, "E22", "Sun", "Stamping")
        await open_course(pilot, PRESS)
        await play_expert(pilot)
        await settled(pilot)
        text = screen_text(app)
    assert "首件合格" in text and "没有扣分" in text
