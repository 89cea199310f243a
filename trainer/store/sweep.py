"""The whole store's verification (what Store.verification() finds, by the same checks of evidence.py and chain.py),
read in pages so that its memory does not grow with the size of the store: for `trainer db copy`, which verifies a
target of millions of events right after writing it.

Store.verification() holds every ledger entry and session row at once (its memory grows with the store:
docs/performance.md, "Figures behind the code"). Here:
1. the ledger is read in seq order, a page at a time, and checked link by link (evidence.check_ledger told where the
   page starts); only each trainee's latest entry is kept (trainees are few);
2. the sessions' ledger entries are read again ordered by session (one sorted query, streamed), beside the sessions
   read a page at a time in the same order (byte order: COLLATE "C" on PostgreSQL, SQLite's own), each page with its
   events and scorings; each session is checked with evidence.check_session against its entries (of which only what
   check_session reads is kept: its first, its rebadges, the last that is not a rebadge, and the last), and a session
   the ledger names that the database lacks is found where the two orders part.
Nothing about the sessions already checked is kept: holding a few entries of each session while the ledger's pages came
and went pinned the freed pages in memory (measured: docs/performance.md, "Figures behind the code").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, collate, select

from trainer.store import chain, dialect, evidence, schema
from trainer.store.ledger import ENTRIES
from trainer.store.reads import read_events
from trainer.store.records import ChainProblem, Verification

PAGE = 5000  # ledger entries per read
SESSIONS = 500  # sessions per read (with their events and scorings)


def verify(engine: Engine, keying: chain.Keying) -> Verification:
    """Every finding Store.verification() makes about the whole store, in one snapshot."""
    with dialect.read_transaction(engine) as conn:
        problems, trainee_entries, size, tail = _ledger(conn, keying)
        found, checked, legacy = _sessions(conn, keying)
        problems += found
        rows = [dict(r._mapping) for r in conn.execute(select(schema.trainees))]
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


def _ledger(conn: Connection, keying: chain.Keying) -> tuple[list[ChainProblem], dict[str, evidence.Entry], int, str]:
    led = schema.ledger
    problems: list[ChainProblem] = []
    trainees: dict[str, evidence.Entry] = {}
    last, prev, size = 0, chain.LEDGER_GENESIS, 0
    while True:
        query = ENTRIES.where(led.c.seq > last).order_by(led.c.seq).limit(PAGE)
        page = [evidence.Entry(*r) for r in conn.execute(query)]
        if not page:
            break
        if not problems:  # the first problem only, as Store.verification() reports it
            problems += evidence.check_ledger(page, keying, whole=True, first=size + 1, prev=prev)
        for e in page:
            if e.kind == "trainee":
                trainees.pop(e.subject, None)  # the latest last, as the dict of evidence.check_trainees would keep
                trainees[e.subject] = e
        size += len(page)
        last, prev = page[-1].seq, page[-1].hash
    return problems, trainees, size, prev if size else ""


def _byte_order(conn: Connection, column: Any) -> Any:
    """`column` compared and sorted byte by byte (Python's str order) whatever the database's collation."""
    return collate(column, "C") if conn.dialect.name == "postgresql" else column


def _entries_by_session(conn: Connection) -> Iterator[tuple[str, list[evidence.Entry]]]:
    """(session id, the entries check_session reads) for every session the ledger names, in byte order of the id."""
    led = schema.ledger
    subject = _byte_order(conn, led.c.subject)
    query = ENTRIES.where(led.c.kind.in_(evidence.SESSION_KINDS)).order_by(subject, led.c.seq)
    current: str | None = None
    kept: list[evidence.Entry] = []
    for row in conn.execution_options(stream_results=True, yield_per=PAGE).execute(query):
        e = evidence.Entry(*row)
        if e.subject != current:
            if current is not None:
                yield current, kept
            current, kept = e.subject, []
        _keep(kept, e)
    if current is not None:
        yield current, kept


def _keep(entries: list[evidence.Entry], e: evidence.Entry) -> None:
    """Add `e` to a session's entries, keeping only what evidence.check_session reads: the first, the rebadges, the
    last that is not a rebadge, and the last (check_ledger of the session's own entries is done by the whole check)."""
    if len(entries) >= 2 and entries[-1].kind != "rebadge" and e.kind != "rebadge":
        entries.pop()  # a later entry of the same sort replaces it
    entries.append(e)


def _sessions(conn: Connection, keying: chain.Keying) -> tuple[list[ChainProblem], int, int]:
    s, h, e = schema.sessions, schema.scores, schema.events
    problems: list[ChainProblem] = []
    checked = legacy = 0
    ledger = _entries_by_session(conn)
    pending = next(ledger, None)

    def missing(sid: str, entries: list[evidence.Entry]) -> None:
        problems.extend(evidence.missing_sessions(set(), entries[:1]))

    sid_order = _byte_order(conn, s.c.id)
    last = ""
    while True:
        query = select(s).where(sid_order > last).order_by(sid_order).limit(SESSIONS)
        rows = conn.execute(query).all()
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
            while pending is not None and pending[0] < row.id:  # named by the ledger, not in the database
                missing(*pending)
                pending = next(ledger, None)
            entries: list[evidence.Entry] = []
            if pending is not None and pending[0] == row.id:
                entries = pending[1]
                pending = next(ledger, None)
            legacy += bool(entries) and entries[0].kind == "legacy"
            stored, unreadable = read_events(events.get(row.id, []))
            named = dict(row._mapping)
            problems += evidence.check_session(named, stored, unreadable, scorings.get(row.id, []), entries, keying)
        checked += len(rows)
    while pending is not None:
        missing(*pending)
        pending = next(ledger, None)
    return problems, checked, legacy
