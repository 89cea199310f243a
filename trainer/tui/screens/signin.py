"""Sign-in: a badge number; name and department only the first time, and never once HR imported a roster.

A badge on HR's roster (`trainer trainees import`, docs/hr.md) is a registered trainee: it signs in at once, with the
name and department the roster gives. Once a roster was imported, a badge not on it is refused with a word to see the
instructor, instead of asking the trainee to type a department.

The app's first frame, so it is kept light (docs/performance.md, app start). Every widget costs a round of mounting,
styling and painting, so: the app's title and the keys are in the screen's own top and bottom borders instead of
Textual's Header and Footer (the keys read from the same bindings as a Footer), Enter continues instead of a button,
each field is one widget with its label in its frame (no containers, which cost another round each), and the name and
department fields and any message are mounted only when needed.

Enter, Tab and Shift+Tab are the screen's priority keys: the app runs them before it hands the next key on, so a badge
reader or a fast typist's keys typed ahead (`E1 Enter 王 Enter 冲压 Enter`) land in the field the previous key moved to.
Left to the fields, those keys reach a field only after the keys behind them have been handed to the old one. Enter
first waits for the field to take the keys typed before it, so it reads all of them.
"""

from __future__ import annotations

import asyncio
from functools import partial

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from trainer import people
from trainer.errors import TrainerError
from trainer.tui.keyhints import key_hints, key_line
from trainer.tui.screens.base import TrainerScreen


def field(name: str, label: str, max_length: int) -> Input:
    """A text field in a frame, its label in the frame's top edge."""
    box = Input(id=name, max_length=max_length)
    box.border_title = label
    return box


def _roster_only(store: object) -> bool:
    from trainer.hr import ROSTER_SETTING

    return store.get_setting(ROSTER_SETTING) == "on"  # type: ignore[attr-defined]


