"""Instructor mode's reports: one course's report (mistakes, heat map by state, time per state) and the retraining list.

The numbers are those of `trainer report course` and `trainer report due` (trainer/reports/course_report.py and due.py);
this screen only shows them as DataTables. Reached from instructor mode (push ReportsScreen()); `c` moves to the next
course, escape goes back. Texts live here rather than in i18n.py: they are the screen's own, in both languages.
"""

from __future__ import annotations

from datetime import date, tzinfo
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static

from trainer.reports import display
from trainer.reports.attempts import SEVERITIES
from trainer.reports.course_report import CourseReport
from trainer.reports.due import Due
from trainer.scoring.judgement import SEVERITY_WORDS
from trainer.text import shown
from trainer.tui import compat
from trainer.tui.screens.base import TrainerScreen

if TYPE_CHECKING:
    from trainer.course.library import Library
    from trainer.course.model import Course
    from trainer.store.store import Store

TEXT = {
    "en": {
        "summary": "{title} ({course} {version}): {attempts} attempts, {passed} passed ({rate}), "
        "mean {mean}, median {median}",
        "not_loaded": "not in the library",
        "mistakes": "Most common mistakes",
        "states": "Where mistakes happen, and median time per state",
        "due": "Certifications ending within {days} days or expired, and required courses due (today {today})",
        "loading": "Reading the sessions…",
        "none": "No attempts yet.",
        "mistake": "mistake",
        "severity": "severity",
        "times": "times",
        "share": "of attempts",
        "state": "state",
        "time": "median time",
        "badge": "badge",
        "name": "name",
        "course": "course",
        "until": "valid until",
        "days": "days",
        "status": "status",
        "next": "next course",
        "back": "back",
        **{k: t.en or "" for k, t in SEVERITY_WORDS.items()},  # the one set of severity words
        "valid": "valid",
        "expiring": "expiring",
        "expired": "expired",
        "never": "never passed",
    },
    "zh": {
        "summary": "{title}（{course} {version}）：考核 {attempts} 次，通过 {passed} 次（{rate}），平均 {mean}，中位数 {median}",
        "not_loaded": "课程未加载",
        "mistakes": "最常见的错误",
        "states": "错误发生的场景及各场景用时中位数",
        "due": "{days} 天内到期或已过期的证书，及到期的必修课程（今天 {today}）",
        "loading": "正在读取考核记录…",
        "none": "尚无考核。",
        "mistake": "错误",
        "severity": "严重程度",
        "times": "次数",
        "share": "占考核",
        "state": "场景",
        "time": "用时中位数",
        "badge": "工号",
        "name": "姓名",
        "course": "课程",
        "until": "有效期至",
        "days": "剩余天数",
        "status": "状态",
        "next": "下一门课程",
        "back": "返回",
        **{k: t.zh or "" for k, t in SEVERITY_WORDS.items()},
        "valid": "有效",
        "expiring": "即将到期",
        "expired": "已过期",
        "never": "从未通过",
    },
}
SEVERITY_STYLE = {"minor": "yellow", "serious": "dark_orange", "critical": "bold red"}
HEAT = {
    "minor": ("#5c4a00", "#b38f00", "#ffd23f"),
    "serious": ("#5c2a00", "#a34a00", "#ff7b00"),
    "critical": ("#4d0000", "#990000", "#ff1f1f"),
}
STATUS_STYLE = {"valid": "green", "expiring": "yellow", "expired": "red"}


