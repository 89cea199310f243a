"""While a trainee reads a scene, the player tells other terminals every minute that the session is still being played
(DurableSession.heartbeat); the instructor's preview stores nothing, so it sends none."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from screen import Clock, make_app, open_course, sign_in
from test_trainee_app import PRESS


def heartbeat_at(db, session_id: str) -> str:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT heartbeat_at FROM sessions WHERE id = ?", (session_id,)).fetchone()[0]


async def test_a_trainee_reading_for_a_minute_keeps_the_session_claimed(tmp_path):
    clock = Clock()
    db = tmp_path / "t.db"
    app = make_app(db, lang="en", clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "H1", "Lee", "Press")
        await open_course(pilot, PRESS)
        session_id = app.screen.durable.id
        before = heartbeat_at(db, session_id)
        clock.advance(61_000)  # a minute on the briefing text of the first scene
        for _ in range(50):
            await pilot.pause(0.05)
            if heartbeat_at(db, session_id) != before:
                break
        assert heartbeat_at(db, session_id) > before
