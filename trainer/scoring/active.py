"""Labelling effort where it counts: which unlabelled mistakes an instructor should grade next.

Uncertainty sampling: the current model's probabilities for each unlabelled mistake; the mistakes it is least sure of
(smallest margin between its two likeliest grades) teach it most, because a label there moves the boundary it is least
sure of. Spread across trainees and courses: a batch that is all one trainee's habit or one course's quirk teaches
less than the same number spread out, so at first each trainee and each course gets at most its share of the batch.

A model cannot be unsure about a grade it was never taught: it gives that grade no probability at all, so its margin
looks confident exactly where it knows least. While the model has no label of some grade, a mistake the course declares
of that grade counts as a coin toss (margin 0). Without this, a site starting to label never gets asked about, say, a
critical mistake, and its model needs far more labels than random picks to beat the rubric (tests/unit/
test_scoring_active.py measures both).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Candidate:
    """An unlabelled mistake that could be proposed."""

    session: str
    trainee: str
    course: str
    mistake: str
    context: Any  # the mistake's context (features.context)


def margins(proba: Any) -> list[float]:
    """For each row of probabilities: the likeliest grade's minus the second likeliest's (0: a coin toss)."""
    import numpy as np

    p = np.sort(np.asarray(proba, dtype=float), axis=1)
    if p.shape[1] < 2:
        return [1.0] * len(p)
    out: list[float] = (p[:, -1] - p[:, -2]).tolist()
    return out


def choose(uncertainty_order: Sequence[int], candidates: Sequence[Candidate], n: int) -> list[int]:
    """The first `n` of `uncertainty_order` (indices into candidates, most uncertain first), taking at most a fair
    share per trainee and per course in a first pass, then filling up in order."""
    n = min(n, len(candidates))
    if n <= 0:
        return []
    trainees = {c.trainee for c in candidates}
    courses = {c.course for c in candidates}
    per_trainee = max(1, math.ceil(n / len(trainees)))
    per_course = max(1, math.ceil(n / len(courses)))
    picked: list[int] = []
    taken: set[int] = set()
    by_trainee: Counter[str] = Counter()
    by_course: Counter[str] = Counter()
    for i in uncertainty_order:
        c = candidates[i]
        if by_trainee[c.trainee] < per_trainee and by_course[c.course] < per_course:
            picked.append(i)
            taken.add(i)
            by_trainee[c.trainee] += 1
            by_course[c.course] += 1
            if len(picked) == n:
                return picked
    for i in uncertainty_order:
        if i not in taken:
            picked.append(i)
            if len(picked) == n:
                break
    return picked


def propose(model: Any, candidates: Sequence[Candidate], n: int) -> list[tuple[Candidate, float]]:
    """The `n` candidates whose labels would teach `model` (a TrainedModel) most, with each one's margin."""
    from trainer.scoring.features import matrix

    if not candidates or n <= 0:
        return []
    m = margins(model.probabilities(matrix([c.context for c in candidates])))
    known = set(model.grades)
    m = [0.0 if str(c.context.get("declared", "")) not in known else v for c, v in zip(candidates, m, strict=True)]
    order = sorted(range(len(candidates)), key=lambda i: (m[i], candidates[i].session, candidates[i].mistake))
    return [(candidates[i], m[i]) for i in choose(order, candidates, n)]
