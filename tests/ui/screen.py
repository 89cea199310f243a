"""Drive the trainee's app as a person does, and read the screen as text."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from trainer.course.library import Library, course_dirs, course_files, load_library
from trainer.engine.clock import ManualClock
from trainer.scoring.grade import preload
from trainer.store.store import Store
from trainer.tui import compat
from trainer.tui.app import TrainerApp

ROOT = Path(__file__).resolve().parent.parent.parent


def screen_text(app: TrainerApp) -> str:
    """Every character on the screen, as a terminal would show it."""
    return compat.screen_text(app)


class Clock(ManualClock):
    """The app's monotonic clock (integer milliseconds, as the engine's), moved by the test."""

    def __init__(self) -> None:
        super().__init__(1_000_000)


async def burst(pilot: Pilot, *keys: str, held: bool = False) -> None:
    """Keys typed faster than the app handles them, as tmux, a badge reader or a fast typist sends them: all handed to
    the app at once (Pilot.press waits for the app to go idle after each key, which hides what runs in what order);
    then the app settles. held=True: what the keys wait for is held back by the test (the app cannot settle), so the
    keys get a fixed 0.3 s, and the test asserts that nothing has happened yet."""
    compat.send_keys(pilot.app, keys)
    if held:
        await pilot.pause(0.3)
    else:
        await settled(pilot)


async def shows(pilot: Pilot, text: str, timeout: float = 5.0) -> str:
    """The screen once it shows `text` (a new screen may take a while on a loaded machine); fails if it never does."""
    for _ in range(int(timeout / 0.05)):
        await pilot.pause(0.05)
        shown = screen_text(pilot.app)
        if text in shown:
            return shown
    raise AssertionError(f"{text!r} never appeared; the screen shows:\n{screen_text(pilot.app)}")


async def until(pilot: Pilot, holds: Callable[[], object], what: str = "", timeout: float = 20.0) -> None:
    """Pause until `holds()` is true (a screen pushed, a worker done): as soon as it is on an idle machine, as late as
    it takes on a loaded one, instead of a fixed pause that is too short there and wasted here; fails after timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not holds():
        if loop.time() > deadline:
            raise AssertionError(f"{what or 'the awaited condition'} never came; the screen shows:\n{screen_text(pilot.app)}")
        await pilot.pause(0.02)
    await pilot.pause()


def _quiet(pilot: Pilot) -> bool:
    """No worker running and the screen not waiting on a store write or a grading (its `busy`)."""
    app = pilot.app
    return not getattr(app.screen, "busy", False) and not any(w.is_running for w in app.workers)


