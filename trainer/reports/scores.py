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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from operator import attrgetter
from typing import Any

from trainer import __version__
from trainer.course.library import Library
from trainer.course.model import Text
from trainer.errors import UsageError
from trainer.reports.attempts import Attempt, attempt, attempt_from_facts, is_attempt
from trainer.reports.certification import Certification, CertStatus, Passes
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


BADGE = Column("badge", "badge", "工号", "text", 12)
NAME = Column("name", "name", "姓名", "text", 16)
DEPARTMENT = Column("department", "department", "部门", "text", 16)
COURSE = Column("course", "course", "课程", "text", 24)
# Who trained on what: the first columns of the Trainees and Attempts tables.
WHO_ON_WHAT = (
    BADGE,
    NAME,
    Column("plant", "plant", "厂区", "text", 12),
    DEPARTMENT,
    COURSE,
    Column("course_title", "course title", "课程名称", "text", 28),
    Column("version", "version", "版本", "text", 9),
)
TRAINEE_COLUMNS = (
    *WHO_ON_WHAT,
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
    *WHO_ON_WHAT,
    Column("date", "date", "日期时间", "datetime", 20),  # "2026-03-05 10:00:00" whole in LibreOffice and WPS too
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
    COURSE,
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
    """One trainee on one course: what their attempts in the period came to, and the certification from every pass on
    record (kept as a summary: a sheet of 100 000 attempts holds one of these per trainee and course)."""

    trainee: Trainee
    course_id: str
    count: int  # attempts in the period; never 0
    latest: Attempt
    best_score: float | None
    passed: bool  # passed an exam in the period (a practice attempt's score says how it went, not that they passed)
    versions: frozenset[str]  # the course versions the attempts were played on
    cert: Certification | None  # None: the course is not loaded, its validity is unknown

    @property
    def status(self) -> CertStatus | None:
        return self.cert.status if self.cert else None


class _Pair:
    """A TraineeCourse being summed up, attempt after attempt (oldest first)."""

    __slots__ = ("best", "count", "latest", "passed", "versions")

    def __init__(self, first: Attempt) -> None:
        self.count = 0
        self.latest = first
        self.best: float | None = None
        self.passed = False
        self.versions: set[str] = set()

    def add(self, a: Attempt) -> None:
        self.count += 1
        self.latest = a
        score = a.score
        if score is not None and (self.best is None or score > self.best):
            self.best = score
        if a.passed and a.record.mode == "exam":
            self.passed = True
        self.versions.add(a.record.course_version)


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
    attempts: tuple[Attempt, ...] | None  # oldest first; None when not read (CSV) or written as they were read (XLSX)
    trainees: dict[str, Trainee] = field(repr=False)
    zone: tzinfo = field(kw_only=True)  # the site's: dates and times in the tables are its wall times
    titles: Mapping[str, Text] = field(default_factory=dict, kw_only=True)  # course id -> title, loaded courses
    versions: Mapping[str, str] = field(default_factory=dict, kw_only=True)  # course id -> the loaded version
    scorers: Mapping[str, int] = field(default_factory=dict, kw_only=True)  # what scored the attempts, how many each
    department: str | None = field(default=None, kw_only=True)  # the filters the sheet was made with
    course_id: str | None = field(default=None, kw_only=True)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC), kw_only=True)
    attempts_listed: bool = field(default=False, kw_only=True)  # the workbook lists every attempt (its second table)

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
                    p.count,
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
        row = attempt_row(self.trainees, self.titles, self.zone, lang)
        rows = [row(a) for a in self.attempts or ()]
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
            played[p.course_id].update(p.versions)
        courses = "\n".join(
            f"{cid} · {self.title(cid, lang) or '?'} · "
            + (f"{'当前版本' if lang == 'zh' else 'loaded'} {self.versions[cid]}" if cid in self.versions else "?")
            + f" · {'考核所用版本' if lang == 'zh' else 'played'} {', '.join(sorted(vs))}"
            for cid, vs in sorted(played.items())
        )
        listed = self.attempts is not None or self.attempts_listed
        sheets = ", ".join(SHEET_NAMES[t][lang] for t in SHEET_NAMES if t != "attempts" or listed)
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


