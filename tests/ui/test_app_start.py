"""`trainer` paints the sign-in screen before it opens the courses and the database (TrainerApp.opener): a trainee
can type their badge at once, and signing in waits for the database only if it is still opening."""

from __future__ import annotations

import threading

from screen import Clock, burst, screen_text, shows

from trainer.course.library import load_library
from trainer.errors import TrainerError
from trainer.store.store import Store
from trainer.tui.app import TrainerApp


async def test_the_sign_in_screen_takes_a_badge_while_the_database_is_still_opening(tmp_path):
    release = threading.Event()
    opened: list[Store] = []

    def slow_open():
        release.wait(10)  # a slow disk, a first start that creates the database
        opened.append(Store.open(f"sqlite:///{tmp_path / 'start.db'}"))
        return load_library(), opened[0]

    app = TrainerApp(opener=slow_open, lang="en", clock=Clock(), seed=lambda: 1)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert "Badge" in screen_text(app)  # painted, and the database is not open yet
            assert app.opened_store() is None
            await burst(pilot, *"E1001", "enter", held=True)  # typed, not waited on: the key handler waits for the database
            assert app.opened_store() is None  # still waiting: nothing was looked up or stored
            release.set()
            await shows(pilot, "Name")  # then the badge is looked up: a new trainee is asked their name
            assert app.opened_store() is opened[0]
    finally:
        release.set()
        for store in opened:
            store.close()


async def test_a_database_that_cannot_be_opened_ends_the_app_with_the_reason():
    def broken_open():
        raise TrainerError("/srv/trainer.db: not a Trainer database")

    app = TrainerApp(opener=broken_open, lang="en", clock=Clock(), seed=lambda: 1)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            if app.start_error is not None:
                break
            await pilot.pause(0.02)
    assert isinstance(app.start_error, TrainerError)
    assert "not a Trainer database" in str(app.start_error)
    assert app.opened_store() is None
