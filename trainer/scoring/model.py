"""The grading model: a scikit-learn Pipeline trained on labelled sessions, saved with skops, loaded only after checks.

Training: one row per label (a mistake labelled by two instructors gives two rows), features from features.py. Candidates
(two kinds of model, each with and without class weights) are compared by repeated cross-validation with each trainee's
sessions kept in one fold (StratifiedGroupKFold), scored by quadratic weighted Cohen's kappa; the simplest candidate
whose mean is within the best's spread wins. Its probabilities are then calibrated (CalibratedClassifierCV, sigmoid or
isotonic, chosen by the Brier score on the folds, each calibrated inside its own training part), the review threshold is
chosen from the calibrated out-of-fold probabilities, and the winner is refitted, calibrated, on everything. Saving writes `NAME.skops` and `NAME.json` (metadata) beside
it. Loading checks, in order: the metadata, the file's SHA-256 against it, the types in the file against TRUSTED, the
feature list; only then does skops build the objects. Any failure is a ModelError and nothing from the file is run.

scikit-learn, numpy and skops are imported inside the functions that need them: importing this module stays cheap.
"""

from __future__ import annotations

import hmac
import json
import platform
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trainer import __version__, outfile
from trainer.errors import TrainerError
from trainer.scoring.features import CATEGORICAL, FEATURES, GRADES, NUMERIC, RANK
from trainer.scoring.labelled import file_sha256

MODEL_FORMAT = "trainer-model/1"
SIGNATURE_FORMAT = "trainer-model-signature/1"
DEFAULT_SPLITS = 5
DEFAULT_REPEATS = 2  # cross-validation repeated with other folds: the spread of the kappas says what a difference means
CALIBRATION_SPLITS = 3  # the folds CalibratedClassifierCV calibrates on, inside each training part (by trainee)
CALIBRATIONS = ("sigmoid", "isotonic")  # sigmoid first: two numbers per grade, kept when isotonic is no better
# The review queue's size: the threshold is the highest confidence below which at most this share of the grades fall
# (on the out-of-fold predictions), so an instructor reviews at most about this share and catches the most wrong grades
# a queue of that size can (docs/scoring.md, "Calibration and the review queue").
REVIEW_SHARE = 0.15

# Types a model file may hold beyond those skops trusts by default (scikit-learn's estimators, numpy arrays, builtins).
# Tree models need their tree classes here. A file holding any other type is refused before anything in it is built.
TRUSTED: tuple[str, ...] = (
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",  # the boosted trees themselves
    "sklearn.utils.validation.check_array",  # with functools.partial: the boosting model's input check
    "functools.partial",
    "sklearn.calibration._CalibratedClassifier",  # the calibrated model: its classifier and one calibrator per grade
    "sklearn.calibration._SigmoidCalibration",  # a sigmoid calibrator: two numbers (modelcheck checks them)
)

Progress = Callable[[str, int], None]  # (what is being done, units done since the last call)


class ModelError(TrainerError):
    """A model file that cannot be trusted or used: missing, tampered, unexpected types, or for other features."""


@dataclass(frozen=True)
class DataFile:
    file: str
    sha256: str
    sessions: int
    mistakes: int
    labels: int


@dataclass
class TrainingData:
    """Rows for the model: one per (mistake, label). Built by `load_data`."""

    contexts: list[Mapping[str, Any]] = field(default_factory=list)
    grades: list[int] = field(default_factory=list)  # label ranks (0 none .. 3 critical)
    trainees: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)  # mistake ids, per row
    labellers: list[str] = field(default_factory=list)
    files: list[DataFile] = field(default_factory=list)
    courses: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # course -> version -> content hashes
    unlabelled: int = 0  # mistakes without any label (not used for training)

    def __len__(self) -> int:
        return len(self.grades)

    def session_ids(self) -> list[str]:
        return list(dict.fromkeys(self.sessions))

    def subset(self, keep: Iterable[int]) -> TrainingData:
        idx = list(keep)
        return TrainingData(
            contexts=[self.contexts[i] for i in idx],
            grades=[self.grades[i] for i in idx],
            trainees=[self.trainees[i] for i in idx],
            sessions=[self.sessions[i] for i in idx],
            mistakes=[self.mistakes[i] for i in idx],
            labellers=[self.labellers[i] for i in idx],
            files=self.files,
            courses=self.courses,
        )