async def settled(pilot: Pilot, still: float = 0.1, timeout: float = 20.0) -> str:
    """The screen once the app has settled after keys: no worker running, the screen not busy, and nothing on it changed
    for `still` seconds (after moving the clock, 0.3: longer than the player's 0.25 s tick, so that a tick has read it).
    Waits as long as that takes on a loaded machine, where a fixed pause was too short; fails after timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    shown, since = None, loop.time()
    while True:
        await pilot.pause(0.02)
        now, text = loop.time(), screen_text(pilot.app)
        if text != shown or not _quiet(pilot):
            shown, since = text, now
        elif now - since >= still:
            return text
        if now > deadline:
            raise AssertionError(f"the app never settled; the screen shows:\n{text}")


_LIBRARIES: dict[tuple[tuple[str, str], ...], Library] = {}


def library() -> Library:
    """load_library(), read once per test process for each content of the course folders: the app only reads its
    library (frozen courses), and reading and checking every course file again took a tenth of a second or more for
    each of the hundred-odd apps the UI tests start. Keyed by every course file's path and content, so a test that
    points TRAINER_COURSES elsewhere, or writes a course, gets a library read from what is on disk now."""
    files = course_files([d for d in course_dirs() if d.exists()])
    key = tuple((str(f), hashlib.sha256(f.read_bytes()).hexdigest()) for f in files)
    if key not in _LIBRARIES:
        _LIBRARIES[key] = load_library()
    return _LIBRARIES[key]


def make_app(db: Path, *, lang: str = "zh", seed: int = 1, clock: Clock | None = None) -> TrainerApp:
    # Signing in loads the grading model in a worker thread (seconds, once per process). Loaded here first, so that
    # load does not slow the screens a test reads at fixed moments (a trainee takes minutes over a course).
    preload()
    store = Store.open(f"sqlite:///{db}")
    return TrainerApp(library(), store, lang=lang, clock=clock or Clock(), seed=lambda: seed)


async def type_into(pilot: Pilot, text: str) -> None:
    """Type `text` into the field that has the focus, as a fast typist does, and wait until the field holds it.

    Pilot.press waits for the app to go idle twice after every key (at least 40 ms a key, far more on a loaded
    machine): a badge, a name and a course filter cost a second or more per test. The keys are the same, in the same
    order, and this waits on what the trainee sees (the field's text) instead. Anything else (no field focused, a
    field that would cut the text, the cursor not at the end) is typed by Pilot.press as before."""
    box = pilot.app.focused
    if (
        not isinstance(box, Input)
        or box.cursor_position != len(box.value)
        or (box.max_length and len(box.value) + len(text) > box.max_length)
    ):
        await pilot.press(*text)
        return
    expected = box.value + text
    compat.send_keys(pilot.app, text)
    await until(pilot, lambda: box.value == expected, f"the field to hold {expected!r}")


async def sign_in(pilot: Pilot, badge: str, name: str = "", department: str = "") -> None:
    await type_into(pilot, badge)
    await pilot.press("enter")
    await pilot.pause()
    if name:
        await type_into(pilot, name)
        await pilot.press("enter")
        await type_into(pilot, department)
        await pilot.press("enter")
        await pilot.pause()


async def confirm_name(pilot: Pilot, name: str) -> None:
    """Type the trainee's registered name when asked before their unfinished sessions (sites without PINs)."""
    await until(pilot, lambda: pilot.app.screen.query("#confirm-name"), "the question for the trainee's name")
    await pilot.press(*name, "enter")
    await settled(pilot)


async def open_course(pilot: Pilot, filter_text: str, start: str = "enter") -> None:
    """From the catalog: type to filter, Enter for the briefing, then `start`: Enter (or p) for practice, e for the
    exam."""
    await type_into(pilot, filter_text)
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(start)
    await wait_for_actions(pilot)


async def wait_for_actions(pilot: Pilot) -> None:
    for _ in range(100):
        await pilot.pause(0.02)
        screen = pilot.app.screen
        durable = getattr(screen, "durable", None)
        if durable is not None and not getattr(screen, "busy", False):
            return
    raise AssertionError("the player did not get ready")


def listed(pilot: Pilot) -> list[str]:
    """Every action in the list, in its place (number - 1), offered or greyed."""
    actions = pilot.app.screen.query_one("#actions", OptionList)
    return [actions.get_option_at_index(i).id or "" for i in range(actions.option_count)]


def number_of(pilot: Pilot, action_id: str) -> int | None:
    """The number shown before an action ("3. ..."), None past the ninth (shown without one)."""
    actions = pilot.app.screen.query_one("#actions", OptionList)
    prompt = str(actions.get_option(action_id).prompt)
    head = prompt.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def offered(pilot: Pilot) -> list[str]:
    """The actions that can be chosen now (greyed ones, no longer offered, are left out)."""
    actions = pilot.app.screen.query_one("#actions", OptionList)
    options = [actions.get_option_at_index(i) for i in range(actions.option_count)]
    return [o.id or "" for o in options if not o.disabled]


async def choose(pilot: Pilot, action_id: str) -> None:
    """Choose an action the way a trainee does: its number key, or arrows and Enter past the ninth (the arrows skip
    greyed actions)."""
    ids = offered(pilot)
    assert action_id in ids, f"{action_id!r} is not offered; the screen offers {ids}"
    number = number_of(pilot, action_id)
    if number is not None:
        await pilot.press(str(number))
    else:
        await pilot.press("home", *["down"] * ids.index(action_id), "enter")
    # Pilot.press has waited until the key was handled (a write started: the screen is busy); then until the write is
    # applied. (A pause before this wait and a loop that gave up after 2 s cost a wait for idle per action.)
    await until(pilot, lambda: not getattr(pilot.app.screen, "busy", False), f"the player to take {action_id!r}")
