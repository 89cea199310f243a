"""Debrief: how it ended, score, pass or fail, every deduction of the session's graded list with its rule, why it got
its grade and the right way, time per step, and a replay.

The deductions are the stored graded list (trainer/scoring/judgement.py): the same judgement as `trainer sessions show`,
the reports, the sheets and xAPI. The instructor's session view is this screen with `instructor=True`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Header, Static

from trainer.course.model import Course, MistakeSeverity
from trainer.course.model import Text as CourseText
from trainer.engine.events import TERMINAL_KINDS, Event, EventKind
from trainer.engine.modes import Mode, mode_of
from trainer.scoring.detect import action_label, declared_rule
from trainer.scoring.grade import Grader, details
from trainer.scoring.judgement import Explained, Judged, explained, explanation, read
from trainer.scoring.rubric import SessionScore
from trainer.tui.i18n import STRINGS
from trainer.tui.look import SEVERITY_LOOK, clock_text
from trainer.tui.mapdraw import draw_map
from trainer.tui.replay import Frame, frames, time_per_state
from trainer.tui.screens.base import TrainerScreen
from trainer.tui.widgets.button import LabelButton
from trainer.tui.widgets.prose import Prose
from trainer.tui.widgets.reading import ReadingPane


def _first_sentence(text: str, limit: int = 60) -> str:
    """A state's scene, cut to its first sentence: enough to recognise the step in the time table. At most `limit`
    cells (a Chinese character takes two), so that a row never wraps at 80 columns (a wrapped row began with `。`)."""
    for end in ("。", ". ", "！", "? ", "？"):
        if end in text:
            text = text.split(end, 1)[0] + end.strip()
            break
    return text if cell_len(text) <= limit else set_cell_size(text, limit - 1) + "…"


def _action(course: Course, state_id: str, action_id: str, event_id: object):
    if event_id:
        ev = next((e for e in course.random_events if e.id == event_id), None)
        return next((a for a in ev.actions if a.id == action_id), None) if ev else None
    state = course.states.get(state_id)
    return state.action(action_id) if state else None


def told(course: Course, events: Sequence[Event], j: Judged) -> CourseText | None:
    """The feedback the trainee was shown (in practice) for the input that made mistake `j`: the chosen action's, or
    the timer's when time ran out. None for a mistake no input's feedback speaks of (a skipped step, an ignored event,
    a hint): its rule and the right way say it all."""
    if j.seq is None or j.source not in ("action", "timer", "timeout"):
        return None
    by_seq = {e.seq: e for e in events}
    ref = by_seq[j.seq].data.get("ref") if j.seq in by_seq else None
    cause = next((e for e in reversed(events) if e.seq <= j.seq and e.kind in _INPUTS), None)
    if cause is None:
        return None
    if cause.kind is EventKind.TIMED_OUT:
        state = course.states.get(cause.state)
        return state.timer.feedback if state is not None and state.timer is not None else None
    if j.source != "action" or cause.action is None or cause.action != ref:
        return None
    action = _action(course, cause.state, cause.action, cause.data.get("event"))
    return action.feedback if action is not None else None


_INPUTS = frozenset({EventKind.CHOSE, EventKind.TIMED_OUT})


@dataclass(frozen=True)
class Loaded:
    """A session as the debrief reads it from the store: its events and its graded list with the score."""

    events: list[Event]
    judged: tuple[Judged, ...]
    result: tuple[float, bool, str]  # score, passed, scorer


class DebriefScreen(TrainerScreen[None]):
    CSS_PATH = "debrief.tcss"
    BINDINGS = [
        # Priority: the focused reading pane binds ←/→ too (to scroll sideways), which would hide these in the footer.
        Binding("left", "step(-1)", "key.prev", priority=True),
        Binding("right", "step(1)", "key.next", priority=True),
        Binding("r", "retry", "key.retry"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(
        self,
        course: Course,
        session_id: str,
        *,
        instructor: bool = False,
        score: SessionScore | None = None,
        heading: str = "",
    ):
        super().__init__()
        self.heading = heading  # whose session, for an instructor (a trainee knows whose it is)
        self.course = course
        self.session_id = session_id
        self.instructor = instructor
        self.given_score = score  # the score the session was saved with, when the player hands it over
        self.events: list[Event] = []
        self.frames: list[Frame] = []
        self.result: tuple[float, bool, str] | None = None  # score, passed, scorer
        self.rows: list[Explained] = []
        self.index = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with ReadingPane(id="debrief-body"):
            if self.heading:
                yield Static(self.heading, id="debrief-who")
            yield Static(id="debrief-summary")
            # Hanging indent: a deduction's wrapped lines go on under its text, clear of the points column.
            yield Prose(id="debrief-deductions", hang=4)
            yield Static(id="debrief-times")
            yield Static(id="replay", classes="panel")
        with Horizontal(id="debrief-buttons"):
            if not self.instructor:  # an instructor does not retry a trainee's session
                yield LabelButton(self.app.tr("debrief.retry"), id="retry", variant="primary")
            yield LabelButton(self.app.tr("debrief.back"), id="back")
        yield Footer()

    def on_mount(self) -> None:
        self.in_thread(self.load, self.loaded, group="load")

    def load(self) -> Loaded:
        """In the worker: the session's events and the graded list stored when it ended (or last rescored): the one
        judgement everything shows."""
        store = self.app.store
        events = [s.event for s in store.events(self.session_id)]
        history = store.scores(self.session_id)
        if history:
            last = history[-1]
            return Loaded(events, read(last.details), (last.score, last.passed, last.scorer))
        # The ending was stored without a score (see session_service.py): grade it now, as the next command would.
        score = self.given_score or Grader.current().score(self.course, events)
        return Loaded(events, read(details(score)), (score.score, score.passed, score.scorer))

    def loaded(self, found: Loaded) -> None:
        self.events, self.result = found.events, found.result
        self.frames = frames(self.course, self.events)
        self.rows = explained(self.course, self.events, found.judged)
        self.index = len(self.frames) - 1
        self.refresh_language()
        # The text has the focus, so ↑↓ PgUp/PgDn Home/End scroll it (←/→ still step the replay); Tab reaches the buttons.
        self.query_one("#debrief-body", ReadingPane).focus()
        catalog = next((s for s in self.app.screen_stack if hasattr(s, "needs_reload")), None)
        if catalog is not None:
            catalog.needs_reload = True

    def refresh_language(self) -> None:
        if self.result is None:
            return
        app, lang, course = self.app, self.app.lang, self.course
        score, passed, scorer = self.result
        tr = app.tr
        summary = Text()
        summary.append(course.title.get(lang) + "\n", style="bold")
        ending = self.ending()
        if ending.plain:
            summary.append(tr("debrief.ending") + "\n", style="bold underline")
            summary.append_text(ending)
        summary.append(tr("debrief.score", score=f"{score:g}") + "   ", style="bold")
        if passed:
            summary.append("✔ " + tr("debrief.passed"), style="bold white on green")
        else:
            summary.append("✖ " + tr("debrief.failed"), style="bold white on red")
        if self.events and mode_of(self.events[0].data) is Mode.PRACTICE:
            summary.append("   " + tr("debrief.practice"), style="bold")  # a pass here certifies nothing
        self.query_one("#debrief-summary", Static).update(summary)

        deductions = Text()
        deductions.append(tr("debrief.deductions") + "\n", style="bold underline")
        shown = [r for r in self.rows if r.judged.counts or self.instructor]
        if not any(r.judged.counts for r in self.rows):
            deductions.append(tr("debrief.no_deductions") + "\n", style="green")
        for row in shown:
            self.deduction(deductions, row, scorer)
        self.query_one("#debrief-deductions", Static).update(deductions)

        times = Table(title=tr("debrief.times"), title_justify="left", show_edge=False, box=None, pad_edge=False)
        times.add_column("", overflow="fold")
        times.add_column("", justify="right")
        for state_id, ms in time_per_state(self.events):
            state = course.states.get(state_id)
            times.add_row(_first_sentence(state.text.get(lang)) if state else state_id, clock_text(ms))
        self.query_one("#debrief-times", Static).update(times)
        if not self.instructor:
            self.query_one("#retry", Button).label = tr("debrief.retry")
        self.query_one("#back", Button).label = tr("debrief.back")
        self.draw_replay()
        self.query_one("#debrief-body", ReadingPane).show_more()

    @property
    def graded(self) -> dict[str, Judged]:
        """Every row of the graded list (consequences too) by mistake id."""
        out = {}
        for row in self.rows:
            out[row.judged.mistake] = row.judged
            out.update((c.judged.mistake, c.judged) for c in row.consequences)
        return out

    def deduction(self, out: Text, row: Explained, scorer: str) -> None:
        """One row of the graded list: points, grade, time, rule; why this grade; the right way; its consequences."""
        lang, tr, j = self.app.lang, self.app.tr, row.judged
        colon = "：" if lang == "zh" else ": "
        if j.counts:
            symbol, style = SEVERITY_LOOK[MistakeSeverity(j.severity)]
            out.append(f"-{j.points:g} {symbol} {tr('severity.' + j.severity)} ", style=style)
        else:
            out.append(f"0 {tr('debrief.cleared')} ", style="dim")
        if j.t_ms is not None:
            out.append(f"[{clock_text(j.t_ms)}] ")
        out.append(row.rule.get(lang))
        if row.standard:
            out.append(f" [{row.standard}]", style="dim")
        out.append("\n")
        said = told(self.course, self.events, j)
        if said is not None:  # what the practice screen said then; an exam said nothing until now
            out.append(f"    {tr('debrief.told')}{colon}", style="bold")
            out.append(said.get(lang) + "\n")
        out.append(f"    {explanation(j, lang, scorer=scorer)}\n", style="italic")
        if row.instead is not None:
            out.append(f"    → {tr('debrief.right_step')}{colon}{row.instead.get(lang)}\n", style="green")
        if row.consequences:
            out.append(f"    {tr('debrief.consequence')}{colon}\n", style="dim")
            for c in row.consequences:
                out.append(f"      ↳ {c.rule.get(lang)}\n", style="dim")

    def ending(self) -> Text:
        """The feedback of the input that ended the session and the ending's own text: what the trainee would otherwise
        never read when the ending comes straight after their last choice."""
        lang, course = self.app.lang, self.course
        out = Text()
        end = next((e for e in reversed(self.events) if e.kind in TERMINAL_KINDS), None)
        if end is None or end.kind is EventKind.ABORTED:
            return out
        last = next((e for e in reversed(self.events) if e.kind is EventKind.CHOSE and e.seq < end.seq), None)
        if last is not None and last.action:
            action = _action(course, last.state, last.action, last.data.get("event"))
            if action is not None and action.feedback:
                out.append("→ " + action_label(course, last.action).get(lang) + "\n", style="bold")
                out.append(action.feedback.get(lang) + "\n")
        state = course.states.get(end.state)
        if state is not None and state.terminal:
            out.append(state.text.get(lang) + "\n", style="italic")
        return out

    def draw_replay(self) -> None:
        if not self.frames:
            return
        app, lang, course = self.app, self.app.lang, self.course
        frame = self.frames[self.index]
        e = frame.event
        panel = self.query_one("#replay", Static)
        panel.border_title = f"{app.tr('debrief.replay')} {self.index + 1}/{len(self.frames)} · " + app.tr(
            "instructor.replay_hint" if self.instructor else "debrief.replay_hint"
        )
        out = Text()
        out.append(f"[{clock_text(e.t_ms)}] ", style="bold")
        out.append_text(self.describe(e))
        if course.map is not None:
            out.append("\n")
            state = course.states.get(e.state)
            named = tuple((p.at, p.label.get(lang)) for p in state.people) if state is not None else ()
            out.append_text(
                draw_map(course.map, frame.variables, lang, position=frame.position, people=frame.people, named=named)
            )
        panel.update(out)

    def describe(self, e: Event) -> Text:
        lang, course, tr = self.app.lang, self.course, self.app.tr
        state = course.states.get(e.state)
        if e.kind is EventKind.CHOSE and e.action:
            return Text("→ " + action_label(course, e.action).get(lang))
        if e.kind is EventKind.VIEWED and state is not None:
            return Text(state.text.get(lang))
        if e.kind is EventKind.MISTAKE:  # at its grade, the one the deductions above show, named by its rule
            rule, _ = declared_rule(
                course, str(e.data.get("source")), str(e.data.get("ref")), e.state, str(e.data.get("code"))
            )
            j = self.graded.get(f"m{e.seq}")
            if j is None or not j.counts:
                return Text(f"⚑ {rule.get(lang)}", style="dim")
            symbol, style = SEVERITY_LOOK[MistakeSeverity(j.severity)]
            return Text(f"{symbol} {rule.get(lang)}", style=style)
        if e.kind is EventKind.TIMED_OUT:
            return Text("⏱ " + tr("player.timeout"), style="bold red")
        if e.kind is EventKind.RANDOM_EVENT:
            ev = next((r for r in course.random_events if r.id == e.data.get("event")), None)
            return Text("! " + (ev.text.get(lang) if ev else str(e.data.get("event"))), style="magenta")
        if e.kind is EventKind.HAZARD and state is not None and state.hazard:
            return Text("⚠ " + state.hazard.text.get(lang), style="red")
        if f"replay.{e.kind}" in STRINGS:
            return Text(tr(f"replay.{e.kind}"), style="bold" if e.kind in TERMINAL_KINDS else "")
        return Text(str(e.kind))

    def action_step(self, delta: int) -> None:
        if self.frames:
            self.index = max(0, min(len(self.frames) - 1, self.index + delta))
            self.draw_replay()
            # The replay is below the deductions and times: bring it into view, or ←/→ would change nothing visible.
            self.query_one("#replay").scroll_visible(animate=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "retry" and self.instructor)  # no dead key in the instructor's footer

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "retry":
            self.action_retry()
        else:
            self.action_back()

    def action_retry(self) -> None:
        if self.instructor:
            return
        from trainer.tui.screens.player import PlayerScreen

        # Again in the same mode: a practice run is retried as practice, an exam as an exam.
        mode = mode_of(self.events[0].data) if self.events else Mode.PRACTICE
        self.app.switch_screen(PlayerScreen(self.course, mode=mode))

    def action_back(self) -> None:
        self.app.pop_screen()
