"""A session's life: started for a registered trainee, its events appended (each batch one transaction, chained and
durable when append returns), finished with its score, or given up, claimed by another process, voided.

Only the process that owns a session appends to it (liveness.py): a crashed terminal's session is interrupted, then
claimed to resume it or voided with a reason. Reading sessions and events is in reads.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, Update, bindparam, select

from trainer.engine.events import TERMINAL_KINDS, Event, EventKind, canonical_json
from trainer.store import access, audit, chain, ledger, schema
from trainer.store.access import Access
from trainer.store.errors import StoreError
from trainer.store.liveness import Owner
from trainer.store.reads import FINISHED, record_of
from trainer.store.records import SessionRecord, SessionStatus, StoredEvent
from trainer.store.scores import ChainedScoring, ScoringRow, features_row, linked, scoring_row

_TERMINAL_STATUS = {
    EventKind.COMPLETED: SessionStatus.COMPLETED,
    EventKind.FAILED: SessionStatus.FAILED,
    EventKind.ABORTED: SessionStatus.ABORTED,
}

# append()'s statements, built once: every trainee answer runs them, and building a statement costs SQLAlchemy more
# than running it. The head is only what the checks and the chain need (no timestamps to parse).
_s = schema.sessions
_APPEND_HEAD = select(_s.c.status, _s.c.owner_host, _s.c.owner_pid, _s.c.event_count, _s.c.head_hash).where(
    _s.c.id == bindparam("b_id")
)
_APPEND_EVENTS = schema.events.insert()
_APPEND_FEATURES = schema.features.insert()
_APPEND_SCORE = schema.scores.insert()
_APPEND_UPDATE = _s.update().where(_s.c.id == bindparam("b_id"))
_APPEND_UPDATE_IF_HEAD = _APPEND_UPDATE.where(  # the head append() chained from is still the session's head
    _s.c.status == SessionStatus.IN_PROGRESS.value,
    _s.c.owner_host == bindparam("b_host"),
    _s.c.owner_pid == bindparam("b_pid"),
    _s.c.event_count == bindparam("b_count"),
    _s.c.head_hash == bindparam("b_head"),
)


def create_session(
    db: Access,
    badge: str,
    course_id: str,
    course_version: str,
    content_hash: str,
    seed: int,
    lang: str,
    mode: str = chain.EXAM,
) -> SessionRecord:
    """Start a session for a registered trainee, owned by this process (only the owner may append). `mode`:
    practice or exam (only an exam certifies), bound into the session's genesis."""
    if mode not in ("practice", "exam"):
        raise ValueError(f"mode {mode!r}: a session is played as practice or exam")
    s = schema.sessions
    session_id = str(uuid4())
    now = access.utcnow()
    owner = Owner.this_process()
    keying = db._hasher(f"start a session for badge {badge}")
    named = {
        "badge": badge,
        "course_id": course_id,
        "course_version": course_version,
        "content_hash": content_hash,
        "seed": int(seed),
        "lang": lang,
        "started_at": now,
        "mode": mode,
    }
    # The session's identity is bound into its genesis (its first event links to it) and kept in the ledger.
    facts = chain.identity(session_id, named)
    first = chain.genesis(keying, facts)
    with db._writing(f"start a session for badge {badge}") as conn:
        known = conn.execute(
            select(schema.trainees.c.merged_into).where(schema.trainees.c.badge == badge)
        ).one_or_none()
        if known is None:
            raise StoreError(f"{db._where}: no trainee with badge {badge}; register the trainee first")
        if known.merged_into is not None:
            raise StoreError(f"{db._where}: badge {badge} was merged into {known.merged_into}; use that badge")
        conn.execute(
            s.insert().values(
                id=session_id,
                **named,
                status=SessionStatus.IN_PROGRESS.value,
                event_count=0,
                head_hash=first,
                owner_host=owner.host,
                owner_pid=owner.pid,
                heartbeat_at=now,
            )
        )
        ledger.enter(conn, keying, [("start", session_id, 0, first, canonical_json(facts))])
        row = conn.execute(select(s).where(s.c.id == session_id)).one()
    return record_of(row, now)