def load_data(paths: Sequence[str | Path]) -> TrainingData:
    """Read labelled-session files (JSON Lines, optionally .gz) into training rows."""
    from trainer.scoring.labelled import LabelledDataError, read

    data = TrainingData()
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise LabelledDataError(f"{path}: no such file; give a labelled-session file (JSON Lines)")
        n_sessions = n_mistakes = n_labels = 0
        for s in read(path):
            n_sessions += 1
            hashes = data.courses.setdefault(s.course, {}).setdefault(s.version, [])
            if s.content_hash and s.content_hash not in hashes:
                hashes.append(s.content_hash)
            for m in s.mistakes:
                n_mistakes += 1
                if not m.labels:
                    data.unlabelled += 1
                for label in m.labels:
                    n_labels += 1
                    data.contexts.append(m.context)
                    data.grades.append(RANK[label.severity])
                    data.trainees.append(s.trainee)
                    data.sessions.append(s.session)
                    data.mistakes.append(m.id)
                    data.labellers.append(label.labeller)
        data.files.append(DataFile(path.name, file_sha256(path), n_sessions, n_mistakes, n_labels))
    for versions in data.courses.values():
        for hashes in versions.values():
            hashes.sort()
    return data


# --- the candidates ---------------------------------------------------------------------------------------------------


def candidates(seed: int) -> dict[str, Any]:
    """The pipelines cross-validation chooses among, by name."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    cat = list(range(len(CATEGORICAL)))
    num = list(range(len(CATEGORICAL), len(FEATURES)))
    logistic = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("categorical", OneHotEncoder(handle_unknown="ignore", min_frequency=5), cat),
                        ("numeric", StandardScaler(), num),
                    ]
                ),
            ),
            ("model", LogisticRegression(C=1.0, max_iter=3000)),
        ]
    )
    boosting = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        (
                            "categorical",
                            OrdinalEncoder(
                                handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
                            ),
                            cat,
                        ),
                        ("numeric", "passthrough", num),
                    ]
                ),
            ),
            (
                "model",
                HistGradientBoostingClassifier(
                    categorical_features=cat,
                    learning_rate=0.08,
                    max_iter=150,
                    max_leaf_nodes=15,
                    min_samples_leaf=20,
                    l2_regularization=1.0,
                    early_stopping=False,
                    random_state=seed,
                ),
            ),
        ]
    )
    return {"logistic-regression": logistic, "hist-gradient-boosting": boosting}


WEIGHTED = ", balanced"  # a candidate name's suffix: class_weight="balanced" (each grade weighs as much in all)


def candidate_names() -> list[str]:
    """Every candidate cross-validation compares, simplest first (a linear model before trees, unweighted before
    weighted): on a tie within the spread the first wins."""
    return [f"{kind}{weight}" for kind in candidates(0) for weight in ("", WEIGHTED)]


def pipeline_for(name: str, seed: int) -> Any:
    """The unfitted pipeline of a candidate name (a kind from candidates(), maybe with the class-weight suffix)."""
    kind = name.removesuffix(WEIGHTED)
    try:
        pipeline = candidates(seed)[kind]
    except KeyError:
        raise ModelError(f"unknown model kind {kind!r}") from None
    return pipeline.set_params(model__class_weight="balanced" if name.endswith(WEIGHTED) else None)


def calibrated(template: Any, method: str, splits: list[tuple[Any, Any]]) -> Any:
    """`template` (a candidate pipeline) with its classifier inside CalibratedClassifierCV: the classifier is fitted on
    all rows, and `method` calibrates its outputs on out-of-fold predictions over `splits` (by trainee)."""
    from sklearn.base import clone
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import Pipeline

    features, model = template.steps[0][1], template.steps[-1][1]
    return Pipeline(
        [
            ("features", clone(features)),
            ("model", CalibratedClassifierCV(clone(model), method=method, cv=splits, ensemble=False)),
        ]
    )


def classifier_of(pipeline: Any) -> Any:
    """The fitted classifier of a pipeline, inside its calibration when it has one."""
    final = pipeline.steps[-1][1]
    inner = getattr(final, "calibrated_classifiers_", None)
    return inner[0].estimator if inner else final


def one_thread() -> Any:
    """Run scikit-learn's OpenMP code on one thread. The histogram boosting's threads cost far more than they save on
    data of this size, in fitting and in predicting (docs/performance.md, "Figures behind the code")."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def qwk(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Quadratic weighted Cohen's kappa over the four grades (1.0 when both sides agree on a single grade)."""
    from sklearn.metrics import cohen_kappa_score

    if len(set(y_true) | set(y_pred)) <= 1:
        return 1.0 if list(y_true) == list(y_pred) else 0.0
    return float(cohen_kappa_score(y_true, y_pred, weights="quadratic", labels=list(range(len(GRADES)))))


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    from sklearn.metrics import f1_score

    present = sorted(set(y_true) | set(y_pred))
    return float(f1_score(y_true, y_pred, average="macro", labels=present, zero_division=0))


