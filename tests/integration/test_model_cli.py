"""The model end to end through the CLI: simulate, train, info, evaluate, score with history, label, export, import."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_store_migrations import _database_at

from trainer.cli import main
from trainer.course.loader import load_course
from trainer.engine.clock import ManualClock
from trainer.engine.events import EventKind
from trainer.scoring.simulate import simulate
from trainer.session_service import DurableSession
from trainer.store import Store, schema

ROOT = Path(__file__).resolve().parents[2]
PRESS = load_course(ROOT / "courses" / "press-loto-die-change.yaml")


def store_simulated(db: Path, n: int, seed: int) -> list[str]:
    """Play simulated sessions again through DurableSession (the app's way), so they are stored like real ones."""
    ids = []
    with Store.open(db, fsync_every_commit=False) as store:  # a throwaway database: no need to wait for the disk
        for s in simulate([PRESS], n, seed):
            store.upsert_trainee(s.trainee, "Sim", "stamping")
            clock = ManualClock()
            durable = DurableSession.begin(store, PRESS, s.trainee, seed=s.seed, clock=clock)
            for e in s.events:
                if e.seq <= len(durable.stored):
                    continue
                clock.ms = e.t_ms
                if e.kind is EventKind.CHOSE:
                    durable.tick() or durable.choose(str(e.action))
                elif e.kind is EventKind.TIMED_OUT:
                    durable.tick()
                elif e.kind is EventKind.ABORTED:
                    durable.tick() or durable.abort(str(e.data.get("reason")))
            assert durable.engine.ended and [x.event for x in durable.stored] == s.events
            ids.append(durable.id)
    return ids


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("flow")
    for args in (
        ["simulate", "--course", "press-loto-die-change", "--n", "150", "--seed", "1", "--label", "reference"],
        ["simulate", "--course", "press-loto-die-change", "--n", "80", "--seed", "2", "--label", "reference"],
    ):
        name = "train.jsonl.gz" if args[6] == "1" else "test.jsonl"
        assert main([*args, "--out", str(folder / name)]) == 0
    assert main(["model", "train", "--data", str(folder / "train.jsonl.gz"), "--out", str(folder / "m" / "model.skops"), "--splits", "2", "--repeats", "1"]) == 0  # fmt: skip
    return folder


def test_simulate_writes_unlabelled_sessions(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "s.jsonl"
    code, _, err = cli(
        capsys, "simulate", "--course", "press-loto-die-change", "--n", "12", "--seed", "4", "--out", str(out)
    )
    assert code == 0 and "12 session(s) of press-loto-die-change written" in err
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 12 and all(m["labels"] == [] for x in lines for m in x["mistakes"])
    assert {x["profile"] for x in lines} <= {"expert", "careful-novice", "hurried", "violator", "confused"}


def test_train_info_and_evaluate(model_dir: Path, capsys: pytest.CaptureFixture[str]):
    model = str(model_dir / "m" / "model.skops")
    code, out, _ = cli(capsys, "model", "info", "--model", model)
    assert code == 0 and "(checked)" in out and "press-loto-die-change 1.2.0" in out
    meta = json.loads((model_dir / "m" / "model.json").read_text())
    assert f"review below {meta['review_below']} confidence" in out and "calibration " in out
    assert meta["review_below"] != 0.6 and meta["review"]["flagged"] <= 0.15  # chosen from the data, not hard-coded
    report = model_dir / "report"
    code, out, _ = cli(
        capsys, "model", "evaluate", "--model", model, "--data", str(model_dir / "test.jsonl"),
        "--train", str(model_dir / "train.jsonl.gz"), "--report", str(report), "--curve", "2",
    )  # fmt: skip
    assert code == 0, out
    for row in (
        "model",
        "rubric",
        "dummy (most frequent)",
        "raters (with each other)",
        "confusion matrix",
        "learning curve",
        "expected calibration error (ECE)",
        "reliability",
        "per grade",
        "precision",
        "review queue",
        "wrong grades caught",
        f"{meta['review_below']:g} (the model's)",
        "agreement between labellers",
        "ref-pragmatic / ref-strict",
        "the rubric's kappa on the same rows is",
        "synthetic: code",
    ):
        assert row in out, row
    written = json.loads((report / "report.json").read_text())
    assert 0 <= written["ece"] <= 1
    assert [c["grade"] for c in written["per_class"]] == ["none", "minor", "serious", "critical"]
    assert any(q["threshold"] == meta["review_below"] for q in written["review"])
    curve = written["learning_curve"]
    beats = written["beats_rubric_from"]  # how many labels this site's model needs to grade better than the rubric
    assert all(p["labels"] > 0 for p in curve) and written["learning_curve_rubric"] is not None
    assert beats is None or any(p["sessions"] == beats["sessions"] and p["labels"] == beats["labels"] for p in curve)
    kappa = {r["name"]: r["kappa"] for r in written["overall"]}
    assert kappa["model"] > kappa["rubric"]
    assert (report / "confusion.svg").exists() or (report / "confusion.png").exists()


def test_a_tampered_model_is_one_line_error(model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    bad = tmp_path / "model.skops"
    bad.write_bytes((model_dir / "m" / "model.skops").read_bytes() + b"x")
    (tmp_path / "model.json").write_text((model_dir / "m" / "model.json").read_text())
    code, _, err = cli(capsys, "model", "info", "--model", str(bad))
    assert code == 1 and err.count("\n") == 1 and "differs from its metadata" in err


def test_sessions_are_scored_by_the_model_shown_rescored_and_kept_in_history(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    db = tmp_path / "t.db"
    monkeypatch.setenv("TRAINER_DB", str(db))
    monkeypatch.setenv("TRAINER_MODEL", str(model_dir / "m" / "model.skops"))
    ids = store_simulated(db, 12, 8)
    with Store.open(db) as store:
        first = {sid: store.scores(sid) for sid in ids}
    assert all(len(h) == 1 and h[0].scorer.startswith("model ") for h in first.values())
    with_mistakes = next(sid for sid in ids if json.loads(first[sid][0].details))
    code, out, _ = cli(capsys, "sessions", "show", with_mistakes[:8])
    assert code == 0 and "graded by model" in out and "%" in out

    code, out, _ = cli(capsys, "score", "--session", with_mistakes, "--model", "rubric")
    assert code == 0 and "graded by rubric" in out
    code, out, _ = cli(capsys, "score", "--all")
    assert code == 0 and "12 session(s) rescored with model" in out
    with Store.open(db) as store:
        history = store.scores(with_mistakes)
        record = store.session(with_mistakes)
    assert [h.scorer.split()[0] for h in history] == ["model", "rubric", "model"]
    assert (record.score, record.passed) == (history[-1].score, history[-1].passed)
    code, out, _ = cli(capsys, "score", "--all", "--since", "2000-01-01", "--dry-run")
    assert "(nothing stored)" in out
    with Store.open(db) as store:
        assert len(store.scores(with_mistakes)) == 3


def test_label_walkthrough_export_and_import(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    db = tmp_path / "t.db"
    monkeypatch.setenv("TRAINER_DB", str(db))
    monkeypatch.setenv("TRAINER_MODEL", "rubric")
    ids = store_simulated(db, 10, 3)
    with Store.open(db) as store:
        sid = next(i for i in ids if len(json.loads(store.scores(i)[0].details)) >= 2)
        n_mistakes = len(json.loads(store.scores(sid)[0].details))
    monkeypatch.setattr(sys, "stdin", io.StringIO("0\ns\n" + "3\n" * n_mistakes))
    code, out, _ = cli(capsys, "label", "--session", sid[:8], "--labeller", "ann")
    assert code == 0 and f"{n_mistakes - 1} label(s) by ann saved" in out and "rule:" in out
    with Store.open(db) as store:
        labels = store.labels(sid)
    assert [lb.labeller for lb in labels] == ["ann"] * (n_mistakes - 1)
    assert sorted(lb.severity for lb in labels)[-1] in ("critical", "none")

    out_file = tmp_path / "labels.jsonl"
    code, out, _ = cli(capsys, "label", "export", "--out", str(out_file))
    assert code == 0 and "1 session(s) written" in out
    line = json.loads(out_file.read_text())
    assert line["session"] == sid and sum(len(m["labels"]) for m in line["mistakes"]) == n_mistakes - 1
    for m in line["mistakes"]:
        m["labels"] = [{"severity": "minor", "labeller": "bo"}]
    out_file.write_text(json.dumps(line) + "\n")
    code, out, _ = cli(capsys, "label", "import", str(out_file))
    assert code == 0 and f"{n_mistakes} label(s) stored" in out
    with Store.open(db) as store:
        assert sorted({lb.labeller for lb in store.labels(sid)}) == ["ann", "bo"]

    line["mistakes"][0]["id"] = "m99999"
    out_file.write_text(json.dumps(line) + "\n")
    code, _, err = cli(capsys, "label", "import", str(out_file))
    assert code == 1 and "has no mistake 'm99999'" in err


def test_a_version_1_database_gets_the_labels_and_scores_tables(tmp_path: Path):
    db = tmp_path / "old.db"
    _database_at(f"sqlite:///{db}", 1)  # as Trainer 1 wrote it, before labels and scores
    ids = store_simulated(db, 2, 1)  # opening it upgrades it; finishing a session writes a score
    with sqlite3.connect(db) as conn:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        assert version == str(schema.SCHEMA_VERSION)
        assert conn.execute("SELECT count(*) FROM scores").fetchone()[0] == 2
    with Store.open(db) as store:
        store.set_labels(ids[0], "ann", {"m5": "minor"})
        store.set_labels(ids[0], "ann", {"m5": "serious"})
        assert [(lb.mistake_id, lb.severity) for lb in store.labels(ids[0])] == [("m5", "serious")]


def test_help_and_course_check_do_not_import_scikit_learn():
    probe = (
        "import sys\nfrom trainer.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"main(['course', 'check', {str(ROOT / 'courses')!r}])\n"
        "print(sorted(m for m in ('sklearn', 'skops', 'scipy') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.stdout.strip().splitlines()[-1] == "[]", run.stderr


def test_label_next_proposes_the_mistakes_the_model_is_least_sure_of(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    """Issue 19 item 6: `label --next N` proposes unlabelled mistakes, least sure first, spread over trainees."""
    from trainer.scoring import model as M
    from trainer.scoring.active import margins
    from trainer.scoring.detect import detect
    from trainer.scoring.features import context, matrix
    from trainer.scoring.rubric import fixed_grade

    db = tmp_path / "t.db"
    monkeypatch.setenv("TRAINER_DB", str(db))
    monkeypatch.setenv("TRAINER_MODEL", str(model_dir / "m" / "model.skops"))
    ids = store_simulated(db, 12, 4)
    with Store.open(db) as store:
        rows = []  # (session, mistake, trainee, context) of every mistake the model grades
        for sid in ids:
            record = store.session(sid)
            for m in detect(PRESS, [s.event for s in store.events(sid)]):
                if not fixed_grade(m):
                    rows.append((sid, m.id, record.badge, context(PRESS, m)))
        store.set_labels(ids[0], "ann", {m: "minor" for s, m, _, _ in rows if s == ids[0]})
    model = M.load(model_dir / "m" / "model.skops")
    margin = dict(zip([(s, m) for s, m, _, _ in rows], margins(model.probabilities(matrix([r[3] for r in rows]))), strict=True))  # fmt: skip
    code, out, _ = cli(capsys, "label", "--next", "4")
    assert code == 0, out
    proposed = [tuple(line.split()[:2]) for line in out.splitlines() if line.startswith("  ")]
    assert len(proposed) == 4 and f"4 of {sum(s != ids[0] for s, *_ in rows)} unlabelled mistakes" in " ".join(
        out.split()
    )
    chosen = [next(k for k in margin if k[0].startswith(s) and k[1] == m) for s, m in proposed]
    assert all(k[0] != ids[0] for k in chosen)  # labelled mistakes are not proposed again
    unlabelled = sorted(v for k, v in margin.items() if k[0] != ids[0])
    assert max(margin[k] for k in chosen) <= unlabelled[len(unlabelled) // 2]  # from the least sure half
    assert "grade them with `trainer label --session ID`" in out
    assert cli(capsys, "label", "--next", "0")[0] == 2
