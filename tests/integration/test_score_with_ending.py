"""A finished session always has its score (issue #14, item 3): the ending (completed, failed, aborted) and the score
are stored in one transaction, so no kill can come between them, and a failed score write stores no ending either (the
session resumes). Each test runs on SQLite and PostgreSQL; test_unscored_repair.py covers databases older Trainers left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from backends import SQLITE, backend, execute, scalars
from cliproc import run_cli, trainer

from trainer.course.loader import load_course
from trainer.engine.session import Session
from trainer.store.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MINI = FIXTURES / "mini_course.yaml"
UNSCORED = "SELECT id FROM sessions WHERE status IN ('completed', 'failed', 'aborted') AND score IS NULL"


def script(tmp_path: Path, lines: list[str], name: str = "script.txt") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def play(
    tmp_path: Path, db: str, lines: list[str], *extra: str, badge: str = "S1", cli: Callable[..., Any] = run_cli
) -> subprocess.CompletedProcess[str]:
    who = ["--name", "Ann", "--department", "Press"] if "--resume" not in extra else []
    return cli(
        "play",
        str(MINI),
        "--badge",
        badge,
        *who,
        "--script",
        str(script(tmp_path, lines)),
        "--seed",
        "3",
        *extra,
        db=db,
    )


def session_id(out: str) -> str:
    first = out.splitlines()[0]
    assert first.startswith("session "), out
    return first.split()[1]


def refuse_scores(db_url: str) -> None:
    """Make the database refuse every new score, as a full disk or a failing server would the score's write."""
    if backend(db_url) == SQLITE:
        execute(
            db_url, ("CREATE TRIGGER no_scores BEFORE INSERT ON scores BEGIN SELECT RAISE(ABORT, 'no room'); END", {})
        )
        return
    execute(
        db_url,
        (
            "CREATE FUNCTION no_scores() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no room'; END $$",
            {},
        ),
        ("CREATE TRIGGER no_scores BEFORE INSERT ON scores FOR EACH ROW EXECUTE FUNCTION no_scores()", {}),
    )


def accept_scores(db_url: str) -> None:
    execute(db_url, ("DROP TRIGGER no_scores" + ("" if backend(db_url) == SQLITE else " ON scores"), {}))


# --- the same transaction ----------------------------------------------------------------------------------------------


def test_a_session_finishes_with_its_score_in_the_same_write(tmp_path, db_url):
    run = play(tmp_path, db_url, ["lock", "work"])
    assert run.returncode == 0, run.stderr
    sid = session_id(run.stdout)
    assert run.stdout.strip().splitlines()[-1] == "outcome: completed, score 100, passed (score 100 of at least 80)"
    (ended,) = scalars(db_url, "SELECT ended_at FROM sessions WHERE id = :sid", sid=sid)
    (scored,) = scalars(db_url, "SELECT scored_at FROM scores WHERE session_id = :sid", sid=sid)
    assert scored == ended  # one transaction, one clock reading
    assert scalars(db_url, "SELECT score FROM sessions WHERE id = :sid", sid=sid) == [100]


def test_a_score_that_cannot_be_written_leaves_the_session_unfinished_and_resumable(tmp_path, db_url):
    """If the score's write fails, the ending is not stored either: the trainee resumes and finishes with a score."""
    part = play(tmp_path, db_url, ["lock"])
    assert part.returncode == 0, part.stderr
    sid = session_id(part.stdout)
    refuse_scores(db_url)
    # A process of its own: the session it holds turns interrupted when that process has ended.
    failed = play(tmp_path, db_url, ["lock", "work"], "--resume", sid, cli=trainer)
    assert failed.returncode == 1
    assert failed.stderr.startswith("trainer: error: ") and len(failed.stderr.strip().splitlines()) == 1
    assert "nothing was stored; retry" in failed.stderr and "Traceback" not in failed.stderr
    assert scalars(db_url, "SELECT status FROM sessions WHERE id = :sid", sid=sid) == ["in_progress"]
    assert scalars(db_url, "SELECT count(*) FROM events WHERE session_id = :sid AND kind = 'completed'", sid=sid) == [0]
    assert scalars(db_url, UNSCORED) == []
    listed = run_cli("sessions", "list", db=db_url)
    assert "interrupted" in listed.stdout
    accept_scores(db_url)
    resumed = play(tmp_path, db_url, ["lock", "work"], "--resume", sid)
    assert resumed.returncode == 0, resumed.stderr
    assert "outcome: completed, score 100, passed" in resumed.stdout
    assert scalars(db_url, "SELECT score FROM sessions WHERE id = :sid", sid=sid) == [100]
    assert run_cli("sessions", "verify", db=db_url).returncode == 0