def attempt_row(
    trainees: Mapping[str, Trainee], titles: Mapping[str, Text], zone: tzinfo, lang: str
) -> Callable[[Attempt], tuple[Any, ...]]:
    """What makes an attempt a row of the Attempts table, in `lang` (the words it uses looked up once)."""
    outcomes: dict[str, str] = {}
    people = {badge: (t.name, t.plant, t.department) for badge, t in trainees.items()}
    named = {cid: t.get(lang) for cid, t in titles.items()}
    words = {True: yes_no(True, lang), False: yes_no(False, lang)}
    modes = {mode: shown[lang] for mode, shown in MODE_TEXT.items()}

    def row(a: Attempt) -> tuple[Any, ...]:
        r = a.record
        name, plant, department = people.get(r.badge, _NOBODY)
        critical_codes, minor, serious, critical = a.tally()
        outcome = a.outcome
        shown = outcomes.get(outcome)
        if shown is None:
            shown = outcomes[outcome] = outcome_text(outcome, lang)
        return (
            r.badge,
            name,
            plant,
            department,
            r.course_id,
            named.get(r.course_id),
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
            modes.get(r.mode, r.mode),
            r.id,
        )

    return row


def table_head(key: str, lang: str = "en", *, bilingual: bool = False) -> Table:
    """A table of the score sheet without its rows: its sheet's name, columns and headers, for a writer that adds the
    sheets before it has the rows."""
    columns = {"trainees": TRAINEE_COLUMNS, "attempts": ATTEMPT_COLUMNS, "departments": DEPARTMENT_COLUMNS}[key]
    return Table(key, SHEET_NAMES[key][lang], columns, (), lang, bilingual)


def _trainees_of(store: Store, department: str | None) -> dict[str, Trainee]:
    """The trainees by badge; UsageError for a department nobody is in, so a typo is not mistaken for "nobody trained"."""
    trainees = {t.badge: t for t in store.trainees()}
    if department is not None and not any(t.department == department for t in trainees.values()):
        known = sorted({t.department for t in trainees.values()})
        raise UsageError(f"no trainee in department {department!r}; departments: {', '.join(known) or 'none yet'}")
    return trainees


def _check_course(course_id: str | None, library: Library, any_session: Callable[[], bool]) -> None:
    if course_id is not None and library.get(course_id) is None and not any_session():
        raise UsageError(f"no course {course_id!r} in the library and no session of it in the database")


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
    """Read the store once and build the score sheet, every attempt held (see Scan for a sheet read as it is written).
    `with_attempts=False` skips reading events (the CSV needs none). `zone`: the time zone its dates are in; the
    database's (sitetime.site_zone) when not given.

    Raises UsageError for a course or department nobody knows, so a typo is not mistaken for "nobody trained".
    """
    zone = zone or period.zone or site_zone(store)
    trainees = _trainees_of(store, department)
    if with_attempts:
        listed = store.sessions_with_facts(course_id, since=period.start, before=period.end)
        records = [r for r, _ in listed]
        facts = {f.session_id: f for _, f in listed if f is not None}
    else:
        records, facts = store.sessions(course_id=course_id, newest_first=False), {}
    _check_course(course_id, library, lambda: bool(records))
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
Events = Callable[[Sequence[str]], Iterable[tuple[str, Sequence[Any]]]]
_CHUNK = 1000  # attempts whose events (if never scored) are read in one query


