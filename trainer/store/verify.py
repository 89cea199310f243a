"""Verifying the record (`trainer sessions verify`, and every backup before it is called one): each session's events,
identity, scorings, derived fields and stored features against their hashes (chain.py, evidence.py), each session's
head against the ledger; for the whole store also the ledger itself and the trainees and requirements it keeps.

(sweep.py verifies a whole store in bounded memory for `trainer db copy`; this reads one snapshot.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from trainer.store import evidence, ledger, schema
from trainer.store.access import Access
from trainer.store.reads import events_query, read_events
from trainer.store.records import ChainProblem, Verification


def verify(db: Access, session_id: str | None = None) -> list[ChainProblem]:
    """verification()'s findings: none when the record is intact."""
    return list(verification(db, session_id).problems)


def verification(db: Access, session_id: str | None = None) -> Verification:
    """Check the record of one session (id or unique prefix) or of the whole store against its hashes (chain.py,
    evidence.py): each session's events, identity, scorings, derived fields and stored features, and its head
    against the ledger;
    for the whole store also the ledger itself, the sessions and trainees it names, and every trainee.

    One snapshot (a read transaction) for all of it. A keyed database read without its key is checked for
    structure (links, numbering, fields against the chain and the ledger), not authenticity (no hash recomputed).
    """
    s, h, t, led, f = schema.sessions, schema.scores, schema.trainees, schema.ledger, schema.features
    keying = db._keying
    problems: list[ChainProblem] = []
    legacy = 0
    with db._reading("verify sessions") as conn:
        if session_id is None:
            rows = conn.execute(select(s).order_by(s.c.started_at, s.c.id)).all()
            entries = [evidence.Entry(*r) for r in conn.execute(ledger.ENTRIES.order_by(led.c.seq))]
            problems += evidence.check_ledger(entries, keying, whole=True)
            size, tail = len(entries), (entries[-1].hash if entries else "")
        else:
            rows = [db._find(conn, session_id)]
            query = ledger.ENTRIES.where(led.c.subject == rows[0].id).order_by(led.c.seq)
            entries = [evidence.Entry(*r) for r in conn.execute(query)]
            problems += evidence.check_ledger(entries, keying, whole=False)
            size = conn.execute(select(func.count()).select_from(led)).scalar_one()
            last = conn.execute(ledger.TAIL).first()
            tail = "" if last is None else str(last.hash)
        mine: dict[str, list[evidence.Entry]] = {}
        for e in entries:
            if e.kind in evidence.SESSION_KINDS:
                mine.setdefault(e.subject, []).append(e)
        for first in range(0, len(rows), 500):
            part = rows[first : first + 500]
            ids = [row.id for row in part]
            scorings: dict[str, list[Mapping[str, Any]]] = {}  # the scorings of 500 sessions in one query, not one each
            query = select(h).where(h.c.session_id.in_(ids)).order_by(h.c.session_id, h.c.id)
            for scoring in conn.execute(query):
                scorings.setdefault(scoring.session_id, []).append(dict(scoring._mapping))
            kept = {r.session_id: dict(r._mapping) for r in conn.execute(select(f).where(f.c.session_id.in_(ids)))}
            for row in part:
                own = mine.get(row.id, [])
                legacy += bool(own) and own[0].kind == "legacy"
                stored, unreadable = read_events(conn.execute(events_query(row.id)).all())
                named = dict(row._mapping)
                problems += evidence.check_session(named, stored, unreadable, scorings.get(row.id, []), own, keying)
                if row.id in kept:
                    problems += evidence.check_features(named, kept[row.id], keying)
        if session_id is None:
            problems += evidence.missing_sessions({row.id for row in rows}, entries)
            problems += evidence.check_trainees([dict(r._mapping) for r in conn.execute(select(t))], entries)
            required = [dict(r._mapping) for r in conn.execute(select(schema.requirements))]
            problems += evidence.check_requirements(required, entries)
    return Verification(
        problems=tuple(problems),
        checked=len(rows),
        legacy=legacy,
        keying=keying.meta_value(),
        authenticated=keying.can_hash,
        ledger_entries=size,
        ledger_head=tail,
    )
