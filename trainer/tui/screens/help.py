"""Help: the keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("enter", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = self.app.tr("help.title")
        self.query_one("#help-text", Static).update(self.app.tr("help.body"))

    def action_close(self) -> None:
        self.dismiss(None)
