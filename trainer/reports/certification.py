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
