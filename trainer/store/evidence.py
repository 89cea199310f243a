"""What `trainer sessions verify` checks beyond one session's events: pure functions over rows, no database.

A session's row against its chain (chain.py) and the ledger: its identity (badge, course, seed, start) against the
facts its genesis was made from, its scorings chained after its events, the fields derived from them (status, outcome,
ended_at, score, passed, the void), and its head against the ledger's last entry for it. The ledger against itself
(numbered without gaps, each entry linked to the one before and matching its hash), and against the tables: a session or
trainee it names that is gone, a row it does not name, a trainee renamed behind the store's back.

Sessions recorded before schema version 4 (ledger kind "legacy") only have their events checked, as before, and their
head against the ledger: their identity and scores were never bound to the chain.

A session merged from another plant's database whose badge collided with a trainee already there (`trainer db copy
--merge`, store/copy.py) keeps its genesis, made from the badge it was recorded with, and gets a ledger entry of kind
"rebadge" (facts: the new badge, the one it replaces, the plant): its row must carry the badge the last rebadge names.
The rename is itself a ledger entry, chained and hashed like the others: renaming a session's badge with SQL is still
a finding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trainer.engine.events import TERMINAL_KINDS, EventKind
from trainer.store import chain
from trainer.store.records import ChainProblem, StoredEvent

SESSION_KINDS = frozenset({"start", "head", "void", "legacy", "rebadge"})
_RECORD_KINDS = ("trainee", "requirements")  # entries whose head is the hash of their facts (chain.record_hash)
_TERMINAL_STATUS = {EventKind.COMPLETED: "completed", EventKind.FAILED: "failed", EventKind.ABORTED: "aborted"}


@dataclass(frozen=True)
class Entry:
    """One ledger row (schema.ledger); ledger.ENTRIES selects its columns by these names, in this order."""

    seq: int
    kind: str
    subject: str
    event_count: int
    head: str
    facts: str | None
    prev_hash: str
    hash: str


def _keyings(keying: chain.Keying) -> tuple[chain.Keying, ...]:
    """The hashings to recompute with: none when the database is keyed and this process lacks the key."""
    return (keying,) if keying.can_hash else ()


def _ledger_problem(reason: str) -> ChainProblem:
    return ChainProblem(session_id="", seq=0, reason=reason, field="ledger", subject="ledger")


def check_ledger(
    entries: Sequence[Entry], keying: chain.Keying, *, whole: bool, first: int = 1, prev: str = chain.LEDGER_GENESIS
) -> list[ChainProblem]:
    """The first problem of the ledger's entries (in seq order). `whole`: these are all its entries, so their numbering
    and links are checked too; else (one session's entries) each entry's own hash only. A ledger read in pages is
    checked page by page: `first` is the seq the page must start at, `prev` the hash of the entry before it."""
    keyings = _keyings(keying)
    for expected, e in enumerate(entries, start=first):
        if whole and e.seq > expected:
            return [_ledger_problem(f"entry {expected} is missing (the next entry is {e.seq}): entries were removed")]
        if whole and e.seq < expected:
            return [_ledger_problem(f"entry {e.seq} is out of order (expected {expected})")]
        if whole and e.prev_hash != prev:
            return [
                _ledger_problem(
                    f"entry {e.seq} does not link to the entry before it (an entry was removed, added or moved)"
                )
            ]
        for k in keyings:
            altered = chain.ledger_hash(k, e.prev_hash, e.seq, e.kind, e.subject, e.event_count, e.head, e.facts)
            if altered != e.hash or (e.kind in _RECORD_KINDS and chain.record_hash(k, e.kind, e.facts or "") != e.head):
                return [_ledger_problem(f"entry {e.seq} was altered: its content does not match its hash")]
        prev = e.hash
    return []


def _facts(entry: Entry) -> dict[str, Any] | None:
    try:
        facts = json.loads(entry.facts or "")
    except ValueError:
        return None
    return facts if isinstance(facts, dict) else None


def _shown(value: Any) -> str:
    return "none" if value is None else str(value)


def check_session(
    row: Mapping[str, Any],
    events: Sequence[StoredEvent],
    unreadable: ChainProblem | None,
    scorings: Sequence[Mapping[str, Any]],
    entries: Sequence[Entry],
    keying: chain.Keying,
) -> list[ChainProblem]:
    """Every finding about one session: `row` its sessions row, `events` its stored events in seq order (up to the first
    `unreadable` one, if any), `scorings` its scores rows by id, `entries` the ledger's entries for it in seq order."""
    sid = str(row["id"])

    def field(name: str, reason: str) -> ChainProblem:
        return ChainProblem(session_id=sid, seq=0, reason=reason, field=name)

    if not entries:
        return [field("ledger", "the session is not in the ledger: it was added behind the store's back")]
    problems: list[ChainProblem] = []
    start = entries[0]
    legacy = start.kind == "legacy"
    keyings = _keyings(keying)
    if legacy:  # recorded before version 4: the old genesis, and events hashed before (SHA-256) or after the upgrade
        first = chain.legacy_genesis(sid)
        keyings = tuple(dict.fromkeys((keying, chain.LEGACY))) if keying.can_hash else ()
    else:
        first = start.head
        problems += _identity(row, entries, keying, field)

    # the events, from the genesis
    broken: ChainProblem | None
    if unreadable is not None:
        head = events[-1].hash if events else first
        broken = chain.verify(sid, events, head, len(events), first=first, keyings=keyings) or unreadable
    else:
        broken = chain.verify(sid, events, row["head_hash"], row["event_count"], first=first, keyings=keyings)
    if broken is not None:
        problems.append(broken)

    # the scorings, after the events
    prev, last, hashed, scored = str(row["head_hash"]), None, 0, len(problems)
    for scoring in scorings:
        number = scoring["id"]
        if scoring["hash"] is None:
            if legacy and not hashed:  # scored before version 4
                last = scoring
                continue
            problems.append(field("scores", f"scores row {number} has no hash: it was added behind the store's back"))
            break
        if scoring["prev_hash"] != prev:
            problems.append(
                field(
                    "scores",
                    f"scores row {number} does not link to the scoring before it (a scoring was removed, added or moved)",
                )
            )
            break
        if keyings and all(chain.scoring_hash(k, prev, scoring) != scoring["hash"] for k in keyings):
            problems.append(
                field(
                    "scores", f"scores row {number} was altered: its score, verdict or deductions do not match its hash"
                )
            )
            break
        prev, last, hashed = str(scoring["hash"]), scoring, hashed + 1
    else:
        if row["score_hash"] != (prev if hashed else None):
            problems.append(
                field(
                    "sessions.score_hash",
                    "sessions.score_hash does not match the session's last scoring (a scoring was removed or the row altered)",
                )
            )

    voided = [e for e in entries if e.kind != "rebadge"][-1].kind == "void"
    if not legacy and broken is None:
        # a broken scoring chain is the finding: the score is not compared with a scoring that cannot be trusted
        intact = len(problems) == scored
        problems += _derived(row, events, last, entries[-1] if voided else None, field, scores=intact)

    # the session's head, against the ledger's last word on it
    latest = entries[-1]
    if (latest.event_count, latest.head) != (row["event_count"], row["score_hash"] or row["head_hash"]):
        problems.append(
            field(
                "ledger",
                f"the session's head does not match the ledger (entry {latest.seq}): its last events or scorings "
                "were removed, or its row was rolled back",
            )
        )
    return problems


def check_features(row: Mapping[str, Any], features: Mapping[str, Any], keying: chain.Keying) -> list[ChainProblem]:
    """A session's stored features (schema.features) against their hash, made after the session's events' head: a row
    edited by plain SQL could change what a rescoring gives (it is not used then: the events are read instead)."""
    if not keying.can_hash or chain.features_hash(keying, str(row["head_hash"]), features) == features["hash"]:
        return []
    return [
        ChainProblem(
            session_id=str(row["id"]),
            seq=0,
            reason="its stored features were altered: they do not match their hash (rescoring reads its events "
            "instead)",
            field="features",
        )
    ]


def _fact(facts: Mapping[str, Any], name: str) -> Any:
    """An identity fact as it reads: a mode the facts leave out is an exam (see chain.identity)."""
    return facts.get(name, chain.EXAM if name == "mode" else None)


def _identity(row: Mapping[str, Any], entries: Sequence[Entry], keying: chain.Keying, field: Any) -> list[ChainProblem]:
    """The session's identity fields against the facts its genesis was made from (the ledger's start entry), the badge
    as the rebadge entries after it renamed it (a merge)."""
    start = entries[0]
    facts = _facts(start) if start.kind == "start" else None
    if facts is None:
        return [field("ledger", f"the ledger's first entry for the session ({start.seq}) is not a readable start")]
    now = chain.identity(str(row["id"]), row)
    found: list[ChainProblem] = []
    badge = facts.get("badge")
    for entry in entries[1:]:
        if entry.kind != "rebadge":
            continue
        renamed = _facts(entry) or {}
        if renamed.get("was") != badge:
            found.append(
                field(
                    "ledger",
                    f"ledger entry {entry.seq} renames badge {renamed.get('was')}, not the session's {badge}",
                )
            )
            break
        badge = renamed.get("badge")
    facts = {**facts, "badge": badge}
    found += [
        field(
            f"sessions.{name}",
            f"sessions.{name} does not match the chain (stored {_fact(now, name)}, the chain's {_fact(facts, name)})",
        )
        for name in chain.IDENTITY_FIELDS
        if now.get(name) != facts.get(name)
    ]
    if not found and keying.can_hash and chain.genesis(keying, _facts(start) or {}) != start.head:
        found.append(field("ledger", f"the session's genesis does not match its identity (ledger entry {start.seq})"))
    return found


def _derived(
    row: Mapping[str, Any],
    events: Sequence[StoredEvent],
    last_scoring: Mapping[str, Any] | None,
    void: Entry | None,
    field: Any,
    *,
    scores: bool,
) -> list[ChainProblem]:
    """status, outcome, ended_at, score, passed and the void fields, against what the chain and the ledger say."""
    final = events[-1] if events else None
    if final is not None and final.event.kind in TERMINAL_KINDS:
        outcome = final.event.data.get("outcome")
        want: dict[str, Any] = {
            "status": _TERMINAL_STATUS[final.event.kind],
            "outcome": None if outcome is None else str(outcome),
            "ended_at": final.utc,
        }
    else:
        want = {"status": "voided" if void is not None else "in_progress", "outcome": None, "ended_at": None}
    if not scores:
        pass
    elif last_scoring is None:
        want |= {"score": None, "passed": None}
    else:
        want |= {"score": float(last_scoring["score"]), "passed": bool(last_scoring["passed"])}
    if void is not None:
        facts = _facts(void) or {}
        at = row["voided_at"]
        want |= {"void_reason": facts.get("reason"), "voided_by": facts.get("by")}
        if (None if at is None else chain.utc_text(at)) != facts.get("at"):
            want["voided_at"] = facts.get("at")
    found = []
    for name, expected in want.items():
        stored = row[name]
        if name == "passed" and stored is not None:
            stored = bool(stored)
        if name == "voided_at" or stored != expected:
            found.append(
                field(
                    f"sessions.{name}",
                    f"sessions.{name} does not match the chain (stored {_shown(stored)}, the chain's {_shown(expected)})",
                )
            )
    return found


def missing_sessions(present: set[str], entries: Sequence[Entry]) -> list[ChainProblem]:
    """The sessions the ledger names that are no longer in the database (deleted whole)."""
    named: dict[str, Entry] = {}
    for e in entries:
        if e.kind in SESSION_KINDS and e.subject not in present:
            named.setdefault(e.subject, e)
    return [
        ChainProblem(
            session_id=sid,
            seq=0,
            reason=f"the session is in the ledger (entry {e.seq}) but missing from the database: it was deleted",
            field="sessions",
        )
        for sid, e in named.items()
    ]


def _trainee_value(row: Mapping[str, Any], name: str) -> Any:
    """A trainees column as the ledger's facts hold it (a hire date as YYYY-MM-DD text)."""
    value = row.get(name)
    return value.isoformat() if name == "hire_date" and value is not None else value


def check_trainees(rows: Sequence[Mapping[str, Any]], entries: Sequence[Entry]) -> list[ChainProblem]:
    """Each trainee's badge, name, department and roster fields (role, plant, hire date, the badge it was merged into)
    against the ledger's last entry for it; trainees it names that are gone."""
    latest = {e.subject: e for e in entries if e.kind == "trainee"}
    found = []
    for row in rows:
        badge = str(row["badge"])

        def problem(name: str, reason: str, badge: str = badge) -> ChainProblem:
            return ChainProblem(session_id="", seq=0, reason=reason, field=name, subject=f"trainee {badge}")

        entry = latest.pop(badge, None)
        if entry is None:
            found.append(
                problem("ledger", "the trainee is not in the ledger: added or renamed behind the store's back")
            )
            continue
        facts = _facts(entry) or {}
        for name in ("name", "department", *chain.ROSTER_FIELDS):
            stored = _trainee_value(row, name)
            if stored != facts.get(name):
                found.append(
                    problem(
                        f"trainees.{name}",
                        f"trainees.{name} does not match the ledger (stored {_shown(stored)}, the ledger's "
                        f"{_shown(facts.get(name))})",
                    )
                )
    for badge, entry in latest.items():
        found.append(
            ChainProblem(
                session_id="",
                seq=0,
                reason=f"the trainee is in the ledger (entry {entry.seq}) but missing from the database: it was deleted",
                field="trainees",
                subject=f"trainee {badge}",
            )
        )
    return found


def check_requirements(rows: Sequence[Mapping[str, Any]], entries: Sequence[Entry]) -> list[ChainProblem]:
    """The requirements table against the ledger's last requirements entry: a requirement added, removed or changed
    by plain SQL (hiding who is overdue) no longer matches it. No entry and no rows: never loaded."""
    latest = next((e for e in reversed(entries) if e.kind == "requirements"), None)
    if latest is None and not rows:
        return []
    if latest is not None and chain.requirements_facts(rows) == latest.facts:
        return []
    where = "not in the ledger" if latest is None else f"does not match the ledger (entry {latest.seq})"
    return [
        ChainProblem(
            session_id="",
            seq=0,
            reason=f"the requirements table {where}: it was changed behind the store's back; load the file again",
            field="requirements",
            subject="requirements",
        )
    ]
