"""The rubric: score = 100 minus a fixed penalty per mistake severity; the course's pass rule decides.

It is the fallback when no trained model is installed, and the baseline a model must beat. `score_graded` applies the
same penalties and pass rule to severities a model predicted, so both ways of grading end in the same SessionScore.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trainer.course.model import Course, MistakeSeverity, Outcome
from trainer.scoring.detect import HINT_SEVERITY, DetectedMistake

PENALTY = {MistakeSeverity.MINOR: 5.0, MistakeSeverity.SERIOUS: 15.0, MistakeSeverity.CRITICAL: 40.0}
HINT_POINTS = PENALTY[HINT_SEVERITY]  # what a hint costs, always: the help says this number
RUBRIC = "rubric"
_SEVERITIES = {s.value: s for s in MistakeSeverity}


@dataclass(frozen=True)
class Deduction:
    mistake: DetectedMistake
    severity: MistakeSeverity
    points: float
    confidence: float = 1.0  # the model's probability of `severity`; 1.0 for the rubric
    review: bool = False  # an instructor should review this grade (low confidence, or a course the model never saw)
    # What the model weighed most for this row: (fact, change in the probability of `severity` when that fact is set
    # to its neutral value), largest first; () for the rubric and for grades the model does not give.
    weighed: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class SessionScore:
    score: float
    passed: bool
    deductions: tuple[Deduction, ...]
    reason: str  # why it passed or failed, in plain words
    scorer: str = RUBRIC  # "rubric", or "model <first 12 hex of the model file's SHA-256>"
    cleared: tuple[Deduction, ...] = ()  # mistakes the model graded "none": no points, shown for review
    note: str = ""  # e.g. why the rubric was used although a model is installed
    folded: tuple[Deduction, ...] = ()  # consequences of a root mistake (mistake.under): listed, no points

    @property
    def graded(self) -> tuple[Deduction, ...]:
        """Every row of the graded list in the order made: deductions, mistakes cleared and consequences folded."""
        return tuple(sorted(self.deductions + self.cleared + self.folded, key=lambda d: (d.mistake.seq, d.mistake.id)))

    @property
    def review(self) -> bool:
        """Whether any grade in this score is flagged for an instructor's review."""
        return any(d.review for d in self.deductions + self.cleared)


def score_session(course: Course, mistakes: Sequence[DetectedMistake], outcome: Outcome | None) -> SessionScore:
    """The rubric's score: every mistake at its declared severity; consequences of a root mistake cost nothing."""
    deductions = tuple(Deduction(m, m.severity, PENALTY[m.severity]) for m in mistakes if m.under is None)
    return _decide(course, deductions, outcome, scorer=RUBRIC, folded=_folded(mistakes))


def fixed_grade(m: DetectedMistake) -> bool:
    """Whether a mistake's grade is fixed whatever the model says: a hint costs what the help says (HINT_POINTS), and a
    consequence of a root mistake costs nothing (docs/scoring.md)."""
    return m.source == "hint" or m.under is not None


def _folded(mistakes: Sequence[DetectedMistake]) -> tuple[Deduction, ...]:
    return tuple(Deduction(m, m.severity, 0.0) for m in mistakes if m.under is not None)


def score_graded(
    course: Course,
    graded: Sequence[tuple[DetectedMistake, str, float, bool]],
    outcome: Outcome | None,
    *,
    scorer: str,
    note: str = "",
    weighed: Sequence[tuple[tuple[str, float], ...]] = (),
) -> SessionScore:
    """The score for mistakes graded elsewhere: (mistake, grade none..critical, confidence, review flag) each, and
    optionally what was weighed for each. Mistakes whose grade is fixed (fixed_grade) are not graded elsewhere: pass
    only the others, and those are added here at their fixed grade."""
    deductions, cleared = [], []
    for i, (m, grade, confidence, review) in enumerate(graded):
        why = weighed[i] if i < len(weighed) else ()
        if grade == "none":
            cleared.append(Deduction(m, m.severity, 0.0, confidence, review, why))
        else:
            severity = _SEVERITIES.get(grade) or MistakeSeverity(grade)  # (the call raises for a bad grade)
            deductions.append(Deduction(m, severity, PENALTY[severity], confidence, review, why))
    return _decide(course, tuple(deductions), outcome, scorer=scorer, cleared=tuple(cleared), note=note)


def with_fixed(
    score: SessionScore, mistakes: Sequence[DetectedMistake], course: Course, outcome: Outcome | None
) -> SessionScore:
    """`score` (graded elsewhere, without the fixed-grade mistakes) with the fixed-grade mistakes of `mistakes` added."""
    hints = tuple(
        Deduction(m, m.severity, PENALTY[m.severity]) for m in mistakes if m.source == "hint" and m.under is None
    )
    if not hints and not any(m.under is not None for m in mistakes):
        return score
    deductions = tuple(sorted(score.deductions + hints, key=lambda d: (d.mistake.seq, d.mistake.id)))
    return _decide(
        course,
        deductions,
        outcome,
        scorer=score.scorer,
        cleared=score.cleared,
        note=score.note,
        folded=_folded(mistakes),
    )


def _decide(
    course: Course,
    deductions: tuple[Deduction, ...],
    outcome: Outcome | None,
    *,
    scorer: str,
    cleared: tuple[Deduction, ...] = (),
    note: str = "",
    folded: tuple[Deduction, ...] = (),
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
    return SessionScore(score, passed, deductions, reason, scorer, cleared, note, folded)
