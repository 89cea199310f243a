"""The player, the "virtual workshop": scene, map, actions, status; every action saved before it is acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from trainer.course.model import Course, MistakeSeverity, Outcome
from trainer.durable import DurableSession
from trainer.engine.events import EventKind
from trainer.engine.session import EngineError, ReplayMismatch
from trainer.errors import TrainerError
from trainer.scoring.detect import declared_rule
from trainer.store.records import StoredEvent
from trainer.tui.mapdraw import draw_map, legend
from trainer.tui.screens.base import TrainerScreen
from trainer.tui.widgets.prose import Prose

SEVERITY_LOOK = {
    MistakeSeverity.MINOR: ("▲", "bold yellow"),
    MistakeSeverity.SERIOUS: ("▲▲", "bold dark_orange"),
    MistakeSeverity.CRITICAL: ("✖", "bold white on red"),
}


def _clock_text(ms: int) -> str:
    minutes, seconds = divmod(ms // 1000, 60)
    return f"{minutes:02d}:{seconds:02d}"


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

    def __init__(self, course: Course, resume_id: str | None = None):
        super().__init__()
        self.course = course
        self.resume_id = resume_id
        self.durable: DurableSession | None = None
        self.busy = False
        self.pending: str | None = None  # an action whose save failed, for R to retry
        self.feedback = Text()
        self.position: str | None = None
        self.finished = False
        self.last_heartbeat_ms = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="scene-title")
        # Map and scene share one container, so toggling the map restyles these two panels, not the whole screen.
        with Vertical(id="stage"):
            if self.course.map is not None:
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

    def action_toggle_map(self) -> None:
        if self.course.map is not None:
            self.query_one("#stage").toggle_class("show-map")

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
        )

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
        scene = Text(state.text.get(lang))
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
        actions.clear_options()
        offers = engine.available()
        for n, offer in enumerate(offers, start=1):
            label = Text(f"{n}. " if n < 10 else "   ", style="bold")
            label.append(offer.action.label.get(lang), style="magenta" if offer.event else "")
            actions.add_option(Option(label, id=offer.action.id))
        if offers:
            actions.highlighted = 0
        actions.focus()
        self.update_status()

    def set_feedback(self, text: Text) -> None:
        self.feedback = text
        widget = self.query_one("#feedback", Static)
        widget.update(text)
        widget.display = bool(text.plain.strip())

    def update_status(self) -> None:
        if self.durable is None:
            return
        app, engine = self.app, self.durable.engine
        parts = [app.tr("player.elapsed", time=_clock_text(engine.now_ms()))]
        left_ms = engine.time_left_ms()
        countdown = None
        if left_ms is not None:
            countdown = app.tr("player.countdown", seconds=f"{left_ms / 1000:.0f}")
        carried = [item.label.get(app.lang) for item in self.course.inventory if item.when(engine.variables)]
        status = Text(" │ ".join(parts))
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
            status.append(" │ " + app.tr("player.saving"), style="dim")
        self.query_one("#status", Static).update(status)

    def describe(self, stored: Sequence[StoredEvent]) -> Text:
        """What the trainee is told about the events an input caused."""
        app, lang, course = self.app, self.app.lang, self.course
        out = Text()
        for s in stored:
            e = s.event
            if e.kind is EventKind.CHOSE and e.action:
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
        self.feedback = self.describe(stored)
        self.redraw()
        if self.durable.engine.ended and not self.finished:
            self.finished = True
            self.end_session()

    def end_session(self) -> None:
        from trainer.tui.screens.debrief import DebriefScreen
        from trainer.tui.screens.incident import IncidentScreen

        engine = self.durable.engine
        self.query_one("#actions", OptionList).clear_options()
        debrief = DebriefScreen(self.course, self.durable.id, score=self.durable.score)
        if engine.outcome is Outcome.INCIDENT:
            self.app.push_screen(
                IncidentScreen(self.course, engine.state, self.feedback), lambda _: self.app.switch_screen(debrief)
            )
        else:
            self.app.switch_screen(debrief)

    # --- input ---------------------------------------------------------------------------------------------------
    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            await self.choose(event.option.id)

    async def action_pick(self, index: int) -> None:
        actions = self.query_one("#actions", OptionList)
        if 0 <= index < actions.option_count:
            option = actions.get_option_at_index(index)
            if option.id:
                await self.choose(option.id)

    async def choose(self, action_id: str) -> None:
        if self.busy or self.durable is None or self.durable.engine.ended:
            return
        await self._save(lambda: self.durable.choose(action_id), action_id)

    async def _save(self, step, action_id: str | None) -> bool:
        """Run an input in a worker thread and show what it caused once it is stored; False if nothing was."""
        self.busy = True
        self.update_status()
        try:
            stored = await asyncio.to_thread(step)
        except TrainerError as exc:
            self.pending = action_id
            self.busy = False
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
        if self.busy or self.durable is None or self.durable.engine.ended:
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
        if self.durable.id != "preview" and self.app.clock() - self.last_heartbeat_ms >= self.HEARTBEAT_MS:
            # Tells terminals on other machines that this session is still being played while the trainee reads.
            self.last_heartbeat_ms = self.app.clock()
            with contextlib.suppress(TrainerError):
                await asyncio.to_thread(self.app.store.heartbeat, self.durable.id)
        left_ms = self.durable.engine.time_left_ms()
        if left_ms is not None and left_ms <= 0:
            await self._save(self.durable.tick, None)
        else:
            self.update_status()

    def action_pause(self) -> None:
        from trainer.tui.screens.pause import PauseScreen

        if self.durable is None or self.durable.engine.ended:
            return

        async def after(choice: str | None) -> None:
            if choice == "abort" and self.durable is not None and not self.busy:
                await self._save(lambda: self.durable.abort("trainee"), None)

        self.app.push_screen(PauseScreen(), after)

    def action_help(self) -> None:
        from trainer.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen())