def _splits(data: TrainingData, n_splits: int, seed: int) -> list[tuple[Any, Any]]:
    k = min(n_splits, len(set(data.trainees)))
    if k < 2:
        raise ModelError(
            f"cross-validation needs the sessions of at least 2 trainees; the data has {len(set(data.trainees))}"
        )
    return group_splits(data.grades, data.trainees, k, seed)


def group_splits(grades: Sequence[int], trainees: Sequence[str], k: int, seed: int) -> list[tuple[Any, Any]]:
    """k folds, each trainee's rows in one fold, grades spread evenly (StratifiedGroupKFold, shuffled by seed)."""
    import warnings

    import numpy as np
    from sklearn.model_selection import StratifiedGroupKFold

    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the least populated class has only n members": known, and fine
        return list(cv.split(np.zeros(len(grades)), np.asarray(grades), np.asarray(trainees)))


def calibration_splits(grades: Sequence[int], trainees: Sequence[str], seed: int) -> list[tuple[Any, Any]] | None:
    """CALIBRATION_SPLITS folds by trainee in which every training part holds every grade of `grades` (the calibrated
    classifier must know every grade in each fold); None when the data cannot give them (too few trainees per grade)."""
    k = min(CALIBRATION_SPLITS, len(set(trainees)))
    if k < 2:
        return None
    present = set(grades)
    for attempt in range(5):
        splits = group_splits(grades, trainees, k, seed + 7919 * attempt)
        if all({grades[i] for i in train} == present for train, _ in splits):
            return splits
    return None


def aligned(proba: Any, classes: Any) -> Any:
    """A model's probabilities with one column per grade of GRADES (0 for a grade it never saw)."""
    import numpy as np

    out = np.zeros((len(proba), len(GRADES)))
    out[:, [int(c) for c in classes]] = proba
    return out


