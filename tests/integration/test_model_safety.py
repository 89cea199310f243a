"""Crafted model files through the CLI: a fuzz of the trees' arrays is refused in one line and never crashes the process,
a refused model leaves `trainer play` scoring by the rubric, and a site key makes the CLI accept only signed models.

Each crafted file gets a matching SHA-256 in its metadata (what an attacker who can write the file would do): the digest
proves integrity, not origin. Mutants are written by editing the arrays inside the skops archive.
"""

from __future__ import annotations

import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from trainer.cli import main
from trainer.course.loader import load_course
from trainer.engine.events import EventKind
from trainer.scoring import model as M
from trainer.scoring.detect import detect
from trainer.scoring.grade import DEFAULT_MODEL
from trainer.scoring.labelled import file_sha256
from trainer.scoring.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
PRESS = load_course(ROOT / "courses" / "press-loto-die-change.yaml")
N_MUTANTS = int(os.environ.get("TRAINER_FUZZ_MODELS", "40"))


def trainer(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m trainer ...` in its own process: a crash shows as a negative return code, not a dead test run."""
    return subprocess.run(
        [sys.executable, "-m", "trainer", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        timeout=300,
    )


# --- writing crafted models ---------------------------------------------------------------------------------------


def tree_files(schema: dict) -> list[dict[str, str]]:
    """For each TreePredictor in the archive, in the model's order: the .npy member of each of its arrays."""
    out: list[dict[str, str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("__class__") == "TreePredictor":
                out.append({k: v["file"] for k, v in node["content"]["content"].items()})
                return
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    return out


class Archive:
    """The bundled model's skops archive, read once; `write` saves a copy with some tree arrays replaced."""

    def __init__(self, path: Path):
        with zipfile.ZipFile(path) as z:
            self.members = {name: z.read(name) for name in z.namelist()}
        self.trees = tree_files(json.loads(self.members["schema.json"]))
        self.meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))

    def array(self, tree: int, part: str = "nodes") -> np.ndarray:
        return np.load(io.BytesIO(self.members[self.trees[tree][part]]), allow_pickle=False)

    def write(self, path: Path, arrays: dict[tuple[int, str], np.ndarray]) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        members = dict(self.members)
        for (tree, part), value in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, value, allow_pickle=False)
            members[self.trees[tree][part]] = buffer.getvalue()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
            for name, data in members.items():
                z.writestr(name, data)
        meta = {**self.meta, "model_sha256": file_sha256(path)}  # the attacker rewrites the digest
        path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def tree_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A boosting model (trees) trained on the starter data as `trainer model train` does: the shipped model is
    whichever candidate cross-validation keeps (logistic regression when boosting is not better beyond the spread),
    and a site's own training may keep boosting, whose tree arrays are what a crafted file attacks."""
    if Archive(DEFAULT_MODEL).trees:
        return DEFAULT_MODEL
    data = M.load_data([ROOT / "data" / "starter" / "holdout.jsonl.gz"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(M, "choose", lambda scores: ("hist-gradient-boosting", "the fuzz tests need trees"))
        trained = M.train(data, seed=0, n_splits=2, repeats=1)
    return M.save(trained, tmp_path_factory.mktemp("boosting") / "model.skops")


@pytest.fixture(scope="module")
def archive(tree_model: Path) -> Archive:
    return Archive(tree_model)


FIELDS = (
    "left",
    "right",
    "feature_idx",
    "bitset_idx",
    "is_leaf",
    "is_categorical",
    "missing_go_to_left",
    "num_threshold",
    "value",
)


def mutate(nodes: np.ndarray, field: str, rng: random.Random, n_bitsets: int) -> str:
    """Change one node's field to a value the compiled predictor must never see; returns what was done."""
    n = len(nodes)
    splits = np.flatnonzero(nodes["is_leaf"] == 0).tolist()
    leaves = np.flatnonzero(nodes["is_leaf"] == 1).tolist()
    node = rng.choice(splits)
    if field in ("left", "right"):
        value = rng.choice([n, n + rng.randrange(1, 5000), 2**31, 2**32 - 1, node, 0, rng.randrange(0, node + 1)])
    elif field == "feature_idx":
        value = rng.choice([19, 20, 1000, 2**40, -1, -(2**62)])
    elif field == "bitset_idx":
        categorical = [i for i in splits if nodes["is_categorical"][i]]
        node = rng.choice(categorical) if categorical else node
        nodes["is_categorical"][node] = 1
        nodes["feature_idx"][node] = rng.randrange(0, 7)  # a categorical feature: only the set index is wrong
        value = rng.choice([n_bitsets, n_bitsets + rng.randrange(1, 100), 2**32 - 1])
    elif field == "is_leaf":
        node, value = rng.choice([(node, 1), (rng.choice(leaves), 0), (rng.choice(leaves), rng.randrange(2, 256))])
    elif field == "is_categorical":
        numeric = [i for i in splits if nodes["feature_idx"][i] >= 7]
        node, value = rng.choice([(node, rng.randrange(2, 256))] + [(i, 1) for i in numeric[:1]])
    elif field == "missing_go_to_left":
        node, value = rng.choice([node, rng.choice(leaves)]), rng.randrange(2, 256)
    elif field == "num_threshold":
        numeric = [i for i in splits if not nodes["is_categorical"][i]] or splits
        node, value = rng.choice(numeric), float("nan")
    else:  # value
        node, value = rng.choice(leaves), rng.choice([float("nan"), float("inf"), -float("inf"), 1e300, -1e30])
    nodes[field][node] = value
    return f"{field}[{node}] = {value}"


def mutants(archive: Archive, folder: Path, count: int, seed: int = 15) -> list[tuple[Path, str]]:
    """`count` crafted models: each field of the node records in turn (plus more edits in other trees), and arrays of
    the wrong type or shape."""
    rng = random.Random(seed)
    n_trees = len(archive.trees)
    whole = [
        ("nodes of float64", lambda t: {(t, "nodes"): np.zeros(len(archive.array(t)), dtype=np.float64)}),
        ("no nodes", lambda t: {(t, "nodes"): archive.array(t)[:0]}),
        ("nodes 2-D", lambda t: {(t, "nodes"): np.stack([archive.array(t)] * 2)}),
        (
            "bitsets of float64",
            lambda t: {(t, "raw_left_cat_bitsets"): archive.array(t, "raw_left_cat_bitsets").astype(np.float64)},
        ),  # fmt: skip
        ("bitsets 4 wide", lambda t: {(t, "raw_left_cat_bitsets"): np.zeros((5, 4), dtype=np.uint32)}),
        ("no bitsets", lambda t: {(t, "raw_left_cat_bitsets"): np.zeros((0, 8), dtype=np.uint32)}),
    ]
    out = []
    for k in range(count):
        if k % 8 == 7:
            what, make = whole[(k // 8) % len(whole)]
            tree = rng.randrange(n_trees)
            if what == "no bitsets":  # only refused for a tree with a categorical split
                tree = next(
                    t
                    for t in rng.sample(range(n_trees), n_trees)
                    if (archive.array(t)["is_categorical"] & (archive.array(t)["is_leaf"] == 0)).any()
                )
            arrays, done = make(tree), [f"tree {tree}: {what}"]
        else:
            arrays, done = {}, []
            for j, tree in enumerate(rng.sample(range(n_trees), rng.randint(1, 3))):
                nodes = archive.array(tree).copy()
                field = FIELDS[k % len(FIELDS)] if j == 0 else rng.choice(FIELDS)
                n_bitsets = len(archive.array(tree, "raw_left_cat_bitsets"))
                done.append(f"tree {tree}: {mutate(nodes, field, rng, n_bitsets)}")
                arrays[(tree, "nodes")] = nodes
        out.append((archive.write(folder / f"m{k}" / "model.skops", arrays), "; ".join(done)))
    return out


@pytest.fixture(scope="module")
def scored_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with finished sessions of a course the bundled model grades, some with mistakes."""
    folder = tmp_path_factory.mktemp("db")
    db = folder / "trainer.db"
    played = 0
    for s in simulate([PRESS], 40, 7):
        kinds = {e.kind for e in s.events}
        if EventKind.TIMED_OUT in kinds or EventKind.ABORTED in kinds or not detect(PRESS, s.events):
            continue
        lines, last = [], 0
        for e in s.events:
            if e.kind is EventKind.CHOSE:
                lines.append(f"{(e.t_ms - last) / 1000:g} {e.action}")
                last = e.t_ms
        script = folder / f"s{played}.txt"
        script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        args = ["play", "press-loto-die-change", "--badge", f"F{played}", "--name", "F", "--department", "D"]
        assert main([*args, "--script", str(script), "--seed", str(s.seed), "--db", str(db)]) == 0
        played += 1
        if played == 3:
            break
    assert played == 3
    return db


# Runs `trainer <args>` once per line of its input, each in a child forked from a process that has imported Trainer and
# scikit-learn once (importing them is most of a fresh `python -m trainer`'s 2 s): the child is a separate process, so a
# crash shows as a signal in its status (a hang as SIGALRM). Output: one JSON line per run, {"status": exit code or -signal, "stderr": ...}.
FORKER = """
import json, os, signal, sys, tempfile
from trainer.cli import main
import sklearn.ensemble, sklearn.linear_model, skops.io  # before forking: what every child needs
for line in sys.stdin:
    args = json.loads(line)
    err = tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:
        signal.alarm(120)  # a tree with a loop would make the predictor run forever: SIGALRM ends the child
        os.dup2(err.fileno(), 2)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # this runner's stdout carries only the results
        code = 70
        try:
            code = main(args)
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    err.seek(0)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({"status": code, "stderr": err.read().decode(errors="replace")}), flush=True)
"""


def run_forked(commands: list[list[str]]) -> list[dict]:
    """FORKER in two processes (the machine's two cores), half of the commands each; results in the commands' order."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    halves = [commands[0::2], commands[1::2]]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", FORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in halves
    ]
    outs = [
        p.communicate("".join(json.dumps(c) + "\n" for c in half), timeout=600)[0]
        for p, half in zip(procs, halves, strict=True)
    ]
    results = [[json.loads(line) for line in out.splitlines()] for out in outs]
    assert [len(r) for r in results] == [len(h) for h in halves], "the forking runner itself died"
    merged = []
    for k in range(len(commands)):
        merged.append(results[k % 2][k // 2])
    return merged


@pytest.mark.slow  # minutes: every mutant through the real loader (pytest -m slow; CI runs it)
def test_crafted_tree_arrays_are_refused_in_one_line_and_never_crash(archive: Archive, scored_db: Path, tmp_path: Path):
    """Every mutant: exit 1 and one line naming the file, from `model info` (even ones) or `score --all` (odd ones).
    Before the checks, an index out of range passed `model info` and `score` died of a segmentation fault."""
    crafted = mutants(archive, tmp_path, N_MUTANTS)
    commands = [
        ["model", "info", "--model", str(path)]
        if k % 2 == 0
        else ["score", "--all", "--db", str(scored_db), "--model", str(path)]
        for k, (path, _) in enumerate(crafted)
    ]
    failures = []
    for k, ((path, done), r) in enumerate(zip(crafted, run_forked(commands), strict=True)):
        lines = r["stderr"].strip().splitlines()
        ok = r["status"] == 1 and len(lines) == 1 and lines[0].startswith(f"trainer: error: {path}: ")
        if not ok:
            failures.append(f"mutant {k} ({done}): exit {r['status']}, stderr {r['stderr'][-300:]!r}")
    assert not failures, "\n".join(failures)


def test_a_crafted_model_is_refused_by_the_real_entry_point(archive: Archive, scored_db: Path, tmp_path: Path):
    """The same through `python -m trainer score` itself (before: a segmentation fault, exit -11)."""
    nodes = archive.array(5).copy()
    nodes["feature_idx"][0] = 2**40  # X[row, 2**40]: far outside any mapped memory
    bad = archive.write(tmp_path / "bad" / "model.skops", {(5, "nodes"): nodes})
    r = trainer("score", "--all", "--db", str(scored_db), "--model", str(bad))
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(
        f"trainer: error: {bad}: tree 1 of class 'minor', node 0: splits on feature 1099511627776"
    )


def test_a_crafted_model_leaves_play_scoring_by_the_rubric(archive: Archive, scored_db: Path, tmp_path: Path):
    """TRAINER_MODEL pointing at a crafted model: the session ends, is scored by the rubric and stored, exit 0 (before:
    a segmentation fault after the last answer, and the session left unscored)."""
    nodes = archive.array(14).copy()
    nodes["left"][0] = nodes["right"][0] = 2**32 - 1  # nodes[4294967295]: far outside any mapped memory
    bad = archive.write(tmp_path / "bad" / "model.skops", {(14, "nodes"): nodes})
    script = sorted(scored_db.parent.glob("s*.txt"))[0]
    db = tmp_path / "play.db"
    seed = next(s.seed for s in simulate([PRESS], 40, 7) if not {EventKind.TIMED_OUT, EventKind.ABORTED} & {e.kind for e in s.events} and detect(PRESS, s.events))  # fmt: skip
    r = trainer(
        *("play", "press-loto-die-change", "--badge", "P1", "--name", "P", "--department", "D"),
        *("--script", str(script), "--seed", str(seed), "--db", str(db)),
        TRAINER_MODEL=str(bad),
    )
    assert r.returncode == 0, r.stderr
    assert "outcome: " in r.stdout and ", score " in r.stdout
    with sqlite3.connect(db) as con:
        scorers = [row[0] for row in con.execute("SELECT scorer FROM scores")]
    assert scorers == ["rubric"]


def test_the_bundled_model_passes_every_check():
    model = M.load(DEFAULT_MODEL)
    assert model.checked.kind == {"logistic-regression": "LogisticRegression"}.get(
        model.metadata["chosen"], "HistGradientBoostingClassifier"
    )


def test_a_boosting_model_passes_every_check(tree_model: Path):
    model = M.load(tree_model)
    assert model.checked.kind == "HistGradientBoostingClassifier" and model.checked.trees >= 4 * 4
    assert model.checked.nodes > model.checked.trees


def test_one_line_names_the_tree_the_class_and_the_node(archive: Archive, tmp_path: Path):
    tree = 3 * 4 + 2  # round 3, the third tree of the round: class 'serious'
    nodes = archive.array(tree).copy()
    nodes["left"][0] = 999
    path = archive.write(tmp_path / "m" / "model.skops", {(tree, "nodes"): nodes})
    with pytest.raises(M.ModelError) as caught:
        M.load(path)
    assert str(caught.value) == (
        f"{path}: tree 3 of class 'serious', node 0: left child 999 is outside the tree's {len(nodes)} nodes; "
        "it was not used"
    )


# --- trained models pass -------------------------------------------------------------------------------------------


def test_trainer_model_train_output_passes_the_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    data, out = tmp_path / "train.jsonl.gz", tmp_path / "m" / "model.skops"
    assert main(["simulate", "--course", "press-loto-die-change", "--n", "120", "--seed", "3", "--label", "reference", "--out", str(data)]) == 0  # fmt: skip
    assert main(["model", "train", "--data", str(data), "--out", str(out), "--splits", "2", "--repeats", "1"]) == 0
    capsys.readouterr()
    assert main(["model", "info", "--model", str(out)]) == 0
    assert "content    checked: " in capsys.readouterr().out


# --- the site key ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A logistic-regression model (quick to load) saved without a site key."""
    from trainer.scoring import labelled
    from trainer.scoring.raters import label_line

    folder = tmp_path_factory.mktemp("small")
    rows = [
        label_line(
            labelled.record(s.course, s.events, session=s.session, trainee=s.trainee, seed=s.seed, profile=s.profile)
        )  # fmt: skip
        for s in simulate([PRESS], 60, 21)
    ]
    labelled.write(folder / "d.jsonl", rows)
    data = M.load_data([folder / "d.jsonl"])
    pipeline = M._fit(M.candidates(0)["logistic-regression"], data)
    meta = {
        "format": M.MODEL_FORMAT,
        "features": {"categorical": list(M.CATEGORICAL), "numeric": list(M.NUMERIC)},
        "review_below": 0.5,  # every model's metadata holds its review threshold (load() refuses one without)
    }
    saved = M.save(M.TrainedModel(pipeline, meta), folder / "model.skops")
    assert not M.signature_path(saved).exists()
    return saved


def copy(model: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".skops", ".json", ".sig"):
        if model.with_suffix(suffix).exists():
            (folder / f"model{suffix}").write_bytes(model.with_suffix(suffix).read_bytes())
    return folder / "model.skops"


@pytest.fixture
def site_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    key = os.urandom(32).hex().encode()
    (tmp_path / "site.key").write_bytes(key + b"\n")
    monkeypatch.setenv("TRAINER_SITE_KEY_FILE", str(tmp_path / "site.key"))
    return key


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_without_a_site_key_an_unsigned_model_is_used_and_info_says_what_the_digest_proves(
    small_model: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("TRAINER_SITE_KEY_FILE", raising=False)
    code, out, _ = cli(capsys, "model", "info", "--model", str(small_model))
    assert code == 0
    assert "signature not checked: this site has no key" in " ".join(out.split())


def test_with_a_site_key_only_a_model_signed_with_it_is_used(
    small_model: Path, site_key: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = copy(small_model, tmp_path / "m")
    code, _, err = cli(capsys, "model", "info", "--model", str(path))
    assert code == 1 and err.count("\n") == 1
    assert f"{path}: not signed (no model.sig)" in err and "trainer model sign" in err

    code, out, err = cli(capsys, "model", "sign", "--model", str(path))
    assert code == 0, err
    sig = json.loads(M.signature_path(path).read_text())
    assert f"with the site key {sig['key_id']}" in out
    code, out, err = cli(capsys, "model", "info", "--model", str(path))
    assert code == 0, err
    assert f"valid, site key {sig['key_id']}" in " ".join(out.split())
    assert site_key.decode() not in out + err + M.signature_path(path).read_text()  # the key is never shown


def test_a_signature_that_does_not_verify_is_refused(
    small_model: Path,
    site_key: bytes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    path = copy(small_model, tmp_path / "m")
    assert cli(capsys, "model", "sign", "--model", str(path))[0] == 0

    meta = json.loads(path.with_suffix(".json").read_text())  # the metadata is covered too: no lowered threshold
    path.with_suffix(".json").write_text(json.dumps({**meta, "review_below": 0.0}))
    code, _, err = cli(capsys, "model", "info", "--model", str(path))
    assert code == 1 and err.count("\n") == 1 and "the model or its metadata changed after signing" in err
    path.with_suffix(".json").write_text(json.dumps(meta))
    assert cli(capsys, "model", "info", "--model", str(path))[0] == 0

    other = tmp_path / "other.key"
    other.write_bytes(os.urandom(32).hex().encode())
    monkeypatch.setenv("TRAINER_SITE_KEY_FILE", str(other))
    code, _, err = cli(capsys, "model", "info", "--model", str(path))
    assert code == 1 and "signed with another key than this site's" in err

    M.signature_path(path).write_text("not json")
    code, _, err = cli(capsys, "model", "info", "--model", str(path))
    assert code == 1 and "unreadable signature" in err and err.count("\n") == 1


def test_a_refused_signature_makes_scoring_use_the_rubric(
    small_model: Path, site_key: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from trainer.scoring.grade import Grader

    path = copy(small_model, tmp_path / "m")
    monkeypatch.setenv("TRAINER_MODEL", str(path))
    grader = Grader.current()
    assert grader.model is None and "not signed" in grader.note


def test_a_site_key_file_that_cannot_be_used_is_an_error_not_a_silent_pass(
    small_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TRAINER_SITE_KEY_FILE", str(tmp_path / "missing.key"))
    code, _, err = cli(capsys, "model", "info", "--model", str(small_model))
    assert code == 1 and "cannot read the site key" in err and err.count("\n") == 1
    (tmp_path / "short.key").write_text("abc")
    monkeypatch.setenv("TRAINER_SITE_KEY_FILE", str(tmp_path / "short.key"))
    code, _, err = cli(capsys, "model", "sign", "--model", str(small_model))
    assert code == 1 and "fewer than 16" in err
    monkeypatch.delenv("TRAINER_SITE_KEY_FILE")
    code, _, err = cli(capsys, "model", "sign", "--model", str(small_model))
    assert code == 1 and "no site key: set TRAINER_SITE_KEY_FILE" in err


def test_a_model_trained_where_the_site_has_a_key_is_signed(small_model: Path, site_key: bytes, tmp_path: Path):
    trained = M.load(small_model, signature=False)
    saved = M.save(trained, tmp_path / "t" / "model.skops")
    assert M.signature_path(saved).exists()
    assert M.load(saved).signed_by == trained.signed_by != ""
