"""Key m on the player: on a small terminal the map and the scene take turns; on a tall one both stay. Each toggle
shows the map as it was drawn (issue 22: a toggle must paint within a frame, so the map's drawing is kept, not made
again each time it is shown). Keys pressed, screen read."""

from __future__ import annotations

from screen import make_app, open_course, screen_text, settled, sign_in
from test_trainee_app import PRESS

SCENE = "You are the die setter"
MAP_LABEL = "Die area"
BACK = "m: back to the scene"


async def test_on_a_small_terminal_m_shows_the_map_in_the_scenes_place_and_back(tmp_path):
    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "M1", "Ma", "Press")
        await open_course(pilot, PRESS)
        first = screen_text(app)
        assert SCENE in first and MAP_LABEL not in first
        for _ in range(2):
            await pilot.press("m")
            await pilot.pause()
            shown = screen_text(app)
            assert MAP_LABEL in shown and BACK in shown and SCENE not in shown
            assert "What do you do now?" in shown  # the actions stay
            await pilot.press("m")
            await pilot.pause()
            shown = screen_text(app)
            assert SCENE in shown and MAP_LABEL not in shown


async def test_on_a_tall_terminal_both_stay_and_the_turn_is_kept_for_a_small_one(tmp_path):
    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(80, 40)) as pilot:
        await sign_in(pilot, "M2", "Ma", "Press")
        await open_course(pilot, PRESS)
        before = await settled(pilot)
        assert SCENE in before and MAP_LABEL in before and BACK not in before
        await pilot.press("m")
        await settled(pilot)
        assert screen_text(app).split("\n")[2:] == before.split("\n")[2:]  # below the clock line, nothing moved
        await pilot.resize_terminal(80, 24)
        await settled(pilot)
        small = screen_text(app)
        # (The "m: back to the scene" line is drawn with the map's next redraw, as it always was after a resize.)
        assert MAP_LABEL in small and SCENE not in small


async def test_showing_the_map_again_does_not_draw_it_again(tmp_path):
    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "M3", "Ma", "Press")
        await open_course(pilot, PRESS)
        await pilot.press("m")
        await pilot.pause()
        panel = app.screen.query_one("#map")
        drawn = []
        render = panel.render
        panel.render = lambda: drawn.append(1) or render()  # Textual asks a widget for its content when it repaints
        for _ in range(3):
            await pilot.press("m", "m")
            await pilot.pause()
        assert MAP_LABEL in screen_text(app)
        assert drawn == []
