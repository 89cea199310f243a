"""The compliance matrix: every trainee against every required course, as of a day, for HR (docs/hr.md).

Each cell is one of: valid, expiring (with the days left), expired, in progress (attempted, never passed), never
started, not required, or unknown (the course is not in the library, so its validity is not known). Validity comes from
trainer.reports.certification (the one rule, as every sheet); who must hold what from the requirements HR loaded
(trainer.hr, Store.requirements). A required course not yet passed is *due* by its first deadline: the later of the
trainee's hire date (else the day they were registered) and the day the requirement was first loaded, plus its days;
when more than one requirement asks for the course, the earliest deadline counts. Overdue: expired, or not yet passed
past that deadline.

Pure: `build()` takes trainees, requirements, session records and the library; `load()` reads the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from enum import StrEnum

from trainer.course.library import Library
from trainer.reports.certification import CertStatus, certification, passes_of
from trainer.reports.scores import BADGE, COURSE, DEPARTMENT, NAME, Column, Table
from trainer.sitetime import day, site_zone
from trainer.store.records import Requirement, SessionRecord, SessionStatus, Trainee
from trainer.store.store import Store


class Cell(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    IN_PROGRESS = "in_progress"  # attempted (in progress, interrupted, failed, aborted), never passed
    NEVER_STARTED = "never_started"
    NOT_REQUIRED = "not_required"
    UNKNOWN = "unknown"  # required, but the course is not loaded: its validity is not known


COUNTED = (Cell.VALID, Cell.EXPIRING, Cell.EXPIRED, Cell.IN_PROGRESS, Cell.NEVER_STARTED, Cell.UNKNOWN)
WORDS: Mapping[Cell, Mapping[str, str]] = {
    Cell.VALID: {"en": "valid", "zh": "有效"},
    Cell.EXPIRING: {"en": "expiring ({days} days)", "zh": "即将到期（{days}天）"},
    Cell.EXPIRED: {"en": "expired", "zh": "已过期"},
    Cell.IN_PROGRESS: {"en": "in progress", "zh": "培训中"},
    Cell.NEVER_STARTED: {"en": "never started", "zh": "未开始"},
    Cell.NOT_REQUIRED: {"en": "not required", "zh": "不要求"},
    Cell.UNKNOWN: {"en": "unknown (course not loaded)", "zh": "未知（课程未加载）"},
}
SCOPE_WORDS = {
    "department": {"en": "department", "zh": "部门"},
    "plant": {"en": "plant", "zh": "厂区"},
    "total": {"en": "total", "zh": "合计"},
}
NO_PLANT = {"en": "(no plant)", "zh": "（无厂区）"}
SHEET_NAMES = {
    "compliance": {"en": "Compliance", "zh": "合规"},
    "compliance_summary": {"en": "Compliance summary", "zh": "合规汇总"},
    "overdue": {"en": "Overdue", "zh": "逾期"},
}


@dataclass(frozen=True)
class Status:
    """One trainee on one course."""

    cell: Cell
    days_left: int | None = None  # expiring, expired: days from today to the last valid day (negative once expired)
    valid_until: date | None = None  # the last valid day, once passed
    due: date | None = None  # required and not passed yet: the first deadline
    overdue: bool = False  # expired, or not passed yet past the first deadline (as of the day it was made for)

    def words(self, lang: str) -> str:
        return WORDS[self.cell][lang].format(days=self.days_left)


def first_deadline(trainee: Trainee, rules: Sequence[Requirement], zone: tzinfo) -> date | None:
    """When a trainee must first hold a course the `rules` require of them: the earliest of (the later of their hire
    date, else the day they were registered, and the day the rule was loaded) plus its days."""
    start = trainee.hire_date or day(trainee.created_at, zone)
    found = [max(start, r.since or start) + timedelta(days=r.first_days) for r in rules]
    return min(found) if found else None


def status(
    trainee: Trainee,
    rules: Sequence[Requirement],
    sessions: Sequence[SessionRecord],
    validity_days: int | None,
    today: date,
    zone: tzinfo,
) -> Status:
    """The cell of one trainee and course: `rules` the requirements for that course that apply to the trainee,
    `sessions` their sessions of it, `validity_days` the course's certification_days (None: not loaded)."""
    if not rules:
        return Status(Cell.NOT_REQUIRED)
    if validity_days is None:
        return Status(Cell.UNKNOWN, due=first_deadline(trainee, rules, zone))
    cert = certification(sessions, validity_days, today, zone=zone)
    if cert.status is CertStatus.NEVER:
        tried = any(s.status is not SessionStatus.VOIDED for s in sessions)
        due = first_deadline(trainee, rules, zone)
        return Status(
            Cell.IN_PROGRESS if tried else Cell.NEVER_STARTED, due=due, overdue=due is not None and due < today
        )
    assert cert.valid_until is not None
    cell = {CertStatus.VALID: Cell.VALID, CertStatus.EXPIRING: Cell.EXPIRING, CertStatus.EXPIRED: Cell.EXPIRED}
    expired = cert.status is CertStatus.EXPIRED
    return Status(cell[cert.status], (cert.valid_until - today).days, cert.valid_until, overdue=expired)


