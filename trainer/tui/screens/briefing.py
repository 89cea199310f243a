"""Briefing: what the course trains, the standards, the PPE, the pass rule; then practice (Enter, P) or exam (E).

Practice is what Enter starts: a trainee sits the exam, the attempt that certifies, by choosing it (trainer/engine/modes.py).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Header, Static

from trainer.course.model import Course
from trainer.tui.screens.base import TrainerScreen
from trainer.tui.widgets.button import LabelButton
from trainer.tui.widgets.prose import Prose
from trainer.tui.widgets.reading import ReadingPane


class BriefingScreen(TrainerScreen[None]):
    CSS_PATH = "briefing.tcss"
    BINDINGS = [
        Binding("escape", "back", "key.back"),
        Binding("enter", "start('practice')", "key.start", show=False),
        Binding("p", "start('practice')", "key.practice"),
        Binding("e", "start('exam')", "key.exam"),
    ]

    def __init__(self, course: Course):
        super().__init__()
        self.course = course

    def compose(self) -> ComposeResult:
        yield Header()
        with ReadingPane(id="briefing-body"):
            yield Prose(id="briefing-text")
        with Horizontal(id="briefing-buttons"):
            yield LabelButton(self.app.tr("briefing.practice"), id="practice", variant="primary")
            yield LabelButton(self.app.tr("briefing.exam"), id="exam", variant="warning")
            yield LabelButton(self.app.tr("briefing.back"), id="back")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_language()
        # The text has the focus, so ↑↓ PgUp/PgDn Home/End scroll it; Enter still starts, Tab reaches the buttons.
        self.query_one("#briefing-body", ReadingPane).focus()

    def refresh_language(self) -> None:
        app = self.app
        lang, tr, c = app.lang, app.tr, self.course
        out = Text()
        out.append(c.title.get(lang) + "\n", style="bold")
        out.append(tr("briefing.minutes", minutes=c.minutes) + "\n")
        if c.summary.get(lang):
            out.append(c.summary.get(lang) + "\n")
        sections = [
            ("briefing.objectives", [o.get(lang) for o in c.objectives]),
            ("briefing.standards", list(c.standards)),
            ("briefing.ppe", [p.get(lang) for p in c.ppe]),
            ("briefing.pass", [tr("briefing.pass_rule", score=f"{c.pass_rule.min_score:g}")]),
            ("briefing.modes", [tr("briefing.mode_practice"), tr("briefing.mode_exam")]),
        ]
        for key, items in sections:
            if items:
                out.append("\n" + tr(key) + "\n", style="bold underline")
                for item in items:
                    out.append(f"  • {item}\n")
        self.query_one("#briefing-text", Static).update(out)
        self.query_one("#practice", Button).label = tr("briefing.practice")
        self.query_one("#exam", Button).label = tr("briefing.exam")
        self.query_one("#back", Button).label = tr("briefing.back")
        self.query_one("#briefing-body", ReadingPane).show_more()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("practice", "exam"):
            self.action_start(event.button.id)
        else:
            self.action_back()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_start(self, mode: str = "practice") -> None:
        from trainer.engine.modes import Mode
        from trainer.tui.screens.player import PlayerScreen

        self.app.switch_screen(PlayerScreen(self.course, mode=Mode(mode)))
