"""Acceptance on the shipped starter data: the default model grades the held-out sessions at least as well as the two
reference raters agree with each other, and better than the rubric."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer.scoring import labelled
from trainer.scoring import model as M
from trainer.scoring.evaluate import Evaluation, evaluate
from trainer.scoring.grade import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "data" / "starter"


@pytest.fixture(scope="module")
def default_model() -> M.TrainedModel:
    return M.load(DEFAULT_MODEL)  # every check of a model file passes on the shipped one


def test_the_default_model_was_trained_on_the_shipped_starter_data(default_model: M.TrainedModel):
    (data,) = default_model.metadata["data"]
    assert data["file"] == "train.jsonl.gz" and data["sha256"] == labelled.file_sha256(STARTER / "train.jsonl.gz")
    assert data["sessions"] + sum(1 for _ in labelled.read(STARTER / "holdout.jsonl.gz")) >= 3000
    assert "press-loto-die-change" in default_model.metadata["courses"]
    assert default_model.metadata["seed"] == 0


@pytest.fixture(scope="module")
def holdout(default_model: M.TrainedModel) -> Evaluation:
    return evaluate(default_model, M.load_data([STARTER / "holdout.jsonl.gz"]), curve_points=0)


def test_on_held_out_sessions_the_model_beats_the_rubric_and_matches_the_raters(
    default_model: M.TrainedModel, holdout: Evaluation
):
    ev = holdout
    model, rubric, raters = ev.row("model"), ev.row("rubric"), ev.row("raters (with each other)")
    assert model.kappa >= raters.kappa
    assert model.kappa > rubric.kappa
    assert ev.sessions > 500 and len(ev.per_course) >= 1
    recorded = json.loads((STARTER / "evaluation.json").read_text())
    assert {r["name"]: round(r["kappa"], 6) for r in recorded["overall"]} == {
        r.name: round(r.kappa, 6) for r in ev.overall
    }  # the figures in the docs are the ones this model gives


def test_the_shipped_model_is_calibrated_and_its_review_queue_catches_wrong_grades(
    default_model: M.TrainedModel, holdout: Evaluation
):
    """Issue 19: ECE <= 0.05 on the holdout; the review queue at the threshold stored in the model flags at most about
    15% of the grades and catches far more wrong grades than a queue of that size drawn at random. Measured: ECE 0.010,
    flags 13.9%, catches 40.8% (a perfect model of the synthetic raters catches 46-49%: docs/scoring.md)."""
    meta = default_model.metadata
    assert meta["calibration"]["method"] in ("none", *M.CALIBRATIONS) and meta["review_below"] == holdout.review_below
    assert meta["review"]["flagged"] <= M.REVIEW_SHARE
    assert holdout.ece <= 0.05
    own = holdout.queue_at(default_model.review_below)
    assert own.flagged <= 0.16 and own.caught >= 0.35 and own.caught >= 2.5 * own.flagged
    old = holdout.queue_at(0.6)
    assert own.caught > old.caught  # the threshold that used to be fixed caught 18.9%
    recorded = json.loads((STARTER / "evaluation.json").read_text())
    assert recorded["ece"] == holdout.ece and recorded["review_below"] == meta["review_below"]
