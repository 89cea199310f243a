"""The rubric: score = 100 minus a fixed penalty per mistake severity; the course's pass rule decides.

It is the fallback when no trained model is installed, and the baseline a model must beat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trainer.course.model import Course, MistakeSeverity, Outcome
from trainer.scoring.detect import DetectedMistake

PENALTY = {MistakeSeverity.MINOR: 5.0, MistakeSeverity.SERIOUS: 15.0, MistakeSeverity.CRITICAL: 40.0}


@dataclass(frozen=True)
class Deduction:
    mistake: DetectedMistake
    severity: MistakeSeverity
    points: float


@dataclass(frozen=True)
class SessionScore:
    score: float
    passed: bool
    deductions: tuple[Deduction, ...]
    reason: str  # why it passed or failed, in plain words


def score_session(course: Course, mistakes: Sequence[DetectedMistake], outcome: Outcome | None) -> SessionScore:
    deductions = tuple(Deduction(m, m.severity, PENALTY[m.severity]) for m in mistakes)
    score = max(0.0, 100.0 - sum(d.points for d in deductions))
    critical = [d for d in deductions if d.severity is MistakeSeverity.CRITICAL]
    rule = course.pass_rule
    if outcome is not Outcome.COMPLETED:
        passed, reason = False, "not completed" if outcome is None else f"ended: {outcome}"
    elif critical and rule.critical_fails:
        passed, reason = False, f"critical mistake {critical[0].mistake.code}"
    elif score < rule.min_score:
        passed, reason = False, f"score {score:g} below {rule.min_score:g}"
    else:
        passed, reason = True, f"score {score:g} of at least {rule.min_score:g}"
    return SessionScore(score, passed, deductions, reason)
