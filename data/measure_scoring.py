"""The measurements behind docs/scoring.md, "Calibration and the review queue" and "What the model should weigh", on the
starter data (train.jsonl.gz to train, holdout.jsonl.gz to test; trainees disjoint). Reproducible: fixed seeds.

1. `outcome` (how the whole session ended) for an early mistake: the chosen kind of model trained with the feature and
   with it blanked ("none" on every row), kappa on the holdout overall, on early mistakes (progress < 0.5) and on the
   early ones of sessions that ended in an incident;
2. how many labels a grade needs: per grade, its labels in the training sessions used and its F1 on the holdout, for
   growing numbers of training sessions;
3. the ceiling of the review queue: the synthetic raters' exact label distribution for each holdout mistake (drawn 200
   times per rater) used as a perfect model's probabilities: the share of wrong grades a 15% queue of its least
   confident rows catches. No model can expect to do better on these labels (their slips are random);
4. other review signals than the confidence, each flagging the same 15% of the holdout rows (a threshold chosen on the
   holdout itself, which flatters every signal alike): the margin between the two likeliest grades, the entropy, the
   expected quadratic cost of the grade given (what quadratic kappa charges), and disagreement with the rubric.

    python data/measure_scoring.py [--model PATH] [--starter DIR]
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

from trainer.scoring import model as M
from trainer.scoring.calibration import queue, threshold_for_share
from trainer.scoring.features import GRADES, matrix
from trainer.scoring.grade import DEFAULT_MODEL
from trainer.scoring.raters import RATERS, grade

HERE = Path(__file__).resolve().parent / "starter"


def _fit_predict(name: str, train: M.TrainingData, test_contexts: list) -> list[int]:
    from sklearn.base import clone

    with M.one_thread():
        fitted = clone(M.pipeline_for(name, 0)).fit(matrix(train.contexts), train.grades)
        return [int(p) for p in fitted.predict(matrix(test_contexts))]


def blank_outcome(contexts: list) -> list:
    return [{**c, "outcome": "none"} for c in contexts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--starter", type=Path, default=HERE, help="folder of train.jsonl.gz and holdout.jsonl.gz")
    args = parser.parse_args()
    model = M.load(args.model)
    name = str(model.metadata.get("candidate") or model.metadata["chosen"])
    train = M.load_data([args.starter / "train.jsonl.gz"])
    test = M.load_data([args.starter / "holdout.jsonl.gz"])
    y = test.grades

    print(f"1. outcome, with {name} (kappa on the holdout)")
    early = [i for i, c in enumerate(test.contexts) if float(c["progress"]) < 0.5]
    early_incident = [i for i in early if test.contexts[i]["outcome"] == "incident"]
    with_outcome = _fit_predict(name, train, test.contexts)
    blanked = train.subset(range(len(train)))
    blanked.contexts = blank_outcome(train.contexts)
    without = _fit_predict(name, blanked, blank_outcome(test.contexts))
    for label, idx in (("all", range(len(y))), ("early (progress < 0.5)", early), ("early, incident", early_incident)):
        idx = list(idx)
        truth = [y[i] for i in idx]
        print(
            f"   {label:<24} {len(idx):>5} labels: with outcome {M.qwk(truth, [with_outcome[i] for i in idx]):.3f}, "
            f"without {M.qwk(truth, [without[i] for i in idx]):.3f}"
        )

    print("2. labels per grade and its F1 on the holdout")
    from sklearn.metrics import f1_score

    sessions = train.session_ids()
    random.Random(0).shuffle(sessions)
    for n in (250, 500, 1000, len(sessions)):
        keep = set(sessions[:n])
        part = train.subset(i for i in range(len(train)) if train.sessions[i] in keep)
        predicted = _fit_predict(name, part, test.contexts)
        counts = Counter(part.grades)
        f1 = f1_score(y, predicted, labels=range(len(GRADES)), average=None, zero_division=0)
        print(
            f"   {n:>5} sessions: " + ", ".join(f"{g} {counts[k]} labels F1 {f1[k]:.2f}" for k, g in enumerate(GRADES))
        )

    print("3. the review queue's ceiling on these labels (15% of the rows flagged)")
    import numpy as np

    dist: dict[tuple[str, str], np.ndarray] = {}
    for i, ctx in enumerate(test.contexts):
        key = (test.sessions[i], test.mistakes[i])
        if key not in dist:
            drawn = Counter(grade(ctx, r, f"draw{k}", key[1]) for k in range(200) for r in RATERS.values())
            dist[key] = np.array([drawn[g] for g in GRADES], dtype=float) / sum(drawn.values())
    P = np.array([dist[(test.sessions[i], test.mistakes[i])] for i in range(len(y))])
    confidence, wrong = P.max(axis=1).tolist(), (P.argmax(axis=1) != np.asarray(y)).tolist()
    ceiling = queue(confidence, wrong, threshold_for_share(confidence, 0.15))
    shipped = model.predict(test.contexts)
    mc = [c for _, c in shipped]
    mw = [GRADES.index(g) != t for (g, _), t in zip(shipped, y, strict=True)]
    own = queue(mc, mw, model.review_below)
    print(
        f"   the raters' own distribution: {sum(wrong) / len(wrong):.1%} of the grades wrong, flags "
        f"{ceiling.flagged:.1%}, catches {ceiling.caught:.1%}\n"
        f"   the model (review below {model.review_below}): {sum(mw) / len(mw):.1%} wrong, flags {own.flagged:.1%}, "
        f"catches {own.caught:.1%}"
    )

    print("4. review signals, each flagging 15% of the holdout rows (lowest first)")
    proba = M.aligned(model.probabilities(matrix(test.contexts)), model.pipeline.classes_)
    given = proba.argmax(axis=1)
    wrong_rows = (given != np.asarray(y)).tolist()
    ordered = np.sort(proba, axis=1)
    ranks = np.arange(len(GRADES))
    rubric = np.array([int(c["declared_rank"]) for c in test.contexts])
    signals = {
        "confidence": ordered[:, -1],
        "margin of the two likeliest": ordered[:, -1] - ordered[:, -2],
        "entropy (negated)": np.sum(proba * np.log(np.clip(proba, 1e-12, 1)), axis=1),
        "expected quadratic cost (negated)": -np.sum(proba * (ranks[None, :] - given[:, None]) ** 2, axis=1),
        "confidence, 0.2 less off the rubric": ordered[:, -1] - 0.2 * (given != rubric),
    }
    for label, score in signals.items():
        values = score.tolist()
        at = queue(values, wrong_rows, threshold_for_share(values, 0.15))
        print(f"   {label:<36} flags {at.flagged:.1%}, catches {at.caught:.1%}")


if __name__ == "__main__":
    main()
