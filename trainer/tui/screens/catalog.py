"""Catalog: the courses, with the trainee's last result and certification status; type to filter."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Input, Static

from trainer.certification import CertStatus, certification
from trainer.course.model import Course
from trainer.store.records import SessionRecord
from trainer.text import shown
from trainer.tui.screens.base import TrainerScreen

_CERT_STYLE = {
    CertStatus.VALID: ("✔", "green"),
    CertStatus.EXPIRING: ("!", "yellow"),
    CertStatus.EXPIRED: ("✖", "red"),
    CertStatus.NEVER: ("·", "bright_black"),
}


class CatalogScreen(TrainerScreen[None]):
    CSS_PATH = "catalog.tcss"
    BINDINGS = [Binding("escape", "clear_filter", "key.clear", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self.history: list[SessionRecord] = []
        self.needs_reload = True

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="catalog-who")
        yield Input(id="filter", compact=True)
        yield DataTable(id="courses", cursor_type="row", zebra_stripes=True)
        yield Static(id="catalog-empty")
        yield Footer()

    async def on_mount(self) -> None:
        await self.reload()
        self.query_one("#filter", Input).focus()

    async def on_screen_resume(self) -> None:
        if self.needs_reload:
            await self.reload()

    def on_resize(self) -> None:
        if self.is_mounted and max(20, self.size.width - 60) != getattr(self, "title_width", None):
            self.refresh_language()

    async def reload(self) -> None:
        app = self.app
        if app.trainee is not None:
            self.history = await asyncio.to_thread(app.store.sessions, badge=app.trainee.badge)
        self.needs_reload = False
        self.refresh_language()

    def refresh_language(self) -> None:
        app = self.app
        tr = app.tr
        if app.trainee is not None:
            self.query_one("#catalog-who", Static).update(
                tr("signin.welcome", name=shown(app.trainee.name), department=shown(app.trainee.department))
                + "  ·  "
                + tr("catalog.title")
            )
        self.query_one("#filter", Input).placeholder = tr("catalog.filter")
        table = self.query_one("#courses", DataTable)
        table.clear(columns=True)
        # The title column takes what the others leave, and long titles wrap, so nothing runs off an 80-column screen.
        self.title_width = max(20, self.size.width - 60)
        table.add_column(tr("catalog.course"), key="course", width=self.title_width)
        table.add_column(tr("catalog.area"), key="area")
        table.add_column(tr("catalog.minutes"), key="minutes")
        table.add_column(tr("catalog.last"), key="last")
        table.add_column(tr("catalog.cert"), key="cert")
        self.fill()

    def matching(self) -> list[Course]:
        words = self.query_one("#filter", Input).value.strip().lower().split()
        lang = self.app.lang
        out = []
        for course in self.app.library.courses.values():
            haystack = " ".join(
                [
                    course.id,
                    course.area,
                    self.app.tr(f"area.{course.area}"),
                    course.title.zh or "",
                    course.title.en or "",
                    course.summary.get(lang),
                ]
            )
            if all(w in haystack.lower() for w in words):
                out.append(course)
        return out

    def fill(self) -> None:
        app = self.app
        tr = app.tr
        table = self.query_one("#courses", DataTable)
        table.clear()
        courses = self.matching()
        for course in courses:
            mine = [s for s in self.history if s.course_id == course.id]
            finished = [s for s in mine if s.score is not None]
            if finished:
                last = finished[0]
                key = "result.passed" if last.passed else "result.failed"
                last_text = Text(tr(key, score=f"{last.score:g}"), style="green" if last.passed else "red")
            else:
                last_text = Text(tr("result.none"))
            cert = certification(mine, course.certification_days, app.today())
            symbol, colour = _CERT_STYLE[cert.status]
            date = cert.valid_until.isoformat() if cert.valid_until else ""
            label = tr(f"cert.{cert.status}", date=date)
            table.add_row(
                Text(course.title.get(app.lang), overflow="fold"),
                tr(f"area.{course.area}"),
                str(course.minutes),
                last_text,
                Text(f"{symbol} {label}", style=colour),
                key=course.id,
                height=None,
            )
        self.query_one("#catalog-empty", Static).update("" if courses else tr("catalog.none"))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.fill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        table = self.query_one("#courses", DataTable)
        if table.row_count:
            self.open_course(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    def on_key(self, event) -> None:
        # Arrows move through the list while the filter keeps the focus, so typing and choosing need no Tab.
        table = self.query_one("#courses", DataTable)
        if event.key in ("up", "down", "pageup", "pagedown") and self.focused is self.query_one("#filter", Input):
            getattr(table, f"action_cursor_{'up' if event.key in ('up', 'pageup') else 'down'}")()
            event.stop()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_course(str(event.row_key.value))

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""

    def open_course(self, course_id: str) -> None:
        from trainer.tui.screens.briefing import BriefingScreen

        course = self.app.library.get(course_id)
        if course is not None:
            self.app.push_screen(BriefingScreen(course))