@dataclass(frozen=True)
class Row:
    trainee: Trainee
    cells: tuple[Status, ...]  # one per Matrix.courses

    @property
    def required(self) -> int:
        return sum(c.cell is not Cell.NOT_REQUIRED for c in self.cells)

    @property
    def compliant(self) -> int:
        return sum(c.cell in (Cell.VALID, Cell.EXPIRING) for c in self.cells)

    @property
    def overdue(self) -> int:
        return sum(c.overdue for c in self.cells)


@dataclass(frozen=True)
class Tally:
    """Counts over the required cells of a group of trainees (a department, a plant, everyone)."""

    scope: str  # department, plant, total
    group: str  # the department or plant ("" for the total; None plant: "")
    trainees: int
    counts: Mapping[Cell, int]
    overdue: int

    @property
    def required(self) -> int:
        return sum(self.counts.get(c, 0) for c in COUNTED)

    @property
    def compliant(self) -> int:
        return self.counts.get(Cell.VALID, 0) + self.counts.get(Cell.EXPIRING, 0)

    @property
    def rate(self) -> float | None:
        """The share of required cells held (valid or expiring), 0..1; None when nothing is required."""
        return self.compliant / self.required if self.required else None


@dataclass(frozen=True)
class Matrix:
    today: date
    courses: tuple[str, ...]  # every course some requirement names, sorted
    titles: Mapping[str, Mapping[str, str]]  # course id -> {"en", "zh"} (the id when not loaded)
    rows: tuple[Row, ...]  # by department, plant, badge

    def tallies(self) -> list[Tally]:
        """Per department, per plant, and the total."""
        out = []
        for scope, key in (("department", lambda r: r.trainee.department), ("plant", lambda r: r.trainee.plant or "")):
            groups: dict[str, list[Row]] = defaultdict(list)
            for r in self.rows:
                groups[key(r)].append(r)
            out += [_tally(scope, name, groups[name]) for name in sorted(groups)]
        out.append(_tally("total", "", list(self.rows)))
        return out

    def overdue(self) -> list[tuple[Row, str, Status]]:
        """(row, course, status) of every overdue cell, longest overdue first."""
        found = [(r, c, s) for r in self.rows for c, s in zip(self.courses, r.cells, strict=True) if s.overdue]
        found.sort(key=lambda x: (_overdue_since(x[2]), x[0].trainee.department, x[0].trainee.badge, x[1]))
        return found

    # --- as sheets -----------------------------------------------------------------------------------------------

    def table(self, lang: str = "en") -> Table:
        """The matrix: one row per trainee, one column per required course, then required / held / overdue counts."""
        columns = (
            *PERSON_COLUMNS,
            *(
                Column(c, f"{c} {self.titles[c]['en']}", f"{c} {self.titles[c]['zh']}", "text", 22)
                for c in self.courses
            ),
            Column("required", "required", "要求课程数", "int", 10),
            Column("held", "held", "持证数", "int", 8),
            Column("overdue", "overdue", "逾期数", "int", 8),
        )
        rows = [
            (*_person(r.trainee), *(s.words(lang) for s in r.cells), r.required, r.compliant, r.overdue)
            for r in self.rows
        ]
        return Table("compliance", SHEET_NAMES["compliance"][lang], columns, rows, lang)

    def summary_table(self, lang: str = "en") -> Table:
        """Counts and percentages per department and plant, and the total."""
        rows = []
        for t in self.tallies():
            group = t.group if t.scope != "plant" or t.group else NO_PLANT[lang]
            rows.append(
                (
                    SCOPE_WORDS[t.scope][lang],
                    group if t.scope != "total" else "",
                    t.trainees,
                    t.required,
                    *(t.counts.get(c, 0) for c in COUNTED),
                    t.compliant,
                    None if t.rate is None else round(100 * t.rate, 1),
                    t.overdue,
                )
            )
        return Table("compliance_summary", SHEET_NAMES["compliance_summary"][lang], SUMMARY_COLUMNS, rows, lang)

    def overdue_table(self, lang: str = "en") -> Table:
        """The people HR must chase: one row per overdue trainee and course."""
        rows = []
        for r, course, s in self.overdue():
            since = _overdue_since(s)
            rows.append(
                (
                    *_person(r.trainee),
                    course,
                    self.titles[course][lang],
                    WORDS[s.cell][lang].format(days=s.days_left),
                    since,
                    (self.today - since).days,
                )
            )
        return Table("overdue", SHEET_NAMES["overdue"][lang], OVERDUE_COLUMNS, rows, lang)


