"""A detected mistake's context as the model's input: one flat row of named features per mistake.

The names and their order are part of a trained model's metadata; a model trained on another feature list is refused
(see model.py). docs/scoring.md lists every feature and what it means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trainer.course.model import Course
from trainer.scoring.detect import DetectedMistake

# The instructor's grades, in order of gravity: a label is one of these; its index is its rank.
GRADES: tuple[str, ...] = ("none", "minor", "serious", "critical")
RANK = {g: i for i, g in enumerate(GRADES)}

CATEGORICAL: tuple[str, ...] = ("course", "source", "code", "state", "declared", "hazard", "outcome")
NUMERIC: tuple[str, ...] = (
    "declared_rank",
    "step_index",
    "progress",
    "t_s",
    "seconds_in_state",
    "corrected",
    "correction_s",
    "repeat",
    "mistakes_before",
    "hazard_followed",
    "timer_running",
    "vars_changed",
)
FEATURES: tuple[str, ...] = CATEGORICAL + NUMERIC
NOT_CORRECTED_S = 9999.0  # correction_s of a mistake never corrected: "later than anything"


def context(course: Course, m: DetectedMistake) -> dict[str, Any]:
    """The mistake's context as plain JSON values, keyed by feature name (what the labelled-session format stores)."""
    initial = course.variables
    return {
        "course": m.course or course.id,
        "source": m.source,
        "code": m.code,
        "state": m.state,
        "declared": str(m.severity),
        "hazard": m.hazard or "none",
        "outcome": m.outcome or "none",
        "declared_rank": RANK[str(m.severity)],
        "step_index": m.step_index,
        "progress": round(m.progress, 4),
        "t_s": m.t_ms / 1000,
        "seconds_in_state": m.seconds_in_state,
        "corrected": int(m.corrected),
        "correction_s": NOT_CORRECTED_S if m.correction_s is None else m.correction_s,
        "repeat": m.repeat,
        "mistakes_before": m.mistakes_before,
        "hazard_followed": int(m.hazard_followed),
        "timer_running": int(m.timer_running),
        "vars_changed": sum(1 for k, v in m.variables if k in initial and initial[k] != v),
    }


def matrix(contexts: Sequence[Mapping[str, Any]]) -> Any:
    """The model's input: a 2-D object array, one row per context, columns in FEATURES order."""
    import numpy as np

    rows = [[c[f] for f in CATEGORICAL] + [float(c[f]) for f in NUMERIC] for c in contexts]
    out = np.empty((len(rows), len(FEATURES)), dtype=object)
    if rows:
        out[:] = rows
    return out


def missing(ctx: Mapping[str, Any]) -> list[str]:
    return [f for f in FEATURES if f not in ctx]
