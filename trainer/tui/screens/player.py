"""The player, the "virtual workshop": scene, map, actions, status; every action saved before it is acknowledged."""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalGroup, VerticalScroll
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from trainer.course.model import Action, Course, Outcome
from trainer.engine.events import Event, EventKind
from trainer.engine.modes import Mode
from trainer.engine.session import EngineError, ReplayMismatch, Session
from trainer.errors import TrainerError
from trainer.scoring.detect import declared_rule
from trainer.session_service import DurableSession
from trainer.store.records import StoredEvent
from trainer.tui.look import clock_text
from trainer.tui.mapdraw import draw_map, legend
from trainer.tui.screens.base import TrainerScreen
from trainer.tui.widgets.prose import Prose

# Events that change nothing the trainee is told: storing them keeps the feedback on screen as it was.
QUIET_KINDS = frozenset({EventKind.PAUSED, EventKind.UNPAUSED, EventKind.SHOWN})
# The trainee's inputs whose feedback the screen shows (a resume shows the last one's again).
SHOWN_INPUTS = frozenset({EventKind.CHOSE, EventKind.TIMED_OUT, EventKind.HINT})


def last_input(events: Sequence[Event]) -> list[Event]:
    """The events of the trainee's last input (a choice, a timeout or a hint, with what it caused): what the screen
    showed as feedback before the session was interrupted."""
    for i in range(len(events) - 1, -1, -1):
        if events[i].kind in SHOWN_INPUTS:
            return [e for e in events[i:] if e.kind not in QUIET_KINDS and e.kind is not EventKind.RESUMED]
    return []


class PlayedSession(Protocol):
    """What the player plays: a trainee's session stored as it goes (trainer/session_service.py DurableSession) or an
    instructor's preview that stores nothing (trainer/tui/preview.py PreviewSession). Each step returns the events it
    caused, stored; it runs in a worker thread."""

    engine: Session
    stored: list[StoredEvent]
    score: Any  # the score the ending was stored with (SessionScore), or None

    @property
    def id(self) -> str: ...

    @property
    def mode(self) -> Mode: ...

    def choose(self, action_id: str, on_ending: Callable[[list[Event]], None] | None = None) -> list[StoredEvent]: ...
    def tick(self, on_ending: Callable[[list[Event]], None] | None = None) -> list[StoredEvent]: ...
    def pause(self) -> list[StoredEvent]: ...
    def unpause(self) -> list[StoredEvent]: ...
    def shown(self) -> list[StoredEvent]: ...
    def hint(self) -> list[StoredEvent]: ...
    def abort(self, reason: str = "trainee") -> list[StoredEvent]: ...
    def heartbeat(self) -> None: ...
    def release(self) -> None: ...


# Writes to the session run one at a time in this worker group (PlayerScreen.commit); heartbeats in their own.
WRITES = "session"
COMMIT_FAILS = (TrainerError, EngineError)  # what a write may end with that the screen shows, rather than a crash


