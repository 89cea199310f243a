"""One trainee's record: every attempt, the trend of their scores, and the certification status of each course.

Pure: `build()` takes the trainee's session records, their events and the course library; `load()` reads the store.
Courses listed: every course in the library (a course never attempted is "not started"; one attempted and never passed
is "never passed") and any course the trainee attempted that is no longer in the library (its certification then is
unknown). Voids, relabels and rescorings with
another model of the trainee's sessions are listed from the audit trail (changes.py), with who did them and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, tzinfo

from trainer.course.library import Library
from trainer.course.model import Text
from trainer.engine.events import Event
from trainer.errors import UsageError
from trainer.reports.attempts import Attempt, attempt, is_attempt
from trainer.reports.certification import Certification, certification
from trainer.reports.changes import MARKED, Change, changes
from trainer.sitetime import site_zone
from trainer.store.audit import AuditRecord
from trainer.store.records import SessionRecord, Trainee
from trainer.store.store import Store

NOT_STARTED = "not_started"


@dataclass(frozen=True)
class CourseStanding:
    course_id: str
    title: Text
    attempts: tuple[Attempt, ...]  # oldest first
    cert: Certification | None  # None: the course is not loaded, so its validity period is unknown

    @property
    def status(self) -> str:
        """valid, expiring, expired, never (attempted, never passed), not_started (no attempt yet) or unknown (the
        course is not loaded)."""
        if not self.attempts and (self.cert is None or self.cert.passed_on is None):
            return NOT_STARTED
        return str(self.cert.status) if self.cert else "unknown"

    @property
    def scores(self) -> tuple[float, ...]:
        return tuple(a.score for a in self.attempts if a.score is not None)

    @property
    def best(self) -> float | None:
        return max(self.scores) if self.scores else None

    @property
    def change(self) -> float | None:
        """Latest score minus the first: the trend in one number (None with fewer than two scores)."""
        s = self.scores
        return s[-1] - s[0] if len(s) >= 2 else None


@dataclass(frozen=True)
class TraineeReport:
    trainee: Trainee
    today: date
    attempts: tuple[Attempt, ...]  # newest first, every course
    courses: tuple[CourseStanding, ...]  # by course id
    changes: tuple[Change, ...] = ()  # voids, relabels, rescorings with another model: who, when, why
    zone: tzinfo = field(kw_only=True)  # the site's time zone its dates and times are shown in


def build(
    trainee: Trainee,
    records: Iterable[SessionRecord],
    events: Mapping[str, Sequence[Event]],
    library: Library,
    *,
    today: date,
    trail: Sequence[AuditRecord] = (),
    graded: Mapping[str, str] | None = None,
    zone: tzinfo,
) -> TraineeReport:
    """`graded`: each session's stored graded list (Store.graded_lists), whose grades its mistakes are counted at."""
    mine = [r for r in records if r.badge == trainee.badge]
    done = sorted((r for r in mine if is_attempt(r)), key=lambda r: (r.started_at, r.id))
    attempts = [attempt(r, events.get(r.id), library.get(r.course_id), (graded or {}).get(r.id)) for r in done]
    course_ids = sorted(set(library.courses) | {r.course_id for r in mine})
    standings = []
    for cid in course_ids:
        course = library.get(cid)
        history = [r for r in mine if r.course_id == cid]
        standings.append(
            CourseStanding(
                cid,
                course.title if course else Text(zh=cid, en=cid),
                tuple(a for a in attempts if a.record.course_id == cid),
                certification(history, course.certification_days, today, zone=zone) if course else None,
            )
        )
    return TraineeReport(trainee, today, tuple(reversed(attempts)), tuple(standings), changes(mine, trail), zone=zone)


def load(store: Store, badge: str, library: Library, *, today: date, zone: tzinfo | None = None) -> TraineeReport:
    """`zone`: the site's time zone the pass days are counted in; the database's when not given."""
    trainee = store.get_trainee(badge)
    if trainee is None:
        raise UsageError(
            f"no trainee with badge {badge.strip()!r}; check the badge id (trainer sessions list shows them)"
        )
    records = store.sessions(badge=trainee.badge)
    ids = [r.id for r in records if is_attempt(r)]
    events = dict(store.events_of(ids))
    trail = store.audit_of([r.id for r in records], MARKED)
    return build(
        trainee,
        records,
        events,
        library,
        today=today,
        trail=trail,
        graded=store.graded_lists(ids),
        zone=zone or site_zone(store),
    )
