"""Certification status of a trainee on a course: valid until a date, expiring soon, expired, or never passed.

One rule, used by the app's catalog, the reports and the HR exports: a certification is earned by a passed exam (a
practice attempt never certifies, whatever its score; sessions recorded before modes are exams) and is valid for the
course's `certification_days` after the day of that pass (in the site's time zone), up to and including the last day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from enum import StrEnum

from trainer.sitetime import day
from trainer.store.records import SessionRecord, SessionStatus

EXAM = "exam"  # the mode that certifies (trainer/engine/modes.py)

EXPIRING_DAYS = 30


class CertStatus(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"  # valid, but for EXPIRING_DAYS or fewer
    EXPIRED = "expired"
    NEVER = "never"


@dataclass(frozen=True)
class Certification:
    status: CertStatus
    valid_until: date | None  # the last day it is valid
    passed_on: date | None


def certifies(s: SessionRecord) -> bool:
    """Whether the session counts for certification: a passed exam, ended, not voided."""
    return bool(s.passed) and s.mode == EXAM and s.ended_at is not None and s.status is not SessionStatus.VOIDED


def certification(sessions: Iterable[SessionRecord], validity_days: int, today: date, *, zone: tzinfo) -> Certification:
    """As of the site's day `today`, counting the day of each pass in the site's time zone `zone` (sitetime)."""
    passes = [s.ended_at for s in sessions if certifies(s) and s.ended_at is not None]
    if not passes:
        return Certification(CertStatus.NEVER, None, None)
    passed_on = day(max(passes), zone)  # the latest moment falls on the latest day of the site
    valid_until = passed_on + timedelta(days=validity_days)
    if today > valid_until:
        status = CertStatus.EXPIRED
    elif (valid_until - today).days <= EXPIRING_DAYS:
        status = CertStatus.EXPIRING
    else:
        status = CertStatus.VALID
    return Certification(status, valid_until, passed_on)


class Passes:
    """What the certification rule and the compliance cells need of each trainee's sessions of each course, folded as
    the sessions are read: the latest pass that certifies, and one session tried (not voided). A report over 100 000
    sessions keeps one entry per trainee and course instead of every session; certification() over what is kept gives
    what it gives over all of them (it takes the latest pass), and so does "tried it" (any session not voided)."""

    def __init__(self) -> None:
        self._latest: dict[tuple[str, str], SessionRecord] = {}
        self._tried: dict[tuple[str, str], SessionRecord] = {}

    def add(self, s: SessionRecord) -> None:
        key = (s.badge, s.course_id)
        if certifies(s):
            kept = self._latest.get(key)
            if kept is None or (s.ended_at is not None and kept.ended_at is not None and s.ended_at > kept.ended_at):
                self._latest[key] = s
        if s.status is not SessionStatus.VOIDED and key not in self._tried:
            self._tried[key] = s

    def passed(self) -> list[tuple[str, str]]:
        """(badge, course) of every trainee and course with a pass that certifies."""
        return list(self._latest)

    def sessions(self, badge: str, course_id: str) -> tuple[SessionRecord, ...]:
        """The sessions kept of one trainee and course (none, one or two): certification() and compliance.status()
        read them as they would read all of them."""
        key = (badge, course_id)
        kept = [s for s in (self._latest.get(key), self._tried.get(key)) if s is not None]
        return tuple(dict.fromkeys(kept))

    def certification(
        self, badge: str, course_id: str, validity_days: int, today: date, *, zone: tzinfo
    ) -> Certification:
        return certification(self.sessions(badge, course_id), validity_days, today, zone=zone)


def passes_of(sessions: Iterable[SessionRecord]) -> Passes:
    out = Passes()
    for s in sessions:
        out.add(s)
    return out
