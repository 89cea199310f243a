"""The hash chains that make the record tamper-evident: pure functions, no database.

A session's chain runs from its *genesis* through its events to its scorings:

    genesis      = H("genesis" body: the session's identity: id, badge, course id, version and content, seed, lang, start,
                     and its mode when it is practice)
    event hash   = H(prev_hash + canonical_json({session, seq, t_ms, utc, kind, state, action, data}))
    scoring hash = H(prev_hash + canonical_json({"scoring": {session, scored_at, scorer, score, passed, reason, review,
                     details}})), prev_hash being the previous scoring's hash, or the last event's for the first one

so changing the badge, course, seed or start of a session breaks its first event's link, and editing a scoring (its
scorer, score, verdict, or a mistake's severity and points in `details`) breaks that scoring's hash. The session row
keeps its heads (`event_count` and `head_hash` for the events, `score_hash` for the scorings): those catch the removal of
the last events or scorings. Its other fields (status, outcome, ended_at, score, passed) are derived from the chain and
checked against it by verify (verify.py).

The store-wide *ledger* (one row per write that changes a session or a trainee, see schema.ledger) is a chain of its own:

    ledger hash  = H(prev_hash + canonical_json({"ledger": {seq, kind, subject, count, head, facts}}))

with seq counting from 1 without gaps. It names every session ever started (with its identity in `facts`) and the head it
had after each write, and every trainee's badge, name and department: a session or trainee deleted whole, or a session
rolled back to an earlier head, no longer matches it.

A finished session's stored features (schema.features: its mistakes and their features, kept so that rescoring need
not read its events again) are hashed after its events' head:

    features hash = H(head_hash + canonical_json({"features": {session, feature_set, content_hash}}) + mistakes)

so a features row edited by plain SQL is not used for scoring (the events are read instead) and verify reports it.

H is SHA-256, or HMAC-SHA256 with the site key (trainer.sitekey) when the database was created or upgraded with one
(meta['chain']): then recomputing a hash after an edit needs the key, which is kept outside the database. Sessions
recorded before schema version 4 keep their old genesis (SHA-256 of the session id) and are *legacy*: their events are
chained, their identity and derived fields are not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trainer import sitekey
from trainer.engine.events import Event, canonical_json
from trainer.store.records import ChainProblem, StoredEvent

# canonical_json for the flat bodies hashed here (str, int, float, bool and None values, dicts of them): the same text,
# without canonical_json's walk that turns other mappings and sequences into plain ones (rescoring 100 000 sessions
# hashes 200 000 of these: the walk cost a second).
_flat_json = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode

UNKEYED = "sha256"
KEYED = "hmac-sha256"
_PURPOSE = "trainer record chain"  # the HMAC's purpose (sitekey.mac): a model signature never verifies as a chain hash


@dataclass(frozen=True)
class Keying:
    """How a database's hashes are made: SHA-256, or HMAC-SHA256 with the site key whose id is `key_id`.

    `key` is the key itself when this process has it (the site's key file names the same key); a keyed database opened
    without it can be read and its structure verified, but nothing can be hashed: not written, not authenticated.
    """

    mode: str = UNKEYED
    key_id: str = ""
    key: bytes | None = None

    @property
    def keyed(self) -> bool:
        return self.mode == KEYED

    @property
    def can_hash(self) -> bool:
        return not self.keyed or self.key is not None

    def digest(self, text: str) -> str:
        if not self.keyed:
            return hashlib.sha256(text.encode("utf-8")).hexdigest()
        if self.key is None:
            raise ValueError("this database's hashes are keyed and this process does not have the site key")
        return sitekey.mac(self.key, _PURPOSE, text.encode("utf-8"))

    def meta_value(self) -> str:
        """What meta['chain'] records: the mode, and for a keyed database the id of its key (never the key)."""
        return f"{KEYED} {self.key_id}" if self.keyed else UNKEYED

    @classmethod
    def for_new(cls, key: bytes | None) -> Keying:
        """The keying of a database created (or upgraded to version 4) now: keyed when the site has a key."""
        return cls(KEYED, sitekey.key_id(key), key) if key is not None else cls()

    @classmethod
    def from_meta(cls, value: str | None, key: bytes | None) -> Keying:
        """The keying meta['chain'] records, with `key` (the site's key, if any) kept only if it is the one named."""
        mode, _, key_id = (value or UNKEYED).partition(" ")
        if mode != KEYED:
            return cls()
        return cls(KEYED, key_id, key if key is not None and sitekey.key_id(key) == key_id else None)


LEGACY = Keying()  # the hashing of sessions recorded before version 4


def legacy_genesis(session_id: str) -> str:
    """The genesis of a session recorded before schema version 4: SHA-256 of its id (its identity is not bound)."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def utc_text(utc: datetime) -> str:
    """The wall-clock time as it is hashed: ISO 8601 in UTC with microseconds, whatever precision the value shows."""
    global _last_utc
    last = _last_utc  # (one read: another thread may replace it)
    if last[0] is utc:  # a rescoring hashes thousands of scorings made at the same time
        return last[1]
    text = utc.astimezone(UTC).isoformat(timespec="microseconds")
    _last_utc = (utc, text)
    return text


_last_utc: tuple[datetime | None, str] = (None, "")


IDENTITY_FIELDS = ("badge", "course_id", "course_version", "content_hash", "seed", "lang", "started_at", "mode")
EXAM = "exam"  # the mode of every session recorded before modes existed (schema version 5)


def identity(session_id: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """What a session's genesis binds, from its row (a mapping with IDENTITY_FIELDS): the ledger's facts of its start.

    The mode is bound only when it is not an exam: the identity of an exam is then the identity every session had before
    modes (they were all exams, and their genesis stays valid), and a mode changed by SQL either way changes it.
    """
    mode = str(row.get("mode") or EXAM)
    return {
        **({"mode": mode} if mode != EXAM else {}),
        "session": session_id,
        "badge": str(row["badge"]),
        "course_id": str(row["course_id"]),
        "course_version": str(row["course_version"]),
        "content_hash": str(row["content_hash"]),
        "seed": int(row["seed"]),
        "lang": str(row["lang"]),
        "started_at": utc_text(row["started_at"]),
    }


def genesis(keying: Keying, facts: Mapping[str, Any]) -> str:
    """The prev_hash of a session's first event (and its head while it has none), from its identity (see identity())."""
    return keying.digest(_flat_json({"genesis": dict(facts)}))


def event_hash(keying: Keying, prev_hash: str, session_id: str, event: Event, utc: datetime) -> str:
    body = {"session": session_id, "utc": utc_text(utc), **event.canonical()}
    return keying.digest(prev_hash + canonical_json(body))


def link(keying: Keying, session_id: str, prev_hash: str, events: Sequence[Event], utc: datetime) -> list[StoredEvent]:
    """Chain `events` after `prev_hash` (the session's current head). All get the same wall-clock time: when they were stored."""
    stored: list[StoredEvent] = []
    for event in events:
        digest = event_hash(keying, prev_hash, session_id, event, utc)
        stored.append(StoredEvent(session_id=session_id, event=event, utc=utc, prev_hash=prev_hash, hash=digest))
        prev_hash = digest
    return stored


SCORING_FIELDS = ("session_id", "scored_at", "scorer", "score", "passed", "reason", "review", "details")


def scoring_hash(keying: Keying, prev_hash: str, row: Mapping[str, Any]) -> str:
    """The hash of a scores row (a mapping with SCORING_FIELDS; `details` is its canonical JSON text as stored)."""
    body = {
        "session": str(row["session_id"]),
        "scored_at": utc_text(row["scored_at"]),
        "scorer": str(row["scorer"]),
        "score": float(row["score"]),
        "passed": bool(row["passed"]),
        "reason": str(row["reason"]),
        "review": bool(row["review"]),
        "details": str(row["details"]),
    }
    return keying.digest(prev_hash + _flat_json({"scoring": body}))


FEATURES_FIELDS = ("session_id", "feature_set", "content_hash", "mistakes")


def features_hash(keying: Keying, head_hash: str, row: Mapping[str, Any]) -> str:
    """The hash of a features row (a mapping with FEATURES_FIELDS), bound to its session's events by their head (the
    last event's hash, which the chain and the ledger bind in turn): edited, or moved to another session, the row no
    longer matches it. Keyed with the site key like every hash of a keyed database. The mistakes' JSON text follows
    the JSON object of the other fields as it is (an object ends where it ends: nothing can be moved across), not
    quoted inside it: rescoring hashes 100 000 of these."""
    body = {
        "session": str(row["session_id"]),
        "feature_set": str(row["feature_set"]),
        "content_hash": str(row["content_hash"]),
    }
    return keying.digest(head_hash + _flat_json({"features": body}) + str(row["mistakes"]))


def ledger_hash(
    keying: Keying, prev_hash: str, seq: int, kind: str, subject: str, count: int, head: str, facts: str | None
) -> str:
    body = {"seq": seq, "kind": kind, "subject": subject, "count": count, "head": head, "facts": facts}
    return keying.digest(prev_hash + _flat_json({"ledger": body}))


ROSTER_FIELDS = ("role", "plant", "hire_date", "merged_into")  # version 5's trainee fields, in the facts once set


def trainee_facts(badge: str, name: str, department: str, **roster: str | None) -> str:
    """A trainee's record as the ledger keeps it (its facts). The roster fields (ROSTER_FIELDS; hire_date as
    YYYY-MM-DD) are named only when set, so a trainee without them has the facts it had before version 5."""
    extra = {key: roster[key] for key in ROSTER_FIELDS if roster.get(key) is not None}
    return _flat_json({"badge": badge, "name": name, "department": department, **extra})


def requirements_facts(rows: Sequence[Mapping[str, Any]]) -> str:
    """The whole set of requirements as the ledger keeps it: each (department, role, course_id, first_days, since as
    YYYY-MM-DD), sorted, so the same set always gives the same text."""
    body = sorted(
        [str(r["department"]), str(r["role"]), str(r["course_id"]), int(r["first_days"]), str(r["since"])] for r in rows
    )
    return _flat_json({"requirements": body})


def rebadge_facts(badge: str, was: str, plant: str) -> str:
    """A merged session's badge renamed apart from another plant's (ledger kind "rebadge", see store/copy.py)."""
    return _flat_json({"badge": badge, "was": was, "plant": plant})


def record_hash(keying: Keying, kind: str, facts: str) -> str:
    """The hash of a record the ledger keeps whole in its facts (a trainee's): the ledger entry's head."""
    return keying.digest(_flat_json({kind: facts}))


LEDGER_GENESIS = "0" * 64  # the prev_hash of the ledger's first entry


def _matches(keyings: Sequence[Keying], stored: str, make: Any) -> bool:
    """Whether `stored` is the hash `make(keying)` gives with one of `keyings`; True with none (structure only)."""
    return not keyings or any(make(k) == stored for k in keyings)


def verify(
    session_id: str,
    events: Sequence[StoredEvent],
    head_hash: str,
    event_count: int,
    *,
    first: str,
    keyings: Sequence[Keying],
) -> ChainProblem | None:
    """The first problem in a session's stored events (in seq order), or None if the chain is intact.

    `first` is the genesis the first event must link to; `head_hash` and `event_count` come from the session row.
    `keyings`: the hashings a hash may have been made with (a legacy session's events may have either); empty when the
    hashes cannot be recomputed (a keyed database without its key): then only the links are checked. Each event is
    checked against the *stored* hash of the one before it, so an edited event is reported at its own seq and not again
    at every later one.
    """

    def problem(seq: int, reason: str) -> ChainProblem:
        return ChainProblem(session_id=session_id, seq=seq, reason=reason)

    prev = first
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
        if not _matches(keyings, stored.hash, lambda k: event_hash(k, prev, session_id, stored.event, stored.utc)):  # noqa: B023
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