class ReportsScreen(TrainerScreen[None]):
    CSS_PATH = "reports.tcss"
    BINDINGS = [
        Binding("c", "next_course", "next course"),
        Binding("escape", "back", "back"),
    ]

    def __init__(self, course_id: str | None = None, *, within: int = 30) -> None:
        super().__init__()
        self.course_id = course_id
        self.within = within
        self.report: CourseReport | None = None
        self.due: list[Due] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="reports-summary")
        with Horizontal(id="reports-body"):
            with Vertical(id="reports-course"):
                yield Static(id="reports-mistakes-title", classes="list-title")
                yield DataTable(id="report-mistakes", cursor_type="row", zebra_stripes=True)
                yield Static(id="reports-states-title", classes="list-title")
                yield DataTable(id="report-states", cursor_type="row")
            with Vertical(id="reports-due"):
                yield Static(id="reports-due-title", classes="list-title")
                yield DataTable(id="report-due", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def _t(self, key: str, **values: Any) -> str:
        text = TEXT.get(self.app.lang, TEXT["en"])[key]
        return text.format(**values) if values else text

    def on_mount(self) -> None:
        if self.course_id is None and self.app.library.courses:
            self.course_id = next(iter(self.app.library.courses))
        self.query_one("#reports-summary", Static).update(self._t("loading"))
        self.reload()
        self.query_one("#report-mistakes", DataTable).focus()

    def reload(self) -> None:
        """Read the report of the course shown (in a worker: the store and the detection are slow enough to freeze the
        screen). A newer reload, the next course's, cancels one still running (its result is dropped)."""
        app, course_id = self.app, self.course_id
        course = app.library.get(course_id) if course_id is not None else None
        self.in_thread(
            partial(
                _read, app.store, app.library, course_id, course, today=app.today(), within=self.within, zone=app.zone
            ),
            self.read,
            group="report",
        )

    def read(self, found: tuple[CourseReport | None, list[Due]]) -> None:
        self.report, self.due = found
        self.refresh_language()

    def refresh_language(self) -> None:
        self._bind_texts()
        self._fill_course()
        self._fill_due()

    def _bind_texts(self) -> None:
        """Key hints in the current language (as app.localize_bindings does for the keys i18n.py knows)."""
        words = {"next_course": self._t("next"), "back": self._t("back")}
        compat.relabel_bindings(self, lambda b: words.get(b.action))

    def _fill_course(self) -> None:
        lang = self.app.lang
        summary = self.query_one("#reports-summary", Static)
        mistakes = self.query_one("#report-mistakes", DataTable)
        states = self.query_one("#report-states", DataTable)
        self.query_one("#reports-mistakes-title", Static).update(self._t("mistakes"))
        self.query_one("#reports-states-title", Static).update(self._t("states"))
        mistakes.clear(columns=True)
        states.clear(columns=True)
        r = self.report
        if r is None:
            summary.update(self._t("none"))
            return
        summary.update(
            Text(
                self._t(
                    "summary",
                    title=r.title.get(lang),
                    course=r.course_id,
                    version=r.version or self._t("not_loaded"),
                    attempts=r.attempts,
                    passed=r.passed,
                    rate=display.percent(r.pass_rate),
                    mean=display.score(r.mean_score),
                    median=display.score(r.median_score),
                )
            )
        )
        mistakes.add_column(self._t("mistake"), key="code")
        mistakes.add_column(self._t("severity"), key="severity")
        mistakes.add_column(self._t("times"), key="times")
        mistakes.add_column(self._t("share"), key="share")
        for m in r.mistakes:
            sev = str(m.severity)
            share = m.attempts / r.analysed if r.analysed else None
            mistakes.add_row(
                # The rule broken, in the reader's language (the code, SKIPPED_REVIEW_ENERGY, is for exports).
                Text(_cut(m.rule.get(lang) or m.code, 28), style=SEVERITY_STYLE[sev]),
                Text(self._t(sev), style=SEVERITY_STYLE[sev]),
                Text(str(m.count), justify="right"),
                Text(display.percent(share), justify="right"),
                key=f"{m.code}/{sev}",
            )
        states.add_column(self._t("state"), key="state")
        for sev in SEVERITIES:
            states.add_column(self._t(str(sev)), key=str(sev))
        states.add_column(self._t("time"), key="time")
        peak = max((n for s in r.states for n in s.mistakes), default=0)
        for s in r.states:
            cells = [_heat(n, peak, str(sev)) for n, sev in zip(s.mistakes, SEVERITIES, strict=True)]
            states.add_row(
                Text(self._state_name(s.state), overflow="ellipsis"),
                *cells,
                Text(display.duration_ms(s.median_ms), justify="right"),
                key=s.state,
            )

    def _state_name(self, state_id: str) -> str:
        """A state as the trainee saw it: the first sentence of its scene (its id when the course is not loaded)."""
        from trainer.tui.screens.debrief import _first_sentence

        course = self.app.library.get(self.course_id) if self.course_id else None
        state = course.states.get(state_id) if course is not None else None
        return _first_sentence(state.text.get(self.app.lang), 24) if state is not None else state_id

    def _fill_due(self) -> None:
        table = self.query_one("#report-due", DataTable)
        self.query_one("#reports-due-title", Static).update(
            Text(self._t("due", days=self.within, today=self.app.today()))
        )
        table.clear(columns=True)
        for key in ("badge", "name", "course", "until", "days", "status"):
            table.add_column(self._t(key), key=key)
        for d in self.due:
            status = str(d.status)
            table.add_row(
                Text(shown(d.trainee.badge)),
                Text(shown(d.trainee.name)),
                Text(d.course_id),
                str(d.valid_until),
                Text(str(d.days_left), justify="right"),
                Text(self._t(status), style=STATUS_STYLE.get(status, "")),
                key=f"{d.trainee.badge}/{d.course_id}",
            )

    def action_next_course(self) -> None:
        ids = list(self.app.library.courses)
        if not ids:
            return
        at = ids.index(self.course_id) if self.course_id in ids else -1
        self.course_id = ids[(at + 1) % len(ids)]
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()


def _read(
    store: Store,
    library: Library,
    course_id: str | None,
    course: Course | None,
    *,
    today: date,
    within: int,
    zone: tzinfo,
) -> tuple[CourseReport | None, list[Due]]:
    """In the worker: the course's report (None without a course) and the certificates due."""
    from trainer.reports import course_report, due

    report = None
    if course_id is not None:
        report = course_report.load(store, course_id, course, zone=zone)
    return report, due.load(store, library, today=today, within=within, zone=zone)


def _cut(text: str, cells: int) -> str:
    """At most `cells` terminal cells, with … when cut, so the numbers beside it stay on an 80-column screen."""
    from rich.cells import cell_len, set_cell_size

    return text if cell_len(text) <= cells else set_cell_size(text, cells - 1) + "…"


def _heat(n: int, peak: int, severity: str) -> Text:
    """A count on a background that darkens with it, so the table reads as a heat map."""
    if not n:
        return Text("·", style="bright_black", justify="right")
    level = min(2, int(3 * n / (peak + 1)))
    return Text(f" {n} ", style=f"bold white on {HEAT[severity][level]}", justify="right")
