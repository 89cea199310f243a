"""The ledger: one hash chain for the whole store that keeps each session's head, each trainee's row and the
requirements (schema.ledger; checked by evidence.py). Rolling a session back, or editing a trainee by plain SQL, no
longer matches its last entry.

Every trainee answer appends an entry, so the two statements run on the driver's cursor, compiled once per backend:
SQLAlchemy's execute() costs more than the statements do (docs/performance.md, "Raw driver paths").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError

from trainer.store import chain, dialect, evidence, schema

# The ledger's rows as evidence.Entry takes them: its fields, by name, in its order (`evidence.Entry(*row)`).
ENTRIES = select(*(schema.ledger.c[f.name] for f in fields(evidence.Entry)))
TAIL = select(schema.ledger.c.seq, schema.ledger.c.hash).order_by(schema.ledger.c.seq.desc()).limit(1)
_INSERT = schema.ledger.insert()
_COLUMNS = ("seq", "kind", "subject", "event_count", "head", "facts", "prev_hash", "hash")
# A ledger entry before it is numbered and chained: (kind, subject, event_count, head, facts); see schema.ledger.
LedgerEntry = tuple[str, str, int, str, str | None]
# (tail SQL, its parameters, insert SQL, the insert's parameter names in order, whether they are positional), by backend
_SQL: dict[str, tuple[str, Any, str, list[str], bool]] = {}


def _sql(conn: Connection) -> tuple[str, Any, str, list[str], bool]:
    name = conn.dialect.name
    if name not in _SQL:
        tail = TAIL.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        tail_params: Any = tail.params
        if tail.positional:
            tail_params = tuple(tail_params[key] for key in tail.positiontup or ())
        insert = _INSERT.compile(dialect=conn.dialect, column_keys=list(_COLUMNS))
        names = list(insert.positiontup or ()) if insert.positional else list(insert.bind_names.values())
        _SQL[name] = (str(tail), tail_params, str(insert), names, bool(insert.positional))
    return _SQL[name]


def enter(conn: Connection, keying: chain.Keying, entries: Sequence[LedgerEntry]) -> None:
    """Append entries to the ledger, chained after its last one, in the write transaction `conn`.

    The ledger has one end for the whole store: the writers that append to it are serialized (SQLite's write lock;
    PostgreSQL: dialect.lock_ledger, taken last so that it never waits while holding it for another lock).
    """
    dialect.lock_ledger(conn)
    tail_sql, tail_params, insert_sql, names, positional = _sql(conn)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(tail_sql, tail_params)
        tail = cursor.fetchone()
        seq, prev = (int(tail[0]), str(tail[1])) if tail is not None else (0, chain.LEDGER_GENESIS)
        rows: list[Any] = []
        for kind, subject, count, head, facts in entries:
            seq += 1
            digest = chain.ledger_hash(keying, prev, seq, kind, subject, count, head, facts)
            values = dict(zip(_COLUMNS, (seq, kind, subject, count, head, facts, prev, digest), strict=True))
            rows.append(tuple(values[key] for key in names) if positional else values)
            prev = digest
        if len(rows) == 1:
            cursor.execute(insert_sql, rows[0])
        elif rows:
            cursor.executemany(insert_sql, rows)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(insert_sql, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect) from exc
    finally:
        cursor.close()
