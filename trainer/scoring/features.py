"""A detected mistake's context as the model's input: one flat row of named features per mistake.

The names and their order are part of a trained model's metadata; a model trained on another feature list is refused
(see model.py). docs/scoring.md lists every feature and what it means.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from trainer.course.model import Course, MistakeSeverity, Outcome, Text
from trainer.scoring.detect import DetectedMistake, new_mistake

# The instructor's grades, in order of gravity: a label is one of these; its index is its rank.
GRADES: tuple[str, ...] = ("none", "minor", "serious", "critical")
RANK = {g: i for i, g in enumerate(GRADES)}
_DECLARED = {severity: str(severity) for severity in MistakeSeverity}  # str() of an enum costs a call each time
_RANKS = {severity: RANK[str(severity)] for severity in MistakeSeverity}

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
# Bump when what a feature means changes without its name changing (values() or detect.py computing it otherwise): the
# features stored with sessions' first scorings (stored() below) no longer apply then, and are computed again from the
# sessions' events. Changing FEATURES changes FEATURE_SET by itself.
DEFINITION = 1
NOT_CORRECTED_S = 9999.0  # correction_s of a mistake never corrected: "later than anything"


# The facts of a mistake's context a trainee can understand, each with the value that means "nothing of note"; a model's
# grade is explained by how the probability of that grade changes when one of these is set to its neutral value
# (attribution(), docs/scoring.md). Course, code, state and declared severity are what the mistake is, not facts about it.
NEUTRAL: dict[str, dict[str, Any]] = {
    "corrected": {"corrected": 0.0, "correction_s": NOT_CORRECTED_S},
    "hazard_followed": {"hazard_followed": 0.0},
    "hazard": {"hazard": "none"},
    "outcome": {"outcome": "completed"},
    "repeat": {"repeat": 1.0},
    "mistakes_before": {"mistakes_before": 0.0},
    "timer_running": {"timer_running": 0.0},
    "seconds_in_state": {"seconds_in_state": 0.0},
}
_COLUMN = {f: i for i, f in enumerate(FEATURES)}
WEIGHED_MIN = 0.02  # a change in probability smaller than this is not worth telling the trainee
WEIGHED_TOP = 3


def attribution(model: Any, X: Any, grades: Sequence[str], *, base: Any = None) -> list[tuple[tuple[str, float], ...]]:
    """For each row of X (features.matrix_of) and its predicted grade: the facts the model weighed most for that row, as
    (fact, p(grade | row) - p(grade | row with the fact neutral)), largest first: the facts that pushed the model
    towards this grade (those that pushed away are not listed). One call to the model for all rows and all facts;
    `base`: model.probabilities(X), when the caller has it already."""
    import numpy as np

    if len(X) == 0:
        return []
    probe, owners = probes(X)
    classes = list(model.grades)
    if base is None:
        base = model.probabilities(X)
    out: list[list[tuple[str, float]]] = [[] for _ in range(len(X))]
    if len(probe):
        moved = model.probabilities(probe)
        column = np.array([classes.index(g) for g in grades])  # each row's grade, as a column of the probabilities
        first = 0
        for rows, fact in owners:  # fact by fact, in NEUTRAL's order: each row's list keeps that order
            k = column[rows]
            deltas = base[rows, k] - moved[np.arange(first, first + len(rows)), k]
            first += len(rows)
            for i, delta in zip(rows.tolist(), deltas.tolist(), strict=True):
                if delta >= WEIGHED_MIN:
                    out[i].append((fact, round(delta, 3)))
    return [tuple(sorted(o, key=lambda fd: -fd[1])[:WEIGHED_TOP]) for o in out]


def probes(X: Any) -> tuple[Any, list[tuple[Any, str]]]:
    """The rows attribution() asks the model about besides X: each row of X again with one fact at its neutral value,
    where that changes it. Returns them (an object array like X), fact after fact in NEUTRAL's order, and for each
    fact (the indexes of its rows in X, the fact). Column by column, not row by row: rescoring 100 000 sessions makes
    half a million of these."""
    import numpy as np

    blocks, owners = [], []
    for fact, neutral in NEUTRAL.items():
        changed = np.zeros(len(X), dtype=bool)
        for feature, value in neutral.items():
            changed |= X[:, _COLUMN[feature]] != value
        rows = np.flatnonzero(changed)
        if len(rows):
            block = X[rows]  # a copy
            for feature, value in neutral.items():
                block[:, _COLUMN[feature]] = value
            blocks.append(block)
            owners.append((rows, fact))
    return (np.concatenate(blocks) if blocks else X[:0]), owners


def context(course: Course, m: DetectedMistake) -> dict[str, Any]:
    """The mistake's context as plain JSON values, keyed by feature name (what the labelled-session format stores)."""
    return dict(zip(FEATURES, values(course, m), strict=True))


