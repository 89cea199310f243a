"""Labelling effort where it counts (issue 19 item 6): a seeded simulation of a site labelling its trainees' mistakes,
either the ones `trainer label --next` proposes (trainer.scoring.active) or picked at random, counting the labels its
model needs to beat the rubric on other trainees."""

from __future__ import annotations

import random

import pytest

from trainer.course.library import load_library
from trainer.scoring import labelled
from trainer.scoring.active import Candidate, propose
from trainer.scoring.features import RANK, matrix
from trainer.scoring.model import TrainedModel, one_thread, pipeline_for, qwk
from trainer.scoring.raters import label_line
from trainer.scoring.simulate import simulate

LABELLER = "ref-pragmatic"  # the site's instructor: one of the synthetic raters (noisy, and not the rubric)
START, BATCH, LIMIT = 6, 4, 300  # labels before the first model; labels per round (`label --next 4`); give up after


def mistakes(n: int, seed: int) -> list[tuple[Candidate, int]]:
    """Every mistake of `n` simulated sessions over the bundled courses, with the grade the site's labeller gives it."""
    out = []
    for s in simulate(list(load_library().courses.values()), n, seed):
        line = label_line(labelled.record(s.course, s.events, session=s.session, trainee=s.trainee, seed=s.seed))
        for m in line["mistakes"]:
            grade = next(RANK[lb["severity"]] for lb in m["labels"] if lb["labeller"] == LABELLER)
            out.append((Candidate(s.session, s.trainee, s.course.id, m["id"], m["context"]), grade))
    return out


@pytest.fixture(scope="module")
def site() -> tuple[list[tuple[Candidate, int]], list[tuple[Candidate, int]]]:
    return mistakes(300, 101), mistakes(200, 102)  # unlabelled pool; other trainees to test on


def labels_to_beat_the_rubric(pool, test, seed: int, active: bool) -> int:
    """Label START random mistakes, then BATCH at a time (proposed, or random) until the model trained on the labels
    so far grades the test trainees better (quadratic kappa) than the rubric (the declared severity) does."""
    X_test, truth = matrix([c.context for c, _ in test]), [g for _, g in test]
    bar = qwk(truth, [int(c.context["declared_rank"]) for c, _ in test])
    rng = random.Random(seed)
    chosen = rng.sample(range(len(pool)), START)
    while len(chosen) <= LIMIT:
        grades = [pool[i][1] for i in chosen]
        model = None
        if len(set(grades)) >= 2:
            with one_thread():
                pipeline = pipeline_for("logistic-regression", 0).fit(
                    matrix([pool[i][0].context for i in chosen]), grades
                )
                if qwk(truth, [int(g) for g in pipeline.predict(X_test)]) > bar:
                    return len(chosen)
            model = TrainedModel(pipeline, {})
        rest = sorted(set(range(len(pool))) - set(chosen))
        if active and model is not None:
            at = {id(pool[i][0]): i for i in rest}
            chosen += [at[id(c)] for c, _ in propose(model, [pool[i][0] for i in rest], BATCH)]
        else:
            chosen += rng.sample(rest, BATCH)
    return LIMIT


def test_active_selection_beats_the_rubric_with_fewer_labels_than_random_picks(site):
    """Measured (seeds 0-5): 21 labels on average (14 to 26) proposed by `label --next` against 38 (14 to 70) picked at
    random; before the fix for grades the model was never taught (trainer/scoring/active.py), 72 (18 to 282)."""
    pool, test = site
    active = [labels_to_beat_the_rubric(pool, test, seed, active=True) for seed in range(6)]
    chance = [labels_to_beat_the_rubric(pool, test, seed, active=False) for seed in range(6)]
    assert sum(active) < sum(chance), (active, chance)
    assert max(active) < LIMIT


def test_a_mistake_of_a_grade_the_model_was_never_taught_is_proposed_first(site):
    pool, _ = site
    serious_or_minor = [i for i, (c, g) in enumerate(pool) if g in (1, 2) and c.context["declared"] != "critical"]
    taught = serious_or_minor[:40]
    with one_thread():
        pipeline = pipeline_for("logistic-regression", 0).fit(
            matrix([pool[i][0].context for i in taught]), [pool[i][1] for i in taught]
        )
    model = TrainedModel(pipeline, {})
    assert "critical" not in model.grades
    proposed = propose(model, [c for c, _ in pool], 3)
    assert all(c.context["declared"] == "critical" and margin == 0 for c, margin in proposed)