def append(
    db: Access, session_id: str, events: Sequence[Event], *, score: Mapping[str, Any] | None = None
) -> list[StoredEvent]:
    """Store the next events of a session in one transaction and return them chained. Durable when this returns.

    The events must continue the session's sequence (event_count + 1, + 2, ...). A terminal event (completed, failed,
    aborted) may only come last; it finishes the session. `score` (a scoring as add_scores takes it; only with a
    terminal event) is stored in the same transaction and becomes the session's score: a session is never finished
    without it, whenever the process dies; its "features" (see add_scores), if given, are stored with it. On any
    failure nothing is stored and the same call can be retried.
    """
    batch = list(events)
    if not batch:
        return []
    short = session_id[:8]
    terminal = [i for i, e in enumerate(batch) if e.kind in TERMINAL_KINDS]
    if terminal and terminal != [len(batch) - 1]:
        raise StoreError(
            f"{db._where}: session {short}: a {batch[terminal[0]].kind} event must be the session's last event"
        )
    if score is not None and not terminal:
        raise ValueError(f"session {short}: a score is stored only with the session's terminal event")
    keying = db._hasher(f"store events of session {short}")
    now = access.utcnow()
    scoring = None if score is None else scoring_row({**score, "session_id": session_id}, now)
    features = None if score is None else score.get("features")
    # The head this store wrote last is usually still the head (a session has one owner). Chaining from it before the
    # write lock is taken keeps the lock short when terminals write at once; the UPDATE checks it still holds, and
    # when it does not, the head is read under the lock and checked as always.
    known = db._heads.get(session_id)
    guess: list[StoredEvent] | None = None
    chained: ChainedScoring | None = None
    if known is not None and [e.seq for e in batch] == list(range(known[0] + 1, known[0] + 1 + len(batch))):
        guess = chain.link(keying, session_id, known[1], batch, now)
        chained = None if scoring is None else linked(keying, guess[-1].hash, scoring)
    with db._writing(
        f"store {len(batch)} event(s) of session {short}", undone="nothing was stored; retry", session=session_id
    ) as conn:
        if (
            guess is not None
            and conn.execute(_APPEND_UPDATE_IF_HEAD, _head_update(guess, known, chained)).rowcount == 1
        ):
            stored = guess
        else:
            stored, chained = _append_checked(db, conn, keying, session_id, batch, now, scoring)
        conn.execute(_APPEND_EVENTS, [_event_row(item) for item in stored])
        if chained is not None:
            conn.execute(_APPEND_SCORE, chained)
        if features is not None:
            conn.execute(_APPEND_FEATURES, features_row(keying, stored[-1].hash, session_id, features))
        # The ledger keeps the session's new head: rolling the session back to an earlier one no longer matches it.
        head = stored[-1].hash if chained is None else chained["hash"]
        ledger.enter(conn, keying, [("head", session_id, stored[-1].event.seq, head, None)])
    if terminal:
        db._heads.pop(session_id, None)
    else:
        db._heads[session_id] = (stored[-1].event.seq, stored[-1].hash)
    return stored


def _append_checked(
    db: Access,
    conn: Connection,
    keying: chain.Keying,
    session_id: str,
    batch: list[Event],
    now: datetime,
    scoring: ScoringRow | None,
) -> tuple[list[StoredEvent], ChainedScoring | None]:
    """append()'s checks against the session row as stored, and its update; the chained events and scoring (not yet
    inserted)."""
    short = session_id[:8]
    row = conn.execute(_APPEND_HEAD, {"b_id": session_id}).one_or_none()
    if row is None:
        raise StoreError(f"{db._where}: no session {session_id}; check the session id")
    if row.status != SessionStatus.IN_PROGRESS:
        raise StoreError(f"{db._where}: session {short} is {row.status} and takes no more events")
    owner = Owner(row.owner_host, row.owner_pid)
    if owner != Owner.this_process():
        raise StoreError(
            f"{db._where}: session {short} belongs to process {owner.pid} on {owner.host}; claim it before adding events"
        )
    expected = list(range(row.event_count + 1, row.event_count + 1 + len(batch)))
    got = [ev.seq for ev in batch]
    if got != expected:
        raise StoreError(
            f"{db._where}: session {short}: events must continue at seq {expected[0]} without gaps, got {_seqs(got)}"
        )
    stored = chain.link(keying, session_id, row.head_hash, batch, now)
    chained = None if scoring is None else linked(keying, stored[-1].hash, scoring)
    conn.execute(_APPEND_UPDATE, _head_update(stored, None, chained))
    return stored, chained


def _head_update(
    stored: list[StoredEvent], known: tuple[int, str] | None = None, scoring: ChainedScoring | None = None
) -> dict[str, Any]:
    """The session row's new values after `stored` (and, with `known`, the head it must still have: the b_ keys;
    with `scoring`, chained, the score it finishes with)."""
    last = stored[-1]
    values: dict[str, Any] = {
        "b_id": last.session_id,
        "event_count": last.event.seq,
        "head_hash": last.hash,
        "heartbeat_at": last.utc,
    }
    if last.event.kind in TERMINAL_KINDS:
        outcome = last.event.data.get("outcome")
        values.update(
            status=_TERMINAL_STATUS[last.event.kind].value,
            outcome=None if outcome is None else str(outcome),
            ended_at=last.utc,
        )
    if scoring is not None:
        values.update(score=scoring["score"], passed=scoring["passed"], score_hash=scoring["hash"])
    if known is not None:
        owner = Owner.this_process()
        values.update(b_count=known[0], b_head=known[1], b_host=owner.host, b_pid=owner.pid)
    return values


