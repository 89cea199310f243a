"""What every screen of the app shares: key hints (the footer) in the current language, and the typed app."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from trainer.tui.app import TrainerApp

R = TypeVar("R")


class TrainerScreen(Screen[R]):
    if TYPE_CHECKING:  # for the type checker only: every screen of ours runs in a TrainerApp

        @property
        def app(self) -> TrainerApp: ...  # type: ignore[override]

    def on_screen_resume(self) -> None:
        self.app.localize_bindings(self)


class TrainerModal(ModalScreen[R]):
    if TYPE_CHECKING:

        @property
        def app(self) -> TrainerApp: ...  # type: ignore[override]

    def on_screen_resume(self) -> None:
        self.app.localize_bindings(self)
