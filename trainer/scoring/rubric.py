"""The rubric: score = 100 minus a fixed penalty per mistake severity; the course's pass rule decides.

It is the fallback when no trained model is installed, and the baseline a model must beat. `score_graded` applies the
same penalties and pass rule to severities a model predicted, so both ways of grading end in the same SessionScore.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trainer.course.model import Course, MistakeSeverity, Outcome
from trainer.scoring.detect import DetectedMistake

PENALTY = {MistakeSeverity.MINOR: 5.0, MistakeSeverity.SERIOUS: 15.0, MistakeSeverity.CRITICAL: 40.0}
RUBRIC = "rubric"
_SEVERITIES = {s.value: s for s in MistakeSeverity}


@dataclass(frozen=True)
class Deduction:
    mistake: DetectedMistake
    severity: MistakeSeverity
    points: float
    confidence: float = 1.0  # the model's probability of `severity`; 1.0 for the rubric
    review: bool = False  # an instructor should review this grade (low confidence, or a course the model never saw)


@dataclass(frozen=True)
class SessionScore:
    score: float
    passed: bool
    deductions: tuple[Deduction, ...]
    reason: str  # why it passed or failed, in plain words
    scorer: str = RUBRIC  # "rubric", or "model <first 12 hex of the model file's SHA-256>"
    cleared: tuple[Deduction, ...] = ()  # mistakes the model graded "none": no points, shown for review
    note: str = ""  # e.g. why the rubric was used although a model is installed

    @property
    def review(self) -> bool:
        """Whether any grade in this score is flagged for an instructor's review."""
        return any(d.review for d in self.deductions + self.cleared)


def score_session(course: Course, mistakes: Sequence[DetectedMistake], outcome: Outcome | None) -> SessionScore:
    """The rubric's score: every mistake at its declared severity."""
    deductions = tuple(Deduction(m, m.severity, PENALTY[m.severity]) for m in mistakes)
    return _decide(course, deductions, outcome, scorer=RUBRIC)


def score_graded(
    course: Course,
    graded: Sequence[tuple[DetectedMistake, str, float, bool]],
    outcome: Outcome | None,
    *,
    scorer: str,
    note: str = "",
) -> SessionScore:
    """The score for mistakes graded elsewhere: (mistake, grade none..critical, confidence, review flag) each."""
    deductions, cleared = [], []
    for m, grade, confidence, review in graded:
        if grade == "none":
            cleared.append(Deduction(m, m.severity, 0.0, confidence, review))
        else:
            severity = _SEVERITIES.get(grade) or MistakeSeverity(grade)  # (the call raises for a bad grade)
            deductions.append(Deduction(m, severity, PENALTY[severity], confidence, review))
    return _decide(course, tuple(deductions), outcome, scorer=scorer, cleared=tuple(cleared), note=note)


def _decide(
    course: Course,
    deductions: tuple[Deduction, ...],
    outcome: Outcome | None,
    *,
    scorer: str,
    cleared: tuple[Deduction, ...] = (),
    note: str = "",
) -> SessionScore:
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
    return SessionScore(score, passed, deductions, reason, scorer, cleared, note)
