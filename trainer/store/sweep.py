"""The whole store's verification (what Store.verification() finds, the same checks of evidence.py and chain.py), read
in pages so that its memory does not grow with the number of events: for `trainer db copy`, which verifies a target of
millions of events right after writing it.

Store.verification() holds every ledger entry and session row of the store at once. Here the ledger is read in seq
order, a page at a time, checked link by link (evidence.check_ledger with where the page starts), and of each
session's entries only what evidence.check_session reads is kept (its first entry, its rebadges, its last entry and
the last one that is not a rebadge: a few per session); then the sessions are read a page at a time by id, each page
with its events and scorings, and checked with evidence.check_session. Trainees as in Store.verification().
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, select

from trainer.store import chain, dialect, evidence, schema
from trainer.store.records import ChainProblem, Verification

PAGE = 5000  # ledger entries per read
SESSIONS = 500  # sessions per read (with their events and scorings)


def verify(engine: Engine, keying: chain.Keying) -> Verification:
    """Every finding Store.verification() makes about the whole store, in one snapshot."""
    with dialect.read_transaction(engine) as conn:
        problems, own, trainee_entries, size, tail = _ledger(conn, keying)
        found, checked, legacy, present = _sessions(conn, keying, own)
        problems += found
        problems += evidence.missing_sessions(present, [e for entries in own.values() for e in entries])
        rows = [r._mapping for r in conn.execute(select(schema.trainees))]
        problems += evidence.check_trainees(rows, list(trainee_entries.values()))
    return Verification(
        problems=tuple(problems),
        checked=checked,
        legacy=legacy,
        keying=keying.meta_value(),
        authenticated=keying.can_hash,
        ledger_entries=size,
        ledger_head=tail,
    )


def _ledger(
    conn: Connection, keying: chain.Keying
) -> tuple[list[ChainProblem], dict[str, list[evidence.Entry]], dict[str, evidence.Entry], int, str]:
    led = schema.ledger
    problems: list[ChainProblem] = []
    own: dict[str, list[evidence.Entry]] = {}
    trainees: dict[str, evidence.Entry] = {}
    last, prev, size = 0, chain.LEDGER_GENESIS, 0
    while True:
        page = [
            evidence.Entry(*r)
            for r in conn.execute(select(led).where(led.c.seq > last).order_by(led.c.seq).limit(PAGE))
        ]
        if not page:
            break
        if not problems:  # the first problem only, as Store.verification() reports it
            problems += evidence.check_ledger(page, keying, whole=True, first=size + 1, prev=prev)
        for e in page:
            if e.kind in evidence.SESSION_KINDS:
                _keep(own.setdefault(e.subject, []), e)
            elif e.kind == "trainee":
                trainees.pop(e.subject, None)  # keeps the latest last, in seq order, as a dict would
                trainees[e.subject] = e
        size += len(page)
        last, prev = page[-1].seq, page[-1].hash
    return problems, own, trainees, size, prev if size else ""


def _keep(entries: list[evidence.Entry], e: evidence.Entry) -> None:
    """Add `e` to a session's entries, keeping only what evidence.check_session reads: the first, the rebadges, the
    last that is not a rebadge, and the last (check_ledger of the session's own entries is done by the whole check)."""
    if len(entries) >= 2 and entries[-1].kind != "rebadge" and e.kind != "rebadge":
        entries.pop()  # a later entry of the same sort replaces it
    entries.append(e)


def _sessions(
    conn: Connection, keying: chain.Keying, own: dict[str, list[evidence.Entry]]
) -> tuple[list[ChainProblem], int, int, set[str]]:
    from trainer.store.store import _read_events

    s, h, e = schema.sessions, schema.scores, schema.events
    problems: list[ChainProblem] = []
    present: set[str] = set()
    checked = legacy = 0
    last = ""
    while True:
        rows = conn.execute(select(s).where(s.c.id > last).order_by(s.c.id).limit(SESSIONS)).all()
        if not rows:
            break
        last = rows[-1].id
        ids = [r.id for r in rows]
        scorings: dict[str, list[Any]] = {}
        for scoring in conn.execute(select(h).where(h.c.session_id.in_(ids)).order_by(h.c.session_id, h.c.id)):
            scorings.setdefault(scoring.session_id, []).append(scoring._mapping)
        events: dict[str, list[Any]] = {}
        for event in conn.execute(select(e).where(e.c.session_id.in_(ids)).order_by(e.c.session_id, e.c.seq)):
            events.setdefault(event.session_id, []).append(event)
        for row in rows:
            entries = own.get(row.id, [])
            legacy += bool(entries) and entries[0].kind == "legacy"
            stored, unreadable = _read_events(events.get(row.id, []))
            problems += evidence.check_session(
                row._mapping, stored, unreadable, scorings.get(row.id, []), entries, keying
            )
            present.add(row.id)
        checked += len(rows)
    return problems, checked, legacy, present

