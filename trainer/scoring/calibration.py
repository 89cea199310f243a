"""How far a model's confidence can be trusted, and the review queue built on it. Plain numpy, no scikit-learn.

A grade's confidence is the model's probability for the grade it gives. Calibrated means: of the grades given with
confidence about 0.8, about 80% agree with the label. The figures here are computed over (mistake, label) rows, like
kappa: a mistake two people labelled differently is a wrong grade for one of them whatever the model says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

BINS = 10  # equal-width confidence bins of the reliability table and the expected calibration error


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    rows: int
    confidence: float  # mean confidence of the rows in the bin (0 when empty)
    accuracy: float  # share of them whose grade agrees with the label


@dataclass(frozen=True)
class QueuePoint:
    threshold: float  # a grade is flagged when its confidence is below this
    flagged: float  # share of rows flagged
    caught: float  # share of the wrong grades among the flagged rows
    rows: int
    wrong: int


def reliability(confidence: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> list[Bin]:
    """Rows grouped by confidence into `bins` equal-width bins (the first holds 0 too): their mean confidence and the
    share of right grades. A calibrated model's two columns agree."""
    rows: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for c, ok in zip(confidence, correct, strict=True):
        rows[min(bins - 1, max(0, math.ceil(float(c) * bins) - 1))].append((float(c), bool(ok)))
    out = []
    for b, members in enumerate(rows):
        n = len(members)
        out.append(
            Bin(
                low=b / bins,
                high=(b + 1) / bins,
                rows=n,
                confidence=sum(c for c, _ in members) / n if n else 0.0,
                accuracy=sum(ok for _, ok in members) / n if n else 0.0,
            )
        )
    return out


def ece(confidence: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> float:
    """Expected calibration error: the rows' share-weighted gap between mean confidence and accuracy over the bins of
    reliability() (0 is perfect)."""
    table = reliability(confidence, correct, bins)
    n = sum(b.rows for b in table)
    return sum(b.rows / n * abs(b.confidence - b.accuracy) for b in table) if n else 0.0


def brier(proba: Any, truth: Sequence[int]) -> float:
    """Mean over rows of the squared distance between the probabilities (one column per grade) and the label's
    one-hot vector: a proper score of the whole distribution (lower is better)."""
    import numpy as np

    p = np.asarray(proba, dtype=float)
    onehot = np.zeros_like(p)
    onehot[np.arange(len(p)), np.asarray(truth, dtype=int)] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1))) if len(p) else 0.0


def threshold_for_share(confidence: Sequence[float], share: float) -> float:
    """The highest threshold (4 decimals, rounded down) under which at most `share` of the rows' confidences fall."""
    ordered = sorted(float(c) for c in confidence)
    if not ordered:
        return 0.0
    k = int(math.floor(share * len(ordered) + 1e-9))
    if k >= len(ordered):
        return 1.0
    t = math.floor(ordered[k] * 10_000) / 10_000  # rows below ordered[k]: at most k; rounding down keeps that
    return t


def queue(confidence: Sequence[float], wrong: Sequence[bool], threshold: float) -> QueuePoint:
    """The review queue a threshold makes: the share of rows it flags and the share of the wrong grades among them."""
    flagged = [c < threshold for c in confidence]
    n_wrong = sum(bool(w) for w in wrong)
    caught = sum(f and bool(w) for f, w in zip(flagged, wrong, strict=True))
    return QueuePoint(
        threshold=threshold,
        flagged=sum(flagged) / len(flagged) if flagged else 0.0,
        caught=caught / n_wrong if n_wrong else 0.0,
        rows=len(flagged),
        wrong=n_wrong,
    )
