"""The score sheet HR hands to managers: who trained on what, how they did, and whether their certification holds.

Three tables, built here once and written by xlsx.py (all three sheets) and csvsheet.py (the first one):

- trainees: one row per trainee and course with at least one attempt in the period (see attempts.py for what counts);
- attempts: every attempt in the period, with its mistakes by severity;
- departments: per department and course, how many trained, passed, and hold a valid, expiring or expired certification.

Certification columns come from trainer.certification (the one rule), applied to every pass on record, as of `today`:
the period picks which attempts are counted, not which passes certify. docs/reports.md describes every column.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any

from trainer.certification import Certification, CertStatus, certification
from trainer.course.library import Library
from trainer.errors import UsageError
from trainer.export.attempts import Attempt, attempt, attempt_from_facts, is_attempt
from trainer.export.period import ALL_DATES, Period, local_day, local_naive
from trainer.scoring.judgement import SEVERITY_WORDS
from trainer.store.records import AttemptFacts, SessionRecord, SessionStatus, Trainee
from trainer.store.store import Store

Progress = Callable[[int, int], None]  # (sessions done, sessions in all)

LANGS = ("en", "zh")


@dataclass(frozen=True)
class Column:
    key: str
    en: str
    zh: str
    kind: str  # text, int, number, bool, date, datetime, duration
    width: float  # in Excel's character widths

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


TRAINEE_COLUMNS = (
    Column("badge", "badge", "工号", "text", 12),
    Column("name", "name", "姓名", "text", 16),
    Column("department", "department", "部门", "text", 16),
    Column("course", "course", "课程", "text", 24),
    Column("version", "version", "版本", "text", 9),
    Column("attempts", "attempts", "考核次数", "int", 10),
    Column("latest_date", "latest date", "最近考核日期", "date", 13),
    Column("latest_score", "latest score", "最近成绩", "number", 12),
    Column("best_score", "best score", "最好成绩", "number", 11),
    Column("passed", "passed", "已通过", "bool", 8),
    Column("valid_until", "certification valid until", "证书有效期至", "date", 14),
    Column("status", "status", "证书状态", "text", 24),
)

_W = SEVERITY_WORDS
ATTEMPT_COLUMNS = (
    Column("badge", "badge", "工号", "text", 12),
    Column("name", "name", "姓名", "text", 16),
    Column("department", "department", "部门", "text", 16),
    Column("course", "course", "课程", "text", 24),
    Column("version", "version", "版本", "text", 9),
    Column("date", "date", "日期时间", "datetime", 17),
    Column("duration", "duration", "用时", "duration", 10),
    Column("score", "score", "成绩", "number", 8),
    Column("passed", "passed", "通过", "bool", 8),
    Column("outcome", "outcome", "结果", "text", 11),
    # Counted at each mistake's graded severity (the session's graded list), named with the one set of severity words.
    Column("critical_mistakes", f"{_W['critical'].en} mistakes", f"{_W['critical'].zh}错误", "text", 28),
    Column("minor", f"{_W['minor'].en} mistakes", f"{_W['minor'].zh}错误数", "int", 9),
    Column("serious", f"{_W['serious'].en} mistakes", f"{_W['serious'].zh}错误数", "int", 9),
    Column("critical", f"{_W['critical'].en} mistakes (number)", f"{_W['critical'].zh}错误数", "int", 9),
    Column("mode", "mode", "模式", "text", 9),  # practice or exam: only an exam certifies
    Column("session", "session", "会话编号", "text", 38),
)

DEPARTMENT_COLUMNS = (
    Column("department", "department", "部门", "text", 18),
    Column("course", "course", "课程", "text", 24),
    Column("trained", "trained", "参训人数", "int", 10),
    Column("passed", "passed", "通过人数", "int", 10),
    Column("valid", "valid", "有效", "int", 8),
    Column("expiring", "expiring", "即将到期", "int", 10),
    Column("expired", "expired", "已过期", "int", 9),
    Column("never", "never passed", "从未通过", "int", 12),
)

SHEET_NAMES = {
    "trainees": {"en": "Trainees", "zh": "人员成绩"},
    "attempts": {"en": "Attempts", "zh": "考核记录"},
    "departments": {"en": "Departments", "zh": "部门汇总"},
}

STATUS_TEXT = {
    CertStatus.VALID: {"en": "valid", "zh": "有效"},
    CertStatus.EXPIRING: {"en": "expiring within 30 days", "zh": "30天内到期"},
    CertStatus.EXPIRED: {"en": "expired", "zh": "已过期"},
    CertStatus.NEVER: {"en": "never passed", "zh": "从未通过"},
    None: {"en": "unknown (course not loaded)", "zh": "未知（课程未加载）"},
}
OUTCOME_TEXT = {
    "completed": {"en": "completed", "zh": "完成"},
    "incident": {"en": "incident", "zh": "事故"},
    "aborted": {"en": "aborted", "zh": "中止"},
}
MODE_TEXT = {"exam": {"en": "exam", "zh": "考核"}, "practice": {"en": "practice", "zh": "练习"}}
YES_NO = {True: {"en": "yes", "zh": "是"}, False: {"en": "no", "zh": "否"}}


def status_text(status: CertStatus | None, lang: str) -> str:
    return STATUS_TEXT[status][lang]


def outcome_text(outcome: str, lang: str) -> str:
    return OUTCOME_TEXT.get(outcome, {}).get(lang, outcome)


@dataclass(frozen=True)
class Table:
    key: str  # trainees, attempts, departments
    name: str  # the sheet's name
    columns: tuple[Column, ...]
    rows: Sequence[
        tuple[Any, ...]
    ]  # typed values in column order: str, int, float, bool, date, datetime, timedelta, None
    lang: str = "en"

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.title(self.lang) for c in self.columns)


@dataclass(frozen=True)
class TraineeCourse:
    """One trainee on one course: the attempts in the period, and the certification from every pass on record."""

    trainee: Trainee
    course_id: str
    attempts: tuple[Attempt, ...]  # in the period, oldest first; never empty
    cert: Certification | None  # None: the course is not loaded, its validity is unknown

    @property
    def latest(self) -> Attempt:
        return self.attempts[-1]

    @property
    def best_score(self) -> float | None:
        scores = [a.score for a in self.attempts if a.score is not None]
        return max(scores) if scores else None

    @property
    def passed(self) -> bool:
        """Passed an exam in the period (a practice attempt's score says how it went, not that the trainee passed)."""
        return any(a.passed and a.record.mode == "exam" for a in self.attempts)

    @property
    def status(self) -> CertStatus | None:
        return self.cert.status if self.cert else None


@dataclass(frozen=True)
class ScoreSheet:
    period: Period
    today: date
    pairs: tuple[TraineeCourse, ...]  # sorted by department, badge, course
    attempts: tuple[Attempt, ...] | None  # oldest first; None when not read (CSV needs the first table only)
    trainees: dict[str, Trainee] = field(repr=False)

    def trainee_table(self, lang: str = "en") -> Table:
        rows = []
        for p in self.pairs:
            latest = p.latest
            rows.append(
                (
                    p.trainee.badge,
                    p.trainee.name,
                    p.trainee.department,
                    p.course_id,
                    latest.record.course_version,
                    len(p.attempts),
                    local_day(latest.started_at),
                    latest.score,
                    p.best_score,
                    p.passed,
                    p.cert.valid_until if p.cert else None,
                    status_text(p.status, lang),
                )
            )
        return Table("trainees", SHEET_NAMES["trainees"][lang], TRAINEE_COLUMNS, rows, lang)

    def attempt_table(self, lang: str = "en") -> Table:
        rows = []
        outcomes: dict[str, str] = {}
        people = {badge: (t.name, t.department) for badge, t in self.trainees.items()}
        for a in self.attempts or ():
            r = a.record
            name, department = people.get(r.badge, _NOBODY)
            critical_codes, minor, serious, critical = a.tally()
            outcome = a.outcome
            shown = outcomes.get(outcome)
            if shown is None:
                shown = outcomes[outcome] = outcome_text(outcome, lang)
            rows.append(
                (
                    r.badge,
                    name,
                    department,
                    r.course_id,
                    r.course_version,
                    local_naive(r.started_at),
                    a.duration,
                    None if r.status is SessionStatus.ABORTED else r.score,  # as Attempt.score, without the call
                    bool(r.passed),
                    shown,
                    critical_codes or None,
                    minor,
                    serious,
                    critical,
                    MODE_TEXT.get(r.mode, {}).get(lang, r.mode),
                    r.id,
                )
            )
        return Table("attempts", SHEET_NAMES["attempts"][lang], ATTEMPT_COLUMNS, rows, lang)

    def department_table(self, lang: str = "en") -> Table:
        counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 6)
        slot = {CertStatus.VALID: 2, CertStatus.EXPIRING: 3, CertStatus.EXPIRED: 4, CertStatus.NEVER: 5}
        for p in self.pairs:
            c = counts[(p.trainee.department, p.course_id)]
            c[0] += 1
            c[1] += p.passed
            if p.status is not None:
                c[slot[p.status]] += 1
        rows = [(dept, course, *c) for (dept, course), c in sorted(counts.items())]
        return Table("departments", SHEET_NAMES["departments"][lang], DEPARTMENT_COLUMNS, rows, lang)


