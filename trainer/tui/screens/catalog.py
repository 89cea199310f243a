"""Catalog: the courses, with the trainee's last result and certification status; type to filter."""

from __future__ import annotations

from functools import partial

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Input, Static

from trainer.course.model import Course
from trainer.reports.certification import CertStatus, certification
from trainer.store.records import SessionRecord
from trainer.text import shown
from trainer.tui.linebreak import wrap
from trainer.tui.screens.base import TrainerScreen


def _width(text: Text) -> int:
    return max(cell_len(line) for line in text.plain.split("\n"))


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

    def on_mount(self) -> None:
        self.query_one("#filter", Input).focus()
        self.reload()

    def on_screen_resume(self) -> None:
        if self.needs_reload:
            self.reload()

    def on_resize(self) -> None:
        if self.is_mounted and self.size.width != getattr(self, "laid_out_for", None):
            self.fill()

    def reload(self) -> None:
        """Read the trainee's sessions again (in a worker), then show the courses with them."""
        app = self.app
        self.needs_reload = False
        if app.trainee is None:
            self.refresh_language()
            return
        self.in_thread(partial(app.store.sessions, badge=app.trainee.badge), self.reloaded, group="history")

    def reloaded(self, history: list[SessionRecord]) -> None:
        self.history = history
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
        """The table, laid out by its content: the short columns as wide as what they hold, the title the rest (it
        wraps only when the screen is too narrow for it)."""
        app = self.app
        tr = app.tr
        table = self.query_one("#courses", DataTable)
        table.clear(columns=True)
        courses = self.matching()
        rows = [self.row(course) for course in courses]
        headers = [tr(f"catalog.{key}") for key in ("course", "area", "minutes", "last", "cert")]
        widths = [max([cell_len(h)] + [_width(row[n]) for row in rows]) for n, h in enumerate(headers)]
        # Each column has a cell of padding either side; the table its margins and a scrollbar's place.
        spare = self.size.width - sum(widths[1:]) - 2 * len(headers) - 4
        widths[0] = max(12, min(widths[0], spare))
        self.laid_out_for = self.size.width
        for key, header, width in zip(("course", "area", "minutes", "last", "cert"), headers, widths, strict=True):
            table.add_column(header, key=key, width=width)
        for course, (title, *rest) in zip(courses, rows, strict=True):
            table.add_row(wrap(title, widths[0]), *rest, key=course.id, height=None)
        self.query_one("#catalog-empty", Static).update("" if courses else tr("catalog.none"))

    def row(self, course: Course) -> tuple[Text, ...]:
        app, tr = self.app, self.app.tr
        mine = [s for s in self.history if s.course_id == course.id]
        finished = [s for s in mine if s.score is not None]
        last = finished[0] if finished else None
        if last is not None and last.mode != "exam":
            # A practice score passes no one: shown as practice, beside the certification it did not change.
            last_text = Text(tr("result.practice", score=f"{last.score:g}"), style="cyan")
        elif last is not None:
            key = "result.passed" if last.passed else "result.failed"
            last_text = Text(tr(key, score=f"{last.score:g}"), style="green" if last.passed else "red")
        else:
            last_text = Text(tr("result.none"))
        cert = certification(mine, course.certification_days, app.today(), zone=app.zone)
        symbol, colour = _CERT_STYLE[cert.status]
        date = cert.valid_until.isoformat() if cert.valid_until else ""
        cert_text = Text(f"{symbol} {tr(f'cert.{cert.status}', date=date)}", style=colour)
        if last is not None and (not last.passed or last.mode != "exam") and cert.passed_on is not None:
            # A failed last attempt beside a valid certificate reads as a contradiction: say where the certificate
            # comes from.
            cert_text.append("\n  " + tr("cert.from_pass", date=cert.passed_on.isoformat()), style="dim")
        return (
            Text(course.title.get(app.lang), overflow="fold"),
            Text(tr(f"area.{course.area}")),
            Text(str(course.minutes)),
            last_text,
            cert_text,
        )

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
