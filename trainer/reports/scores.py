"""The score sheet HR hands to managers: who trained on what, how they did, and whether their certification holds.

Three tables, built here once and written by xlsx.py (all three sheets) and csvsheet.py (the first one):

- trainees: one row per trainee and course with at least one attempt in the period (see attempts.py for what counts);
- attempts: every attempt in the period, with its mistakes by severity;
- departments: per department and course, how many trained, passed, and hold a valid, expiring or expired certification.

Certification columns come from trainer.reports.certification (the one rule), applied to every pass on record, as of `today`:
the period picks which attempts are counted, not which passes certify. docs/reports.md describes every column.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from operator import attrgetter
from typing import Any

from trainer import __version__
from trainer.course.library import Library
from trainer.course.model import Text
from trainer.errors import UsageError
from trainer.reports.attempts import Attempt, attempt, attempt_from_facts, is_attempt
from trainer.reports.certification import Certification, CertStatus, certification
from trainer.reports.period import ALL_DATES, Period
from trainer.scoring.judgement import SEVERITY_WORDS
from trainer.sitetime import day, site_zone, wall, zone_name
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
    Column("plant", "plant", "厂区", "text", 12),
    Column("department", "department", "部门", "text", 16),
    Column("course", "course", "课程", "text", 24),
    Column("course_title", "course title", "课程名称", "text", 28),
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
    Column("plant", "plant", "厂区", "text", 12),
    Column("department", "department", "部门", "text", 16),
    Column("course", "course", "课程", "text", 24),
    Column("course_title", "course title", "课程名称", "text", 28),
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
    Column("plant", "plant", "厂区", "text", 12),
    Column("department", "department", "部门", "text", 18),
    Column("course", "course", "课程", "text", 24),
    Column("course_title", "course title", "课程名称", "text", 28),
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


def yes_no(value: bool, lang: str) -> str:
    """A truth as a word of the sheet's language: the XLSX and the CSV show the same (是/否 in Chinese)."""
    return YES_NO[bool(value)][lang]


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
    bilingual: bool = False  # headers in both languages, the sheet's first: "工号 / badge"

    @property
    def headers(self) -> tuple[str, ...]:
        if not self.bilingual:
            return tuple(c.title(self.lang) for c in self.columns)
        other = "en" if self.lang == "zh" else "zh"
        return tuple(f"{c.title(self.lang)} / {c.title(other)}" for c in self.columns)


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


ABOUT_NAME = {"en": "About", "zh": "说明"}
ABOUT_TITLE = {"en": "Trainer score sheet", "zh": "Trainer 安全培训成绩表"}
_ABOUT_KEYS = {
    "generated": {"en": "generated at", "zh": "生成时间"},
    "today": {"en": "certification status as of", "zh": "证书状态截至"},
    "period": {"en": "attempts started", "zh": "考核开始日期"},
    "department": {"en": "department", "zh": "部门"},
    "course": {"en": "course", "zh": "课程"},
    "zone": {"en": "time zone (dates and times)", "zh": "时区（日期与时间）"},
    "version": {"en": "Trainer version", "zh": "Trainer 版本"},
    "scorer": {"en": "scored by (attempts)", "zh": "评分方式（次数）"},
    "courses": {"en": "course versions", "zh": "课程版本"},
    "sheets": {"en": "sheets", "zh": "工作表"},
}
_ALL = {"en": "all", "zh": "全部"}
_NEVER_SCORED = "rubric (never scored, graded at export)"