def build(
    store: Store,
    library: Library,
    *,
    today: date,
    period: Period = ALL_DATES,
    department: str | None = None,
    course_id: str | None = None,
    with_attempts: bool = True,
    progress: Progress | None = None,
) -> ScoreSheet:
    """Read the store once and build the score sheet. `with_attempts=False` skips reading events (the CSV needs none).

    Raises UsageError for a course or department nobody knows, so a typo is not mistaken for "nobody trained".
    """
    trainees = {t.badge: t for t in store.trainees()}
    if department is not None and not any(t.department == department for t in trainees.values()):
        known = sorted({t.department for t in trainees.values()})
        raise UsageError(f"no trainee in department {department!r}; departments: {', '.join(known) or 'none yet'}")
    if with_attempts:
        listed = store.sessions_with_facts(course_id, since=period.start, before=period.end)
        records = [r for r, _ in listed]
        facts = {f.session_id: f for _, f in listed if f is not None}
    else:
        records, facts = store.sessions(course_id=course_id, newest_first=False), {}
    if course_id is not None and not records and library.get(course_id) is None:
        raise UsageError(f"no course {course_id!r} in the library and no session of it in the database")
    return assemble(
        records,
        trainees,
        library,
        today=today,
        period=period,
        department=department,
        events=store.events_of if with_attempts else None,
        facts=facts,
        progress=progress,
    )


