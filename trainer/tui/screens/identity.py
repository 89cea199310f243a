"""Who is at the keyboard: the trainee's PIN at sign-in (when the site turns PINs on), and their name before their
interrupted sessions are offered (when it does not). See trainer/pins.py and docs/operations.md, "Trainee PINs".

A badge number is printed on the card: without these, another tab of the training room typing someone's badge was
offered their unfinished sessions and could finish them.
"""

from __future__ import annotations

from collections import deque
from functools import partial
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from trainer import pins
from trainer.errors import TrainerError
from trainer.store.records import PinAttempt, PinResult, SessionRecord, Trainee
from trainer.tui.screens.base import TrainerModal
from trainer.tui.widgets.prose import Prose

if TYPE_CHECKING:
    from trainer.store.store import Store
    from trainer.tui.screens.signin import SignInScreen

NAME_TRIES = 3  # wrong names before the unfinished sessions are left for another sign-in


def _pin_state(store: Store, badge: str) -> tuple[bool, bool]:
    """Whether the site asks for PINs, and whether this trainee has one."""
    if (store.get_setting(pins.SETTING) or "off") != "on":
        return False, False
    return True, store.has_pin(badge)


async def sign_in(screen: SignInScreen, trainee: Trainee) -> None:
    """Let `trainee` in: straight away, or after their PIN (chosen now if they have none) when the site asks for one."""
    app = screen.app
    try:
        # Waited for here, in the sign-in's key handler: a PIN typed ahead belongs in the PIN field this may open.
        required, has_pin = await screen.wait_in_thread(partial(_pin_state, app.store, trainee.badge), group="pins")
    except TrainerError as exc:
        screen.message("error.store", error=str(exc))
        return
    if not required:
        app.trainee = trainee
        await screen.after_sign_in()
        return

    async def done(checked: bool | None) -> None:
        if checked:
            app.trainee = trainee
            await screen.after_sign_in(pin_checked=True)
        else:
            screen.reset()

    app.push_screen(PinScreen(trainee, choose=not has_pin), done)


