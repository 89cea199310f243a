"""modelcheck: what Trainer trains passes; crafted content that skops lets through is refused in one line, naming it.

These load models in this process: each refused model here would be harmless to run or is refused before anything of
it runs. The crafted trees that would crash the process are tried in subprocesses (tests/integration/test_model_safety).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from trainer.course.loader import load_course
from trainer.scoring import labelled
from trainer.scoring import model as M
from trainer.scoring.modelcheck import UnsafeModel, check
from trainer.scoring.raters import label_line
from trainer.scoring.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
PRESS = load_course(ROOT / "courses" / "press-loto-die-change.yaml")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> M.TrainingData:
    path = tmp_path_factory.mktemp("data") / "d.jsonl"
    rows = []
    for s in simulate([PRESS], 80, 31):
        line = labelled.record(s.course, s.events, session=s.session, trainee=s.trainee, seed=s.seed, profile=s.profile)
        rows.append(label_line(line))
    labelled.write(path, rows)
    return M.load_data([path])


@pytest.fixture(scope="module")
def fitted(data: M.TrainingData) -> dict[str, object]:
    """Both candidates, fitted on four grades and on two."""
    binary = copy.copy(data)
    binary.grades = [min(g, 1) for g in data.grades]
    out = {}
    for name, pipeline in M.candidates(0).items():
        out[name] = M._fit(pipeline, data)
        out[f"{name}, 2 grades"] = M._fit(M.candidates(0)[name], binary)
    # calibrated on minor..critical ("none" is too rare here to be in every calibration fold, and train() would not
    # calibrate such data)
    graded = copy.copy(data)
    graded.grades = [max(g, 1) for g in data.grades]
    splits = M.calibration_splits(graded.grades, graded.trainees, 0)
    for name, method in (("hist-gradient-boosting", "isotonic"), ("logistic-regression", "sigmoid")):
        out[f"{name}, {method}"] = M._fit(M.calibrated(M.candidates(0)[name], method, splits), graded)
        out[f"{name}, {method}"].steps[-1][1].set_params(cv=len(splits))  # as train() keeps it
    return out


def save(pipeline: object, folder: Path) -> Path:
    meta = {
        "format": M.MODEL_FORMAT,
        "features": {"categorical": list(M.CATEGORICAL), "numeric": list(M.NUMERIC)},
        "review_below": 0.5,  # every model's metadata holds its review threshold (load() refuses one without)
    }
    return M.save(M.TrainedModel(pipeline, meta), folder / "model.skops")


def refused(pipeline: object, tmp_path: Path) -> str:
    """The one-line refusal of `pipeline` once saved (with a matching SHA-256) and loaded."""
    path = save(pipeline, tmp_path / "m")
    with pytest.raises(M.ModelError) as caught:
        M.load(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ") and message.endswith("; it was not used")
    return message


@pytest.mark.parametrize(
    "name",
    [
        "logistic-regression",
        "hist-gradient-boosting",
        "logistic-regression, 2 grades",
        "hist-gradient-boosting, 2 grades",
        "hist-gradient-boosting, isotonic",
        "logistic-regression, sigmoid",
    ],
)
def test_every_kind_of_model_trainer_trains_passes(fitted: dict[str, object], name: str, tmp_path: Path):
    loaded = M.load(save(fitted[name], tmp_path))
    assert loaded.checked.kind == type(M.classifier_of(fitted[name])).__name__
    assert (loaded.checked.trees > 0) == ("boosting" in name)
    assert loaded.checked.calibration == next((m for m in M.CALIBRATIONS if name.endswith(m)), "")


def test_an_estimator_skops_trusts_but_trainer_never_builds_is_refused(fitted: dict[str, object], tmp_path: Path):
    """skops trusts every scikit-learn estimator; an SVC hands its arrays to libsvm's compiled code."""
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    features = fitted["hist-gradient-boosting"].steps[0][1]
    svc = SVC(probability=True)
    svc.classes_ = np.arange(4)
    message = refused(Pipeline([("features", features), ("model", svc)]), tmp_path)
    assert "holds a sklearn.svm._classes.SVC (at the pipeline.steps[1][1])" in message


def largest_tree(pipeline: object) -> tuple[str, np.ndarray]:
    """The boosting's tree with the most nodes, as the refusal names it, and a copy of its nodes put in its place."""
    boosting = pipeline.steps[-1][1]
    i, k = max(
        ((i, k) for i, r in enumerate(boosting._predictors) for k in range(len(r))),
        key=lambda ik: len(boosting._predictors[ik[0]][ik[1]].nodes),
    )
    tree = boosting._predictors[i][k]
    tree.nodes = tree.nodes.copy()
    return f"tree {i} of class {M.GRADES[boosting.classes_[k]]!r}", tree.nodes


def test_a_tree_with_a_loop_is_refused(fitted: dict[str, object], tmp_path: Path):
    pipeline = copy.deepcopy(fitted["hist-gradient-boosting"])
    name, nodes = largest_tree(pipeline)
    inner = int(np.flatnonzero(nodes["is_leaf"] == 0)[1])  # a split below the root
    nodes["left"][inner] = 0  # back to the root: the compiled predictor would never stop
    message = refused(pipeline, tmp_path)
    assert f"{name}, node {inner}: left child 0 does not come after its parent (a loop)" in message


