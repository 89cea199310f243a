"""Finished sessions an older Trainer left without a score (issue #14, item 3): killed between storing a session's ending
and its score, it left sessions a score sheet counted as never passed. The next command that opens the database scores
them; `trainer sessions verify` reports them, and `--repair` scores them. Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
from backends import POSTGRESQL, SQLITE, only, scalars
from cliproc import run_cli, trainer

from trainer.course.loader import load_course
from trainer.engine.session import Session
from trainer.store.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MINI = FIXTURES / "mini_course.yaml"
UNSCORED = "SELECT id FROM sessions WHERE status IN ('completed', 'failed', 'aborted') AND score IS NULL"


def finished_unscored(db_url: str, badge: str = "OLD") -> str:
    """A session as an older Trainer left it when killed between its two writes: completed (100 points' worth of play),
    its ending stored, its score never written."""
    course = load_course(MINI)
    with Store.open(db_url) as store:
        store.upsert_trainee(badge, "Old Timer", "Press")
        record = store.create_session(badge, course.id, course.version, course.content_hash, 3, "en")
        engine = Session(course, 3, lang="en")
        store.append(record.id, engine.start())
        for action in ("lock", "work"):
            store.append(record.id, engine.choose(action))
        assert engine.ended
    return record.id


def test_verify_reports_a_finished_session_without_a_score_and_repair_scores_it(db_url):
    sid = finished_unscored(db_url)
    found = run_cli("sessions", "verify", db=db_url)
    assert found.returncode == 1
    assert f"session {sid}: completed without a score (mini 1.0)" in found.stdout
    assert (
        found.stdout.strip().splitlines()[-1]
        == "1 session(s) checked, 0 failed verification, 1 finished without a score"
    )
    assert "sessions verify --repair" in found.stderr
    assert scalars(db_url, UNSCORED) == [sid]  # verify alone changes nothing

    one = run_cli("sessions", "verify", sid[:8], db=db_url)
    assert one.returncode == 1 and "1 finished without a score" in one.stdout

    repaired = run_cli("sessions", "verify", "--repair", db=db_url, env={"TRAINER_COURSES": str(FIXTURES)})
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert f"session {sid}: completed without a score: scored 100 (passed) by " in repaired.stdout
    assert "1 finished without a score: 1 scored, 0 left" in repaired.stdout
    assert scalars(db_url, UNSCORED) == []
    assert scalars(db_url, "SELECT count(*) FROM scores WHERE session_id = :sid", sid=sid) == [1]

    again = run_cli("sessions", "verify", db=db_url)
    assert again.returncode == 0 and again.stdout.strip().endswith("0 finished without a score")


def test_repair_cannot_score_a_session_whose_course_is_not_loaded_and_says_which(db_url):
    sid = finished_unscored(db_url)
    run = run_cli("sessions", "verify", "--repair", db=db_url)
    assert run.returncode == 1
    assert f"session {sid}: completed without a score (mini 1.0)" in run.stdout
    assert "1 finished without a score: 0 scored, 1 left" in run.stdout
    assert "mini 1.0 (1)" in run.stderr and "--courses" in run.stderr
    listed = run_cli("sessions", "list", db=db_url)  # any other command warns the same way, and works
    assert listed.returncode == 0 and sid[:8] in listed.stdout
    assert "trainer: warning: 1 finished session(s) have no score" in listed.stderr and "mini 1.0 (1)" in listed.stderr


def test_the_score_sheet_exported_after_a_kill_shows_the_score(tmp_path, db_url):
    """The HR sheet: a session completed by an older Trainer killed before its score is scored when the export opens
    the database, so it shows as passed, never as "never passed"."""
    sid = finished_unscored(db_url)
    out = tmp_path / "scores.xlsx"
    run = trainer("export", "scores", "--out", str(out), "--courses", str(FIXTURES), db=db_url)
    assert run.returncode == 0, run.stderr
    assert f"scored 1 finished session(s) left without a score: {sid[:8]}" in run.stderr
    book = openpyxl.load_workbook(out, read_only=True)
    header, *rows = [list(r) for r in book["Trainees"].iter_rows(values_only=True)]
    (row,) = [r for r in rows if r[0] == "OLD"]
    assert row[header.index("latest score")] == 100
    assert row[header.index("passed")] == "yes"  # a word, as the CSV and in the sheet's language
    assert row[header.index("status")] == "valid"
    header, *rows = [list(r) for r in book["Departments"].iter_rows(values_only=True)]
    (row,) = rows
    assert row[header.index("never passed")] == 0 and row[header.index("valid")] == 1
    assert scalars(db_url, UNSCORED) == []


def test_any_command_that_opens_the_store_scores_them_once(db_url):
    sid = finished_unscored(db_url)
    first = run_cli("sessions", "list", db=db_url, env={"TRAINER_COURSES": str(FIXTURES)})
    assert first.returncode == 0, first.stderr
    assert f"scored 1 finished session(s) left without a score: {sid[:8]}" in first.stderr
    assert "100" in first.stdout
    second = run_cli("sessions", "list", db=db_url, env={"TRAINER_COURSES": str(FIXTURES)})
    assert second.returncode == 0 and second.stderr == ""
    assert scalars(db_url, "SELECT count(*) FROM scores WHERE session_id = :sid", sid=sid) == [1]


def test_opening_the_store_with_nothing_to_score_loads_neither_courses_nor_model(db_url):
    """The look for unscored sessions is one indexed query: nothing else runs unless there is something to score."""
    from trainer.session_service import DurableSession

    with Store.open(db_url) as store:
        store.upsert_trainee("NEW", "New", "Press")
        durable = DurableSession.begin(store, load_course(MINI), "NEW", seed=1, lang="en")
        durable.choose("lock")
        durable.choose("work")
        assert store.session(durable.id).score == 100
    probe = textwrap.dedent(
        """
        import sys
        from trainer.cli import main
        code = main(["sessions", "list"])
        print(sorted(m for m in ("sklearn", "trainer.course.library", "trainer.scoring.grade") if m in sys.modules))
        sys.exit(code)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "TRAINER_DB": db_url},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_the_store_lists_only_finished_sessions_without_a_score_and_repairs_only_those(db_url):
    sid = finished_unscored(db_url)
    with Store.open(db_url) as store:
        assert [r.id for r in store.unscored_sessions()] == [sid]
        in_progress = store.create_session("OLD", "mini", "1.0", "h", 1, "en")
        assert [r.id for r in store.unscored_sessions()] == [sid]
        row = {"session_id": sid, "scorer": "rubric", "score": 90.0, "passed": True, "reason": "r", "review": False}
        assert store.add_missing_scores([row, {**row, "session_id": in_progress.id}]) == [sid]
        assert store.add_missing_scores([{**row, "score": 10.0}]) == []  # scored meanwhile: left as it is
        assert store.session(sid).score == 90 and len(store.scores(sid)) == 1
        assert store.session(in_progress.id).score is None
        assert store.unscored_sessions() == []


@only(SQLITE)
def test_the_look_for_unscored_sessions_reads_the_partial_index(db_url):
    import sqlite3

    from sqlalchemy import make_url

    Store.open(db_url).close()
    with sqlite3.connect(make_url(db_url).database) as conn:
        plan = conn.execute("EXPLAIN QUERY PLAN " + UNSCORED).fetchall()
    assert "ix_sessions_unscored" in str(plan)


@only(POSTGRESQL)
def test_the_partial_index_exists_on_postgresql(db_url):
    Store.open(db_url).close()
    (definition,) = scalars(  # this test's schema: parallel tests have theirs in the same database
        db_url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_sessions_unscored' AND schemaname = current_schema()"
    )
    assert "WHERE (score IS NULL)" in definition
