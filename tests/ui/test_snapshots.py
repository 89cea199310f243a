"""Snapshots of the key screens at 80x24 in both languages: a change to what trainees see shows up in review."""

from __future__ import annotations

from datetime import date

import pytest
from screen import choose, make_app, open_course, settled, sign_in
from test_trainee_app import EXPERT, play_expert

SIZE = (80, 24)


def app_for(tmp_path, lang):
    app = make_app(tmp_path / "snap.db", lang=lang, seed=1)
    app.today = lambda: date(2026, 11, 25)
    return app


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sign_in(snap_compare, tmp_path, lang):
    async def new_badge(pilot):
        await pilot.press(*"E9001", "enter")
        await pilot.pause()

    assert snap_compare(app_for(tmp_path, lang), terminal_size=SIZE, run_before=new_badge)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_catalog(snap_compare, tmp_path, lang):
    async def signed_in(pilot):
        await sign_in(pilot, "E9002", "Chen", "Stamping")
        await settled(pilot)  # the catalog reads the trainee's history off the UI thread

    assert snap_compare(app_for(tmp_path, lang), terminal_size=SIZE, run_before=signed_in)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_briefing(snap_compare, tmp_path, lang):
    async def briefing(pilot):
        await sign_in(pilot, "E9005", "Chen", "Stamping")
        await pilot.press(*"press-loto", "enter")
        await settled(pilot)

    assert snap_compare(app_for(tmp_path, lang), terminal_size=SIZE, run_before=briefing)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_player_after_a_mistake(snap_compare, tmp_path, lang):
    async def mid_course(pilot):
        await sign_in(pilot, "E9003", "Chen", "Stamping")
        await open_course(pilot, "press-loto")
        for step in ["notify_affected", "normal_stop", "isolate_electrical", "isolate_hydraulic", "isolate_air"]:
            await choose(pilot, step)
        await settled(pilot)

    assert snap_compare(app_for(tmp_path, lang), terminal_size=SIZE, run_before=mid_course)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_debrief(snap_compare, tmp_path, lang):
    async def finished(pilot):
        await sign_in(pilot, "E9004", "Chen", "Stamping")
        await open_course(pilot, "press-loto")
        steps = [s for s in EXPERT if s != "notify_affected"]  # a skipped step: one deduction to explain
        await play_expert(pilot, steps)
        await settled(pilot)

    assert snap_compare(app_for(tmp_path, lang), terminal_size=SIZE, run_before=finished)
