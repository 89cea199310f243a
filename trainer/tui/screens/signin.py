"""Sign-in: a badge number; name and department only the first time."""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Footer, Header, Input, Label, Static

from trainer.errors import TrainerError
from trainer.tui.screens.base import TrainerScreen


class SignInScreen(TrainerScreen[None]):
    CSS_PATH = "signin.tcss"

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="signin-box"):
            yield Static(id="signin-prompt")
            with Horizontal(classes="field"):
                yield Label(id="badge-label")
                yield Input(id="badge", max_length=32, compact=True)
            yield Static(id="first-time", classes="hidden")
            with Horizontal(classes="field hidden", id="name-row"):
                yield Label(id="name-label")
                yield Input(id="name", max_length=64, compact=True)
            with Horizontal(classes="field hidden", id="department-row"):
                yield Label(id="department-label")
                yield Input(id="department", max_length=64, compact=True)
            yield Static(id="signin-message")
            yield Button(id="signin-go", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_language()
        self.query_one("#badge", Input).focus()

    def refresh_language(self) -> None:
        tr = self.app.tr
        self.query_one("#signin-prompt", Static).update(tr("signin.title"))
        self.query_one("#badge-label", Label).update(tr("signin.badge"))
        self.query_one("#first-time", Static).update(tr("signin.first_time"))
        self.query_one("#name-label", Label).update(tr("signin.name"))
        self.query_one("#department-label", Label).update(tr("signin.department"))
        self.query_one("#signin-go", Button).label = tr("signin.go")

    @property
    def new_trainee(self) -> bool:
        return not self.query_one("#name-row").has_class("hidden")

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "name":
            self.query_one("#department", Input).focus()
            return
        await self.submit()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        await self.submit()

    def message(self, text: str) -> None:
        self.query_one("#signin-message", Static).update(text)

    async def submit(self) -> None:
        app = self.app
        badge = self.query_one("#badge", Input).value.strip()
        if not badge:
            self.message(app.tr("signin.need_badge"))
            return
        try:
            if self.new_trainee:
                name = self.query_one("#name", Input).value.strip()
                department = self.query_one("#department", Input).value.strip()
                if not (name and department):
                    self.message(app.tr("signin.need_name"))
                    return
                trainee = await asyncio.to_thread(app.store.upsert_trainee, badge, name, department)
            else:
                trainee = await asyncio.to_thread(app.store.get_trainee, badge)
        except TrainerError as exc:
            self.message(app.tr("error.store", error=str(exc)))
            return
        if trainee is None:
            for wid in ("#first-time", "#name-row", "#department-row"):
                self.query_one(wid).remove_class("hidden")
            self.query_one("#badge", Input).disabled = True
            self.query_one("#name", Input).focus()
            return
        app.trainee = trainee
        await self.after_sign_in()

    async def after_sign_in(self) -> None:
        from trainer.store.records import SessionStatus
        from trainer.tui.screens.catalog import CatalogScreen
        from trainer.tui.screens.resume import ResumeScreen

        app = self.app
        interrupted = await asyncio.to_thread(
            app.store.sessions, badge=app.trainee.badge, status=SessionStatus.INTERRUPTED
        )
        app.switch_screen(CatalogScreen())
        if interrupted:
            app.push_screen(ResumeScreen(interrupted))
