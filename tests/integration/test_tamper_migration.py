"""Upgrading a schema version 3 database to tamper evidence (version 4): its sessions become *legacy* (their events stay
chained as they were; verify says once that their identity and scores are not covered), its trainees and sessions are
entered in the ledger, and nothing recorded before the upgrade is reported as a finding. Kept apart from
test_store_migrations.py: the version-4 steps of several changes are folded into one later.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backends import execute, scalars
from cliproc import run_cli
from test_export_support import MINI
from test_store_migrations import _database_at

from trainer.course.loader import load_course
from trainer.engine.clock import ManualClock
from trainer.engine.events import Event, canonical_json
from trainer.engine.session import Session
from trainer.scoring.detect import detect, outcome_of
from trainer.scoring.grade import score_row
from trainer.scoring.rubric import score_session
from trainer.session_service import DurableSession
from trainer.store import chain, schema
from trainer.store.store import Store

BEGAN = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def _session_rows(sid: str, badge: str, events: list[Event], *, began: datetime, finished: bool) -> list[object]:
    """A session as Trainer 3 stored it: genesis SHA-256 of its id, events chained with SHA-256."""
    course = load_course(MINI)
    stored = chain.link(chain.LEGACY, sid, chain.legacy_genesis(sid), events, began + timedelta(seconds=5))
    s = schema.sessions
    values = {
        "id": sid,
        "badge": badge,
        "course_id": course.id,
        "course_version": course.version,
        "content_hash": course.content_hash,
        "seed": 3,
        "lang": "en",
        "status": "in_progress",
        "started_at": began,
        "event_count": len(stored),
        "head_hash": stored[-1].hash,
        "owner_host": "",
        "owner_pid": 0,
        "heartbeat_at": began,
    }
    if finished:
        result = score_session(course, detect(course, events), outcome_of(events))
        values |= {
            "status": "completed",
            "outcome": "completed",
            "ended_at": stored[-1].utc,
            "score": result.score,
            "passed": result.passed,
        }
    rows: list[object] = [s.insert().values(**values)]
    rows += [
        schema.events.insert().values(
            session_id=sid,
            seq=x.event.seq,
            t_ms=x.event.t_ms,
            utc=x.utc,
            kind=str(x.event.kind),
            state=x.event.state,
            action=x.event.action,
            data=canonical_json(x.event.data),
            prev_hash=x.prev_hash,
            hash=x.hash,
        )
        for x in stored
    ]
    if finished:
        row = score_row(sid, result)
        h = schema.scores
        rows.append(
            h.insert().values(
                session_id=sid,
                scored_at=stored[-1].utc,
                scorer=row["scorer"],
                score=row["score"],
                passed=row["passed"],
                reason=row["reason"],
                review=row["review"],
                details=canonical_json(row["details"]),
            )
        )
    return rows


def version_3_database(url: str) -> dict[str, str]:
    """A database as Trainer 3 left it: two trainees, a finished and scored session, one interrupted mid-way."""
    _database_at(url, 3)
    course = load_course(MINI)
    engine = Session(course, 3, lang="en")
    finished = engine.start() + engine.choose("lock") + engine.choose("work")
    engine = Session(course, 3, lang="en")
    interrupted = engine.start() + engine.choose("lock")
    ids = {"finished": "00000000-0000-4000-8000-000000000001", "interrupted": "00000000-0000-4000-8000-000000000002"}
    t = schema.trainees
    execute(
        url,
        t.insert().values(badge="B1", name="Ann Lee", department="Press", created_at=BEGAN),
        t.insert().values(badge="B2", name="Bo Chen", department="Press", created_at=BEGAN),
        *_session_rows(ids["finished"], "B1", finished, began=BEGAN, finished=True),
        *_session_rows(ids["interrupted"], "B2", interrupted, began=BEGAN + timedelta(hours=1), finished=False),
    )
    return ids


@pytest.mark.parametrize("keyed", [False, True], ids=["unkeyed", "keyed"])
def test_a_version_3_database_upgrades_clean_and_is_covered_from_then_on(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keyed: bool
) -> None:
    ids = version_3_database(db_url)
    env = {"TRAINER_SITE_KEY_FILE": ""}
    if keyed:
        key = tmp_path / "site.key"
        key.write_bytes(os.urandom(32).hex().encode())
        env = {"TRAINER_SITE_KEY_FILE": str(key)}
        monkeypatch.setenv("TRAINER_SITE_KEY_FILE", str(key))
    else:
        monkeypatch.delenv("TRAINER_SITE_KEY_FILE", raising=False)

    upgraded = run_cli("db", "upgrade", db=db_url, env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert scalars(db_url, "SELECT value FROM meta WHERE key = 'chain'")[0].startswith(
        "hmac-sha256 " if keyed else "sha256"
    )
    run = run_cli("sessions", "verify", db=db_url, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 session(s) not covered (recorded before version 4)" in run.stdout
    assert run.stdout.splitlines()[-1] == "2 session(s) checked, 0 failed verification, 0 finished without a score"

    # the interrupted one is resumed and finished after the upgrade (events hashed the new way after the old): clean
    with Store.open(db_url) as store:
        durable = DurableSession.resume(store, load_course(MINI), ids["interrupted"], clock=ManualClock())
        durable.engine.roll = lambda event: False
        durable.choose("work")
        assert durable.engine.ended and store.session(ids["interrupted"]).score is not None
        store.upsert_trainee("B3", "Cai Wen", "Press")
    run = run_cli("sessions", "verify", db=db_url, env=env)
    assert run.returncode == 0, run.stdout + run.stderr

    # the ledger the upgrade started knows them: deleting an old session whole, or renaming a trainee, is named
    execute(
        db_url,
        schema.scores.delete().where(schema.scores.c.session_id == ids["finished"]),
        schema.events.delete().where(schema.events.c.session_id == ids["finished"]),
        schema.sessions.delete().where(schema.sessions.c.id == ids["finished"]),
        schema.trainees.update().where(schema.trainees.c.badge == "B2").values(name="Mallory"),
    )
    run = run_cli("sessions", "verify", db=db_url, env=env)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert any(line.startswith(f"session {ids['finished']}: the session is in the ledger") for line in lines), lines
    assert any(line.startswith("trainee B2: trainees.name does not match the ledger") for line in lines), lines
