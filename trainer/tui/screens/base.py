"""What every screen of the app shares: key hints (the footer) in the current language."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen, Screen

R = TypeVar("R")


class TrainerScreen(Screen[R]):
    def on_screen_resume(self) -> None:
        self.app.localize_bindings(self)


class TrainerModal(ModalScreen[R]):
    def on_screen_resume(self) -> None:
        self.app.localize_bindings(self)
