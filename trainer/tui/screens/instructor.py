"""Instructor mode: preview any course, or open any trainee's session in the debrief view.

Reached only through `trainer instructor` and its password; no trainee screen leads here.
"""

from __future__ import annotations

from functools import partial

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Static

from trainer.course.model import Course
from trainer.errors import TrainerError
from trainer.store.records import SessionRecord, Trainee
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
        self.shown_once = False  # the sessions were read and shown once (on_screen_resume reads them again)

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

    def on_mount(self) -> None:
        self.in_thread(self.app.store.sessions, self.first_loaded, group="sessions", failed=self.not_loaded)

    def first_loaded(self, records: list[SessionRecord]) -> None:
        self.records = records
        # Reviewing sessions is the usual errand: start there when there are any. Focused at once (Screen.set_focus),
        # so the lists are drawn with the ▶ on the list that has it.
        self.set_focus(self.query_one("#sessions" if self.records else "#preview-courses", DataTable))
        self.refresh_language()
        self.shown_once = True

    def on_screen_resume(self) -> None:
        # Back from a session, a preview or the reports: the sessions again, as they may have changed.
        if self.shown_once:
            self.in_thread(self.app.store.sessions, self.reloaded, group="sessions", failed=self.not_loaded)

    def reloaded(self, records: list[SessionRecord]) -> None:
        self.records = records
        self.fill_sessions()

    def not_loaded(self, exc: TrainerError) -> None:
        self.query_one("#instructor-message", Static).update(str(exc))

    def on_descendant_focus(self) -> None:
        self.mark_focus()

    def on_descendant_blur(self) -> None:
        self.mark_focus()

    def mark_focus(self) -> None:
        """▶ before the title of the list that has the focus (colour alone is not enough on every terminal)."""
        tr = self.app.tr
        for box, title, key in (
            ("#instructor-courses", "#instructor-courses-title", "instructor.preview"),
            ("#instructor-sessions", "#instructor-sessions-title", "instructor.sessions"),
        ):
            focused = self.focused is not None and self.query_one(box) in self.focused.ancestors_with_self
            self.query_one(title, Static).update(("▶ " if focused else "  ") + tr(key))

    def refresh_language(self) -> None:
        app, tr = self.app, self.app.tr
        self.mark_focus()
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
        rows = []
        for r in self.records:
            if words and words not in f"{r.badge} {r.course_id} {r.status}".lower():
                continue
            result = f"{r.score:g} {'✔' if r.passed else '✖'}" if r.score is not None else tr(f"status.{r.status}")
            rows.append(
                (
                    r.id,
                    shown(r.badge),
                    shown(r.course_id),
                    r.started_at.astimezone(self.app.zone).strftime("%m-%d %H:%M"),
                    result,
                )
            )
        # Widths from the content, given up front: left to the table, the first frame (before any resize) cut every
        # column to its header's width (`E500  pres  12-0`).
        labels = ("instructor.badge", "catalog.course", "instructor.when", "instructor.result")
        for n, col in enumerate(labels, start=1):
            table.add_column(tr(col), width=max([cell_len(tr(col))] + [cell_len(row[n]) for row in rows]))
        for key, *cells in rows:
            table.add_row(*cells, key=key)

    def action_reports(self) -> None:
        from trainer.tui.screens.reports import ReportsScreen

        self.app.push_screen(ReportsScreen())

    def on_input_changed(self, event: Input.Changed) -> None:
        self.fill_sessions()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
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
        self.in_thread(
            partial(self.app.store.get_trainee, record.badge),
            partial(self.open_session, course, record),
            group="trainee",
            failed=self.not_loaded,
        )

    def open_session(self, course: Course, record: SessionRecord, trainee: Trainee | None) -> None:
        """The session in the debrief view, headed with whose it is (the trainee read in the worker)."""
        from trainer.tui.screens.debrief import DebriefScreen

        heading = self.app.tr(
            "instructor.trainee",
            name=shown(trainee.name) if trainee else "?",
            badge=shown(record.badge),
            department=shown(trainee.department) if trainee else "?",
            when=record.started_at.astimezone(self.app.zone).strftime("%Y-%m-%d %H:%M"),
        )
        self.app.push_screen(DebriefScreen(course, record.id, instructor=True, heading=heading))
