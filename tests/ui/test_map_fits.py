"""The documented map limits (docs/course-format.md, trainer/course/limits.py) are what every screen that shows a course
map fits at 80x24 (issue 20 item 5): the player's map (key m), the instructor's preview and the debrief's replay show
the largest bundled maps with every row whole, none wrapped into the next line (a 76-column map used to wrap its box
lines in the replay). Keys pressed, screen read."""

from __future__ import annotations

import pytest
from screen import make_app, open_course, screen_text, sign_in, until
from textual.widgets import DataTable, Static

from trainer.course.library import load_library
from trainer.course.limits import MAP_MAX_WIDTH
from trainer.store.store import Store
from trainer.tui.app import TrainerApp

LIBRARY = load_library()
MAPPED = [c for c in LIBRARY.courses.values() if c.map is not None]
WIDEST = max(MAPPED, key=lambda c: (c.map.width, c.map.height)).id
TALLEST = max(MAPPED, key=lambda c: (c.map.height, c.map.width)).id


def test_the_widest_bundled_map_is_as_wide_as_the_documented_limit():
    assert LIBRARY.get(WIDEST).map.width == MAP_MAX_WIDTH  # so the tests below test the limit itself


def map_rows(app: TrainerApp, panel: str) -> list[str]:
    """The map's rows as drawn into `panel` (before the screen lays them out): its last map-height lines, or the ones
    before the legend in the player."""
    screen = app.screen
    height = screen.course.map.height
    lines = screen.query_one(panel, Static).content.plain.split("\n")
    rows = lines[-height:] if panel == "#replay" else lines[-1 - height : -1]
    assert sum("─" in row or "│" in row for row in rows) > height // 2, rows  # box lines: these are map rows
    return rows


def assert_whole(app: TrainerApp, rows: list[str], *, cut: bool = False) -> None:
    """Each map row on a screen line of its own, whole and in order (a row that wrapped would be split over two
    lines). `cut`: the player at 80x24 shows the map's top rows above the list of choices (docs/course-format.md),
    so the rows may stop early, at the list's frame."""
    shown = screen_text(app).split("\n")
    where = f"\n{screen_text(app)}"
    first = next(i for i, row in enumerate(rows) if row.strip())  # a map may begin with an empty row
    found = next((n for n, line in enumerate(shown) if rows[first].rstrip() in line), None)
    assert found is not None, f"the map's first row is not shown whole:\n{rows[first]}{where}"
    start = found - first
    for i, row in enumerate(rows):
        line = shown[start + i] if start + i < len(shown) else ""
        if (row.rstrip() in line) if row.strip() else not line.strip():  # an empty row: an empty line
            continue
        assert cut and i >= 8 and line.lstrip().startswith("╭"), f"map row {i} not shown whole:\n{row}{where}"
        break


@pytest.mark.parametrize("course_id", sorted({WIDEST, TALLEST}))
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_player_and_the_debrief_replay_show_every_map_row_whole_at_80x24(tmp_path, lang, course_id):
    app = make_app(tmp_path / "t.db", lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "W1", "Wei", "Press")
        await open_course(pilot, course_id)
        await pilot.press("m")  # at 80x24 the map takes the scene's place
        await pilot.pause()
        assert_whole(app, map_rows(app, "#map"), cut=True)
        # Abandon (Esc, the pause menu's second button, then yes): the debrief, its replay at the last step.
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.press("up", "enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if app.screen.query("#replay") and app.screen.query_one("#replay", Static).content:
                break
        await pilot.pause(0.3)
        await pilot.press("end")  # the replay is at the bottom of the debrief
        await pilot.pause()
        assert_whole(app, map_rows(app, "#replay"))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_instructors_preview_shows_every_map_row_whole_at_80x24(tmp_path, lang):
    store = Store.open(f"sqlite:///{tmp_path / 't.db'}")
    app = TrainerApp(LIBRARY, store, lang=lang, seed=lambda: 1, instructor=True)
    async with app.run_test(size=(80, 24)) as pilot:
        for course_id in sorted({WIDEST, TALLEST}):
            await pilot.pause()
            await until(pilot, lambda: app.screen.query_one("#preview-courses", DataTable).row_count > 0, "the course list")
            table = app.screen.query_one("#preview-courses", DataTable)
            table.focus()
            keys = [row.value for row in table.rows]
            await pilot.press("home", *["down"] * keys.index(course_id), "enter")
            await pilot.pause(0.3)
            await pilot.press("m")
            await pilot.pause()
            assert_whole(app, map_rows(app, "#map"), cut=True)
            await pilot.press("escape")
    store.close()
