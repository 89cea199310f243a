"""The pause menu: resume, or abandon the session after a confirmation."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Static

from trainer.tui.screens.base import TrainerModal
from trainer.tui.widgets.button import LabelButton


class PauseScreen(TrainerModal[str | None]):
    CSS_PATH = "pause.tcss"
    BINDINGS = [Binding("escape", "resume", "key.resume")]

    def compose(self) -> ComposeResult:
        with Vertical(id="pause-box"):
            yield Static(id="pause-text")
            yield LabelButton(self.app.tr("pause.resume"), id="resume", variant="primary")
            yield LabelButton(self.app.tr("pause.abort"), id="abort", variant="error")
            yield LabelButton(self.app.tr("pause.yes"), id="confirm", variant="error", classes="hidden")
            yield LabelButton(self.app.tr("pause.no"), id="cancel", classes="hidden")

    def on_mount(self) -> None:
        self.refresh_language()
        self.query_one("#resume", Button).focus()

    def refresh_language(self) -> None:
        """The box's title and its buttons in the app's language (again when F2 switches it while paused)."""
        tr = self.app.tr
        self.query_one("#pause-box").border_title = tr("pause.title")
        self.query_one("#resume", Button).label = tr("pause.resume")
        self.query_one("#abort", Button).label = tr("pause.abort")
        self.query_one("#confirm", Button).label = tr("pause.yes")
        self.query_one("#cancel", Button).label = tr("pause.no")
        if not self.query_one("#confirm").has_class("hidden"):  # asked to confirm: the question too
            self.query_one("#pause-text", Static).update(tr("pause.confirm"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id
        if button == "resume" or button == "cancel":
            self.dismiss(None)
        elif button == "abort":
            self.query_one("#pause-text", Static).update(self.app.tr("pause.confirm"))
            for wid in ("#resume", "#abort"):
                self.query_one(wid).add_class("hidden")
            for wid in ("#confirm", "#cancel"):
                self.query_one(wid).remove_class("hidden")
            self.query_one("#cancel", Button).focus()
        elif button == "confirm":
            self.dismiss("abort")

    def on_key(self, event) -> None:
        # Up/down move between the buttons, as in any menu.
        if event.key in ("down", "up"):
            self.focus_next() if event.key == "down" else self.focus_previous()
            event.stop()

    def action_resume(self) -> None:
        self.dismiss(None)