def test_a_broken_model_still_finishes_the_session_with_the_rubrics_score(tmp_path, db_url):
    broken = tmp_path / "broken.skops"
    broken.write_bytes(b"not a model")
    run = run_cli(
        "play", str(MINI), "--badge", "S2", "--name", "Bo", "--department", "Press",
        "--script", str(script(tmp_path, ["lock", "work"])), db=db_url, env={"TRAINER_MODEL": str(broken)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "outcome: completed, score 100, passed" in run.stdout
    sid = session_id(run.stdout)
    assert scalars(db_url, "SELECT scorer FROM scores WHERE session_id = :sid", sid=sid) == ["rubric"]


def test_a_model_that_fails_while_grading_gives_the_rubrics_score_with_the_ending(tmp_path, db_url, monkeypatch):
    from trainer.scoring.grade import Grader
    from trainer.session_service import DurableSession

    def fails(self, course, events):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(Grader, "score_kept", fails)  # what a session's end grades with (with the features it keeps)
    course = load_course(MINI)
    with Store.open(db_url) as store:
        store.upsert_trainee("S3", "Cy", "Press")
        durable = DurableSession.begin(store, course, "S3", seed=1, lang="en")
        durable.choose("lock")
        durable.choose("work")
        assert durable.score is not None and durable.score.score == 100
        assert "model not used: model exploded" in durable.score.note
        assert store.session(durable.id).score == 100
    assert scalars(db_url, UNSCORED) == []


# --- a kill while the score is being computed --------------------------------------------------------------------------

# `trainer play` with a grader that announces itself and then takes its time: a kill lands while the score is computed.
SLOW_GRADER = textwrap.dedent(
    """
    import sys, time
    from trainer.scoring.grade import Grader
    score = Grader.score_kept
    def slow(self, course, events):
        print("grading", flush=True)
        time.sleep(float(sys.argv[1]))
        return score(self, course, events)
    Grader.score_kept = slow
    from trainer.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.mark.parametrize("kill_at", ["grading", "stored"])
def test_sigkill_around_the_ending_never_leaves_a_finished_session_without_its_score(tmp_path, db_url, kill_at):
    """Killed while grading: the session is not finished (it resumes). Killed once the ending is reported: it has
    its score. Before the fix, a kill while grading left the session completed with no score (5 of 5 trials)."""
    s = script(tmp_path, ["lock", "work"])
    env = {**os.environ, "TRAINER_DB": db_url, "PYTHONUNBUFFERED": "1"}
    delay = "30" if kill_at == "grading" else "0"
    args = ["play", str(MINI), "--badge", "K1", "--name", "K", "--department", "D", "--script", str(s)]
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_GRADER, delay, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        sid = session_id(proc.stdout.readline())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            if line.startswith(kill_at) and (kill_at == "grading" or "completed" in line):
                break
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert scalars(db_url, UNSCORED) == []
    (status,) = scalars(db_url, "SELECT status FROM sessions WHERE id = :sid", sid=sid)
    if kill_at == "stored":
        assert status == "completed"
        assert scalars(db_url, "SELECT score FROM sessions WHERE id = :sid", sid=sid) == [100]
        return
    assert status == "in_progress"  # interrupted: its ending was never stored
    resumed = trainer("play", str(MINI), "--badge", "K1", "--script", str(s), "--resume", sid, db=db_url)
    assert resumed.returncode == 0, resumed.stderr
    assert "outcome: completed, score 100, passed" in resumed.stdout
    assert scalars(db_url, UNSCORED) == []


# --- the store ---------------------------------------------------------------------------------------------------------


def test_a_score_goes_only_with_the_ending(db_url):
    course = load_course(MINI)
    with Store.open(db_url) as store:
        store.upsert_trainee("S4", "Di", "Press")
        record = store.create_session("S4", course.id, course.version, course.content_hash, 1, "en")
        engine = Session(course, 1, lang="en")
        row = {"scorer": "rubric", "score": 1.0, "passed": False, "reason": "r", "review": False}
        with pytest.raises(ValueError, match="only with the session's terminal event"):
            store.append(record.id, engine.start(), score=row)
        assert store.events(record.id) == []
