"""Resume: an interrupted session is offered for resume, or left for an instructor to void."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from trainer.store.records import SessionRecord
from trainer.tui.screens.base import TrainerModal


class ResumeScreen(TrainerModal[None]):
    CSS_PATH = "resume.tcss"
    BINDINGS = [Binding("escape", "leave", "key.later")]

    def __init__(self, sessions: list[SessionRecord]):
        super().__init__()
        self.sessions = sessions

    def compose(self) -> ComposeResult:
        with Vertical(id="resume-box"):
            yield Static(id="resume-text")
            yield OptionList(id="resume-options")

    def on_mount(self) -> None:
        app, lang = self.app, self.app.lang
        self.query_one("#resume-box").border_title = app.tr("resume.title")
        options = self.query_one("#resume-options", OptionList)
        for s in self.sessions:
            course = app.library.get(s.course_id)
            title = course.title.get(lang) if course else s.course_id
            when = s.started_at.astimezone(app.zone).strftime("%Y-%m-%d %H:%M")
            label = Text(app.tr("resume.option", title=title, time=when))
            options.add_option(Option(label, id=s.id))
        options.add_option(Option(app.tr("resume.leave"), id="leave"))
        options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        from trainer.tui.screens.player import PlayerScreen

        if event.option.id == "leave":
            self.dismiss(None)
            return
        record = next(s for s in self.sessions if s.id == event.option.id)
        course = self.app.library.get(record.course_id)
        if course is None:
            self.query_one("#resume-text", Static).update(
                self.app.tr("error.store", error=f"course {record.course_id}?")
            )
            return
        self.dismiss(None)
        self.app.push_screen(PlayerScreen(course, resume_id=record.id))

    def action_leave(self) -> None:
        self.dismiss(None)
