"""The grading model: training, reproducibility, learning an unseen rule, and loading only files that pass every check."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from trainer.course.loader import load_course
from trainer.scoring import labelled
from trainer.scoring import model as M
from trainer.scoring.features import GRADES
from trainer.scoring.grade import Grader
from trainer.scoring.raters import label_line
from trainer.scoring.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
PRESS = load_course(ROOT / "courses" / "press-loto-die-change.yaml")
FIRE = load_course(ROOT / "courses" / "fire-response.yaml")
MINI = load_course(ROOT / "tests" / "fixtures" / "mini_course.yaml")


def lines(n: int, seed: int, label=label_line, courses=(PRESS,)) -> list[dict]:
    out = []
    for s in simulate(list(courses), n, seed):
        line = labelled.record(s.course, s.events, session=s.session, trainee=s.trainee, seed=s.seed, profile=s.profile)
        out.append(label(line))
    return out


@pytest.fixture(scope="module")
def data_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("data")
    train, test = folder / "train.jsonl.gz", folder / "test.jsonl"
    labelled.write(train, lines(240, seed=11))
    labelled.write(test, lines(120, seed=12))
    return train, test


@pytest.fixture(scope="module")
def trained(data_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = M.load_data([data_files[0]])
    model = M.train(data, seed=3, n_splits=2, repeats=1)
    return M.save(model, tmp_path_factory.mktemp("model") / "model.skops")


def test_training_records_what_it_was_trained_on(trained: Path, data_files: tuple[Path, Path]):
    meta = json.loads(trained.with_suffix(".json").read_text())
    assert meta["model_sha256"] == labelled.file_sha256(trained)
    assert meta["features"]["categorical"][0] == "course" and "correction_s" in meta["features"]["numeric"]
    assert meta["data"][0]["sha256"] == labelled.file_sha256(data_files[0])
    assert meta["courses"] == {PRESS.id: {PRESS.version: [PRESS.content_hash]}}
    assert set(meta["cv"]) >= {"logistic-regression", "hist-gradient-boosting"} and meta["chosen"] in meta["cv"]
    assert meta["cv"]["n_splits"] == 2 and len(meta["cv"][meta["candidate"]]["kappa"]) == 2 * meta["cv"]["repeats"]
    assert meta["labellers"] == {"ref-pragmatic": meta["rows"] // 2, "ref-strict": meta["rows"] // 2}


def test_the_same_data_and_seed_give_the_same_scores(data_files: tuple[Path, Path], trained: Path):
    data = M.load_data([data_files[0]])
    again = M.train(data, seed=3, n_splits=2, repeats=1)
    first = M.load(trained)
    assert again.metadata["cv"] == first.metadata["cv"]
    test = M.load_data([data_files[1]])
    assert again.predict(test.contexts) == first.predict(test.contexts)


def test_the_model_beats_the_rubric_on_held_out_sessions(trained: Path, data_files: tuple[Path, Path]):
    from trainer.scoring.evaluate import evaluate

    ev = evaluate(M.load(trained), M.load_data([data_files[1]]), curve_points=0)
    assert ev.row("model").kappa > ev.row("rubric").kappa
    assert ev.row("model").kappa >= ev.row("raters (with each other)").kappa
    assert ev.row("dummy (most frequent)").kappa == 0
    assert sum(map(sum, ev.confusion)) == ev.labels and ev.per_course.keys() == {PRESS.id}


def unseen_rule(line: dict) -> dict:
    """Labels by a rule neither the raters nor the model's defaults know: correction time, repetition, what followed."""
    for m in line["mistakes"]:
        c = m["context"]
        if c["corrected"] and c["correction_s"] <= 20:
            grade = 0
        else:
            grade = 1 + (c["repeat"] >= 2) + bool(c["hazard_followed"] or c["outcome"] == "incident")
        m["labels"] = [{"severity": GRADES[grade], "labeller": "site-instructor"}]
    return line


def test_the_model_learns_a_rule_it_has_never_seen(tmp_path: Path):
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    labelled.write(train, lines(300, seed=21, label=unseen_rule))
    labelled.write(test, lines(150, seed=22, label=unseen_rule))
    model = M.train(M.load_data([train]), seed=0, n_splits=2, repeats=1)
    held_out = M.load_data([test])
    assert len(set(held_out.grades)) >= 3  # the rule really spreads the grades
    assert M.qwk(held_out.grades, model.predict_ranks(held_out.contexts)) >= 0.8


def repeat_rule(line: dict) -> dict:
    """A site's rule about repetition, which neither the raters nor the model's defaults know: a mistake is graded as
    declared (one lighter when put right within 20 s), and from its third time in the session one grade graver."""
    for m in line["mistakes"]:
        c = m["context"]
        grade = c["declared_rank"] - bool(c["corrected"] and c["correction_s"] <= 20) + (c["repeat"] >= 3)
        m["labels"] = [{"severity": GRADES[min(3, max(0, grade))], "labeller": "site-instructor"}]
    return line