class PlayerScreen(TrainerScreen[None]):
    CSS_PATH = "player.tcss"
    BINDINGS = [
        Binding("escape", "pause", "key.pause"),
        Binding("question_mark", "help", "key.help"),
        Binding("m", "toggle_map", "key.map"),
        Binding("h", "hint", "key.hint"),
        Binding("r", "retry", "key.retry_save", show=False),
        *[Binding(str(n), f"pick({n - 1})", show=False) for n in range(1, 10)],
    ]

    # A trainee's input is being committed (PlayerScreen.commit): the status line says so until it is stored.
    busy: var[bool] = var(False)

    def __init__(self, course: Course, resume_id: str | None = None, mode: Mode = Mode.PRACTICE):
        super().__init__()
        self.course = course
        self.resume_id = resume_id
        self.mode = mode  # of a new session; a resumed one keeps its own (self.exam reads it from the record)
        self.durable: PlayedSession | None = None
        # A write to the session is in the worker (an input, a "shown" report, the start). Inputs that come meanwhile
        # wait in `waiting`, in order, and each is taken once the write is applied (when_free): a key is neither lost
        # nor taken twice, as when the handler held the app's queue while it saved.
        self.writing = False
        self.waiting: deque[Callable[[], object]] = deque()
        self.pending: str | None = None  # an action whose save failed, for R to retry
        self.feedback = Text()
        self.position: str | None = None
        self.finished = False
        self.last_heartbeat_ms = 0
        self.ending_shown = False  # the ending is on screen while it is graded and stored
        self.incident_open = False  # the incident modal is up (pushed at once, before the ending is stored)
        self.debrief_pending = False  # the incident modal was closed before the ending was stored
        self.shown_state: str | None = None  # the state whose menu the option list shows (to keep the highlight)
        self.numbers: dict[int, str] = {}  # number key -> action id (option id) in the list shown
        self.notice = ""  # a short word in the status line (a greyed number pressed), until the next input
        self.map_turn = False  # on a small terminal: the map has the scene's place (key m)

    @property
    def session(self) -> PlayedSession:
        """The session, once open (everything but the start runs after it is)."""
        assert self.durable is not None, "the session is not open yet"
        return self.durable

    def watch_busy(self) -> None:
        self.update_status()  # "saving" (or "grading", for an ending) shows while an input is committed

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="scene-title")
        # On a small terminal the map and the scene take turns (key m, show_stage). The map sits in a box of its own,
        # which is what is shown and hidden: the map's own style never changes on a toggle, so Textual keeps its
        # rendered lines instead of drawing the whole map again each time it is shown.
        with Vertical(id="stage"):
            if self.course.map is not None:
                with VerticalGroup(id="map-box"):
                    yield Static(id="map")
            with VerticalScroll(id="scene-box"):
                yield Prose(id="feedback")
                yield Prose(id="scene")
        yield OptionList(id="actions")
        yield Static(id="status")
        yield Footer()

    # Below this height the map and the scene take turns (key m); above it both are shown.
    COMPACT_BELOW = 36

    def on_resize(self) -> None:
        self.set_class(self.size.height < self.COMPACT_BELOW, "compact")
        self.show_stage()

    def action_toggle_map(self) -> None:
        if self.course.map is not None:
            self.map_turn = not self.map_turn
            self.show_stage()

    def show_stage(self) -> None:
        """Both panels, or on a small terminal the one whose turn it is. Shown and hidden by their display alone, not
        by a class: a class would have Textual match the stylesheet against the stage's every widget again (a toggle
        must paint within a frame, #22)."""
        if self.course.map is None:
            return
        compact = self.has_class("compact")
        self.query_one("#map-box").display = not compact or self.map_turn
        self.query_one("#scene-box").display = not compact or not self.map_turn

    def on_mount(self) -> None:
        self.on_resize()
        self.query_one("#scene", Static).update(self.app.tr("player.saving"))
        self.writing = True  # starting writes the session's first events: inputs wait for it
        self.in_thread(self.opener(), self.opened, group=WRITES, failed=self.not_opened, expected=COMMIT_FAILS)

    def opener(self) -> Callable[[], PlayedSession]:
        """What starts (or resumes) the session this screen plays, in the worker; its first events are stored then."""
        app, course = self.app, self.course
        store, clock, resume_id = app.store, app.clock, self.resume_id
        if resume_id is None:
            assert app.trainee is not None, "a trainee signs in before playing"
            return partial(
                DurableSession.begin,
                store,
                course,
                app.trainee.badge,
                seed=app.seed(),
                lang=app.lang,
                clock=clock,
                timers_after_shown=True,
                mode=self.mode,
            )

        def resume() -> PlayedSession:
            try:
                return DurableSession.resume(store, course, resume_id, clock=clock)
            except COMMIT_FAILS:
                # Resuming claimed the session before it failed: give it back at once, so that an instructor can void
                # it (or another terminal resume it) without waiting for this app to close.
                with contextlib.suppress(TrainerError):
                    store.release(resume_id)
                raise

        return resume

    def opened(self, durable: PlayedSession) -> None:
        self.durable = durable
        self.writing = False
        self.refresh_bindings()  # the footer drops h in an exam, now that the session's mode is known
        if self.resume_id:
            # As before quitting: the scene with its active events, and the feedback of the last input (not a recap).
            events = [s.event for s in durable.stored]
            last = last_input(events)
            if last and last[0].kind is EventKind.HINT and durable.engine.state.hint is not None:
                self.feedback = Text("? ", style="bold cyan") + Text(durable.engine.state.hint.get(self.app.lang))
            else:
                self.feedback = self.describe(last)
            self.redraw()
        else:
            self.show(durable.stored)
        self.set_interval(0.25, self.on_tick)
        self.take_waiting()

    def not_opened(self, exc: Exception) -> None:
        self.writing = False
        self.waiting.clear()  # inputs for a session that did not open
        # A record the course does not reproduce (tampering) is not a database fault: say so, and who can help.
        key = "error.resume" if isinstance(exc, ReplayMismatch) else "error.store"
        self.query_one("#scene", Static).update(Text(self.app.tr(key, error=str(exc)), style="bold red"))

    @property
    def exam(self) -> bool:
        """An exam: no hints, and nothing said about right or wrong until the debrief."""
        return self.durable is not None and self.durable.mode is Mode.EXAM

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "hint" and self.exam)  # an exam has no hints: the key is neither shown nor taken

    def on_unmount(self) -> None:
        if self.durable is not None and not self.durable.engine.ended:
            # If this fails, the session is still found interrupted once this process has gone.
            with contextlib.suppress(TrainerError):
                self.durable.release()

    # --- drawing -------------------------------------------------------------------------------------------------
    def refresh_language(self) -> None:
        if self.durable is not None:
            self.feedback = Text()
            self.redraw()

    def redraw(self) -> None:
        app, engine = self.app, self.session.engine
        lang = app.lang
        state = engine.state
        self.query_one("#scene-title", Static).update(Text(self.course.title.get(lang), style="bold"))
        scene = Text(state.scene(engine.variables, lang))
        for ev in engine.active_events():
            scene.append("\n\n! " + app.tr("player.event") + app.tr("punct.colon"), style="bold magenta")
            scene.append(ev.text.get(lang), style="magenta")
        if state.hazard:
            scene.append(f"\n\n⚠ {state.hazard.text.get(lang)}", style="bold red")
        self.query_one("#scene", Static).update(scene)
        self.set_feedback(self.feedback)
        if state.position:
            self.position = state.position
        if self.course.map is not None:
            people = tuple(ev.appears_at for ev in engine.active_events() if ev.appears_at)
            named = tuple((p.at, p.label.get(lang)) for p in state.people)
            drawing = draw_map(
                self.course.map, engine.variables, lang, position=self.position, people=people, named=named
            )
            if self.has_class("compact"):  # the map has taken the scene's place: say how to get it back, first
                drawing = Text(app.tr("player.map_back") + "\n", style="bold") + drawing
            drawing.append("\n")
            drawing.append_text(legend(lang))
            panel = self.query_one("#map", Static)
            panel.border_title = app.tr("player.map")
            panel.update(drawing)
        actions = self.query_one("#actions", OptionList)
        actions.border_title = app.tr("player.actions")
        highlighted = actions.highlighted_option.id if actions.highlighted_option is not None else None
        same_state = self.shown_state == engine.state.id
        actions.clear_options()
        # Each action keeps its number while the state is shown (engine.menu): one no longer offered stays, greyed.
        menu = engine.menu()
        self.numbers = {item.number: item.action.id for item in menu}
        for item in menu:
            n = item.number
            label = Text(f"{n}. " if n < 10 else "   ", style="bold" if item.offer else "dim")
            if item.offer is not None:
                label.append(item.action.label.get(lang), style="magenta" if item.event else "")
            else:
                done = "✓ " if item.action.id in engine.history else ""
                label.append(done + item.action.label.get(lang), style="dim")
            actions.add_option(Option(label, id=item.action.id, disabled=item.offer is None))
        enabled = [i for i, item in enumerate(menu) if item.offer is not None]  # option indexes
        keep = [i for i in enabled if same_state and menu[i].action.id == highlighted]
        if enabled:
            actions.highlighted = (keep or enabled)[0]
        self.shown_state = engine.state.id
        actions.focus()
        self.update_status()
        if engine.awaiting_shown:
            # The timer starts once this scene is on screen in full (after layout and paint), not when it was entered.
            self.call_after_refresh(self.report_shown)

    def set_feedback(self, text: Text) -> None:
        self.feedback = text
        widget = self.query_one("#feedback", Static)
        widget.update(text)
        widget.display = bool(text.plain.strip())

    def update_status(self) -> None:
        if self.durable is None:
            return
        app, engine = self.app, self.durable.engine
        mode = app.tr("mode.exam" if self.exam else "mode.practice")
        parts = [mode, app.tr("player.elapsed", time=clock_text(engine.now_ms()))]
        left_ms = engine.time_left_ms()
        countdown = None
        if left_ms is not None:
            countdown = app.tr("player.countdown", seconds=f"{left_ms / 1000:.0f}")
        carried = [item.label.get(app.lang) for item in self.course.inventory if item.when(engine.variables)]
        status = Text()
        if self.notice:  # first, so a narrow terminal does not cut it off
            status.append(self.notice + " │ ", style="bold")
        status.append(" │ ".join(parts))
        if countdown:
            status.append(" │ ")
            status.append(
                "⏱ " + countdown, style="bold red" if left_ms is not None and left_ms <= 10_000 else "bold yellow"
            )
        if carried:
            status.append(
                " │ " + app.tr("player.carrying") + app.tr("punct.colon") + app.tr("punct.list").join(carried)
            )
        if self.busy:
            key = "player.grading" if self.ending_shown else "player.saving"
            status.append(" │ " + app.tr(key), style="dim")
        self.query_one("#status", Static).update(status)

    def describe(self, events: Sequence[Event], ending: bool = False) -> Text:
        """What the trainee is told about the events an input caused. In an exam, until its `ending`: only what was
        done and that time ran out, nothing of right or wrong (the debrief says that)."""
        app, lang, course = self.app, self.app.lang, self.course
        out = Text()
        quiet = self.exam and not ending
        for e in events:
            if quiet and e.kind is EventKind.CHOSE and e.action:
                action = self._action(e.state, e.action, e.data.get("event"))
                label = action.label.get(lang) if action is not None else e.action
                out.append(app.tr("player.exam_taken", action=label) + "\n", style="dim")
            elif quiet and e.kind is EventKind.TIMED_OUT:
                out.append("⏱ " + app.tr("player.timeout") + "\n", style="bold red")
            elif quiet:
                continue
            elif e.kind is EventKind.CHOSE and e.action:
                action = self._action(e.state, e.action, e.data.get("event"))
                if action is not None and action.feedback:
                    out.append(action.feedback.get(lang) + "\n")
            elif e.kind is EventKind.TIMED_OUT:
                timer = course.states[e.state].timer
                out.append("⏱ " + app.tr("player.timeout") + " ", style="bold red")
                if timer is not None and timer.feedback:
                    out.append(timer.feedback.get(lang))
                out.append("\n")
            elif e.kind is EventKind.MISTAKE:
                # No severity here: the grade is given once, when the session ends, and may differ from the declared one.
                rule, standard = self._rule(e)
                out.append(f"⚑ {app.tr('player.mistake')}{app.tr('punct.colon')}", style="bold dark_orange")
                out.append(rule)
                if standard:
                    out.append(f" [{standard}]", style="dim")
                out.append("\n")
        return out

    def _action(self, state_id: str, action_id: str, event_id: object) -> Action | None:
        if event_id:
            ev = next((e for e in self.course.random_events if e.id == event_id), None)
            return next((a for a in ev.actions if a.id == action_id), None) if ev else None
        return self.course.states[state_id].action(action_id)

    def _rule(self, e: Event) -> tuple[str, str | None]:
        rule, standard = declared_rule(
            self.course, str(e.data.get("source")), str(e.data.get("ref")), e.state, str(e.data.get("code"))
        )
        return rule.get(self.app.lang), standard

    def show(self, stored: Sequence[StoredEvent]) -> None:
        events = [s.event for s in stored]
        if any(e.kind not in QUIET_KINDS for e in events):
            self.feedback = self.describe(events, ending=self.session.engine.ended)
        self.redraw()
        if self.session.engine.ended and not self.finished:
            self.finished = True
            self.end_session()

    def ending_from_worker(self, events: list[Event]) -> None:
        """Called in the worker thread when an input ends the session, before it is graded and stored: the ending shows
        while it is (the thread waits until it is on screen). Not once the screen has gone (its workers cancelled)."""
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_ending, events)

    def show_ending(self, events: list[Event]) -> None:
        """The ending at once (the scene, and the incident if it is one); the debrief follows once it is stored."""
        from trainer.tui.screens.incident import IncidentScreen

        self.ending_shown = True
        self.feedback = self.describe(events, ending=True)
        self.redraw()
        engine = self.session.engine
        if engine.outcome is Outcome.INCIDENT:
            self.incident_open = True
            self.app.push_screen(IncidentScreen(self.course, engine.state, self.feedback), self.incident_closed)

    def incident_closed(self, _: object = None) -> None:
        self.incident_open = False
        if self.finished:
            self.open_debrief()
        else:
            self.debrief_pending = True  # still being stored: the debrief opens when it is

    def ending_lost(self) -> None:
        """The ending could not be stored (the engine is back where it was): take it off the screen."""
        if self.incident_open and self.app.screen is not self:
            self.incident_open = False
            self.app.pop_screen()
        self.ending_shown = self.debrief_pending = False
        self.redraw()

    def end_session(self) -> None:
        from trainer.tui.screens.incident import IncidentScreen

        engine = self.session.engine
        self.query_one("#actions", OptionList).clear_options()
        if self.incident_open:
            return  # the debrief opens when the trainee closes the incident
        if self.debrief_pending or engine.outcome is not Outcome.INCIDENT:
            self.open_debrief()
        else:
            self.incident_open = True
            self.app.push_screen(IncidentScreen(self.course, engine.state, self.feedback), self.incident_closed)

    def open_debrief(self) -> None:
        self.debrief_pending = False
        self.app.show_debrief(self.course, self.session.id, score=self.session.score)

    # --- input ---------------------------------------------------------------------------------------------------
    # A key's handler returns at once: an input that writes (an action, a hint, a pause) starts a worker (commit), and
    # the worker's completion shows what it caused. Inputs that come while a write runs wait for it (when_free).
    def when_free(self, take: Callable[[], object]) -> None:
        """Take an input now, or, while a write to the session runs, once it is applied (in the order they came)."""
        if self.writing:
            self.waiting.append(take)
        else:
            take()

    def take_waiting(self) -> None:
        """The write in flight is applied: take the inputs that came meanwhile, until one of them writes again."""
        while self.waiting and not self.writing:
            self.waiting.popleft()()

    def commit(
        self, step: Callable[[], list[StoredEvent]], *, retry: str | None = None, then: Callable[[bool], object] = bool
    ) -> None:
        """Commit an input in a worker; what it caused shows once it is stored, never before. `retry`: the action R
        tries again if the save fails. `then(ok)` after it is shown: False if nothing was stored, or a timer ran out
        first."""
        self.notice = ""
        self.writing = True
        self.busy = True
        self.in_thread(
            step,
            partial(self.committed, then),
            group=WRITES,
            failed=partial(self.not_committed, retry, then),
            expected=COMMIT_FAILS,
        )

    def committed(self, then: Callable[[bool], object], stored: list[StoredEvent]) -> None:
        self.pending = None
        self.writing = self.busy = False
        self.show(stored)
        then(all(s.event.kind is not EventKind.TIMED_OUT for s in stored))
        self.take_waiting()

    def not_committed(self, retry: str | None, then: Callable[[bool], object], exc: Exception) -> None:
        self.writing = self.busy = False
        if isinstance(exc, TrainerError):
            self.pending = retry
            if self.ending_shown:
                self.ending_lost()
            self.set_feedback(Text(self.app.tr("player.save_failed", error=str(exc)), style="bold red"))
            self.update_status()
        else:
            self.redraw()  # the action is no longer offered (a timer ran out at the same moment)
        then(False)
        self.take_waiting()

    def playing(self) -> PlayedSession | None:
        """The session, if it takes inputs now (open, not ended, not paused)."""
        durable = self.durable
        if durable is None or durable.engine.ended or durable.engine.paused:
            return None
        return durable

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        action_id = event.option.id
        if action_id:
            self.when_free(lambda: self.choose(action_id))

    def action_pick(self, index: int) -> None:
        """Number key `index + 1`: the action with that number (numbers stay on their actions: engine.menu), in the
        list shown when the key is taken (a key typed during a save counts in the list the save leads to)."""
        self.when_free(lambda: self.pick(index))

    def pick(self, index: int) -> None:
        action_id = self.numbers.get(index + 1)
        if action_id is None:
            return
        actions = self.query_one("#actions", OptionList)
        option = actions.get_option(action_id)
        if option.disabled:
            self.notice = self.app.tr("player.not_offered")  # in the status line until the next input
            self.update_status()
        else:
            self.choose(action_id)

    def choose(self, action_id: str) -> None:
        durable = self.playing()
        if durable is not None:
            self.commit(lambda: durable.choose(action_id, on_ending=self.ending_from_worker), retry=action_id)

    def action_hint(self) -> None:
        """Show the state's hint; asking is saved first (it counts as a minor deviation in the debrief)."""
        self.when_free(self.hint)

    def hint(self) -> None:
        durable = self.playing()
        if durable is None:
            return
        hint = durable.engine.state.hint
        if hint is None:
            self.set_feedback(Text(self.app.tr("player.no_hint"), style="dim"))
            return

        def saved(ok: bool) -> None:
            if ok:  # saved, and no timer ran out first
                self.set_feedback(Text("? ", style="bold cyan") + Text(hint.get(self.app.lang)))

        self.commit(durable.hint, then=saved)

    def action_retry(self) -> None:
        self.when_free(self.retry)

    def retry(self) -> None:
        if self.pending:
            self.choose(self.pending)

    HEARTBEAT_MS = 60_000  # app.clock is the engine's clock: integer milliseconds

    def on_tick(self) -> None:
        durable = self.durable
        if durable is None or self.writing or durable.engine.ended:
            return
        if self.app.clock() - self.last_heartbeat_ms >= self.HEARTBEAT_MS:
            self.last_heartbeat_ms = self.app.clock()
            # If it fails, the next one is sent a minute later; a missed one costs the trainee nothing.
            self.in_thread(durable.heartbeat, bool, group="heartbeat", failed=bool)
        if durable.engine.awaiting_shown:
            self.report_shown()  # a paint whose report was missed (a write ran then, or its save failed)
            return
        left_ms = durable.engine.time_left_ms()
        if left_ms is not None and left_ms <= 0:
            self.commit(lambda: durable.tick(on_ending=self.ending_from_worker))
        else:
            self.update_status()

    def report_shown(self) -> None:
        """The scene is on screen in full: its timer starts now (stored, so replay and resume agree). Not while another
        write runs: the next tick reports it."""
        durable = self.durable
        if durable is None or self.writing:
            return
        if not durable.engine.awaiting_shown or durable.engine.paused or durable.engine.ended:
            return
        self.writing = True
        # On failure it is tried again at the next tick; meanwhile the timer waits, which costs the trainee nothing.
        self.in_thread(
            durable.shown, self.shown_reported, group=WRITES, failed=self.shown_reported, expected=COMMIT_FAILS
        )

    def shown_reported(self, _: object) -> None:
        self.writing = False
        self.update_status()
        self.take_waiting()

    def action_pause(self) -> None:
        """Stop the course clock and every timer (stored as a pause), then offer resume or abandon."""
        self.when_free(self.pause)

    def pause(self) -> None:
        durable = self.durable
        if durable is None or durable.engine.ended:
            return
        if durable.engine.paused:
            self.offer_pause_menu()
            return

        def paused(ok: bool) -> None:
            # A timer ran out first and ended the session, or the pause could not be stored (said so): no menu.
            if not durable.engine.ended and durable.engine.paused:
                self.offer_pause_menu()

        self.commit(durable.pause, then=paused)

    def offer_pause_menu(self) -> None:
        from trainer.tui.screens.pause import PauseScreen

        def leave(choice: str | None) -> None:
            durable = self.durable
            if durable is None or durable.engine.ended:
                return
            if choice == "abort":
                self.commit(lambda: durable.abort("trainee"))
            else:
                self.commit(durable.unpause)

        self.app.push_screen(PauseScreen(), lambda choice: self.when_free(lambda: leave(choice)))

    def action_help(self) -> None:
        """The keys, over the scene: the course clock stands still while they are read (stored as a pause)."""
        from trainer.tui.screens.help import HelpScreen

        self.push_paused(HelpScreen())

    def push_paused(self, modal: Screen[Any], then: Callable[[Any], object] = bool) -> None:
        """Show `modal` over the scene with the course paused the stored way (as Esc pauses): `paused` before it shows,
        `unpaused` when it closes. A trainee reading an overlay cannot read the scene, so no timer may run meanwhile.
        Already paused (or no session yet, or ended): the modal just shows, and closing it resumes nothing. `then` gets
        the modal's result after the course runs again. An answer being stored is stored first (when_free): its outcome
        is what the trainee comes back to."""
        self.when_free(lambda: self.pause_for(modal, then))

    def pause_for(self, modal: Screen[Any], then: Callable[[Any], object]) -> None:
        durable = self.playing()
        if durable is None:
            self.show_paused(modal, then, paused_here=False)
            return

        def paused(ok: bool) -> None:
            if not durable.engine.ended:  # a timer ran out first and ended the session: its ending shows, not the modal
                # Not paused if the pause could not be stored (the feedback says so): the modal shows all the same.
                self.show_paused(modal, then, paused_here=durable.engine.paused)

        self.commit(durable.pause, then=paused)

    def show_paused(self, modal: Screen[Any], then: Callable[[Any], object], *, paused_here: bool) -> None:
        def resume(result: object) -> None:
            durable = self.durable
            if paused_here and durable is not None and not durable.engine.ended and durable.engine.paused:
                self.commit(durable.unpause, then=lambda ok: then(result))
            else:
                then(result)

        self.app.push_screen(modal, lambda result: self.when_free(lambda: resume(result)))
