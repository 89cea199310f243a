"""The trainee's terminal app. Screens live in screens/, one per file; styles in app.tcss."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.reactive import reactive
from textual.screen import Screen

from trainer.course.library import Library
from trainer.store.records import Trainee
from trainer.store.store import Store
from trainer.tui.i18n import STRINGS, t


class TrainerApp(App[None]):
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("f2", "toggle_language", "key.lang", priority=True),
        Binding("ctrl+q", "quit", "key.quit", priority=True),
    ]
    lang: reactive[str] = reactive("zh")

    def __init__(
        self,
        library: Library,
        store: Store,
        *,
        lang: str = "zh",
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = date.today,
    ):
        super().__init__()
        self.library = library
        self.store = store
        self.clock = clock
        self.today = today
        self.trainee: Trainee | None = None
        self.set_reactive(TrainerApp.lang, lang)

    def tr(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)

    def localize_bindings(self, node: DOMNode) -> None:
        """Binding descriptions are written as i18n keys ("key.pause"); show them in the current language.

        Textual keeps a copy of the bindings on each node (`_bindings`), which the footer reads; we rewrite the
        descriptions of that copy, remembering the keys so that switching language again works.
        """
        keys: dict[tuple[str, int], str] = node.__dict__.setdefault("_i18n_binding_keys", {})
        for key, bindings in node._bindings.key_to_bindings.items():
            for i, binding in enumerate(bindings):
                original = keys.setdefault((key, i), binding.description)
                if original in STRINGS:
                    bindings[i] = replace(binding, description=self.tr(original))
        self.refresh_bindings()

    def on_mount(self) -> None:
        from trainer.tui.screens.signin import SignInScreen

        self.title = self.tr("app.title")
        self.localize_bindings(self)
        self.push_screen(SignInScreen())

    def action_toggle_language(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"

    def watch_lang(self, lang: str) -> None:
        self.title = self.tr("app.title")
        self.localize_bindings(self)
        for screen in self.screen_stack:
            self.localize_bindings(screen)
            refresh = getattr(screen, "refresh_language", None)
            if refresh is not None:
                refresh()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(t("lang.switch", "zh"), t("lang.switch", "en"), self.action_toggle_language)
