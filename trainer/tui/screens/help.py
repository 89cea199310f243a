"""Help: the keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from trainer.tui.screens.base import TrainerModal
from trainer.tui.widgets.prose import Prose


class HelpScreen(TrainerModal[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape", "close", "key.close"),
        Binding("question_mark", "close", "key.close", show=False),
        Binding("enter", "close", "key.close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Prose(id="help-text")  # Chinese lines break by the Chinese rule, never inside a key name

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = self.app.tr("help.title")
        self.query_one("#help-text", Static).update(self.app.tr("help.body"))

    def action_close(self) -> None:
        self.dismiss(None)
