"""The per-session hash chain: pure functions, no database.

Each stored event carries the hash of the event before it and its own hash:

    hash = sha256(prev_hash + canonical_json({session, seq, t_ms, utc, kind, state, action, data}))

The first event's prev_hash is the *genesis* hash, sha256 of the session id, so an event copied or moved into another session
no longer fits. The session row keeps the number of events and the last hash (`event_count`, `head_hash`): those two catch
what the chain alone cannot, the removal of the last events.

The chain is not keyed: it detects accidental damage and naive edits (a row changed, removed, added or reordered with SQL),
not someone who recomputes every hash and the session row. That would take a signing key, which we do not have yet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from trainer.engine.events import Event, canonical_json
from trainer.store.records import ChainProblem, StoredEvent


def genesis(session_id: str) -> str:
    """The prev_hash of a session's first event (and the head_hash of a session without events)."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def utc_text(utc: datetime) -> str:
    """The wall-clock time as it is hashed: ISO 8601 in UTC with microseconds, whatever precision the value shows."""
    return utc.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(prev_hash: str, session_id: str, event: Event, utc: datetime) -> str:
    body = {"session": session_id, "utc": utc_text(utc), **event.canonical()}
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


def link(session_id: str, prev_hash: str, events: Sequence[Event], utc: datetime) -> list[StoredEvent]:
    """Chain `events` after `prev_hash` (the session's current head). All get the same wall-clock time: when they were stored."""
    stored: list[StoredEvent] = []
    for event in events:
        digest = event_hash(prev_hash, session_id, event, utc)
        stored.append(StoredEvent(session_id=session_id, event=event, utc=utc, prev_hash=prev_hash, hash=digest))
        prev_hash = digest
    return stored


def verify(session_id: str, events: Sequence[StoredEvent], head_hash: str, event_count: int) -> ChainProblem | None:
    """The first problem in a session's stored events (in seq order), or None if the chain is intact.

    `head_hash` and `event_count` come from the session row. Each event is checked against the *stored* hash of the one
    before it, so an edited event is reported at its own seq and not again at every later one.
    """

    def problem(seq: int, reason: str) -> ChainProblem:
        return ChainProblem(session_id=session_id, seq=seq, reason=reason)

    prev = genesis(session_id)
    for expected, stored in enumerate(events, start=1):
        seq = stored.event.seq
        if stored.session_id != session_id:
            return problem(seq, f"event {seq} belongs to session {stored.session_id}")
        if seq > expected:
            return problem(expected, f"event {expected} is missing (the next stored event is {seq})")
        if seq < expected:
            return problem(seq, f"event {seq} is out of order (expected {expected})")
        if stored.prev_hash != prev:
            return problem(
                seq, f"event {seq} does not link to the event before it (an event was removed, added or moved)"
            )
        if event_hash(prev, session_id, stored.event, stored.utc) != stored.hash:
            return problem(seq, f"event {seq} was altered: its content does not match its hash")
        prev = stored.hash
    stored_count = len(events)
    if stored_count < event_count:
        return problem(
            stored_count + 1,
            f"event {stored_count + 1} is missing: the session records {event_count} events, {stored_count} are stored",
        )
    if stored_count > event_count:
        return problem(
            event_count + 1,
            f"event {event_count + 1} is not in the session's record (the session records {event_count} events)",
        )
    if prev != head_hash:
        return problem(
            stored_count + 1 if stored_count else 1,
            f"the chain ends at event {stored_count} but the session's head hash names another event (the last events were removed or the session row was altered)",
        )
    return None