class _Fold:
    """What the Trainees, Departments and About sheets need, summed up session after session: one entry per trainee
    and course (and per scorer), whatever the number of sessions."""

    def __init__(self, trainees: Mapping[str, Trainee], department: str | None) -> None:
        self.trainees = trainees
        self.department = department
        self.passes = Passes()  # every session of the trainees kept: certification counts every pass on record
        self.pairs: dict[tuple[str, str], _Pair] = {}
        self.scorers: dict[str, int] = defaultdict(int)

    def keeps(self, r: SessionRecord) -> bool:
        """Whether the session is a kept trainee's (registered, of the department asked for); noted if so."""
        t = self.trainees.get(r.badge)
        if t is None or (self.department is not None and t.department != self.department):
            return False
        self.passes.add(r)
        return True

    def attempt(self, a: Attempt, facts: AttemptFacts | None, *, scored: bool) -> None:
        key = (a.record.badge, a.record.course_id)
        pair = self.pairs.get(key)
        if pair is None:
            pair = self.pairs[key] = _Pair(a)
        pair.add(a)
        if scored:
            self.scorers[facts.scorer if facts is not None and facts.scorer else _NEVER_SCORED] += 1

    def sheet(self, library: Library, **given: Any) -> ScoreSheet:
        today, zone = given["today"], given["zone"]
        pairs = []
        for (badge, cid), p in self.pairs.items():
            course = library.get(cid)
            cert = (
                self.passes.certification(badge, cid, course.certification_days, today, zone=zone) if course else None
            )
            pairs.append(
                TraineeCourse(
                    self.trainees[badge], cid, p.count, p.latest, p.best, p.passed, frozenset(p.versions), cert
                )
            )
        pairs.sort(key=lambda p: (p.trainee.plant or "", p.trainee.department, p.trainee.badge, p.course_id))
        return ScoreSheet(
            pairs=tuple(pairs),
            trainees=dict(self.trainees),
            titles={cid: c.title for cid, c in library.courses.items()},
            versions={cid: c.version for cid, c in library.courses.items()},
            scorers=dict(self.scorers),
            department=self.department,
            **given,
        )


def _attempts(
    chosen: Iterable[tuple[SessionRecord, AttemptFacts | None]],
    events: Events,
    library: Library,
    *,
    progress: Progress | None = None,
    total: int = 0,
) -> Iterator[tuple[Attempt, AttemptFacts | None]]:
    """Each chosen session (oldest first) as an attempt, with its facts, in the same order: from what its latest scoring
    kept, or, for the few never scored, from its events (read a chunk of sessions at a time)."""
    done = 0
    if progress:
        progress(0, total)
    batch: list[tuple[SessionRecord, AttemptFacts | None]] = []
    it = iter(chosen)
    while True:
        batch[:] = [pair for _, pair in zip(range(_CHUNK), it, strict=False)]
        if not batch:
            return
        made: dict[str, Attempt] = {}
        for r, kept in batch:
            a = attempt_from_facts(r, kept) if kept is not None else None
            if a is not None:
                made[r.id] = a
        unscored = [r.id for r, _ in batch if r.id not in made]
        if unscored:
            by_id = {r.id: r for r, _ in batch}
            for sid, evs in events(unscored):
                r = by_id[sid]
                made[sid] = attempt(r, evs, library.get(r.course_id))  # never scored: the rubric's grades
        for r, kept in batch:
            yield made[r.id], kept
        done += len(batch)
        if progress:
            progress(done, max(total, done))


