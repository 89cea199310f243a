"""An attempt: one finished session as the score sheets and reports count it. Pure: records and events in.

- Only finished sessions are attempts (completed, failed or aborted). Voided sessions are set aside by an instructor and
  sessions still in progress or interrupted may yet go on, so neither is counted.
- An attempt's score is the stored score, except for aborted sessions: the trainee walked away, so there is no score.
- Its mistakes are those of the session's graded list (trainer/scoring/judgement.py): the latest scoring kept them, each
  at its graded severity, with the score. Mistakes graded "none" (cleared by the model, or consequences folded under a
  root mistake) are not counted. Reports that need a mistake's state and rule detect them again from the events and take
  each one's grade from that list; a session never scored is graded by the rubric then. When the exact version (same
  content hash) is no longer in the library and no scoring kept them, the mistakes are unknown (None), never guessed from
  another version.
- Its duration is the active time: the last event's time since the start, interruptions not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeGuard

from trainer.course.model import Course, MistakeSeverity, Text
from trainer.engine.events import Event
from trainer.scoring.detect import detect
from trainer.scoring.judgement import SEVERITIES, read
from trainer.store.records import AttemptFacts, MistakeMade, SessionRecord, SessionStatus

FINISHED = frozenset({SessionStatus.COMPLETED, SessionStatus.FAILED, SessionStatus.ABORTED})
__all__ = ["SEVERITIES", "Attempt", "GradedMistake", "attempt", "attempt_from_facts", "graded_by_id", "is_attempt"]


@dataclass(frozen=True)
class GradedMistake:
    """A mistake read from the events, at its grade in the session's graded list."""

    code: str
    severity: MistakeSeverity  # the grade, not the declared severity
    state: str
    rule: Text
    id: str = ""


def graded_by_id(details: str | None) -> dict[str, str] | None:
    """mistake id -> grade (none, minor, serious, critical) of a stored graded list; None for no list."""
    if details is None:
        return None
    return {j.mistake: j.severity for j in read(details)}


def is_attempt(record: SessionRecord) -> bool:
    return record.status in FINISHED


@dataclass(frozen=True)
class Attempt:
    record: SessionRecord
    duration: timedelta | None  # None when the events were not read
    # GradedMistake when read from the events (reports need their state and rule), MistakeMade from a stored scoring;
    # each at its graded severity. None: unknown (the course version it was played on is not loaded, and no scoring kept
    # them)
    mistakes: tuple[GradedMistake, ...] | tuple[MistakeMade, ...] | None

    @property
    def started_at(self) -> datetime:
        return self.record.started_at

    @property
    def outcome(self) -> str:
        return self.record.outcome or str(self.record.status)

    @property
    def passed(self) -> bool:
        return bool(self.record.passed)

    @property
    def result(self) -> str:
        """passed, failed or aborted: what the attempt came to. A session completed below the pass mark (outcome
        "completed") or ended by an incident failed; `outcome` says how it ended."""
        if self.passed:
            return "passed"
        return "aborted" if self.record.status is SessionStatus.ABORTED else "failed"

    @property
    def score(self) -> float | None:
        if self.record.status is SessionStatus.ABORTED:
            return None
        return self.record.score

    def count(self, severity: MistakeSeverity) -> int | None:
        if self.mistakes is None:
            return None
        return sum(1 for m in self.mistakes if m.severity is severity)

    def tally(self) -> tuple[str | None, int | None, int | None, int | None]:
        """(critical codes, minor, serious, critical counts) in one pass, for the score sheet's attempt rows."""
        if self.mistakes is None:
            return None, None, None, None
        counts = dict.fromkeys(SEVERITIES, 0)
        critical = []
        for m in self.mistakes:
            counts[m.severity] += 1
            if m.severity is MistakeSeverity.CRITICAL:
                critical.append(m.code)
        minor, serious = counts[MistakeSeverity.MINOR], counts[MistakeSeverity.SERIOUS]
        return ", ".join(critical), minor, serious, counts[MistakeSeverity.CRITICAL]

    def codes(self, severity: MistakeSeverity) -> str | None:
        """The codes of the mistakes of one severity, in the order made, comma-separated ('' for none)."""
        if self.mistakes is None:
            return None
        return ", ".join(m.code for m in self.mistakes if m.severity is severity)


def read_from_events(
    mistakes: tuple[GradedMistake, ...] | tuple[MistakeMade, ...] | None,
) -> TypeGuard[tuple[GradedMistake, ...]]:
    """Whether an attempt's mistakes were read from its events (attempt()), each with its state and rule."""
    return mistakes is not None and all(isinstance(m, GradedMistake) for m in mistakes)


def played_on(course: Course | None, record: SessionRecord) -> Course | None:
    """The course as loaded, if it is the exact version (content) the session was played on."""
    if course is None or course.content_hash != record.content_hash:
        return None
    return course


def attempt(
    record: SessionRecord, events: Sequence[Event] | None, course: Course | None, graded: str | None = None
) -> Attempt:
    """Summarise a finished session; `events` None skips what needs them (duration, mistakes). `graded`: the session's
    stored graded list (Store.graded_lists), whose grades its mistakes take; without one (never scored), the rubric's."""
    if events is None:
        return Attempt(record, None, None)
    duration = timedelta(milliseconds=events[-1].t_ms) if events else timedelta(0)
    exact = played_on(course, record)
    if exact is None:
        return Attempt(record, duration, None)
    grades = graded_by_id(graded)
    mistakes = []
    for m in detect(exact, events):
        grade = ("none" if m.under else str(m.severity)) if grades is None else grades.get(m.id, "none")
        if grade != "none":
            mistakes.append(GradedMistake(m.code, MistakeSeverity(grade), m.state, m.rule, m.id))
    return Attempt(record, duration, tuple(mistakes))


def attempt_from_facts(record: SessionRecord, facts: AttemptFacts) -> Attempt | None:
    """Summarise a finished session from what its latest scoring kept; None when it was never scored (read its events)."""
    if facts.mistakes is None:
        return None
    return Attempt(record, _MILLISECOND * (facts.last_t_ms or 0), facts.mistakes)


_MILLISECOND = timedelta(milliseconds=1)  # multiplied, not built from keywords: a sheet makes 100 000 of them
