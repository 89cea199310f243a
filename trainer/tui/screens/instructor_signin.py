"""The instructor's sign-in: the password, checked through the store so that failures in a row make the next attempt
wait (kept in the database) and every attempt is in the audit trail (trainer/store/audit.py). On success the instructor's
lists replace it; no trainee screen leads here (only `trainer instructor` in a terminal)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import Footer, Header, Input, Static

from trainer.tui.screens.base import TrainerScreen

if TYPE_CHECKING:
    from trainer.store import audit


class InstructorSignInScreen(TrainerScreen[None]):
    CSS_PATH = "instructor_signin.tcss"
    AUTO_FOCUS = "#instructor-password"

    def __init__(self) -> None:
        super().__init__()
        self.said: tuple[str, dict[str, object]] = ("", {})

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.app.tr("instructor.signin"), id="instructor-signin-prompt")
        yield Input(id="instructor-password", password=True)
        yield Static(id="instructor-signin-message")
        yield Footer()

    def refresh_language(self) -> None:
        self.query_one("#instructor-signin-prompt", Static).update(self.app.tr("instructor.signin"))
        key, values = self.said
        self.message(key, **values)

    def message(self, key: str = "", **values: object) -> None:
        self.said = (key, values)
        self.query_one("#instructor-signin-message", Static).update(self.app.tr(key, **values) if key else "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from trainer.instructor_password import SETTING, check_password

        password = event.value
        event.input.value = ""
        if not password:
            return
        # Checked in a worker (the password hash is slow on purpose); the answer is shown when it is done.
        self.in_thread(
            partial(self.app.store.instructor_sign_in, SETTING, lambda stored: check_password(password, stored)),
            self.checked,
            group="sign-in",
            failed=lambda exc: self.message("error.store", error=str(exc)),
        )

    def checked(self, done: audit.Attempt) -> None:
        from trainer.instructor_password import wait_seconds

        if done.ok:
            from trainer.tui.screens.instructor import InstructorScreen

            self.app.push_screen(InstructorScreen())  # over this one, which has no way back to it
        elif done.refused:
            self.message("instructor.wait", seconds=wait_seconds(done.wait_ms))
        elif done.wait_ms:
            self.message("instructor.wrong_wait", failures=done.failures, seconds=wait_seconds(done.wait_ms))
        else:
            self.message("instructor.wrong")