@dataclass(frozen=True)
class ScoreSheet:
    period: Period
    today: date
    pairs: tuple[TraineeCourse, ...]  # sorted by plant, department, badge, course
    attempts: tuple[Attempt, ...] | None  # oldest first; None when not read (CSV needs the first table only)
    trainees: dict[str, Trainee] = field(repr=False)
    zone: tzinfo = field(kw_only=True)  # the site's: dates and times in the tables are its wall times
    titles: Mapping[str, Text] = field(default_factory=dict, kw_only=True)  # course id -> title, loaded courses
    versions: Mapping[str, str] = field(default_factory=dict, kw_only=True)  # course id -> the loaded version
    scorers: Mapping[str, int] = field(default_factory=dict, kw_only=True)  # what scored the attempts, how many each
    department: str | None = field(default=None, kw_only=True)  # the filters the sheet was made with
    course_id: str | None = field(default=None, kw_only=True)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC), kw_only=True)

    def title(self, course_id: str, lang: str) -> str | None:
        """The course's title in `lang`; None when the course is not loaded."""
        t = self.titles.get(course_id)
        return t.get(lang) if t else None

    def trainee_table(self, lang: str = "en", *, bilingual: bool = False) -> Table:
        rows = []
        for p in self.pairs:
            latest = p.latest
            rows.append(
                (
                    p.trainee.badge,
                    p.trainee.name,
                    p.trainee.plant,
                    p.trainee.department,
                    p.course_id,
                    self.title(p.course_id, lang),
                    latest.record.course_version,
                    len(p.attempts),
                    day(latest.started_at, self.zone),
                    latest.score,
                    p.best_score,
                    yes_no(p.passed, lang),
                    p.cert.valid_until if p.cert else None,
                    status_text(p.status, lang),
                )
            )
        return Table("trainees", SHEET_NAMES["trainees"][lang], TRAINEE_COLUMNS, rows, lang, bilingual)

    def attempt_table(self, lang: str = "en", *, bilingual: bool = False) -> Table:
        rows = []
        outcomes: dict[str, str] = {}
        people = {badge: (t.name, t.plant, t.department) for badge, t in self.trainees.items()}
        titles = {cid: t.get(lang) for cid, t in self.titles.items()}
        words = {True: yes_no(True, lang), False: yes_no(False, lang)}
        zone = self.zone
        for a in self.attempts or ():
            r = a.record
            name, plant, department = people.get(r.badge, _NOBODY)
            critical_codes, minor, serious, critical = a.tally()
            outcome = a.outcome
            shown = outcomes.get(outcome)
            if shown is None:
                shown = outcomes[outcome] = outcome_text(outcome, lang)
            rows.append(
                (
                    r.badge,
                    name,
                    plant,
                    department,
                    r.course_id,
                    titles.get(r.course_id),
                    r.course_version,
                    wall(r.started_at, zone),
                    a.duration,
                    None if r.status is SessionStatus.ABORTED else r.score,  # as Attempt.score, without the call
                    words[bool(r.passed)],
                    shown,
                    critical_codes or None,
                    minor,
                    serious,
                    critical,
                    MODE_TEXT.get(r.mode, {}).get(lang, r.mode),
                    r.id,
                )
            )
        return Table("attempts", SHEET_NAMES["attempts"][lang], ATTEMPT_COLUMNS, rows, lang, bilingual)

    def department_table(self, lang: str = "en", *, bilingual: bool = False) -> Table:
        counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * 6)
        slot = {CertStatus.VALID: 2, CertStatus.EXPIRING: 3, CertStatus.EXPIRED: 4, CertStatus.NEVER: 5}
        for p in self.pairs:
            c = counts[(p.trainee.plant or "", p.trainee.department, p.course_id)]
            c[0] += 1
            c[1] += p.passed
            if p.status is not None:
                c[slot[p.status]] += 1
        rows = [
            (plant or None, dept, course, self.title(course, lang), *c)
            for (plant, dept, course), c in sorted(counts.items())
        ]
        return Table("departments", SHEET_NAMES["departments"][lang], DEPARTMENT_COLUMNS, rows, lang, bilingual)

    def tables(self, lang: str = "en", *, bilingual: bool = False) -> list[Table]:
        """Every table of the workbook, in order (the CSV file holds the first)."""
        made = [self.trainee_table(lang, bilingual=bilingual)]
        if self.attempts is not None:
            made.append(self.attempt_table(lang, bilingual=bilingual))
        made.append(self.department_table(lang, bilingual=bilingual))
        return made

    def about(self, lang: str = "en") -> list[tuple[str, str]]:
        """What the sheet is, as (what, value) lines for its About sheet: when and how it was made, from what."""
        k = {key: words[lang] for key, words in _ABOUT_KEYS.items()}
        everyone = _ALL[lang]
        scorers = "; ".join(f"{name}: {n}" for name, n in sorted(self.scorers.items())) or "–"
        played: dict[str, set[str]] = defaultdict(set)
        for p in self.pairs:
            played[p.course_id].update(a.record.course_version for a in p.attempts)
        courses = "\n".join(
            f"{cid} · {self.title(cid, lang) or '?'} · "
            + (f"{'当前版本' if lang == 'zh' else 'loaded'} {self.versions[cid]}" if cid in self.versions else "?")
            + f" · {'考核所用版本' if lang == 'zh' else 'played'} {', '.join(sorted(vs))}"
            for cid, vs in sorted(played.items())
        )
        sheets = ", ".join(SHEET_NAMES[t][lang] for t in SHEET_NAMES if t != "attempts" or self.attempts is not None)
        return [
            (ABOUT_TITLE[lang], ""),
            (k["generated"], wall(self.generated_at, self.zone).strftime("%Y-%m-%d %H:%M")),
            (k["today"], self.today.isoformat()),
            (k["period"], self.period.describe(lang)),
            (k["department"], self.department if self.department is not None else everyone),
            (k["course"], self.course_id if self.course_id is not None else everyone),
            (k["zone"], zone_name(self.zone)),
            (k["version"], __version__),
            (k["scorer"], scorers),
            (k["courses"], courses or "–"),
            (k["sheets"], sheets),
        ]


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
    zone: tzinfo | None = None,
) -> ScoreSheet:
    """Read the store once and build the score sheet. `with_attempts=False` skips reading events (the CSV needs none).
    `zone`: the time zone its dates are in; the database's (sitetime.site_zone) when not given.

    Raises UsageError for a course or department nobody knows, so a typo is not mistaken for "nobody trained".
    """
    zone = zone or period.zone or site_zone(store)
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
        zone=zone,
        course_id=course_id,
    )


_NOBODY = ("", None, "")  # name, plant and department of a badge no longer registered
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
    zone: tzinfo,
    course_id: str | None = None,
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
    for (badge, cid), mine in grouped.items():
        course = library.get(cid)
        cert = certification(history[(badge, cid)], course.certification_days, today, zone=zone) if course else None
        pairs.append(TraineeCourse(trainees[badge], cid, tuple(mine), cert))
    pairs.sort(key=lambda p: (p.trainee.plant or "", p.trainee.department, p.trainee.badge, p.course_id))
    scorers: dict[str, int] = defaultdict(int)
    if events is not None:
        for r in chosen:
            kept = (facts or {}).get(r.id)
            scorers[kept.scorer if kept is not None and kept.scorer else _NEVER_SCORED] += 1
    return ScoreSheet(
        period=period,
        today=today,
        pairs=tuple(pairs),
        attempts=tuple(attempts) if events is not None else None,
        trainees=trainees,
        zone=zone,
        titles={cid: c.title for cid, c in library.courses.items()},
        versions={cid: c.version for cid, c in library.courses.items()},
        scorers=dict(scorers),
        department=department,
        course_id=course_id,
    )
