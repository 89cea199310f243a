"""The trainee's terminal app. Screens live in screens/, one per file, each with its own stylesheet (screens/NAME.tcss);
what they all share is in app.tcss."""

from __future__ import annotations

import asyncio
import inspect
import secrets
from collections.abc import Callable
from datetime import date, tzinfo
from functools import cache
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.reactive import reactive
from textual.screen import Screen

from trainer import sitetime
from trainer.engine.clock import Clock, monotonic_ms
from trainer.tui import compat
from trainer.tui.i18n import KEY_OF_TEXT, STRINGS, t

if TYPE_CHECKING:
    from trainer.course.library import Library
    from trainer.course.model import Course
    from trainer.scoring.rubric import SessionScore
    from trainer.store.records import Trainee
    from trainer.store.store import Store


@cache
def stylesheets(cls: type[App] | type[Screen]) -> tuple[Path, ...]:
    """An app or screen class's CSS_PATH files, resolved as Textual resolves them (next to the class's module)."""
    paths = cls.CSS_PATH or []
    here = Path(inspect.getfile(cls)).parent
    return tuple((here / path).resolve() for path in ([paths] if isinstance(paths, str | PurePath) else paths))


class TrainerApp(App[None]):
    """The first screen (sign-in, or the instructor's lists) is the app's default screen rather than one pushed on
    mount (which would lay out and paint an empty screen first), and its stylesheet is read with the app's (Textual
    reads a pushed screen's CSS_PATH by parsing every stylesheet again). Later screens read theirs when first shown.
    See docs/performance.md, app start."""

    CSS_PATH = "app.tcss"
    # No command palette: Textual's offers its own English commands (theme, screenshot, keys, quit) that a trainee has
    # no use for and should not have; every command of ours is a key shown in the footer (F2 language, Ctrl+Q quit).
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("f2", "toggle_language", "key.lang", priority=True),
        Binding("ctrl+q", "quit", "key.quit", priority=True),
    ]
    lang: reactive[str] = reactive("zh")

    def __init__(
        self,
        library: Library | None = None,
        store: Store | None = None,
        *,
        opener: Callable[[], tuple[Library, Store]] | None = None,
        lang: str = "zh",
        clock: Clock = monotonic_ms,
        today: Callable[[], date] | None = None,
        seed: Callable[[], int] = lambda: secrets.randbelow(2**31),
        instructor: bool = False,
        sign_in: bool = False,
    ):
        first: type[Screen[None]]
        if instructor and sign_in:  # the password is asked here (`trainer instructor` in a terminal)
            from trainer.tui.screens.instructor_signin import InstructorSignInScreen

            first = InstructorSignInScreen
        elif instructor:  # the password was checked before the app started
            from trainer.tui.screens.instructor import InstructorScreen

            first = InstructorScreen
        else:
            from trainer.tui.screens.signin import SignInScreen

            first = SignInScreen
        self.first_screen = first
        super().__init__(css_path=[*stylesheets(type(self)), *stylesheets(first)])
        # With `opener` (the trainee's `trainer`), the courses and the database are opened in the background once the
        # sign-in screen is painted: importing SQLAlchemy and reading the courses would otherwise delay the first
        # screen by most of a second. The sign-in waits for them (opened()) only when a badge is entered.
        self.library: Library
        self.store: Store
        self.opener = opener
        self.start_error: BaseException | None = None  # why opening failed; `trainer` reports it after the app exits
        self._opened = asyncio.Event()
        if opener is None:
            if library is None or store is None:
                raise TypeError("TrainerApp needs a library and a store, or an opener")
            self.library, self.store = library, store
            self._opened.set()
        self.clock = clock
        # The site's zone: certificates' days are counted in it, not the terminal's (read when the database opens).
        self.zone: tzinfo = sitetime.site_zone(store) if store is not None else sitetime.zone(sitetime.machine_zone())
        self.today = today or (lambda: sitetime.today(self.zone))
        self.seed = seed
        self.instructor = instructor
        self.trainee: Trainee | None = None
        self.set_reactive(TrainerApp.lang, lang)

    def tr(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)

    def localize_bindings(self, node: DOMNode) -> None:
        """Show the key hints of `node` in the current language.

        Binding descriptions are written as i18n keys ("key.pause"); a description already translated is recognised
        in either language."""

        def describe(binding: Binding) -> str | None:
            key = KEY_OF_TEXT.get(binding.description, binding.description)
            return self.tr(key) if key in STRINGS else None

        compat.relabel_bindings(node, describe)

    def read_stylesheets(self, *screens: type[Screen]) -> None:
        """Read these screens' stylesheets now, all together.

        Textual parses every stylesheet again each time it reads a new screen's (on that screen's first appearance,
        costlier as more widgets' styles are known: docs/performance.md, app start); reading the next screens' at once, at a transition that happens
        anyway, pays that once instead of on each of their first appearances.
        """
        compat.read_stylesheets(self, (path for screen in screens for path in stylesheets(screen)))

    def get_default_screen(self) -> Screen:
        return self.first_screen()

    def on_mount(self) -> None:
        self.title = self.tr("app.title")
        self.localize_bindings(self)
        if self.opener is not None:
            self.call_after_refresh(self.run_worker, self._open, name="open", thread=True, exit_on_error=False)

    def _open(self) -> None:
        """Worker thread: open the courses and the database; on failure, leave with the reason (start_error)."""
        assert self.opener is not None
        try:
            library, store = self.opener()
            zone = sitetime.site_zone(store)
        except BaseException as exc:  # noqa: BLE001 - reported by `trainer` after the app has left the terminal
            self.call_from_thread(self._not_opened, exc)
            return
        self.call_from_thread(self._now_open, library, store, zone)

    def _now_open(self, library: Library, store: Store, zone: tzinfo) -> None:
        self.library, self.store, self.zone = library, store, zone
        self._opened.set()

    def _not_opened(self, exc: BaseException) -> None:
        self.start_error = exc
        self.exit()

    async def opened(self) -> None:
        """Wait until the courses and the database are open (at once unless they are still opening at start)."""
        await self._opened.wait()

    def opened_store(self) -> Store | None:
        """The database if it was opened (for closing it when the app has ended), else None."""
        return self.store if self._opened.is_set() else None

    def show_debrief(self, course: Course, session_id: str, *, score: SessionScore | None = None) -> None:
        """Replace the player with the debrief of the session it just ended. Screens move on through the app, so the
        player and the debrief (whose "again" opens a new player) do not import each other."""
        from trainer.tui.screens.debrief import DebriefScreen

        self.switch_screen(DebriefScreen(course, session_id, score=score))

    def preload_grader(self) -> None:
        """Load the grading model in a worker thread (once per process): it takes seconds, and a session is graded
        when it ends (trainer/session_service.py), so the end must not wait for it. Called when a trainee signs in."""
        from trainer.scoring.grade import preload

        if not any(w.name == "preload-grader" for w in self.workers):
            self.run_worker(preload, name="preload-grader", group="grader", thread=True, exit_on_error=False)

    def action_toggle_language(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"

    def watch_lang(self, lang: str) -> None:
        self.title = self.tr("app.title")
        self.localize_bindings(self)
        for screen in self.screen_stack:
            self.localize_bindings(screen)
            refresh = getattr(screen, "refresh_language", None)
            if refresh is not None:
                refresh()