def values(course: Course, m: DetectedMistake) -> tuple[Any, ...]:
    """The mistake's context as plain JSON values in FEATURES order: context() without the names (scoring many
    sessions builds the model's input from these directly)."""
    initial = course.variables
    changed = 0
    for k, v in m.variables:
        if k in initial and initial[k] != v:
            changed += 1
    severity = m.severity
    return (
        m.course or course.id,
        m.source,
        m.code,
        m.state,
        _DECLARED[severity],
        m.hazard or "none",
        m.outcome or "none",
        _RANKS[severity],
        m.step_index,
        round(m.progress, 4),
        m.t_ms / 1000,
        m.seconds_in_state,
        int(m.corrected),
        NOT_CORRECTED_S if m.correction_s is None else m.correction_s,
        m.repeat,
        m.mistakes_before,
        int(m.hazard_followed),
        int(m.timer_running),
        changed,
    )


def matrix(contexts: Sequence[Mapping[str, Any]]) -> Any:
    """The model's input: a 2-D object array, one row per context, columns in FEATURES order."""
    return matrix_of([[c[f] for f in FEATURES] for c in contexts])


def matrix_of(rows: Sequence[Sequence[Any]]) -> Any:
    """matrix() of rows of values() (feature values in FEATURES order): numeric features as floats."""
    import numpy as np

    n_categorical = len(CATEGORICAL)
    out = np.empty((len(rows), len(FEATURES)), dtype=object)
    if rows:
        out[:] = [[*row[:n_categorical], *map(float, row[n_categorical:])] for row in rows]
    return out


def missing(ctx: Mapping[str, Any]) -> list[str]:
    return [f for f in FEATURES if f not in ctx]


# --- the features kept with a session's first scoring -----------------------------------------------------------------
#
# A session's mistakes and their features depend on its events and its course content, not on the model: they are
# stored with its first scoring (the `features` table) so that rescoring with another model reads them instead of
# reading the events and detecting again. What is stored is exactly what grading reads: per mistake the fields the
# score and the graded list are made of (id, seq, t_ms, code, declared severity, source, state, under, corrected,
# correction_s, repeat, hazard_followed) and its feature values in FEATURES order; and the session's outcome. Stored
# features apply only under the FEATURE_SET they were made with and the course content (hash) they were detected with.

_LAYOUT = 1  # the stored text's own layout (below); part of FEATURE_SET


def feature_set_of(categorical: Sequence[str], numeric: Sequence[str], definition: int = DEFINITION) -> str:
    """The version of a feature list: stored features made under another one are not used (docs/scoring.md)."""
    body = {"categorical": list(categorical), "numeric": list(numeric), "definition": definition, "layout": _LAYOUT}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]


FEATURE_SET = feature_set_of(CATEGORICAL, NUMERIC)
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def stored(course: Course, mistakes: Sequence[DetectedMistake], outcome: Outcome | None) -> str:
    """A session's detected mistakes and outcome as the features table keeps them (JSON text, see above)."""
    return _dumps(
        {
            "outcome": None if outcome is None else str(outcome),
            "mistakes": [
                [
                    m.id,
                    m.seq,
                    m.t_ms,
                    m.code,
                    _DECLARED[m.severity],
                    m.source,
                    m.state,
                    m.under,
                    m.corrected,
                    m.correction_s,
                    m.repeat,
                    m.hazard_followed,
                    values(course, m),
                ]
                for m in mistakes
            ],
        }
    )


def for_store(course: Course, mistakes: Sequence[DetectedMistake], outcome: Outcome | None) -> dict[str, str]:
    """The "features" of a scoring as the store takes them (Store.add_scores, Store.append): stored() with the
    feature set and the course content they apply to."""
    return {
        "feature_set": FEATURE_SET,
        "content_hash": course.content_hash,
        "mistakes": stored(course, mistakes, outcome),
    }


_SEVERITIES = {str(s): s for s in MistakeSeverity}
_RULES: dict[str, Text] = {}  # a stored mistake's rule: its code (a few hundred codes in all)
_OUTCOMES = {o.value: o for o in Outcome}


def from_stored(text: str) -> tuple[list[DetectedMistake], Outcome | None, list[tuple[Any, ...]]]:
    """stored()'s text back: the mistakes, the outcome, and each mistake's feature values. The mistakes hold what
    grading reads of them (the score, the graded list); the rest of their context is in their feature values, and
    their rule is their code (for the words of a rule, detect from the events). Raises ValueError, KeyError, TypeError
    or IndexError for a text that is not one."""
    body = json.loads(text)
    outcome = body["outcome"]
    mistakes, rows = [], []
    for (
        mistake_id,
        seq,
        t_ms,
        code,
        severity,
        source,
        state,
        under,
        corrected,
        correction_s,
        repeat,
        followed,
        row,
    ) in body["mistakes"]:
        if len(row) != len(FEATURES):
            raise ValueError(f"{len(row)} feature values, expected {len(FEATURES)}")
        mistakes.append(
            new_mistake(
                {
                    "id": mistake_id,
                    "code": code,
                    "severity": _SEVERITIES[severity],
                    "source": source,
                    "state": state,
                    "seq": seq,
                    "t_ms": t_ms,
                    "rule": _RULES.get(code) or _RULES.setdefault(code, Text(en=code, zh=code)),
                    "standard": None,
                    "hazard": None,
                    "ref": "",
                    "corrected": corrected,
                    "correction_s": correction_s,
                    "repeat": repeat,
                    "hazard_followed": followed,
                    "outcome": outcome,
                    "under": under,
                }
            )
        )
        rows.append(tuple(row))
    return mistakes, None if outcome is None else _OUTCOMES[outcome], rows