def test_a_node_with_two_parents_is_refused(fitted: dict[str, object], tmp_path: Path):
    pipeline = copy.deepcopy(fitted["hist-gradient-boosting"])
    name, nodes = largest_tree(pipeline)
    old_right, last = int(nodes["right"][0]), len(nodes) - 1
    assert old_right < last
    nodes["right"][0] = last  # the last node now has two parents, and the root's old right child none
    assert f"{name}, node {old_right}: is not reached from the root" in refused(pipeline, tmp_path)


def test_one_hot_codes_outside_the_encoders_columns_are_refused(fitted: dict[str, object], tmp_path: Path):
    pipeline = copy.deepcopy(fitted["logistic-regression"])
    encoder = pipeline.steps[0][1].transformers_[0][1]
    feature = next(i for i, m in enumerate(encoder._default_to_infrequent_mappings) if m is not None)
    encoder._default_to_infrequent_mappings[feature][:] = 10**8
    assert f"one-hot encoder, feature {feature}: codes up to 100000000 for its" in refused(pipeline, tmp_path)


def test_linear_coefficients_of_the_wrong_shape_are_refused(fitted: dict[str, object], tmp_path: Path):
    pipeline = copy.deepcopy(fitted["logistic-regression"])
    model = pipeline.steps[-1][1]
    model.coef_ = model.coef_[:, :-1]
    assert "its coefficients are not 4 x " in refused(pipeline, tmp_path)


def test_classes_outside_the_grades_are_refused(fitted: dict[str, object], tmp_path: Path):
    pipeline = copy.deepcopy(fitted["logistic-regression"])
    pipeline.steps[-1][1].classes_ = np.array([0, 1, 2, 7])
    assert "its classes are not distinct grades 0..3" in refused(pipeline, tmp_path)


def test_leaf_values_that_would_overflow_are_refused(fitted: dict[str, object]):
    pipeline = copy.deepcopy(fitted["hist-gradient-boosting"])
    tree = pipeline.steps[-1][1]._predictors[7][3]
    tree.nodes = tree.nodes.copy()
    leaf = int(np.flatnonzero(tree.nodes["is_leaf"])[0])
    tree.nodes["value"][leaf] = 1e300
    with pytest.raises(UnsafeModel, match=rf"tree 7 of class 'critical', node {leaf}: leaf value 1e\+300 is not"):
        check(pipeline)


def test_a_part_missing_from_the_boosting_is_refused_not_a_traceback(fitted: dict[str, object], tmp_path: Path):
    pipeline = copy.deepcopy(fitted["hist-gradient-boosting"])
    del pipeline.steps[-1][1]._bin_mapper
    assert "its parts are not those Trainer builds (AttributeError: " in refused(pipeline, tmp_path)


def calibrators(pipeline: object) -> list:
    return pipeline.steps[-1][1].calibrated_classifiers_[0].calibrators


@pytest.mark.parametrize(
    ("name", "damage", "problem"),
    [
        (
            "hist-gradient-boosting, isotonic",
            lambda c: c.X_thresholds_.__setitem__(0, np.nan),
            "calibrator 1: its thresholds are not as many finite numbers",
        ),  # fmt: skip
        (
            "hist-gradient-boosting, isotonic",
            lambda c: c.y_thresholds_.__setitem__(-1, 7.0),
            "calibrator 1: its thresholds are not sorted, or its values not probabilities",
        ),  # fmt: skip
        (
            "hist-gradient-boosting, isotonic",
            lambda c: setattr(c, "out_of_bounds", "raise"),
            "calibrator 1: it does not clip its input",
        ),  # fmt: skip
        (
            "logistic-regression, sigmoid",
            lambda c: setattr(c, "a_", float("inf")),
            "calibrator 1: its two numbers are not finite",
        ),  # fmt: skip
    ],
)
def test_calibrators_out_of_range_are_refused(
    fitted: dict[str, object], tmp_path: Path, name: str, damage, problem: str
):
    pipeline = copy.deepcopy(fitted[name])
    damage(calibrators(pipeline)[1])
    assert problem in refused(pipeline, tmp_path)


def test_a_calibration_holding_another_models_calibrators_is_refused(fitted: dict[str, object], tmp_path: Path):
    pipeline = copy.deepcopy(fitted["hist-gradient-boosting, isotonic"])
    calibrators(pipeline).pop()
    assert "its calibration does not hold 3 calibrator(s) for 3 grades" in refused(pipeline, tmp_path)


def test_a_model_whose_review_threshold_is_not_a_confidence_is_refused(fitted: dict[str, object], tmp_path: Path):
    path = save(fitted["logistic-regression"], tmp_path)
    meta = json.loads(path.with_suffix(".json").read_text())
    for bad in (1.5, "0.6", None):
        path.with_suffix(".json").write_text(json.dumps({**meta, "review_below": bad}))
        with pytest.raises(M.ModelError, match=r"review threshold \(review_below\) .* is not a confidence from 0 to 1"):
            M.load(path)