@dataclass
class TrainedModel:
    pipeline: Any
    metadata: dict[str, Any]
    path: Path | None = None
    checked: Any = None  # modelcheck.Checked: what load() checked (None: built here, not loaded)
    signed_by: str = ""  # the site key id whose signature load() verified ("": the site has no key)

    @property
    def review_below(self) -> float:
        """The confidence under which a grade is flagged for review: chosen from the data when the model was trained
        and stored in its metadata (load() checks it is a number from 0 to 1). The one place scoring reads it."""
        return float(self.metadata["review_below"])

    @property
    def short_id(self) -> str:
        return str(self.metadata.get("model_sha256", ""))[:12] or "unsaved"

    def covers(self, course_id: str, version: str) -> bool:
        """Whether the model was trained on sessions of this course version."""
        return version in self.metadata.get("courses", {}).get(course_id, {})

    def knows_content(self, course_id: str, version: str, content_hash: str) -> bool:
        """Whether it was trained on exactly this content of the course version (a file edited without a new version
        number has another content hash)."""
        hashes = self.metadata.get("courses", {}).get(course_id, {}).get(version) or []
        return not content_hash or not hashes or content_hash in hashes

    def predict(self, contexts: Sequence[Mapping[str, Any]]) -> list[tuple[str, float]]:
        """(grade, probability of that grade) for each context."""
        if not contexts:
            return []
        from trainer.scoring.features import matrix

        return self.predict_matrix(matrix(contexts))

    def predict_matrix(self, X: Any) -> list[tuple[str, float]]:
        """predict() on the model's input as features.matrix or features.matrix_of build it."""
        if len(X) == 0:
            return []
        return self.best(self.probabilities(X))

    def best(self, proba: Any) -> list[tuple[str, float]]:
        """predict_matrix() from the probabilities (probabilities()) of the rows, when the caller has them already."""
        import numpy as np

        grades = self.grades
        best = proba.argmax(axis=1)
        return list(zip([grades[b] for b in best.tolist()], proba[np.arange(len(best)), best].tolist(), strict=True))

    @property
    def grades(self) -> list[str]:
        """The grades in the order of the columns of probabilities()."""
        return [GRADES[int(c)] for c in self.pipeline.classes_]

    def probabilities(self, X: Any) -> Any:
        """The probability of each grade (columns: self.grades) for each row of the model's input."""
        with one_thread():
            return self.pipeline.predict_proba(X)

    def predict_ranks(self, contexts: Sequence[Mapping[str, Any]]) -> list[int]:
        return [RANK[g] for g, _ in self.predict(contexts)]


def _fit(pipeline: Any, data: TrainingData) -> Any:
    import numpy as np

    from trainer.scoring.features import matrix

    with one_thread():
        return pipeline.fit(matrix(data.contexts), np.asarray(data.grades))


def _fold_fit(pipeline: Any, X: Any, y: Sequence[int], train: Any, test: Any) -> tuple[list[int], Any]:
    """Fit a clone on the training part; its predicted grades and probabilities (one column per grade) on the test part."""
    from sklearn.base import clone

    with one_thread():
        fitted = clone(pipeline).fit(X[train], [y[i] for i in train])
        proba = aligned(fitted.predict_proba(X[test]), fitted.classes_)
    return [int(g) for g in proba.argmax(axis=1)], proba


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else 0.0
    return round(mean, 6), round(std, 6)


@dataclass
class CrossValidation:
    """What cross-validation found: per candidate its scores, and the out-of-fold probabilities of the first repeat."""

    scores: dict[str, dict[str, Any]]
    folds: list[tuple[Any, Any]]  # the first repeat's folds (calibration is chosen on them)
    proba: dict[str, Any]  # candidate -> out-of-fold probabilities of the first repeat, rows in data order