def assemble(
    records: Iterable[SessionRecord],
    trainees: dict[str, Trainee],
    library: Library,
    *,
    today: date,
    period: Period = ALL_DATES,
    department: str | None = None,
    events: Events | None = None,
    facts: Mapping[str, AttemptFacts] | None = None,
    progress: Progress | None = None,
    zone: tzinfo,
    course_id: str | None = None,
) -> ScoreSheet:
    """The score sheet from session records (any order) and, if `events` is given, their events (pure but for it).

    With `facts` too (by session id, as Store.sessions_with_facts reads them), an attempt's duration and mistakes come
    from what its latest scoring kept, and only the events of sessions never scored are read: a sheet of 100 000
    attempts then reads no event at all.
    """
    fold = _Fold(trainees, department)
    chosen = [r for r in records if fold.keeps(r) and is_attempt(r) and period.contains(r.started_at)]
    chosen.sort(key=_BY_START)
    kept = facts or {}
    attempts = []
    if events is None:
        for r in chosen:
            attempts.append(a := attempt(r, None, None))
            fold.attempt(a, None, scored=False)
    else:
        with_facts = [(r, kept.get(r.id)) for r in chosen]
        for a, f in _attempts(with_facts, events, library, progress=progress, total=len(chosen)):
            attempts.append(a)
            fold.attempt(a, f, scored=True)
    return fold.sheet(
        library,
        period=period,
        today=today,
        attempts=tuple(attempts) if events is not None else None,
        zone=zone,
        course_id=course_id,
    )


class Scan:
    """The score sheet read as it is written: the attempts come one at a time, oldest first, straight from the database
    (Store.stream_sessions_with_facts), for the writer to put in the Attempts sheet; meanwhile what the other sheets need
    is summed up per trainee and course. Memory stays flat in the number of sessions.

    Iterate attempts() once, to the end; then sheet() is the ScoreSheet of the other tables (its `attempts` None)."""

    def __init__(
        self,
        store: Store,
        library: Library,
        *,
        today: date,
        period: Period = ALL_DATES,
        department: str | None = None,
        course_id: str | None = None,
        zone: tzinfo | None = None,
    ) -> None:
        self.zone = zone or period.zone or site_zone(store)
        self.trainees = _trainees_of(store, department)
        _check_course(course_id, library, lambda: bool(store.sessions(course_id=course_id)))
        self._store, self._library = store, library
        self.today = today
        self._period, self._course_id = period, course_id
        self._fold = _Fold(self.trainees, department)
        self.count = 0
        self._done = False
        self._expected: int | None = None

    def expected(self) -> int:
        """How many finished sessions the period holds (of the course, if one was chosen): the most attempts() can
        yield, and the total its progress shows."""
        if self._expected is None:
            period = self._period
            self._expected = self._store.count_finished(self._course_id, since=period.start, before=period.end)
        return self._expected

    @property
    def forkable(self) -> bool:
        """Whether a process made by fork() can carry the scan on: not for an SQLite database in memory (it lives in
        this process's connection only)."""
        return not self._store.in_memory

    def forget_connections(self, *, close: bool = True) -> None:
        """Store.forget_connections(), for a scan carried on in a process made by fork() (trainer/export/readahead.py):
        the parent calls it before forking, the child (close=False) before it reads."""
        self._store.forget_connections(close=close)

    def attempts(self, progress: Progress | None = None) -> Iterator[Attempt]:
        period, fold = self._period, self._fold
        total = self.expected()
        read = self._store.stream_sessions_with_facts(self._course_id, since=period.start, before=period.end)
        chosen = ((r, f) for r, f in read if fold.keeps(r) and is_attempt(r) and period.contains(r.started_at))
        for a, f in _attempts(chosen, self._store.events_of, self._library, progress=progress, total=total):
            fold.attempt(a, f, scored=True)
            self.count += 1
            yield a
        self._done = True

    def titles(self) -> dict[str, Text]:
        """Course id -> title of the loaded courses (attempt_row() picks `lang`)."""
        return {cid: c.title for cid, c in self._library.courses.items()}

    def sheet(self) -> ScoreSheet:
        if not self._done:
            raise RuntimeError("Scan.sheet() before its attempts were all read")
        return self._fold.sheet(
            self._library,
            attempts=None,
            zone=self.zone,
            attempts_listed=True,
            today=self.today,
            period=self._period,
            course_id=self._course_id,
        )
