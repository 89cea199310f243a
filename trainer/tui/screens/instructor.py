"""Instructor mode: preview any course, or open any trainee's session in the debrief view.

Reached only through `trainer instructor` and its password; no trainee screen leads here.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Static

from trainer.errors import TrainerError
from trainer.store.records import SessionRecord
from trainer.text import shown
from trainer.tui.screens.base import TrainerScreen


class InstructorScreen(TrainerScreen[None]):
    CSS_PATH = "instructor.tcss"
    BINDINGS = [
        Binding("tab", "app.focus_next", "key.switch_list", show=True),
        Binding("ctrl+r", "reports", "key.reports"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.records: list[SessionRecord] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="instructor-lists"):
            with Vertical(id="instructor-courses"):
                yield Static(id="instructor-courses-title", classes="list-title")
                yield DataTable(id="preview-courses", cursor_type="row")
            with Vertical(id="instructor-sessions"):
                yield Static(id="instructor-sessions-title", classes="list-title")
                yield Input(id="session-filter", compact=True)
                yield DataTable(id="sessions", cursor_type="row")
        yield Static(id="instructor-message")
        yield Footer()

    async def on_mount(self) -> None:
        self.records = await asyncio.to_thread(self.app.store.sessions)
        self.refresh_language()
        self.query_one("#preview-courses", DataTable).focus()

    def refresh_language(self) -> None:
        app, tr = self.app, self.app.tr
        self.query_one("#instructor-courses-title", Static).update(tr("instructor.preview"))
        self.query_one("#instructor-sessions-title", Static).update(tr("instructor.sessions"))
        self.query_one("#session-filter", Input).placeholder = tr("instructor.filter")
        courses = self.query_one("#preview-courses", DataTable)
        courses.clear(columns=True)
        courses.add_column(tr("catalog.course"))
        for course in app.library.courses.values():
            courses.add_row(Text(course.title.get(app.lang), overflow="fold"), key=course.id, height=None)
        self.fill_sessions()

    def fill_sessions(self) -> None:
        tr = self.app.tr
        words = self.query_one("#session-filter", Input).value.strip().lower()
        table = self.query_one("#sessions", DataTable)
        table.clear(columns=True)
        for col in ("instructor.badge", "catalog.course", "instructor.when", "instructor.result"):
            table.add_column(tr(col))
        for r in self.records:
            if words and words not in f"{r.badge} {r.course_id} {r.status}".lower():
                continue
            result = f"{r.score:g} {'✔' if r.passed else '✖'}" if r.score is not None else str(r.status)
            table.add_row(
                shown(r.badge), shown(r.course_id), r.started_at.astimezone().strftime("%m-%d %H:%M"), result, key=r.id
            )

    def action_reports(self) -> None:
        from trainer.tui.screens.reports import ReportsScreen

        self.app.push_screen(ReportsScreen())

    def on_input_changed(self, event: Input.Changed) -> None:
        self.fill_sessions()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from trainer.tui.screens.debrief import DebriefScreen
        from trainer.tui.screens.preview import PreviewScreen

        key = str(event.row_key.value)
        if event.data_table.id == "preview-courses":
            course = self.app.library.get(key)
            if course is not None:
                self.app.push_screen(PreviewScreen(course))
            return
        record = next(r for r in self.records if r.id == key)
        course = self.app.library.get(record.course_id)
        if course is None or course.content_hash != record.content_hash:
            message = self.app.tr("instructor.version_missing", course=record.course_id, version=record.course_version)
            self.query_one("#instructor-message", Static).update(Text(message, style="bold red"))
            return
        self.app.push_screen(DebriefScreen(course, record.id, instructor=True))

    async def on_screen_resume(self) -> None:
        try:
            self.records = await asyncio.to_thread(self.app.store.sessions)
        except TrainerError as exc:
            self.query_one("#instructor-message", Static).update(str(exc))
            return
        if self.is_mounted:
            self.fill_sessions()
