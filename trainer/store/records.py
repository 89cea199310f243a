"""Rows the store hands out. Plain frozen dataclasses so callers (CLI, app, exports) never touch SQLAlchemy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from trainer.course.model import MistakeSeverity
from trainer.engine.events import Event


class SessionStatus(StrEnum):
    IN_PROGRESS = "in_progress"  # being played now (its owner process is alive)
    INTERRUPTED = "interrupted"  # in progress, but its owner is gone: can be resumed or voided
    COMPLETED = "completed"
    FAILED = "failed"
    ABORTED = "aborted"
    VOIDED = "voided"  # set aside by an instructor, with a reason


@dataclass(frozen=True)
class Trainee:
    badge: str
    name: str
    department: str
    created_at: datetime
    # From HR's roster (schema version 5, docs/hr.md); None for a trainee who only signed in.
    role: str | None = None
    plant: str | None = None
    hire_date: date | None = None
    merged_into: str | None = None  # a duplicate badge merged into this one (its sessions count as that trainee's)


@dataclass(frozen=True)
class RosterEntry:
    """One trainee as HR's roster lists them (`trainer trainees import`, docs/hr.md): every field already checked
    (trainer.people); role, plant and hire date may be unknown."""

    badge: str
    name: str
    department: str
    role: str | None = None
    plant: str | None = None
    hire_date: date | None = None


@dataclass(frozen=True)
class Requirement:
    """A course a department and/or role must hold ("" for either: any), and the days a newcomer has for the first
    pass. `since`: the day it was first loaded (the store sets it; staff hired before count their days from it)."""

    department: str
    role: str
    course_id: str
    first_days: int
    since: date | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.department, self.role, self.course_id)

    def applies_to(self, trainee: Trainee) -> bool:
        return (not self.department or self.department == trainee.department) and (
            not self.role or self.role == (trainee.role or "")
        )


@dataclass(frozen=True)
class SessionRecord:
    id: str  # UUID4 text; also the xAPI registration
    badge: str
    course_id: str
    course_version: str
    content_hash: str
    seed: int
    lang: str
    status: SessionStatus
    started_at: datetime  # UTC, timezone-aware
    ended_at: datetime | None
    outcome: str | None  # completed, incident, aborted
    score: float | None
    passed: bool | None
    event_count: int
    void_reason: str | None = None
    mode: str = "exam"  # practice | exam: only an exam certifies (sessions before modes are exams)


@dataclass(frozen=True)
class FinishedSession:
    """A completed, failed or aborted session as rescoring needs it (Store.finished_sessions): the course content it was
    played on and its current score."""

    id: str
    course_id: str
    course_version: str
    content_hash: str
    status: SessionStatus
    score: float | None
    passed: bool | None


@dataclass(frozen=True)
class StoredFeatures:
    """What Store.stored_features found for some sessions: the features text (trainer.scoring.features.stored) of each
    session whose row applies (the feature set asked for, and its hash matches), by session id, with the course content
    hash it was detected with; and the sessions whose row no longer matches its hash (edited by plain SQL: not used,
    not replaced, reported by verify)."""

    found: Mapping[str, tuple[str, str]]  # session id -> (content_hash, mistakes text)
    altered: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StoredEvent:
    """An engine event as committed: with its session, wall-clock time and place in the hash chain."""

    session_id: str
    event: Event
    utc: datetime  # timezone-aware UTC
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainProblem:
    """One finding of `trainer sessions verify`: what does not match the record's hashes, and where.

    A session's broken event chain names the first bad sequence number (`seq`); a field of a row that does not match
    the chain or the ledger names that field (`field`, e.g. "sessions.badge", seq 0). Findings about a trainee or the
    ledger itself have no session: `subject` says what they are about ("trainee B1", "ledger").
    """

    session_id: str
    seq: int
    reason: str
    field: str = ""
    subject: str = ""

    def line(self) -> str:
        """The finding as `trainer sessions verify` prints it."""
        where = f"session {self.session_id}" if self.session_id else self.subject
        if self.field:
            return f"{where}: {self.reason}"
        return f"{where}: event {self.seq}: {self.reason}"


@dataclass(frozen=True)
class Verification:
    """What Store.verification() found: the findings, and what it could not check."""

    problems: tuple[ChainProblem, ...]
    checked: int  # sessions checked
    legacy: int  # sessions recorded before schema version 4: their events are chained, not their identity or scores
    keying: str  # meta['chain']: "sha256", or "hmac-sha256 KEYID"
    authenticated: bool  # False: a keyed database verified without its key (links and fields only, no hash recomputed)
    ledger_entries: int
    ledger_head: str  # the hash of the ledger's last entry: note it outside the database to detect a later rollback


@dataclass(frozen=True)
class LabelRecord:
    """An instructor's severity (none, minor, serious, critical) for one detected mistake of a session."""

    session_id: str
    mistake_id: str
    labeller: str
    severity: str
    labelled_at: datetime


@dataclass(frozen=True)
class ScoreRecord:
    """One scoring of a session (at its end, or a later rescoring): the scores table keeps them all."""

    id: int
    session_id: str
    scored_at: datetime
    scorer: str  # "rubric" or "model <sha256 prefix>"
    score: float
    passed: bool
    reason: str
    review: bool
    details: str  # canonical JSON list of the deductions


@dataclass(frozen=True)
class MistakeMade:
    """One mistake as a scoring kept it: its code and its graded severity (not the one the course declares)."""

    code: str
    severity: MistakeSeverity
    mistake: str = ""  # the detected mistake's id


@dataclass(frozen=True)
class AttemptFacts:
    """What a score sheet needs of a session without reading its events (Store.sessions_with_facts)."""

    session_id: str
    last_t_ms: int | None  # the last event's time since the start; None when there is no event
    mistakes: tuple[MistakeMade, ...] | None  # of the latest scoring, in the order made; None: never scored
    scorer: str | None = None  # of the latest scoring: "rubric" or "model <sha256 prefix>"; None: never scored


class PinResult(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    WAIT = "wait"  # too soon after wrong ones: not tried
    NO_PIN = "no_pin"  # the trainee has none (yet)


@dataclass(frozen=True)
class PinAttempt:
    """What came of typing a PIN (Store.try_pin)."""

    result: PinResult
    wait_ms: int = 0  # WRONG, WAIT: how long before the next PIN is tried
