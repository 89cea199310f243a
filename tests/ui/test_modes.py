"""Practice and exam in the trainee's app at 80x24, driven by keys, read off the screen: an exam gives no hint and no
feedback until its debrief and certifies; a practice run gives both and certifies nothing."""

from __future__ import annotations

import sqlite3

from screen import choose, make_app, open_course, screen_text, settled, shows, sign_in
from test_trainee_app import EXPERT, PRESS, play_expert

HINT = "Know every energy source first"  # the hint of the press course's first state
FEEDBACK = "The card lists the main disconnect"  # review_energy's feedback


def kinds(db, kind: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM events WHERE kind = ?", (kind,)).fetchone()[0]


async def test_an_exam_gives_no_hint_and_no_feedback_until_the_debrief_and_certifies(tmp_path):
    db = tmp_path / "t.db"
    app = make_app(db, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "X1", "Li Lei", "Stamping")
        await pilot.press(*PRESS, "enter")
        briefing = await shows(pilot, "Exam (E)")
        assert "Practice (Enter)" in briefing and "e Exam" in briefing
        await pilot.press("e")
        text = await shows(pilot, "Exam │")
        assert "h Hint" not in text  # no hint key in the footer
        await pilot.press("h")
        await settled(pilot)
        assert HINT not in screen_text(app) and kinds(db, "hint") == 0
        await choose(pilot, "review_energy")
        shown = screen_text(app)
        assert FEEDBACK not in shown and "→ Done:" in shown  # what was done, not whether it was right
        await play_expert(pilot, [step for step in EXPERT if step != "review_energy"])
        debrief = await shows(pilot, "Score")
        assert "PASSED" in debrief and "does not count" not in debrief
        await pilot.press("escape")
        catalog = await shows(pilot, "valid until")
        assert "passed" in catalog
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT mode FROM sessions").fetchall() == [("exam",)]


async def test_practice_gives_hints_and_feedback_and_never_certifies(tmp_path):
    db = tmp_path / "t.db"
    app = make_app(db, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "X2", "王芳", "冲压")
        await open_course(pilot, PRESS)  # Enter on the briefing: practice
        assert "练习 │" in screen_text(app)
        await pilot.press("h")
        await settled(pilot)
        assert kinds(db, "hint") == 1 and "?" in screen_text(app)
        await play_expert(pilot)
        debrief = await shows(pilot, "练习：不计入资格认证")
        assert "100" in debrief and "合格" in debrief  # the hint cost nothing
        await pilot.press("escape")
        catalog = await shows(pilot, "练习 100 分")
        assert "未取得" in catalog and "有效至" not in catalog
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT mode FROM sessions").fetchall() == [("practice",)]
