"""The player, the "virtual workshop": scene, map, actions, status; every action saved before it is acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalGroup, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from trainer.course.model import Course, Outcome
from trainer.engine.events import Event, EventKind
from trainer.engine.modes import Mode
from trainer.engine.session import EngineError, ReplayMismatch
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

    def __init__(self, course: Course, resume_id: str | None = None, mode: Mode = Mode.PRACTICE):
        super().__init__()
        self.course = course
        self.resume_id = resume_id
        self.mode = mode  # of a new session; a resumed one keeps its own (self.exam reads it from the record)
        self.durable: DurableSession | None = None
        self.busy = False
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
        # Inputs (busy) and "shown" reports are written one at a time; a key pressed while a report is written waits
        # for it (a few milliseconds) instead of being dropped as a key pressed during a save is.
        self.saving = asyncio.Lock()
        self.map_turn = False  # on a small terminal: the map has the scene's place (key m)

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

    async def on_mount(self) -> None:
        self.on_resize()
        self.query_one("#scene", Static).update(self.app.tr("player.saving"))
        try:
            self.durable = await self.open_session()
        except (TrainerError, EngineError) as exc:
            if self.resume_id:
                # Resuming claimed the session before it failed: give it back at once, so that an instructor can void
                # it (or another terminal resume it) without waiting for this app to close.
                with contextlib.suppress(TrainerError):
                    await asyncio.to_thread(self.app.store.release, self.resume_id)
            # A record the course does not reproduce (tampering) is not a database fault: say so, and who can help.
            key = "error.resume" if isinstance(exc, ReplayMismatch) else "error.store"
            self.query_one("#scene", Static).update(Text(self.app.tr(key, error=str(exc)), style="bold red"))
            return
        self.refresh_bindings()  # the footer drops h in an exam, now that the session's mode is known
        if self.resume_id:
            # As before quitting: the scene with its active events, and the feedback of the last input (not a recap).
            events = [s.event for s in self.durable.stored]
            last = last_input(events)
            if last and last[0].kind is EventKind.HINT and self.durable.engine.state.hint is not None:
                self.feedback = Text("? ", style="bold cyan") + Text(self.durable.engine.state.hint.get(self.app.lang))
            else:
                self.feedback = self.describe(last)
            self.redraw()
        else:
            self.show(self.durable.stored)
        self.set_interval(0.25, self.on_tick)

    async def open_session(self):
        """Start (or resume) the session this screen plays; its first events are stored when this returns."""
        app = self.app
        if self.resume_id:
            return await asyncio.to_thread(
                DurableSession.resume, app.store, self.course, self.resume_id, clock=app.clock
            )
        return await asyncio.to_thread(
            DurableSession.begin,
            app.store,
            self.course,
            app.trainee.badge,
            seed=app.seed(),
            lang=app.lang,
            clock=app.clock,
            timers_after_shown=True,
            mode=self.mode,
        )

    @property
    def exam(self) -> bool:
        """An exam: no hints, and nothing said about right or wrong until the debrief."""
        record = getattr(self.durable, "record", None)  # the instructor's preview stores nothing: it has no record
        return record is not None and record.mode == Mode.EXAM

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
        app, engine = self.app, self.durable.engine
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

    def _action(self, state_id: str, action_id: str, event_id: object):
        if event_id:
            ev = next((e for e in self.course.random_events if e.id == event_id), None)
            return next((a for a in ev.actions if a.id == action_id), None) if ev else None
        return self.course.states[state_id].action(action_id)

    def _rule(self, e) -> tuple[str, str | None]:
        rule, standard = declared_rule(
            self.course, str(e.data.get("source")), str(e.data.get("ref")), e.state, str(e.data.get("code"))
        )
        return rule.get(self.app.lang), standard

    def show(self, stored: Sequence[StoredEvent]) -> None:
        events = [s.event for s in stored]
        if any(e.kind not in QUIET_KINDS for e in events):
            self.feedback = self.describe(events, ending=self.durable.engine.ended)
        self.redraw()
        if self.durable.engine.ended and not self.finished:
            self.finished = True
            self.end_session()

    def ending_from_worker(self, events: list[Event]) -> None:
        """Called in the worker thread when an input ends the session, before it is graded and stored."""
        self.app.call_from_thread(self.show_ending, events)

    def show_ending(self, events: list[Event]) -> None:
        """The ending at once (the scene, and the incident if it is one); the debrief follows once it is stored."""
        from trainer.tui.screens.incident import IncidentScreen

        self.ending_shown = True
        self.feedback = self.describe(events, ending=True)
        self.redraw()
        engine = self.durable.engine
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

        engine = self.durable.engine
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
        self.app.show_debrief(self.course, self.durable.id, score=self.durable.score)

    # --- input ---------------------------------------------------------------------------------------------------
    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            await self.choose(event.option.id)

    async def action_pick(self, index: int) -> None:
        """Number key `index + 1`: the action with that number (numbers stay on their actions: engine.menu)."""
        action_id = self.numbers.get(index + 1)
        if action_id is None:
            return
        actions = self.query_one("#actions", OptionList)
        option = actions.get_option(action_id)
        if option.disabled:
            self.notice = self.app.tr("player.not_offered")  # in the status line until the next input
            self.update_status()
        else:
            await self.choose(action_id)

    async def choose(self, action_id: str) -> None:
        if self.busy or self.durable is None or self.durable.engine.ended or self.durable.engine.paused:
            return
        await self._save(lambda: self.durable.choose(action_id, on_ending=self.ending_from_worker), action_id)

    async def _save(self, step, action_id: str | None) -> bool:
        """Run an input in a worker thread and show what it caused once it is stored; False if nothing was."""
        self.busy = True
        self.notice = ""
        self.update_status()
        try:
            async with self.saving:  # after a "shown" report in flight: one write to the session at a time
                stored = await asyncio.to_thread(step)
        except TrainerError as exc:
            self.pending = action_id
            self.busy = False
            if self.ending_shown:
                self.ending_lost()
            self.set_feedback(Text(self.app.tr("player.save_failed", error=str(exc)), style="bold red"))
            self.update_status()
            return False
        except EngineError:
            self.busy = False
            self.redraw()  # the action is no longer offered (a timer ran out at the same moment)
            return False
        self.pending = None
        self.busy = False
        self.show(stored)
        return all(s.event.kind is not EventKind.TIMED_OUT for s in stored)

    async def action_hint(self) -> None:
        """Show the state's hint; asking is saved first (it counts as a minor deviation in the debrief)."""
        if self.busy or self.durable is None or self.durable.engine.ended or self.durable.engine.paused:
            return
        hint = self.durable.engine.state.hint
        if hint is None:
            self.set_feedback(Text(self.app.tr("player.no_hint"), style="dim"))
            return
        if await self._save(self.durable.hint, None):  # saved, and no timer ran out first
            self.set_feedback(Text("? ", style="bold cyan") + Text(hint.get(self.app.lang)))

    async def action_retry(self) -> None:
        if self.pending and not self.busy:
            await self.choose(self.pending)

    HEARTBEAT_MS = 60_000  # app.clock is the engine's clock: integer milliseconds

    async def on_tick(self) -> None:
        if self.durable is None or self.busy or self.durable.engine.ended:
            return
        if self.app.clock() - self.last_heartbeat_ms >= self.HEARTBEAT_MS:
            self.last_heartbeat_ms = self.app.clock()
            with contextlib.suppress(TrainerError):
                await asyncio.to_thread(self.durable.heartbeat)
        if self.durable.engine.awaiting_shown:
            await self.report_shown()  # a paint whose report was missed (busy then, or its save failed)
        left_ms = self.durable.engine.time_left_ms()
        if left_ms is not None and left_ms <= 0:
            await self._save(lambda: self.durable.tick(on_ending=self.ending_from_worker), None)
        else:
            self.update_status()

    async def report_shown(self) -> None:
        """The scene is on screen in full: its timer starts now (stored, so replay and resume agree)."""
        durable = self.durable
        if durable is None or self.busy or self.saving.locked():
            return
        async with self.saving:
            if not durable.engine.awaiting_shown or durable.engine.paused or durable.engine.ended:
                return
            # On failure it is tried again at the next tick; meanwhile the timer waits, which costs the trainee nothing.
            with contextlib.suppress(TrainerError, EngineError):
                await asyncio.to_thread(durable.shown)
        self.update_status()

    async def action_pause(self) -> None:
        """Stop the course clock and every timer (stored as a pause), then offer resume or abandon."""
        from trainer.tui.screens.pause import PauseScreen

        durable = self.durable
        if durable is None or durable.engine.ended or self.busy:
            return
        if not durable.engine.paused:
            await self._save(durable.pause, None)
            if durable.engine.ended or not durable.engine.paused:
                return  # a timer ran out first and ended the session, or the pause could not be stored (said so)

        async def after(choice: str | None) -> None:
            if self.durable is None or self.durable.engine.ended:
                return
            while self.busy:
                await asyncio.sleep(0.01)
            if choice == "abort":
                await self._save(lambda: self.durable.abort("trainee"), None)
            else:
                await self._save(self.durable.unpause, None)

        self.app.push_screen(PauseScreen(), after)

    async def action_help(self) -> None:
        """The keys, over the scene: the course clock stands still while they are read (stored as a pause)."""
        from trainer.tui.screens.help import HelpScreen

        await self.push_paused(HelpScreen())

    async def push_paused(self, modal: Screen, then: Callable[[Any], object] | None = None) -> None:
        """Show `modal` over the scene with the course paused the stored way (as Esc pauses): `paused` before it shows,
        `unpaused` when it closes. A trainee reading an overlay cannot read the scene, so no timer may run meanwhile.
        Already paused (or no session yet, or ended): the modal just shows, and closing it resumes nothing. `then` gets
        the modal's result after the course runs again."""
        durable = self.durable
        paused_here = False
        if durable is not None and not durable.engine.ended and not durable.engine.paused:
            while self.busy:  # an answer being stored: pause after it, as its outcome is what the trainee comes back to
                await asyncio.sleep(0.01)
            if durable.engine.ended:
                return
            await self._save(durable.pause, None)
            if durable.engine.ended:
                return  # a timer ran out first and ended the session: its ending shows, not the overlay
            paused_here = durable.engine.paused  # False if the pause could not be stored (the feedback says so)

        async def closed(result: object) -> None:
            if (
                paused_here
                and self.durable is not None
                and not self.durable.engine.ended
                and self.durable.engine.paused
            ):
                while self.busy:
                    await asyncio.sleep(0.01)
                await self._save(self.durable.unpause, None)
            if then is not None:
                then(result)

        self.app.push_screen(modal, closed)