_NOBODY = ("", "")  # name and department of a badge no longer registered
_BY_START = attrgetter("started_at", "id")  # oldest first, ties by id: the same order on every run


def assemble(
    records: Iterable[SessionRecord],
    trainees: dict[str, Trainee],
    library: Library,
    *,
    today: date,
    period: Period = ALL_DATES,
    department: str | None = None,
    events: Callable[[Sequence[str]], Iterable[tuple[str, Sequence[Any]]]] | None = None,
    facts: Mapping[str, AttemptFacts] | None = None,
    progress: Progress | None = None,
) -> ScoreSheet:
    """The score sheet from session records (any order) and, if `events` is given, their events (pure but for it).

    With `facts` too (by session id, as Store.sessions_with_facts reads them), an attempt's duration and mistakes come from what its latest scoring kept, and only the events
    of sessions never scored are read: a sheet of 100 000 attempts then reads no event at all.
    """
    history: dict[tuple[str, str], list[SessionRecord]] = defaultdict(list)
    chosen: list[SessionRecord] = []
    for r in records:
        t = trainees.get(r.badge)
        if t is None or (department is not None and t.department != department):
            continue
        history[(r.badge, r.course_id)].append(r)
        if is_attempt(r) and period.contains(r.started_at):
            chosen.append(r)
    chosen.sort(key=_BY_START)

    if events is None:
        attempts = [attempt(r, None, None) for r in chosen]
    else:
        by_id = {r.id: r for r in chosen}
        found: dict[str, Attempt] = {}
        total = len(chosen)
        if progress:
            progress(0, total)
        for r in chosen:
            kept = (facts or {}).get(r.id)
            a = attempt_from_facts(r, kept) if kept is not None else None
            if a is not None:
                found[r.id] = a
                if progress and (len(found) % 1000 == 0 or len(found) == total):
                    progress(len(found), total)
        unscored = [r.id for r in chosen if r.id not in found]
        for done, (sid, evs) in enumerate(events(unscored) if unscored else (), start=len(found) + 1):
            r = by_id[sid]
            found[sid] = attempt(r, evs, library.get(r.course_id))  # never scored: the rubric's grades
            if progress and (done % 1000 == 0 or done == total):
                progress(done, total)
        attempts = [found[r.id] for r in chosen]

    grouped: dict[tuple[str, str], list[Attempt]] = defaultdict(list)
    for a in attempts:
        grouped[(a.record.badge, a.record.course_id)].append(a)
    pairs = []
    for (badge, course_id), mine in grouped.items():
        course = library.get(course_id)
        cert = certification(history[(badge, course_id)], course.certification_days, today) if course else None
        pairs.append(TraineeCourse(trainees[badge], course_id, tuple(mine), cert))
    pairs.sort(key=lambda p: (p.trainee.department, p.trainee.badge, p.course_id))
    return ScoreSheet(
        period=period,
        today=today,
        pairs=tuple(pairs),
        attempts=tuple(attempts) if events is not None else None,
        trainees=trainees,
    )
