"""The reports screen of instructor mode, through the Pilot: the course report and the due list as DataTables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from test_export_support import (
    CRITICAL,
    EXPERT,
    FIXTURES,
    SLOW,
    Attempt,
    Trainee,
)
from textual.widgets import DataTable, Static

from trainer.course.library import load_library
from trainer.store.store import Store
from trainer.tui.app import TrainerApp
from trainer.tui.screens.reports import ReportsScreen

pytestmark = pytest.mark.usefixtures("at_the_plant")


@pytest.fixture
def db(played_db) -> Path:
    return played_db([
        Trainee("T1", "张伟", "冲压车间"),
        Trainee("T2", "李娜", "焊装车间"),
        Attempt("T1", SLOW, datetime(2026, 3, 9, 2, tzinfo=UTC)),  # passed: valid until 2027-03-09
        Attempt("T2", CRITICAL, datetime(2026, 3, 10, 2, tzinfo=UTC)),
        Attempt("T2", EXPERT, datetime(2026, 1, 10, 2, tzinfo=UTC)),  # valid until 2027-01-10
    ])  # fmt: skip


async def settle(pilot, done, seconds: float = 10.0) -> None:
    """Let the screen's reading thread finish (it reads the store and detects mistakes)."""
    for _ in range(int(seconds / 0.05)):
        if done():
            break
        await pilot.pause(0.05)
    await pilot.pause()
    assert done()


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_reports_screen_shows_the_course_report_and_the_due_list(db):
    store = Store.open(db)
    app = TrainerApp(load_library([FIXTURES]), store, lang="en", today=lambda: date(2027, 2, 20))
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            screen = ReportsScreen("mini")
            await app.push_screen(screen)
            await settle(pilot, lambda: screen.report is not None)
            summary = str(screen.query_one("#reports-summary", Static).content)
            assert "Mini course" in summary and "3 attempts, 2 passed (67%)" in summary
            # The rule broken, not its code (HANDS_IN_DIE); the scene, not the state's id (begin).
            rules = [m.rule.get("en") for m in screen.report.mistakes]
            shown = cells(screen.query_one("#report-mistakes", DataTable))
            assert [row[1:] for row in shown] == [["critical", "1", "33%"], ["minor", "1", "33%"]]
            assert shown[0][0] == rules[0] == "Never"
            assert shown[1][0].endswith("…") and rules[1].startswith(shown[1][0][:-1])  # a long rule cut to fit
            states = cells(screen.query_one("#report-states", DataTable))
            assert [row[0] for row in states] == ["Start"] and [c.strip() for c in states[0][1:4]] == ["1", "·", "1"]
            due = cells(screen.query_one("#report-due", DataTable))
            assert [(r[0], r[3], r[4], r[5]) for r in due] == [
                ("T2", "2027-01-10", "-41", "expired"),
                ("T1", "2027-03-09", "17", "expiring"),
            ]
            await pilot.press("f2")  # Chinese
            await pilot.pause()
            assert "考核 3 次" in str(screen.query_one("#reports-summary", Static).content)
            assert cells(screen.query_one("#report-due", DataTable))[0][5] == "已过期"
            await pilot.press("c")  # the next course in the library
            await settle(pilot, lambda: screen.report is not None and screen.report.course_id != "mini")
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, ReportsScreen)
    finally:
        store.close()
