"""Each piece of Textual's private API Trainer relies on (trainer/tui/compat.py) still works on the installed Textual:
after an upgrade, this file says which one broke."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Input, Static

from trainer.tui import compat


class Tiny(App[None]):
    BINDINGS = [Binding("f5", "noop", "first words")]

    def compose(self) -> ComposeResult:
        yield Static("hello", id="hello")
        yield Input(id="field")
        yield Footer()

    def action_noop(self) -> None:
        pass


async def test_the_key_hints_take_new_words(tmp_path):
    app = Tiny()
    async with app.run_test(size=(60, 8)) as pilot:
        await pilot.pause()
        assert "first words" in compat.screen_text(app)
        compat.relabel_bindings(app, lambda b: "新的说明" if b.action == "noop" else None)
        await pilot.pause()
        shown = compat.screen_text(app)
        assert "新的说明" in shown and "first words" not in shown


async def test_stylesheets_read_later_apply(tmp_path):
    sheet = tmp_path / "late.tcss"
    sheet.write_text("#hello { display: none; }", encoding="utf-8")
    app = Tiny()
    async with app.run_test(size=(60, 8)) as pilot:
        await pilot.pause()
        assert "hello" in compat.screen_text(app)
        compat.read_stylesheets(app, [sheet, sheet])
        await pilot.pause()
        assert "hello" not in compat.screen_text(app)


async def test_keys_sent_as_the_terminal_sends_them_are_typed_and_frames_are_seen():
    app = Tiny()
    frames: list[object] = []
    async with app.run_test(size=(60, 8)) as pilot:
        compat.on_frame(app, lambda screen, renderable: frames.append(renderable))
        app.query_one("#field", Input).focus()
        await pilot.pause()
        compat.send_keys(app, "E1001")
        for _ in range(50):
            await pilot.pause(0.02)
            if app.query_one("#field", Input).value == "E1001":
                break
        assert app.query_one("#field", Input).value == "E1001"
        assert "E1001" in compat.screen_text(app)
    assert any(f is not None for f in frames)


class Keys(App[None]):
    """Records the name and the character of every key it is handed."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str | None]] = []

    def on_key(self, event) -> None:
        self.seen.append((event.key, event.character))


async def test_keys_sent_at_once_are_named_as_pilot_press_names_them():
    """Punctuation and spaces arrive as "minus" and "space" (as a terminal's keys do), so a helper that types a
    course filter such as press-loto at once hands the app what Pilot.press would."""
    pressed, sent = Keys(), Keys()
    async with pressed.run_test() as pilot:
        await pilot.press(*"a-b c")
    async with sent.run_test() as pilot:
        compat.send_keys(sent, "a-b c")
        for _ in range(50):
            await pilot.pause(0.02)
            if len(sent.seen) == 5:
                break
    assert sent.seen == pressed.seen == [("a", "a"), ("minus", "-"), ("b", "b"), ("space", " "), ("c", "c")]