PERSON_COLUMNS = (
    BADGE,
    NAME,
    DEPARTMENT,
    Column("role", "role", "岗位", "text", 14),
    Column("plant", "plant", "厂区", "text", 14),
    Column("hire_date", "hire date", "入职日期", "date", 12),
)
SUMMARY_COLUMNS = (
    Column("scope", "by", "统计维度", "text", 10),
    Column("group", "group", "分组", "text", 18),
    Column("trainees", "trainees", "人数", "int", 9),
    Column("required", "required", "应持证", "int", 9),
    *(
        Column(
            c.value, WORDS[c]["en"].replace(" ({days} days)", ""), WORDS[c]["zh"].replace("（{days}天）", ""), "int", 10
        )
        for c in COUNTED
    ),  # fmt: skip
    Column("compliant", "held (valid or expiring)", "持证（有效或即将到期）", "int", 14),
    Column("rate", "held %", "持证率%", "number", 9),
    Column("overdue", "overdue", "逾期", "int", 9),
)
OVERDUE_COLUMNS = (
    *PERSON_COLUMNS,
    COURSE,
    Column("title", "title", "课程名称", "text", 24),
    Column("status", "status", "状态", "text", 16),
    Column("due", "due since", "应完成日期", "date", 12),
    Column("days_overdue", "days overdue", "逾期天数", "int", 10),
)


def _person(t: Trainee) -> tuple[object, ...]:
    return (t.badge, t.name, t.department, t.role, t.plant, t.hire_date)


def _overdue_since(s: Status) -> date:
    """The day a cell became overdue's deadline: the last valid day for an expired one, else the first deadline."""
    return s.valid_until if s.cell is Cell.EXPIRED and s.valid_until else (s.due or date.min)


def _tally(scope: str, group: str, rows: Sequence[Row]) -> Tally:
    counts: dict[Cell, int] = defaultdict(int)
    for r in rows:
        for s in r.cells:
            counts[s.cell] += 1
    return Tally(scope, group, len(rows), dict(counts), sum(r.overdue for r in rows))


def build(
    trainees: Iterable[Trainee],
    requirements: Sequence[Requirement],
    records: Iterable[SessionRecord],
    library: Library,
    *,
    today: date,
    zone: tzinfo,
    department: str | None = None,
    plant: str | None = None,
    course_id: str | None = None,
) -> Matrix:
    """The matrix of every trainee (of `department`/`plant`) against every required course (or only `course_id`)."""
    courses = sorted({r.course_id for r in requirements if course_id is None or r.course_id == course_id})
    passes = passes_of(records)
    rows = []
    chosen = [
        t
        for t in trainees
        if (department is None or t.department == department) and (plant is None or (t.plant or "") == plant)
    ]
    by_course: dict[str, list[Requirement]] = defaultdict(list)
    for r in requirements:
        by_course[r.course_id].append(r)
    for t in sorted(chosen, key=lambda t: (t.department, t.plant or "", t.badge)):
        cells = []
        for c in courses:
            course = library.get(c)
            rules = [r for r in by_course[c] if r.applies_to(t)]
            cells.append(
                status(
                    t, rules, passes.sessions(t.badge, c), course.certification_days if course else None, today, zone
                )
            )
        rows.append(Row(t, tuple(cells)))
    titles = {}
    for c in courses:
        course = library.get(c)
        titles[c] = {"en": course.title.en or c, "zh": course.title.zh or c} if course else {"en": c, "zh": c}
    return Matrix(today, tuple(courses), titles, tuple(rows))


def load(
    store: Store,
    library: Library,
    *,
    today: date | None = None,
    zone: tzinfo | None = None,
    department: str | None = None,
    plant: str | None = None,
    course_id: str | None = None,
) -> Matrix:
    """The matrix as of `today` (default: the site's today), counting days in `zone` (default: the site's zone)."""
    from trainer import sitetime

    zone = zone or site_zone(store)
    return build(
        store.trainees(),
        store.requirements(),
        (r for r, _ in store.stream_sessions_with_facts(facts=False)),  # streamed: memory flat in sessions
        library,
        today=today or sitetime.today(zone),
        zone=zone,
        department=department,
        plant=plant,
        course_id=course_id,
    )