def test_the_model_learns_an_unseen_rule_about_repeated_mistakes(tmp_path: Path):
    """Issue 19 item 4: trained on sessions relabelled by repeat_rule, graded on other trainees' sessions (another seed:
    other simulated trainees, so the split is grouped by trainee). Fire-response is where a mistake can be made three
    times (the extinguisher squeezed with its pin in); the press course adds sessions without repeats."""
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    labelled.write(train, lines(360, seed=31, label=repeat_rule, courses=(FIRE, PRESS)))
    labelled.write(test, lines(240, seed=32, label=repeat_rule, courses=(FIRE, PRESS)))
    model = M.train(M.load_data([train]), seed=0, n_splits=2, repeats=1)
    held_out = M.load_data([test])
    assert not set(held_out.trainees) & set(M.load_data([train]).trainees)
    predicted = model.predict_ranks(held_out.contexts)
    assert M.qwk(held_out.grades, predicted) >= 0.8
    repeated = [i for i, c in enumerate(held_out.contexts) if c["repeat"] >= 3]
    assert len(repeated) >= 10
    # the repeats themselves are graded by the rule: one grade graver than the same mistake made the first time
    right = sum(predicted[i] == held_out.grades[i] for i in repeated) / len(repeated)
    assert right >= 0.8


# --- loading refuses what it cannot trust ------------------------------------------------------------------------


def copy_model(src: Path, dest: Path) -> Path:
    dest.mkdir()
    (dest / "model.skops").write_bytes(src.read_bytes())
    (dest / "model.json").write_text(src.with_suffix(".json").read_text())
    return dest / "model.skops"


def rewrite_metadata(path: Path, **changes) -> None:
    meta = json.loads(path.with_suffix(".json").read_text())
    meta.update(changes)
    path.with_suffix(".json").write_text(json.dumps(meta))


def test_a_tampered_file_is_refused(trained: Path, tmp_path: Path):
    path = copy_model(trained, tmp_path / "m")
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(M.ModelError, match="SHA-256 .* differs from its metadata") as caught:
        M.load(path)
    assert "\n" not in str(caught.value)


class Boom:
    built = False

    def __setstate__(self, state):
        Boom.built = True


def test_a_file_holding_unexpected_types_is_refused_before_anything_is_built(trained: Path, tmp_path: Path):
    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    path = copy_model(trained, tmp_path / "m")
    sio.dump(Pipeline([("f", FunctionTransformer(print)), ("boom", FunctionTransformer(kw_args={"x": Boom()}))]), path)
    rewrite_metadata(path, model_sha256=labelled.file_sha256(path))
    with pytest.raises(M.ModelError, match="holds types Trainer does not trust") as caught:
        M.load(path)
    assert "builtins.print" in str(caught.value) or "Boom" in str(caught.value)
    assert not Boom.built


def test_a_plain_pickle_is_refused(trained: Path, tmp_path: Path):
    path = copy_model(trained, tmp_path / "m")
    path.write_bytes(pickle.dumps(M.load(trained).pipeline))
    rewrite_metadata(path, model_sha256=labelled.file_sha256(path))
    with pytest.raises(M.ModelError, match="not a skops model file"):
        M.load(path)


def test_a_model_for_another_feature_list_is_refused(trained: Path, tmp_path: Path):
    path = copy_model(trained, tmp_path / "m")
    rewrite_metadata(path, features={"categorical": ["course"], "numeric": ["repeat"]})
    with pytest.raises(M.ModelError, match="another feature list"):
        M.load(path)


def test_a_model_without_its_metadata_is_refused(trained: Path, tmp_path: Path):
    path = copy_model(trained, tmp_path / "m")
    path.with_suffix(".json").unlink()
    with pytest.raises(M.ModelError, match="metadata model.json is missing"):
        M.load(path)


def test_sessions_of_a_course_the_model_never_saw_are_graded_by_the_rubric_and_say_so(trained: Path):
    from trainer.engine.session import Session

    session = Session(MINI, 0, clock=lambda: 0)
    events = session.start() + session.choose("reach")
    result = Grader(M.load(trained)).score(MINI, events)
    assert result.scorer == "rubric" and "was not trained on mini 1.0" in result.note


def test_the_model_grades_each_mistake_with_a_confidence_and_flags_doubtful_ones(trained: Path):
    model = M.load(trained)
    grader = Grader(model)
    results = []
    for s in simulate([PRESS], 40, 5):
        results.append(grader.score(PRESS, s.events))
    deductions = [d for r in results for d in r.deductions + r.cleared]
    assert deductions and all(r.scorer == f"model {model.short_id}" for r in results)
    assert all(0.25 <= d.confidence <= 1 for d in deductions)
    assert all(d.review == (d.confidence < model.review_below) for d in deductions)
    batch = grader.score_many([(PRESS, s.events) for s in simulate([PRESS], 40, 5)])
    assert batch == results  # one model call for many sessions gives the same scores


def test_trainer_model_off_means_the_rubric(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRAINER_MODEL", "rubric")
    assert Grader.current().model is None


def test_a_course_edited_without_a_new_version_is_graded_but_every_grade_flagged(trained: Path):
    from dataclasses import replace

    edited = replace(PRESS, content_hash="0" * 64)
    from trainer.scoring.detect import detect

    sim = next(s for s in simulate([PRESS], 20, 6) if detect(PRESS, s.events))
    result = Grader(M.load(trained)).score(edited, sim.events)
    assert result.scorer.startswith("model ") and "trained on other content" in result.note
    assert all(d.review for d in result.deductions + result.cleared)


class _Payload:
    """A pickle that would create a file when unpickled: the classic attack on model files."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_payload_in_the_model_file_is_refused_and_never_runs(trained: Path, tmp_path: Path):
    marker = tmp_path / "pwned"
    path = copy_model(trained, tmp_path / "m")
    path.write_bytes(pickle.dumps(_Payload(marker)))
    rewrite_metadata(path, model_sha256=labelled.file_sha256(path))  # even with a matching hash
    with pytest.raises(M.ModelError):
        M.load(path)
    assert not marker.exists()
