"""The instructor's report on one course: how a class does, which mistakes it makes, and where in the course.

Pure: `build()` takes session records, their events and the course; `load()` reads them from the store. Rendered by
`trainer report course` (rich tables), html_report.py (one HTML page) and the terminal app's reports screen.

- attempts, passes, pass rate, mean and median score: every attempt in the period (see attempts.py; aborted attempts
  have no score, so they count in the pass rate but not in the scores);
- mistakes, the heat map and time per state: the attempts played on the loaded version of the course (same content
  hash), because mistakes are found by reading the events against that exact course;
- the pass rate over time: by ISO week when the attempts span 13 weeks or less, else by month (the site's dates);
- what instructors changed: the voids, relabels and rescorings with another model of the period's sessions, from the
  audit trail (changes.py), with who did it and why.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo

from trainer.course.model import Course, MistakeSeverity, Text
from trainer.engine.events import TERMINAL_KINDS, Event, EventKind
from trainer.reports.attempts import SEVERITIES, Attempt, attempt, is_attempt, played_on, read_from_events
from trainer.reports.changes import MARKED, Change, changes
from trainer.reports.period import ALL_DATES, Period
from trainer.sitetime import day as site_day
from trainer.sitetime import site_zone
from trainer.store.audit import AuditRecord
from trainer.store.records import SessionRecord
from trainer.store.store import Store

WEEKLY_UP_TO_DAYS = 13 * 7


@dataclass(frozen=True)
class MistakeCount:
    code: str
    severity: MistakeSeverity
    count: int  # times made
    attempts: int  # attempts it was made in
    rule: Text


@dataclass(frozen=True)
class StateRow:
    state: str
    title: Text  # the state's text, for a reader who does not know the ids
    mistakes: tuple[int, int, int]  # minor, serious, critical made in this state
    visited: int  # analysed attempts that entered the state
    median_ms: float | None  # median time spent in it per attempt that entered it (None: never entered)

    @property
    def total(self) -> int:
        return sum(self.mistakes)


@dataclass(frozen=True)
class Bucket:
    label: str  # 2026-W45 or 2026-11
    start: date
    attempts: int
    passed: int

    @property
    def pass_rate(self) -> float:
        return self.passed / self.attempts if self.attempts else 0.0


@dataclass(frozen=True)
class CourseReport:
    course_id: str
    title: Text
    version: str | None  # the loaded version; None when the course is not loaded
    period: Period
    attempts: int
    passed: int
    scores: tuple[float, ...]  # of the scored attempts, oldest first
    analysed: int  # attempts read against the loaded version
    mistakes: tuple[MistakeCount, ...]  # most common first
    states: tuple[StateRow, ...]  # in the course's order
    trend: tuple[Bucket, ...]
    trend_unit: str  # week or month
    changes: tuple[Change, ...] = ()  # voids, relabels, rescorings with another model: who, when, why
    zone: tzinfo = field(kw_only=True)  # the site's time zone its dates and times are shown in

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.attempts if self.attempts else None

    @property
    def mean_score(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def median_score(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None

    def score_bins(self, width: int = 10) -> list[int]:
        """How many scores fall in 0-9, 10-19, ... 90-100 (100 counts in the last bin)."""
        bins = [0] * (100 // width)
        for s in self.scores:
            bins[min(int(s // width), len(bins) - 1)] += 1
        return bins


def time_in_states(events: Sequence[Event]) -> dict[str, int]:
    """Milliseconds spent in each state entered, visits added up; a visit ends when the next state is entered or the
    session ends. Interruptions are not counted (event times exclude them)."""
    spent: dict[str, int] = defaultdict(int)
    current: str | None = None
    since = 0
    for e in events:
        if e.kind is EventKind.VIEWED or e.kind in TERMINAL_KINDS:
            if current is not None:
                spent[current] += e.t_ms - since
            current, since = (e.state, e.t_ms) if e.kind is EventKind.VIEWED else (None, e.t_ms)
    return dict(spent)


def build(
    course_id: str,
    course: Course | None,
    records: Iterable[SessionRecord],
    events: Mapping[str, Sequence[Event]],
    *,
    period: Period = ALL_DATES,
    trail: Sequence[AuditRecord] = (),
    graded: Mapping[str, str] | None = None,
    zone: tzinfo,
) -> CourseReport:
    """The report from the course's session records and the events of those played on the loaded version, the audit
    rows about them (`trail`) and each session's stored graded list (`graded`: Store.graded_lists), whose grades the
    mistakes are counted at."""
    mine = [r for r in records if r.course_id == course_id and period.contains(r.started_at)]
    chosen = sorted(
        (r for r in records if r.course_id == course_id and is_attempt(r) and period.contains(r.started_at)),
        key=lambda r: (r.started_at, r.id),
    )
    attempts = [attempt(r, events.get(r.id), course, (graded or {}).get(r.id)) for r in chosen]
    analysed = [a for a in attempts if a.mistakes is not None]

    made: Counter[tuple[str, MistakeSeverity]] = Counter()
    in_attempts: Counter[tuple[str, MistakeSeverity]] = Counter()
    where: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    sev_index = {s: i for i, s in enumerate(SEVERITIES)}
    rules: dict[tuple[str, MistakeSeverity], Text] = {}
    for a in analysed:
        seen = set()
        for m in a.mistakes if read_from_events(a.mistakes) else ():  # all of them: attempt() read them above
            key = (m.code, m.severity)
            made[key] += 1
            seen.add(key)
            rules.setdefault(key, m.rule)
            where[m.state][sev_index[m.severity]] += 1
        in_attempts.update(seen)
    mistakes = tuple(
        MistakeCount(code, sev, n, in_attempts[(code, sev)], rules[(code, sev)])
        for (code, sev), n in sorted(made.items(), key=lambda kv: (-kv[1], -sev_index[kv[0][1]], kv[0][0]))
    )

    states: list[StateRow] = []
    if course is not None:
        times: dict[str, list[int]] = defaultdict(list)
        for a in analysed:
            for state, ms in time_in_states(events[a.record.id]).items():
                times[state].append(ms)
        for sid, node in course.states.items():
            if node.terminal and not where.get(sid):
                continue  # an end screen: no time is spent there and nothing can go wrong
            spent = times.get(sid, [])
            made_here = where.get(sid, [0, 0, 0])
            states.append(
                StateRow(
                    sid,
                    node.text,
                    (made_here[0], made_here[1], made_here[2]),
                    len(spent),
                    statistics.median(spent) if spent else None,
                )
            )

    trend, unit = _trend(attempts, zone)
    return CourseReport(
        course_id=course_id,
        title=course.title if course else Text(zh=course_id, en=course_id),
        version=course.version if course else None,
        period=period,
        attempts=len(attempts),
        passed=sum(a.passed for a in attempts),
        scores=tuple(a.score for a in attempts if a.score is not None),
        analysed=len(analysed),
        mistakes=mistakes,
        states=tuple(states),
        trend=trend,
        trend_unit=unit,
        changes=changes(mine, trail),
        zone=zone,
    )


def _trend(attempts: Sequence[Attempt], zone: tzinfo) -> tuple[tuple[Bucket, ...], str]:
    if not attempts:
        return (), "week"
    days = [site_day(a.started_at, zone) for a in attempts]
    weekly = (max(days) - min(days)).days <= WEEKLY_UP_TO_DAYS
    counts: dict[date, list[int]] = {}
    for day, a in zip(days, attempts, strict=True):
        start = day - timedelta(days=day.weekday()) if weekly else day.replace(day=1)
        c = counts.setdefault(start, [0, 0])
        c[0] += 1
        c[1] += a.passed
    buckets = []
    for start in sorted(counts):
        if weekly:
            year, week, _ = start.isocalendar()
            label = f"{year}-W{week:02d}"
        else:
            label = f"{start.year}-{start.month:02d}"
        buckets.append(Bucket(label, start, counts[start][0], counts[start][1]))
    return tuple(buckets), "week" if weekly else "month"


def load(
    store: Store, course_id: str, course: Course | None, *, period: Period = ALL_DATES, zone: tzinfo | None = None
) -> CourseReport:
    """Read the course's sessions (and the events of those played on `course`) and build the report; `zone`: the
    site's time zone its weeks and months are in (the period's, else the database's)."""
    records = [r for r in store.sessions(course_id=course_id, since=period.start) if period.contains(r.started_at)]
    wanted = [r.id for r in records if is_attempt(r) and played_on(course, r) is not None]
    events = dict(store.events_of(wanted))
    trail = store.audit_of([r.id for r in records], MARKED)
    return build(
        course_id,
        course,
        records,
        events,
        period=period,
        trail=trail,
        graded=store.graded_lists(wanted),
        zone=zone or period.zone or site_zone(store),
    )
