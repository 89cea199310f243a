"""Who must train or retrain soon: certifications that end within a number of days, or have already ended, and
required courses never passed whose first deadline falls within those days or has passed; for HR to schedule.

Pure: `build()` takes session records, trainees, the course library and the requirements; `load()` reads the store.
Status and dates come from trainer.reports.certification (the one rule) and, for a required course not yet passed, its first
deadline from trainer.reports.compliance; a course no longer in the library has no known validity and is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo

from trainer.course.library import Library
from trainer.course.model import Text
from trainer.reports import compliance
from trainer.reports.certification import CertStatus, passes_of
from trainer.sitetime import site_zone
from trainer.store.records import Requirement, SessionRecord, Trainee
from trainer.store.store import Store

DEFAULT_WITHIN = 30


@dataclass(frozen=True)
class Due:
    trainee: Trainee
    course_id: str
    title: Text
    # expiring or expired (or valid, when --within reaches past the 30-day warning); never: required, never passed
    status: CertStatus
    passed_on: date | None  # None: never passed
    valid_until: date  # the last valid day; for a required course never passed, its first deadline
    days_left: int  # from today to valid_until; negative once expired or overdue


def build(
    records: Iterable[SessionRecord],
    trainees: Mapping[str, Trainee],
    library: Library,
    *,
    today: date,
    within: int = DEFAULT_WITHIN,
    department: str | None = None,
    course_id: str | None = None,
    zone: tzinfo,
    requirements: Sequence[Requirement] = (),
) -> list[Due]:
    """Every trainee and course whose certification ends within `within` days of today or has ended, and every
    required course never passed whose first deadline is within `within` days or past; soonest first."""
    passes = passes_of(r for r in records if course_id is None or r.course_id == course_id)
    out = []
    for badge, cid in passes.passed():
        trainee, course = trainees.get(badge), library.get(cid)
        if trainee is None or course is None or (department is not None and trainee.department != department):
            continue
        cert = passes.certification(badge, cid, course.certification_days, today, zone=zone)
        if cert.valid_until is None or cert.passed_on is None:
            continue
        days_left = (cert.valid_until - today).days
        if days_left <= within:
            out.append(Due(trainee, cid, course.title, cert.status, cert.passed_on, cert.valid_until, days_left))
    for trainee in trainees.values():
        if department is not None and trainee.department != department:
            continue
        for cid in sorted({r.course_id for r in requirements if course_id is None or r.course_id == course_id}):
            course = library.get(cid)
            rules = [r for r in requirements if r.course_id == cid and r.applies_to(trainee)]
            if course is None or not rules:
                continue
            cell = compliance.status(
                trainee, rules, passes.sessions(trainee.badge, cid), course.certification_days, today, zone
            )
            if cell.cell in (compliance.Cell.IN_PROGRESS, compliance.Cell.NEVER_STARTED) and cell.due is not None:
                days_left = (cell.due - today).days
                if days_left <= within:
                    out.append(Due(trainee, cid, course.title, CertStatus.NEVER, None, cell.due, days_left))
    out.sort(key=lambda d: (d.valid_until, d.trainee.department, d.trainee.badge, d.course_id))
    return out


def load(
    store: Store,
    library: Library,
    *,
    today: date,
    within: int = DEFAULT_WITHIN,
    department: str | None = None,
    course_id: str | None = None,
    zone: tzinfo | None = None,
) -> list[Due]:
    """`zone`: the site's time zone the pass days are counted in; the database's when not given."""
    trainees = {t.badge: t for t in store.trainees()}
    return build(
        (r for r, _ in store.stream_sessions_with_facts(course_id, facts=False)),  # streamed: memory flat
        trainees,
        library,
        today=today,
        within=within,
        department=department,
        course_id=course_id,
        zone=zone or site_zone(store),
        requirements=store.requirements(),
    )