def cross_validate(
    data: TrainingData,
    *,
    seed: int = 0,
    n_splits: int = DEFAULT_SPLITS,
    repeats: int = DEFAULT_REPEATS,
    names: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> CrossValidation:
    """Each candidate's quadratic kappa and macro F1 per fold, over `repeats` different splits into folds (seed,
    seed + 1, ...), trainees kept apart between folds; with their mean and standard deviation (the spread)."""
    import numpy as np

    from trainer.scoring.features import matrix

    repeats = max(1, repeats)
    per_repeat = [_splits(data, n_splits, seed + r) for r in range(repeats)]
    X = matrix(data.contexts)
    y = data.grades
    scores: dict[str, dict[str, Any]] = {}
    oof: dict[str, Any] = {}
    for name in names or candidate_names():
        pipeline = pipeline_for(name, seed)
        kappas, f1s = [], []
        proba = np.zeros((len(data), len(GRADES)))
        for r, folds in enumerate(per_repeat):
            for k, (train, test) in enumerate(folds, start=1):
                what = f"{name}: repeat {r + 1}, fold {k}/{len(folds)}"
                if progress:
                    progress(what, 0)
                predicted, p = _fold_fit(pipeline, X, y, train, test)
                if r == 0:
                    proba[test] = p
                truth = [y[i] for i in test]
                kappas.append(round(qwk(truth, predicted), 6))
                f1s.append(round(macro_f1(truth, predicted), 6))
                if progress:
                    progress(what, 1)
        kappa_mean, kappa_std = _mean_std(kappas)
        f1_mean, f1_std = _mean_std(f1s)
        scores[name] = {
            "kappa": kappas,
            "kappa_mean": kappa_mean,
            "kappa_std": kappa_std,
            "f1_macro": f1s,
            "f1_macro_mean": f1_mean,
            "f1_macro_std": f1_std,
        }
        oof[name] = proba
    return CrossValidation(scores, per_repeat[0], oof)


def choose(scores: Mapping[str, Mapping[str, Any]]) -> tuple[str, str]:
    """The candidate to keep, and why: the simplest (candidate_names() order) whose mean kappa is within one standard
    deviation of the best candidate's per-fold kappas below the best mean. A difference inside the spread of the
    folds is not evidence that the more complex model grades better (issue 19: boosting won by 0.006 and lost on the
    holdout)."""
    best = max(scores, key=lambda n: (scores[n]["kappa_mean"], scores[n]["f1_macro_mean"]))
    bar = scores[best]["kappa_mean"] - scores[best]["kappa_std"]
    order = [n for n in candidate_names() if n in scores] + [n for n in scores if n not in candidate_names()]
    chosen = next(n for n in order if scores[n]["kappa_mean"] >= bar)
    if chosen == best:
        return chosen, f"best mean kappa ({scores[best]['kappa_mean']:.3f}); no simpler candidate within its spread"
    return chosen, (
        f"simplest within the spread of the best ({best}: {scores[best]['kappa_mean']:.3f} +- "
        f"{scores[best]['kappa_std']:.3f}; {chosen}: {scores[chosen]['kappa_mean']:.3f})"
    )


def calibrate_cv(
    data: TrainingData, template: Any, cv: CrossValidation, name: str, *, seed: int, progress: Progress | None = None
) -> dict[str, Any]:
    """Each calibration method on the first repeat's folds: in each fold, CalibratedClassifierCV calibrates inside the
    training part (folds by trainee) and is scored on the held-out part, beside the model's own probabilities
    ("none"). Returns the scores (Brier, ECE), the method chosen (lowest mean Brier; on a tie, none, then sigmoid) and
    its out-of-fold probabilities ("none" too when the data has too few trainees per grade to calibrate in every fold)."""
    import numpy as np

    from trainer.scoring.calibration import brier, ece
    from trainer.scoring.features import matrix

    X = matrix(data.contexts)
    y = data.grades
    truth = np.asarray(y)

    def summary(proba: Any, briers: list[float]) -> dict[str, Any]:
        conf, guess = proba.max(axis=1), proba.argmax(axis=1)
        mean, std = _mean_std(briers)
        return {"brier": briers, "brier_mean": mean, "brier_std": std, "ece": round(ece(conf, guess == truth), 6)}

    uncalibrated = cv.proba[name]
    results: dict[str, Any] = {
        "none": summary(
            uncalibrated, [round(brier(uncalibrated[test], [y[i] for i in test]), 6) for _, test in cv.folds]
        )
    }
    inner = []
    for train, _ in cv.folds:
        splits = calibration_splits([y[i] for i in train], [data.trainees[i] for i in train], seed)
        if splits is None:
            return {"method": "none", "why": "too few trainees per grade to calibrate inside every fold", "cv": results, "proba": uncalibrated}  # fmt: skip
        inner.append(splits)
    proba_of: dict[str, Any] = {}
    for method in CALIBRATIONS:
        proba = np.zeros((len(data), len(GRADES)))
        briers = []
        for k, ((train, test), splits) in enumerate(zip(cv.folds, inner, strict=True), start=1):
            what = f"calibration {method}: fold {k}/{len(cv.folds)}"
            if progress:
                progress(what, 0)
            _, p = _fold_fit(calibrated(template, method, splits), X, y, train, test)
            proba[test] = p
            briers.append(round(brier(p, [y[i] for i in test]), 6))
            if progress:
                progress(what, 1)
        results[method] = summary(proba, briers)
        proba_of[method] = proba
    proba_of["none"] = uncalibrated
    # "none" first: a calibration is kept only when it scores better than the model's own probabilities (a
    # multinomial logistic regression's are often better than any per-grade calibration of its scores)
    method = min(("none", *CALIBRATIONS), key=lambda m: results[m]["brier_mean"])
    return {"method": method, "why": "lowest mean Brier score on the folds", "cv": results, "proba": proba_of[method]}


def train_steps(data: TrainingData, n_splits: int = DEFAULT_SPLITS, repeats: int = DEFAULT_REPEATS) -> int:
    """How many progress units `train` reports: every fold of every candidate and repeat, every fold of each
    calibration, then the final fit."""
    k = min(n_splits, max(2, len(set(data.trainees))))
    return len(candidate_names()) * k * max(1, repeats) + len(CALIBRATIONS) * k + 1


def train(
    data: TrainingData,
    *,
    seed: int = 0,
    n_splits: int = DEFAULT_SPLITS,
    repeats: int = DEFAULT_REPEATS,
    progress: Progress | None = None,
    review_share: float = REVIEW_SHARE,
) -> TrainedModel:
    """Cross-validate the candidates, choose one, calibrate it, choose the review threshold, refit it on all rows, and
    describe all of it in the metadata."""
    import numpy
    import scipy
    import sklearn
    import skops

    from trainer.scoring.calibration import queue, threshold_for_share

    if len(data) == 0:
        raise ModelError("the data holds no labelled mistakes; label some sessions first (trainer label)")
    if len(set(data.grades)) < 2:
        raise ModelError(f"every label is {GRADES[data.grades[0]]!r}; a model needs at least two different grades")
    if not 0 < review_share < 1:
        raise ModelError(f"the review share must be between 0 and 1, not {review_share}")
    cv = cross_validate(data, seed=seed, n_splits=n_splits, repeats=repeats, progress=progress)
    chosen, why = choose(cv.scores)
    template = pipeline_for(chosen, seed)
    calibration = calibrate_cv(data, template, cv, chosen, seed=seed, progress=progress)
    proba = calibration.pop("proba")
    confidence = proba.max(axis=1).tolist()
    wrong = (proba.argmax(axis=1) != numpy.asarray(data.grades)).tolist()
    threshold = threshold_for_share(confidence, review_share)
    at = queue(confidence, wrong, threshold)
    if progress:
        progress(f"fitting {chosen} on all data", 0)
    final_splits = calibration_splits(data.grades, data.trainees, seed) if calibration["method"] != "none" else None
    if final_splits is None:
        calibration.update(method="none", why=calibration.get("why") if calibration["method"] == "none" else "too few trainees per grade to calibrate on all data")  # fmt: skip
        pipeline = _fit(template, data)
    else:
        pipeline = _fit(calibrated(template, calibration["method"], final_splits), data)
        # the fitted calibration no longer needs its folds: keep their number, not thousands of row indices, in the file
        pipeline.steps[-1][1].set_params(cv=len(final_splits))
    calibration["splits"] = CALIBRATION_SPLITS
    if progress:
        progress(f"fitting {chosen} on all data", 1)
    counts = Counter(GRADES[g] for g in data.grades)
    metadata = {
        "format": MODEL_FORMAT,
        "trainer": __version__,
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "features": {"categorical": list(CATEGORICAL), "numeric": list(NUMERIC)},
        "grades": list(GRADES),
        "chosen": chosen.removesuffix(WEIGHTED),
        "candidate": chosen,
        "class_weight": "balanced" if chosen.endswith(WEIGHTED) else None,
        "why": why,
        "params": {k: _plain(v) for k, v in classifier_of(pipeline).get_params().items()},
        "seed": seed,
        "cv": {
            "splitter": "StratifiedGroupKFold by trainee",
            "n_splits": len(cv.folds),
            "repeats": max(1, repeats),
            **cv.scores,
        },
        "calibration": calibration,
        "review_below": threshold,
        "review": {
            "share_target": review_share,
            "flagged": round(at.flagged, 6),
            "caught": round(at.caught, 6),
            "wrong": round(sum(wrong) / len(wrong), 6),
            "from": "out-of-fold calibrated probabilities of the first cross-validation repeat",
        },
        "data": [vars(f) for f in data.files],
        "rows": len(data),
        "sessions": sum(f.sessions for f in data.files),
        "trainees": len(set(data.trainees)),
        "label_counts": {g: counts.get(g, 0) for g in GRADES},
        "labellers": dict(sorted(Counter(data.labellers).items())),
        "courses": data.courses,
    }
    return TrainedModel(pipeline, metadata)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return repr(value)


# --- saving and loading -----------------------------------------------------------------------------------------------


def metadata_path(path: str | Path) -> Path:
    return Path(path).with_suffix(".json")


def signature_path(path: str | Path) -> Path:
    return Path(path).with_suffix(".sig")


def save(model: TrainedModel, path: str | Path, *, force: bool = False) -> Path:
    """Write the model (skops) and its metadata (JSON, with the model file's SHA-256) beside it, and sign both when the
    site has a key (so that a model trained here is accepted here).

    Both through trainer.outfile: whole or not at all, existing files replaced only with `force`.
    """
    import zipfile

    import skops.io as sio

    path = Path(path)
    if path.suffix != ".skops":
        raise ModelError(f"{path}: a model file name must end in .skops (its metadata goes beside it as .json)")
    check_writable(path, force=force)
    key = _site_key(path)
    digest: list[str] = []

    def fill(tmp: Path) -> None:
        sio.dump(model.pipeline, tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        digest.append(file_sha256(tmp))

    outfile.write(path, fill, "model", force=force, make_folder=True)
    meta = {
        **model.metadata,
        "model_file": path.name,
        "model_sha256": digest[0],
        "trained_at": model.metadata.get("trained_at") or datetime.now(UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    outfile.write(
        metadata_path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"), "model's metadata", force=force
    )
    try:
        signature_path(path).unlink(missing_ok=True)  # a signature of the model this one replaces
    except OSError as exc:
        raise ModelError(f"{signature_path(path)}: cannot remove the old signature ({exc.strerror or exc})") from None
    model.metadata = meta
    model.path = path
    if key is not None:
        model.signed_by = sign(path, key)
    return path


def check_writable(path: str | Path, *, force: bool = False) -> None:
    """Fail before training (minutes) when the model or its metadata may not be written (trainer.outfile's rules)."""
    path = Path(path)
    outfile.check(path, "model", force=force, make_folder=True)
    outfile.check(metadata_path(path), "model's metadata", force=force, make_folder=True)


def _site_key(path: Path) -> bytes | None:
    from trainer.sitekey import SiteKeyError, site_key

    try:
        return site_key()
    except SiteKeyError as exc:
        raise ModelError(f"{path}: {exc}") from None


def _signed_text(path: Path, meta: Mapping[str, Any]) -> bytes:
    """What a signature covers: the model file's SHA-256 and the whole metadata (courses, review threshold, ...)."""
    canonical = json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{file_sha256(path)}\n{canonical}".encode()


def sign(path: str | Path, key: bytes) -> str:
    """Write NAME.sig: an HMAC-SHA256, with the site key, of the model file and its metadata. Returns the key id.
    The model is checked first (every check of load() but the signature): only a model this Trainer accepts is signed."""
    from trainer.sitekey import key_id, mac

    path = Path(path)
    load(path, signature=False)
    meta = read_metadata(path)
    record = {
        "format": SIGNATURE_FORMAT,
        "key_id": key_id(key),
        "hmac_sha256": mac(key, SIGNATURE_FORMAT, _signed_text(path, meta)),
    }
    text = json.dumps(record, indent=2) + "\n"
    # Re-signing replaces the old signature: it belongs to the model, which the caller names on purpose.
    outfile.write(signature_path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"), "signature", force=True)
    return record["key_id"]


def verify_signature(path: Path, meta: Mapping[str, Any], key: bytes) -> str:
    """The key id of NAME.sig when it is this site's signature of the model and its metadata; else a ModelError."""
    from trainer.sitekey import key_id, mac

    sig = signature_path(path)
    try:
        record = json.loads(sig.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"{path}: not signed (no {sig.name}) and this site accepts only models signed with its key; "
            f"sign it on a trusted machine with `trainer model sign --model {path}`"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{sig}: unreadable signature ({exc.__class__.__name__}); the model was not loaded") from None
    if not isinstance(record, dict) or record.get("format") != SIGNATURE_FORMAT:
        raise ModelError(f"{sig}: not a Trainer model signature ({SIGNATURE_FORMAT}); the model was not loaded")
    expected = mac(key, SIGNATURE_FORMAT, _signed_text(path, meta))
    if not hmac.compare_digest(str(record.get("hmac_sha256", "")), expected):
        other = record.get("key_id") != key_id(key)
        raise ModelError(
            f"{path}: its signature does not verify "
            + (
                "(signed with another key than this site's)"
                if other
                else "(the model or its metadata changed after signing)"
            )
            + "; it was not loaded"
        )
    return key_id(key)


def read_metadata(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    meta_file = metadata_path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no model file here")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"{path}: its metadata {meta_file.name} is missing; a model is only loaded with its metadata"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{meta_file}: unreadable model metadata ({exc}); retrain or reinstall the model") from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ModelError(f"{meta_file}: not Trainer model metadata (format {MODEL_FORMAT} expected)")
    return meta


def load(path: str | Path, *, signature: bool = True) -> TrainedModel:
    """Load a model after checking its hash, its signature (when the site has a key), the types it holds and its
    feature list, then check what was built (modelcheck.check) before anything uses it. Raises ModelError.
    `signature=False` skips the signature (for `sign`, which is about to write one)."""
    import zipfile

    import skops.io as sio

    from trainer.scoring.modelcheck import UnsafeModel, check

    path = Path(path)
    meta = read_metadata(path)
    actual = file_sha256(path)
    if actual != meta.get("model_sha256"):
        raise ModelError(
            f"{path}: SHA-256 {actual[:12]}... differs from its metadata ({str(meta.get('model_sha256'))[:12]}...): "
            "the file was changed after training; it was not loaded"
        )
    key = _site_key(path) if signature else None
    signed_by = verify_signature(path, meta, key) if key is not None else ""
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ModelError(f"{path}: not a skops model file ({exc.__class__.__name__}); it was not loaded") from None
    unexpected = sorted(set(untrusted) - set(TRUSTED))
    if unexpected:
        shown = ", ".join(unexpected[:3]) + (", ..." if len(unexpected) > 3 else "")
        raise ModelError(f"{path}: holds types Trainer does not trust ({shown}); it was not loaded")
    features = meta.get("features", {})
    if list(features.get("categorical", ())) != list(CATEGORICAL) or list(features.get("numeric", ())) != list(NUMERIC):
        raise ModelError(
            f"{path}: trained on another feature list than this Trainer computes; retrain it with `trainer model train`"
        )
    below = meta.get("review_below")
    if isinstance(below, bool) or not isinstance(below, int | float) or not 0 <= below <= 1:
        raise ModelError(
            f"{path}: its metadata's review threshold (review_below) {below!r} is not a confidence from 0 to 1; "
            "retrain it with `trainer model train`"
        )
    try:
        pipeline = sio.load(path, trusted=list(TRUSTED))
    except Exception as exc:  # skops raises many kinds for a damaged file; none of the file's code has run
        raise ModelError(f"{path}: cannot be loaded ({exc.__class__.__name__}: {exc}); retrain it") from None
    try:
        with one_thread():
            checked = check(pipeline)
    except UnsafeModel as exc:
        raise ModelError(f"{path}: {exc}; it was not used") from None
    return TrainedModel(pipeline, meta, path, checked=checked, signed_by=signed_by)


def problems(model: TrainedModel) -> list[str]:
    """Warnings about a loaded model: library versions that differ from the ones it was trained with."""
    import sklearn

    out = []
    if model.metadata.get("sklearn") != sklearn.__version__:
        out.append(
            f"trained with scikit-learn {model.metadata.get('sklearn')}, running {sklearn.__version__}: "
            "retrain to be sure the predictions are the same"
        )
    return out
