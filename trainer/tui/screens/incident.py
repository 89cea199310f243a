"""The incident: what the critical mistake would have caused on the real line. The session has ended as failed."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Static

from trainer.course.model import Course, State
from trainer.tui.screens.base import TrainerModal
from trainer.tui.widgets.button import LabelButton
from trainer.tui.widgets.prose import Prose


class IncidentScreen(TrainerModal[None]):
    CSS_PATH = "incident.tcss"
    BINDINGS = [Binding("enter", "close", "key.debrief"), Binding("escape", "close", "key.debrief", show=False)]

    def __init__(self, course: Course, state: State, feedback: Text):
        super().__init__()
        self.course = course
        self.state = state
        self.feedback = feedback

    def compose(self) -> ComposeResult:
        with Vertical(id="incident-box"):
            yield Prose(id="incident-text")
            yield LabelButton(self.app.tr("debrief.title"), id="incident-ok", variant="error")

    def on_mount(self) -> None:
        app, lang = self.app, self.app.lang
        box = self.query_one("#incident-box")
        box.border_title = "✖ " + app.tr("player.incident")
        text = Text()
        text.append_text(self.feedback)
        text.append("\n" + self.state.text.get(lang) + "\n", style="bold")
        if self.state.incident:
            text.append("\n" + self.state.incident.get(lang) + "\n")
        text.append("\n" + app.tr("player.incident_ends"), style="bold red")
        self.query_one("#incident-text", Static).update(text)
        button = self.query_one("#incident-ok", Button)
        button.label = app.tr("debrief.title")
        button.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