class SignInScreen(TrainerScreen[None]):
    CSS_PATH = "signin.tcss"
    AUTO_FOCUS = "#badge"
    BINDINGS = [
        Binding("enter", "enter", show=False, priority=True),
        Binding("tab", "move(1)", show=False, priority=True),
        Binding("shift+tab", "move(-1)", show=False, priority=True),
    ]
    TEXTS = {"signin-prompt": "signin.title", "first-time": "signin.first_time"}
    LABELS = {"badge": "signin.badge", "name": "signin.name", "department": "signin.department"}

    def __init__(self) -> None:
        super().__init__()
        self.hints: tuple[tuple[str, str], ...] = ()
        self.said: tuple[str, dict[str, object]] = ("", {})

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        self.border_title = tr("app.title")
        self.show_keys()
        yield Static(tr("signin.title"), id="signin-prompt")
        yield field("badge", tr("signin.badge"), people.BADGE_MAX)

    def on_mount(self) -> None:
        self.bindings_updated_signal.subscribe(self, self.show_keys)

    def show_keys(self, _screen: object = None) -> None:
        """The key line, like a footer's; again whenever the bindings change (most changes leave it as it was)."""
        hints = key_hints(self, [("enter", self.app.tr("signin.go"))])
        if hints != self.hints:
            self.hints = hints
            self.border_subtitle = key_line(hints)

    def refresh_language(self) -> None:
        tr = self.app.tr
        self.border_title = tr("app.title")
        for widget in self.query(Static):
            if widget.id in self.TEXTS:
                widget.update(tr(self.TEXTS[widget.id]))
        for box in self.query(Input):
            box.border_title = tr(self.LABELS[box.id or ""])
        key, values = self.said
        if key:
            self.message(key, **values)
        self.show_keys()

    @property
    def new_trainee(self) -> bool:
        return bool(self.query("#name"))

    def field_box(self, name: str) -> Input:
        return self.query_one(f"#{name}", Input)

    async def ask_name_and_department(self) -> None:
        tr = self.app.tr
        await self.mount_all(
            [
                Static(tr("signin.first_time"), id="first-time"),
                field("name", tr("signin.name"), people.NAME_MAX),
                field("department", tr("signin.department"), people.DEPARTMENT_MAX),
            ],
            after="#badge",
        )
        self.set_focus(self.field_box("name"))

    async def action_move(self, step: int) -> None:
        """Tab / Shift+Tab: the next or previous field, at once (Screen.set_focus, not Widget.focus, which waits).

        Tab in the badge field while it is the only one continues as Enter does: a first-timer's name field comes next
        (typing `E7 Tab 王` put 王 in the badge field when Tab had nowhere to go)."""
        boxes = [box for box in self.query(Input) if not box.disabled]
        if step > 0 and len(boxes) == 1:
            await self.action_enter()
            return
        at = boxes.index(self.focused) if self.focused in boxes else -1
        self.set_focus(boxes[(at + step) % len(boxes)])

    async def typed_so_far(self) -> None:
        """Wait until the focused field has taken the keys handed to it before this one (its queue, in order)."""
        if self.focused is not None:
            taken = asyncio.Event()
            self.focused.call_later(taken.set)
            await taken.wait()

    async def action_enter(self) -> None:
        """Enter: from the name to the department; anywhere else, continue with what is typed."""
        await self.typed_so_far()
        if self.focused is not None and self.focused.id == "name":
            self.set_focus(self.field_box("department"))
            return
        await self.submit()

    def message(self, key: str = "", **values: object) -> None:
        """A line under the form, the i18n `key`'s text, or none (mounted the first time there is something to say)."""
        self.said = (key, values)
        text = self.app.tr(key, **values) if key else ""
        found = self.query("#signin-message")
        if found:
            found.first(Static).update(text)
        elif text:
            self.mount(Static(text, id="signin-message"))

    async def submit(self) -> None:
        app = self.app
        badge = self.query_one("#badge", Input).value.strip()
        if not badge:
            self.message("signin.need_badge")
            return
        try:
            badge = people.badge(badge)
            await app.opened()  # the database opens in the background while the trainee types (TrainerApp.opener)
            # Looked up again even when the name is asked for: the badge field stays editable (Shift+Tab goes back to
            # it), and a badge corrected to a known one signs that trainee in without touching their name.
            # Waited for in this key handler, as the database is: the keys typed after Enter wait with it, so they
            # land in the field this decides (the name of a first-timer, the PIN) rather than in the badge.
            trainee = await self.wait_in_thread(partial(app.store.get_trainee, badge), group="lookup")
            if trainee is None and self.new_trainee:
                name = self.field_box("name").value.strip()
                department = self.field_box("department").value.strip()
                if not (name and department):
                    self.message("signin.need_name")
                    self.set_focus(self.field_box("department" if name else "name"))
                    return
                name, department = people.name(name), people.department(department)
                trainee = await self.wait_in_thread(
                    partial(app.store.upsert_trainee, badge, name, department), group="lookup"
                )
        except people.TraineeFieldError as exc:
            self.message(f"signin.bad_{exc.field}")  # one sentence per field that says what it may hold
            return
        except TrainerError as exc:
            self.message("error.store", error=str(exc))
            return
        if trainee is None:
            if await self.wait_in_thread(partial(_roster_only, app.store), group="lookup"):
                # HR's roster lists who trains here (docs/hr.md): a badge not on it is not registered from the screen,
                # so nobody types a department the reports would then count.
                self.message("signin.not_on_roster", badge=badge)
                return
            self.message()
            await self.ask_name_and_department()
            return
        from trainer.tui.screens import identity

        await identity.sign_in(self, trainee)  # the PIN first, when the site asks for one

    def reset(self) -> None:
        """Back to an empty badge field (the trainee left the PIN step)."""
        for extra in self.query("#first-time, #name, #department"):
            extra.remove()
        badge = self.query_one("#badge", Input)
        badge.disabled = False
        badge.value = ""
        badge.focus()
        self.message()

    async def after_sign_in(self, *, pin_checked: bool = False) -> None:
        """`pin_checked`: the trainee typed their PIN; without one, their unfinished sessions need their name first."""
        from trainer.store.records import SessionStatus
        from trainer.tui.screens.briefing import BriefingScreen
        from trainer.tui.screens.catalog import CatalogScreen
        from trainer.tui.screens.debrief import DebriefScreen
        from trainer.tui.screens.help import HelpScreen
        from trainer.tui.screens.identity import NameCheckScreen
        from trainer.tui.screens.incident import IncidentScreen
        from trainer.tui.screens.pause import PauseScreen
        from trainer.tui.screens.player import PlayerScreen
        from trainer.tui.screens.resume import ResumeScreen

        app = self.app
        app.preload_grader()  # the grading model loads while the trainee picks and plays a course
        assert app.trainee is not None, "signed in"
        interrupted = await self.wait_in_thread(
            partial(app.store.sessions, badge=app.trainee.badge, status=SessionStatus.INTERRUPTED), group="lookup"
        )
        # Every screen a trainee may see from here on: their stylesheets in one parse, not one each on first sight.
        app.read_stylesheets(
            CatalogScreen,
            ResumeScreen,
            NameCheckScreen,
            BriefingScreen,
            PlayerScreen,
            HelpScreen,
            PauseScreen,
            IncidentScreen,
            DebriefScreen,
        )
        app.push_screen(CatalogScreen())  # over this screen, the app's first (default) one
        if interrupted:
            app.push_screen(ResumeScreen(interrupted) if pin_checked else NameCheckScreen(app.trainee, interrupted))