def _event_row(stored: StoredEvent) -> dict[str, Any]:
    event = stored.event
    return {
        "session_id": stored.session_id,
        "seq": event.seq,
        "t_ms": event.t_ms,
        "utc": stored.utc,
        "kind": str(event.kind),
        "state": event.state,
        "action": event.action,
        "data": canonical_json(event.data),
        "prev_hash": stored.prev_hash,
        "hash": stored.hash,
    }


def _seqs(seqs: Sequence[int]) -> str:
    return ", ".join(map(str, seqs[:5])) + (", ..." if len(seqs) > 5 else "")


def heartbeat(db: Access, session_id: str) -> None:
    """Tell other hosts this process still runs the session (appends do it too; call it while a trainee reads a long page)."""
    with db._writing(f"refresh session {session_id[:8]}", session=session_id) as conn:
        done = conn.execute(_run_here(session_id).values(heartbeat_at=access.utcnow()))
        if done.rowcount != 1:
            raise StoreError(
                f"{db._where}: session {session_id[:8]} is no longer run by this process (finished, voided or claimed elsewhere)"
            )


def release(db: Access, session_id: str) -> None:
    """Give up a session this process runs (the trainee quit mid-way): it is interrupted at once, ready to resume."""
    with db._writing(f"release session {session_id[:8]}", session=session_id) as conn:
        conn.execute(_run_here(session_id).values(owner_host="", owner_pid=0))


def _run_here(session_id: str) -> Update:
    """An UPDATE of the session's row that changes it only while this process runs it (in progress, owned here)."""
    s = schema.sessions
    owner = Owner.this_process()
    return s.update().where(
        s.c.id == session_id,
        s.c.owner_host == owner.host,
        s.c.owner_pid == owner.pid,
        s.c.status == SessionStatus.IN_PROGRESS.value,
    )


def claim(db: Access, session_id: str) -> SessionRecord:
    """Take over an interrupted session so this process can resume it (append to it).

    Refused for finished or voided sessions and for sessions whose owner is still running elsewhere. Claiming a session
    this process already owns is a no-op.
    """
    s = schema.sessions
    now = access.utcnow()
    me = Owner.this_process()
    with db._writing(f"claim session {session_id[:8]}") as conn:
        row = db._find(conn, session_id, lock=True)
        current = record_of(row, now)
        owner = Owner(row.owner_host, row.owner_pid)
        if current.status in FINISHED or current.status is SessionStatus.VOIDED:
            raise StoreError(f"{db._where}: session {row.id[:8]} is {current.status} and cannot be resumed")
        if current.status is SessionStatus.IN_PROGRESS and owner != me:
            raise StoreError(
                f"{db._where}: session {row.id[:8]} is still in progress in process {owner.pid} on {owner.host}; close it there first"
            )
        conn.execute(s.update().where(s.c.id == row.id).values(owner_host=me.host, owner_pid=me.pid, heartbeat_at=now))
        row = conn.execute(select(s).where(s.c.id == row.id)).one()
    return record_of(row, now)


def void(db: Access, session_id: str, reason: str, by: str, *, act: audit.Act | None = None) -> SessionRecord:
    """Set an interrupted session aside (it will not be resumed or scored), recording why and by whom: on the
    session, and in the audit trail (the OS user, host and terminal of `act`, else this process's)."""
    s = schema.sessions
    reason = db._reason(reason)
    if not reason:
        raise StoreError(f"{db._where}: give a reason for voiding session {session_id[:8]}")
    now = access.utcnow()
    keying = db._hasher(f"void session {session_id[:8]}")
    with db._writing(f"void session {session_id[:8]}") as conn:
        row = db._find(conn, session_id, lock=True)
        current = record_of(row, now)
        if current.status is SessionStatus.VOIDED:
            raise StoreError(f"{db._where}: session {row.id[:8]} is already voided")
        if current.status in FINISHED:
            raise StoreError(
                f"{db._where}: session {row.id[:8]} is {current.status}; finished sessions cannot be voided"
            )
        if current.status is SessionStatus.IN_PROGRESS:
            raise StoreError(
                f"{db._where}: session {row.id[:8]} is still in progress in process {row.owner_pid} on {row.owner_host}; it can be voided once interrupted"
            )
        conn.execute(
            s.update()
            .where(s.c.id == row.id)
            .values(status=SessionStatus.VOIDED.value, void_reason=reason, voided_by=by, voided_at=now)
        )
        detail = {"status": [str(current.status), SessionStatus.VOIDED.value], "by": by}
        trail_act = audit.Act(reason, act.actor if act else None)  # the reason given is the void's reason
        audit.write(conn, [audit.row(audit.SESSION_VOID, act=trail_act, at=now, session_id=row.id, detail=detail)])
        facts = canonical_json({"reason": reason.strip(), "by": by, "at": chain.utc_text(now)})
        ledger.enter(conn, keying, [("void", row.id, row.event_count, row.score_hash or row.head_hash, facts)])
        row = conn.execute(select(s).where(s.c.id == row.id)).one()
    return record_of(row, now)
