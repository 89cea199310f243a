"""Preview a course as an instructor: the player, plus a state jumper (j) and a variable inspector (v). Nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from trainer.course.model import Course
from trainer.tui.preview import PreviewSession
from trainer.tui.screens.base import TrainerModal
from trainer.tui.screens.player import PlayerScreen


class PreviewScreen(PlayerScreen):
    BINDINGS = [
        Binding("j", "jump", "key.jump"),
        Binding("v", "inspect", "key.inspect"),
        Binding("escape", "leave", "key.back"),
    ]

    def redraw(self) -> None:
        super().redraw()
        # Marked on every screen of it, so a preview is never taken for a trainee's session (nothing is stored).
        self.query_one("#scene-title", Static).update(
            Text(f"{self.app.tr('instructor.preview_mark')} · ", style="bold reverse")
            + Text(self.course.title.get(self.app.lang), style="bold")
        )

    def opener(self) -> Callable[[], PreviewSession]:
        return partial(PreviewSession, self.course, seed=self.app.seed(), lang=self.app.lang, clock=self.app.clock)

    @property
    def preview(self) -> PreviewSession:
        """The session, once open: the preview's own, with its jumps and variables."""
        assert isinstance(self.durable, PreviewSession), "the preview is not open yet"
        return self.durable

    def end_session(self) -> None:
        outcome = self.session.engine.outcome
        self.feedback.append(f"\n■ {self.app.tr('instructor.preview_ended', outcome=str(outcome))}", style="bold")
        self.set_feedback(self.feedback)

    def action_leave(self) -> None:
        self.app.pop_screen()

    def action_jump(self) -> None:
        def jumped(state_id: str | None) -> None:
            if state_id:
                found = self.preview.jump(state_id)
                self.finished = False
                said = "instructor.jumped" if found else "instructor.jumped_no_way"
                self.feedback = Text(self.app.tr(said, state=state_id), style="dim")
                self.redraw()

        # Like the help, the jumper and the inspector cover the scene: the preview's clock waits while they are open.
        self.push_paused(StateJumper(self.course, self.preview.engine.state.id), jumped)

    def action_inspect(self) -> None:
        self.push_paused(VariableInspector(self.preview), lambda _: self.redraw())


class StateJumper(TrainerModal[str | None]):
    CSS_PATH = "preview.tcss"
    BINDINGS = [Binding("escape", "close", "key.close")]

    def __init__(self, course: Course, current: str):
        super().__init__()
        self.course = course
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="jumper-box"):
            yield OptionList(id="jumper")

    def on_mount(self) -> None:
        self.query_one("#jumper-box").border_title = self.app.tr("instructor.jump")
        jumper = self.query_one("#jumper", OptionList)
        for state in self.course.states.values():
            mark = "▶ " if state.id == self.current else "  "
            end = f" [{state.outcome}]" if state.outcome else ""
            first = state.text.get(self.app.lang).splitlines()[0][:40]
            jumper.add_option(Option(f"{mark}{state.id}{end}  {first}", id=state.id))
        jumper.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)


class VariableInspector(TrainerModal[None]):
    CSS_PATH = "preview.tcss"
    """The course's variables and their values now; Enter flips a true/false one."""

    BINDINGS = [Binding("escape", "close", "key.close")]

    def __init__(self, preview: PreviewSession):
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        with Vertical(id="inspector-box"):
            yield DataTable(id="variables", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#inspector-box").border_title = self.app.tr("instructor.variables")
        self.fill()
        self.query_one("#variables", DataTable).focus()

    def fill(self) -> None:
        table = self.query_one("#variables", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        table.add_column(self.app.tr("instructor.variable"))
        table.add_column(self.app.tr("instructor.value"))
        for name, value in self.preview.engine.variables.items():
            shown = self.app.tr(f"instructor.{str(value).lower()}") if isinstance(value, bool) else str(value)
            table.add_row(name, shown, key=name)
        table.move_cursor(row=row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        name = str(event.row_key.value)
        value = self.preview.engine.variables[name]
        if isinstance(value, bool):
            self.preview.set_variable(name, not value)
            self.fill()

    def action_close(self) -> None:
        self.dismiss(None)
