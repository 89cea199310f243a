"""Tamper evidence over the whole record, tried as an intruder with database write access would (SQL behind the store's
back), and judged through `trainer sessions verify` as an instructor runs it: each finding names the session (or the
trainee) and the field, exit 1; an untouched record verifies clean, exit 0.

Sessions are played, scored, rescored, voided and resumed through DurableSession (test_export_support) into a real
database (an SQLite file, and PostgreSQL when TRAINER_TEST_DB is set).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from backends import execute, scalars
from cliproc import run_cli
from sqlalchemy import select
from test_export_support import CRITICAL, EXPERT, SLOW, course, play, register

from trainer.engine.clock import ManualClock
from trainer.engine.events import Event, EventKind, canonical_json
from trainer.scoring.detect import detect, outcome_of
from trainer.scoring.grade import score_row
from trainer.scoring.rubric import score_session
from trainer.session_service import DurableSession
from trainer.store import chain, dialect, schema
from trainer.store.store import Store


def _engine(url: str) -> sqlalchemy.Engine:
    return dialect.create_engine(sqlalchemy.make_url(url), lock_timeout=5, fsync_every_commit=False)


def record(url: str) -> dict[str, str]:
    """A store with one session of each kind an instructor meets; their ids by name."""
    mini = course()
    with Store.open(url) as store:
        register(store, "B1", "Ann Lee", "Press shop")
        register(store, "B2", "Bo Chen", "Press shop")
        passed = play(store, mini, "B1", EXPERT).id
        failed = play(store, mini, "B2", CRITICAL).id
        rescored = play(store, mini, "B2", SLOW).id
        events = [s.event for s in store.events(rescored)]
        again = score_session(mini, detect(mini, events), outcome_of(events))
        store.add_scores([{**score_row(rescored, again), "scorer": "rubric (rescored)"}])
        voided = play(store, mini, "B1", ["lock"], finish=False).id
        store.void(voided, "fire drill", "instructor")
        resumed = play(store, mini, "B2", ["lock"], finish=False).id
        durable = DurableSession.resume(store, mini, resumed, clock=ManualClock())
        durable.engine.roll = lambda event: False
        durable.choose("work")
        assert durable.engine.ended
        interrupted = play(store, mini, "B1", ["lock"], finish=False).id
        register(store, "B1", "Ann Lee", "Maintenance")  # a trainee moved to another department through the store
    return {
        "passed": passed,
        "failed": failed,
        "rescored": rescored,
        "voided": voided,
        "resumed": resumed,
        "interrupted": interrupted,
    }


@pytest.fixture
def ids(db_url: str) -> dict[str, str]:
    return record(db_url)


def verify(url: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, list[str], str]:
    run = run_cli("sessions", "verify", *args, db=url, env=env)
    assert "Traceback" not in run.stderr, run.stderr
    return run.returncode, run.stdout.splitlines(), run.stderr


def findings(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith(("session ", "trainee ", "ledger: entry"))]


def sessions_update(sid: str, **values: Any) -> Any:
    s = schema.sessions
    return s.update().where(s.c.id == sid).values(**values)


def scores_update(sid: str, **values: Any) -> Any:
    h = schema.scores
    return h.update().where(h.c.session_id == sid).values(**values)


def delete_session(sid: str) -> list[Any]:
    return [
        table.delete().where(column == sid)
        for table, column in (
            (schema.labels, schema.labels.c.session_id),
            (schema.features, schema.features.c.session_id),
            (schema.scores, schema.scores.c.session_id),
            (schema.events, schema.events.c.session_id),
            (schema.sessions, schema.sessions.c.id),
        )
    ]


def test_an_untouched_record_of_every_kind_of_session_verifies_clean(db_url: str, ids: dict[str, str]) -> None:
    code, lines, err = verify(db_url)
    assert code == 0, lines + [err]
    assert findings(lines) == [] and err == ""
    assert lines[-1] == "6 session(s) checked, 0 failed verification, 0 finished without a score"
    assert any(line.startswith("ledger: ") and line.endswith("(sha256)") for line in lines)
    for sid in ids.values():  # one session at a time too
        assert verify(db_url, sid[:8])[0] == 0


STARTED = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # play()'s wall clock

# name: (what the intruder runs, given the ids; the (session name, field) each finding must name)
TAMPERS: dict[str, tuple[Any, set[tuple[str, str]]]] = {
    # a failed attempt made another trainee's passed certificate, its scoring rewritten to agree
    "failed attempt becomes B1's pass": (
        lambda i: [
            sessions_update(i["failed"], badge="B1", score=95.0, passed=True),
            scores_update(i["failed"], score=95.0, passed=True),
        ],
        {("failed", "sessions.badge"), ("failed", "scores")},
    ),
    "status": (lambda i: [sessions_update(i["failed"], status="completed")], {("failed", "sessions.status")}),
    "outcome": (lambda i: [sessions_update(i["failed"], outcome="completed")], {("failed", "sessions.outcome")}),
    "course id": (lambda i: [sessions_update(i["passed"], course_id="forklift")], {("passed", "sessions.course_id")}),
    "course version": (
        lambda i: [sessions_update(i["passed"], course_version="9.9")],
        {("passed", "sessions.course_version")},
    ),
    "seed": (lambda i: [sessions_update(i["passed"], seed=7)], {("passed", "sessions.seed")}),
    "started_at": (
        lambda i: [sessions_update(i["passed"], started_at=STARTED - timedelta(days=400))],
        {("passed", "sessions.started_at")},
    ),
    "ended_at": (
        lambda i: [sessions_update(i["passed"], ended_at=STARTED + timedelta(hours=1))],
        {("passed", "sessions.ended_at")},
    ),
    "score only": (lambda i: [sessions_update(i["failed"], score=95.0)], {("failed", "sessions.score")}),
    "passed only": (lambda i: [sessions_update(i["failed"], passed=True)], {("failed", "sessions.passed")}),
    "scoring deductions": (
        lambda i: [scores_update(i["failed"], details="[]")],
        {("failed", "scores")},
    ),
    "un-void": (
        lambda i: [sessions_update(i["voided"], status="in_progress", void_reason=None, voided_by=None)],
        {("voided", "sessions.status"), ("voided", "sessions.void_reason"), ("voided", "sessions.voided_by")},
    ),
    "void behind the store's back": (
        lambda i: [sessions_update(i["interrupted"], status="voided", void_reason="x", voided_by="x")],
        {("interrupted", "sessions.status")},
    ),
    "void reason": (
        lambda i: [sessions_update(i["voided"], void_reason="trainee cheated")],
        {("voided", "sessions.void_reason")},
    ),
    "session deleted whole": (lambda i: delete_session(i["passed"]), {("passed", "sessions")}),
}


def named(lines: list[str], ids: dict[str, str]) -> set[tuple[str, str]]:
    """(session name, field) of each finding line `session ID: FIELD does not ...`; the field is the first word."""
    by_id = {sid: name for name, sid in ids.items()}
    out = set()
    for line in findings(lines):
        head, _, rest = line.partition(": ")
        sid = head.removeprefix("session ")
        word = rest.split(" ")[0]
        if rest.startswith("the session is in the ledger"):
            word = "sessions"  # deleted whole: the session is named, and the table it is missing from
        elif rest.startswith("scores row "):
            word = "scores"
        out.add((by_id.get(sid, sid), word if word.startswith(("sessions", "scores")) else rest))
    return out


@pytest.mark.parametrize("case", sorted(TAMPERS))
def test_each_tamper_is_named_with_its_session_and_field(db_url: str, ids: dict[str, str], case: str) -> None:
    make, expected = TAMPERS[case]
    execute(db_url, *make(ids))
    code, lines, _ = verify(db_url)
    assert code == 1, lines
    found = named(lines, ids)
    assert found == expected, lines
    if case != "session deleted whole":
        assert lines[-1].startswith("6 session(s) checked, 1 failed verification"), lines


def test_the_findings_name_the_stored_and_the_chained_value(db_url: str, ids: dict[str, str]) -> None:
    execute(db_url, sessions_update(ids["failed"], badge="B1", score=95.0, passed=True))
    code, lines, _ = verify(db_url)
    assert code == 1
    sid = ids["failed"]
    assert f"session {sid}: sessions.badge does not match the chain (stored B1, the chain's B2)" in lines
    assert f"session {sid}: sessions.score does not match the chain (stored 95.0, the chain's 0.0)" in lines or any(
        line.startswith(f"session {sid}: sessions.score does not match the chain") for line in lines
    )
    one = verify(db_url, sid[:8])  # verifying that session alone says the same
    assert one[0] == 1 and set(findings(one[1])) == set(findings(lines))


def test_a_trainee_renamed_with_sql_is_named(db_url: str, ids: dict[str, str]) -> None:
    execute(db_url, schema.trainees.update().where(schema.trainees.c.badge == "B2").values(name="Mallory"))
    code, lines, _ = verify(db_url)
    assert code == 1
    assert findings(lines) == [
        "trainee B2: trainees.name does not match the ledger (stored Mallory, the ledger's Bo Chen)"
    ]
    assert lines[-1] == "6 session(s) checked, 0 failed verification, 1 other finding(s), 0 finished without a score"


def test_a_department_changed_through_the_store_is_not_a_finding_but_with_sql_it_is(
    db_url: str, ids: dict[str, str]
) -> None:
    assert verify(db_url)[0] == 0  # B1 moved to Maintenance through upsert_trainee in record()
    execute(db_url, schema.trainees.update().where(schema.trainees.c.badge == "B1").values(department="Press shop"))
    assert findings(verify(db_url)[1]) == [
        "trainee B1: trainees.department does not match the ledger (stored Press shop, the ledger's Maintenance)"
    ]


def test_a_session_deleted_with_its_ledger_entries_breaks_the_ledger(db_url: str, ids: dict[str, str]) -> None:
    led = schema.ledger
    execute(db_url, *delete_session(ids["failed"]), led.delete().where(led.c.subject == ids["failed"]))
    code, lines, _ = verify(db_url)
    assert code == 1
    assert "ledger: entry" in lines[0] and ("missing" in lines[0] or "does not link" in lines[0]), lines


def test_removing_the_last_scoring_and_rolling_the_row_back_is_named(db_url: str, ids: dict[str, str]) -> None:
    """The rescored session back to its first scoring: the row agrees with what is left, the ledger does not."""
    sid = ids["rescored"]
    engine = _engine(db_url)
    h = schema.scores
    with engine.connect() as conn:
        first, last = conn.execute(select(h).where(h.c.session_id == sid).order_by(h.c.id)).all()
    engine.dispose()
    execute(
        db_url,
        h.delete().where(h.c.id == last.id),
        sessions_update(sid, score=first.score, passed=first.passed, score_hash=first.hash),
    )
    code, lines, _ = verify(db_url)
    assert code == 1
    assert [line.split(" (")[0] for line in findings(lines)] == [
        f"session {sid}: the session's head does not match the ledger"
    ]


# --- keyed mode -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def key_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    key = tmp_path / "site.key"
    key.write_bytes(os.urandom(32).hex().encode() + b"\n")
    monkeypatch.setenv("TRAINER_SITE_KEY_FILE", str(key))
    yield {"TRAINER_SITE_KEY_FILE": str(key)}


def forge(url: str) -> None:
    """What an intruder who knows the algorithm but not the key does after editing: recompute every hash of the record
    (genesis, events, stored features, scorings, ledger) with plain SHA-256, so that every link and hash agrees again."""
    k = chain.Keying()
    s, e, h, led, t = schema.sessions, schema.events, schema.scores, schema.ledger, schema.trainees
    engine = _engine(url)
    renamed: dict[str, str] = {}  # old hash -> recomputed
    try:
        with engine.begin() as conn:
            for row in conn.execute(select(s)).all():
                facts = chain.identity(row.id, row._mapping)
                prev = renamed[row.head_hash] = chain.genesis(k, facts)
                for ev in conn.execute(select(e).where(e.c.session_id == row.id).order_by(e.c.seq)).all():
                    event = Event(ev.seq, ev.t_ms, EventKind(ev.kind), ev.state, ev.action, json.loads(ev.data))
                    new = chain.event_hash(k, prev, row.id, event, ev.utc)
                    conn.execute(
                        e.update().where(e.c.session_id == row.id, e.c.seq == ev.seq).values(prev_hash=prev, hash=new)
                    )
                    renamed[ev.hash], prev = new, new
                conn.execute(s.update().where(s.c.id == row.id).values(head_hash=prev))
                f = schema.features
                for kept in conn.execute(select(f).where(f.c.session_id == row.id)).all():
                    new = chain.features_hash(k, prev, kept._mapping)
                    conn.execute(f.update().where(f.c.session_id == row.id).values(hash=new))
                scorings = conn.execute(select(h).where(h.c.session_id == row.id).order_by(h.c.id)).all()
                for sc in scorings:
                    new = chain.scoring_hash(k, prev, sc._mapping)
                    conn.execute(h.update().where(h.c.id == sc.id).values(prev_hash=prev, hash=new))
                    renamed[sc.hash], prev = new, new
                if scorings:
                    conn.execute(s.update().where(s.c.id == row.id).values(score_hash=prev))
            sessions = {row.id: row for row in conn.execute(select(s))}
            trainees = {row.badge: row for row in conn.execute(select(t))}
            prev = chain.LEDGER_GENESIS
            for entry in conn.execute(select(led).order_by(led.c.seq)).all():
                facts, head = entry.facts, renamed.get(entry.head, entry.head)
                if entry.kind == "start":
                    identity = chain.identity(entry.subject, sessions[entry.subject]._mapping)
                    facts, head = canonical_json(identity), chain.genesis(k, identity)
                elif entry.kind == "trainee":
                    r = trainees[entry.subject]
                    facts = chain.trainee_facts(r.badge, r.name, r.department)
                    head = chain.record_hash(k, "trainee", facts)
                new = chain.ledger_hash(k, prev, entry.seq, entry.kind, entry.subject, entry.event_count, head, facts)
                conn.execute(
                    led.update().where(led.c.seq == entry.seq).values(facts=facts, head=head, prev_hash=prev, hash=new)
                )
                prev = new
            conn.execute(schema.meta.update().where(schema.meta.c.key == "chain").values(value="sha256"))
    finally:
        engine.dispose()


def test_without_a_key_a_full_recomputation_goes_unseen(db_url: str, ids: dict[str, str]) -> None:
    """The documented limit of an unkeyed database: who rewrites every hash is not detected."""
    execute(
        db_url,
        sessions_update(ids["failed"], badge="B1", score=95.0, passed=True),
        scores_update(ids["failed"], score=95.0, passed=True),
    )
    forge(db_url)
    assert verify(db_url)[0] == 0


def test_with_the_key_a_recomputed_tamper_is_detected(db_url: str, key_env: dict[str, str]) -> None:
    ids = record(db_url)
    code, lines, err = verify(db_url, env=key_env)
    assert code == 0 and err == "", lines + [err]
    assert any(line.startswith("ledger: ") and "(hmac-sha256 " in line for line in lines)
    execute(
        db_url,
        sessions_update(ids["failed"], badge="B1", score=95.0, passed=True),
        scores_update(ids["failed"], score=95.0, passed=True),
    )
    keyed = scalars(db_url, "SELECT value FROM meta WHERE key = 'chain'")[0]
    forge(db_url)
    execute(  # and put the database's keyed mode back, as the intruder would once they saw it matters
        db_url, schema.meta.update().where(schema.meta.c.key == "chain").values(value=keyed)
    )
    code, lines, err = verify(db_url, env=key_env)
    assert code == 1
    assert "ledger: entry 1 was altered: its content does not match its hash" in lines
    assert any(line.startswith(f"session {ids['failed']}: ") for line in lines)


def test_without_the_key_a_keyed_database_is_checked_for_structure_and_refuses_writes(
    db_url: str, key_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = record(db_url)
    monkeypatch.delenv("TRAINER_SITE_KEY_FILE")
    code, lines, err = verify(db_url, env={"TRAINER_SITE_KEY_FILE": ""})
    assert code == 0, lines
    assert err.count("\n") == 1 and "authenticity cannot be" in err and "structure was checked" in err
    execute(db_url, sessions_update(ids["failed"], status="completed"))  # a naive edit is still seen
    code, lines, err = verify(db_url, env={"TRAINER_SITE_KEY_FILE": ""})
    assert code == 1 and f"session {ids['failed']}: sessions.status does not match the chain" in " ".join(lines)
    run = run_cli(
        "play", str(Path(__file__).parents[1] / "fixtures" / "mini_course.yaml"), "--badge", "B1", "--script",
        os.devnull, db=db_url, env={"TRAINER_SITE_KEY_FILE": ""},
    )  # fmt: skip
    assert run.returncode != 0 and "keyed with site key" in run.stderr and "Traceback" not in run.stderr
    listed = run_cli("sessions", "list", db=db_url, env={"TRAINER_SITE_KEY_FILE": ""})  # reading needs no key
    assert listed.returncode == 0 and ids["failed"][:8] in listed.stdout, listed.stderr