class _Form(TrainerModal[bool]):
    """A small framed form over the sign-in screen: a text, fields, one line for what went wrong."""

    CSS_PATH = "identity.tcss"
    TITLE_KEY = ""
    TEXT_KEY = ""
    FIELDS: tuple[tuple[str, str], ...] = ()  # (id, label key)

    def __init__(self) -> None:
        super().__init__()
        self.said: tuple[str, dict[str, object]] = ("", {})

    def compose(self) -> ComposeResult:
        with Vertical(classes="identity-box"):
            # Prose, not Static: Chinese lines break by the Chinese rule and never inside a key name ("Es" / "c").
            yield Prose(classes="identity-text")
            for name, _ in self.FIELDS:
                yield self.field(name)
            yield Prose(classes="identity-message")

    def field(self, name: str) -> Input:
        return Input(id=name)

    def on_mount(self) -> None:
        self.refresh_language()
        self.query_one(Input).focus()

    def refresh_language(self) -> None:
        tr = self.app.tr
        self.query_one(".identity-box").border_title = tr(self.TITLE_KEY)
        self.query_one(".identity-text", Static).update(tr(self.TEXT_KEY))
        for name, label in self.FIELDS:
            self.query_one(f"#{name}", Input).border_title = tr(label)
        key, values = self.said
        self.message(key, **values)

    def message(self, key: str = "", **values: object) -> None:
        self.said = (key, values)
        self.query_one(".identity-message", Static).update(self.app.tr(key, **values) if key else "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        names = [name for name, _ in self.FIELDS]
        at = names.index(event.input.id or "")
        if at + 1 < len(names):
            self.query_one(f"#{names[at + 1]}", Input).focus()
            return
        self.submit(event.value)

    def submit(self, typed: str) -> None:
        """Enter in the last field; `typed`: its text when Enter was pressed."""
        raise NotImplementedError

    def clear(self) -> None:
        for box in self.query(Input):
            box.value = ""
        self.query_one(Input).focus()


class _HandsOn(Input):
    """A field that empties itself as Enter hands its text on: what is typed next starts afresh, rather than being added
    to the text handed on while the form still deals with it (a PIN typed while the one before is checked)."""

    async def action_submit(self) -> None:
        await super().action_submit()
        self.value = ""


class PinScreen(_Form):
    """The trainee's PIN: typed once to sign in, or chosen (typed twice) when they have none yet."""

    BINDINGS = [Binding("escape", "cancel", "key.back")]

    def __init__(self, trainee: Trainee, *, choose: bool) -> None:
        self.trainee = trainee
        self.choose = choose
        self.TITLE_KEY = "pin.title"
        self.TEXT_KEY = "pin.choose" if choose else "pin.ask"
        self.FIELDS = (("pin", "pin.label"), ("pin-again", "pin.again")) if choose else (("pin", "pin.label"),)
        super().__init__()
        self.checking = False  # a PIN is being checked (or the one chosen stored) in a worker
        self.typed: deque[str] = deque()  # PINs typed while one is checked, tried after it in turn

    def field(self, name: str) -> Input:
        kind = Input if self.choose else _HandsOn
        return kind(id=name, password=True, max_length=pins.MAX_DIGITS, restrict=r"[0-9]*")

    def submit(self, typed: str) -> None:
        store, badge = self.app.store, self.trainee.badge
        pin = self.query_one("#pin", Input).value if self.choose else typed
        if self.choose:
            if self.checking:  # Enter again while the PIN chosen is stored
                return
            try:
                stored = pins.hash_pin(pin)
            except pins.PinError:
                self.message("pin.bad")
                self.clear()
                return
            if self.query_one("#pin-again", Input).value != pin:
                self.message("pin.differ")
                self.clear()
                return
            self.checking = True
            self.in_thread(
                partial(store.set_pin, badge, stored, "trainee"), self.chosen, group="pin", failed=self.not_checked
            )
            return
        # Each PIN typed is tried once, in turn: one typed while the one before is checked (in a worker) waits for it.
        self.typed.append(pin)
        self.check_next()

    def check_next(self) -> None:
        if self.checking or not self.typed:
            return
        store, badge, pin = self.app.store, self.trainee.badge, self.typed.popleft()
        self.checking = True
        self.in_thread(
            partial(store.try_pin, badge, lambda stored: pins.pin_matches(pin, stored), pins.wait_ms),
            self.checked,
            group="pin",
            failed=self.not_checked,
        )

    def not_checked(self, exc: TrainerError) -> None:
        self.checking = False
        self.message("error.store", error=str(exc))
        self.check_next()

    def chosen(self, _: None) -> None:
        self.checking = False
        self.dismiss(True)

    def checked(self, attempt: PinAttempt) -> None:
        self.checking = False
        if attempt.result is PinResult.RIGHT:
            self.dismiss(True)
            return
        seconds = -(-attempt.wait_ms // 1000)
        if attempt.result is PinResult.WAIT:
            self.message("pin.wait", seconds=seconds)
        elif attempt.result is PinResult.NO_PIN:
            self.message("pin.none")  # an instructor cleared it meanwhile
        elif seconds:
            self.message("pin.wrong_wait", seconds=seconds)
        else:
            self.message("pin.wrong")
        self.check_next()

    def action_cancel(self) -> None:
        self.dismiss(False)


class NameCheckScreen(_Form):
    """Before a trainee's interrupted sessions are offered (sites without PINs): the name registered for the badge."""

    TITLE_KEY = "name.title"
    TEXT_KEY = "name.ask"
    FIELDS = (("confirm-name", "signin.name"),)
    BINDINGS = [Binding("escape", "later", "key.later")]

    def __init__(self, trainee: Trainee, sessions: list[SessionRecord]) -> None:
        super().__init__()
        self.trainee = trainee
        self.sessions = sessions
        self.wrong = 0

    def submit(self, typed: str) -> None:
        from trainer.tui.screens.resume import ResumeScreen

        if pins.same_name(self.query_one("#confirm-name", Input).value, self.trainee.name):
            self.dismiss(True)
            self.app.push_screen(ResumeScreen(self.sessions))
            return
        self.wrong += 1
        if self.wrong >= NAME_TRIES:
            self.dismiss(False)  # the courses, without the unfinished sessions; signing in again asks again
            return
        self.message("name.wrong")
        self.clear()

    def action_later(self) -> None:
        self.dismiss(False)
