"""Is each of the store's raw-driver paths still worth it? Each against the same work through SQLAlchemy's own
conn.execute() (executemany / insertmanyvalues for writes, Rows for reads), on the same data, in the same process.

- ledger: one ledger entry per transaction (what every trainee answer adds): trainer.store.ledger.enter (the tail
  and the insert on the driver's cursor, compiled once) against conn.execute() of the same two statements;
- scores: 20,000 scorings inserted at once (a rescoring): trainer.store.driver.executemany against
  conn.execute(insert, rows);
- listing: every session of 20,000 read as records (reports, exports): the driver's tuples with their timestamps
  converted (driver.rows, as the store read them until this bench) against SQLAlchemy Rows of the same select (as
  it reads them now);
- events: the events of 2,000 sessions (60,000 rows) as rescoring reads them: driver.rows against Rows (now).

CPU seconds of this process, median of --repeat rounds, the two ways alternated in each round; SQLite in a temporary
file with synchronous=OFF (fsync is not what is compared). docs/performance.md, "Raw driver paths", keeps the figures.

    python bench/bench_store_paths.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rows import event_row
from sqlalchemy import Connection, select

from trainer.engine.events import Event, EventKind
from trainer.store import access, chain, driver, ledger, reads, schema
from trainer.store.store import Store

SESSIONS = 20_000
SCORES = 20_000
EVENT_SESSIONS = 2_000
EVENTS_EACH = 30
ENTRIES = 2_000


def _cpu(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def fill(store: Store) -> list[str]:
    """SESSIONS finished sessions, the first EVENT_SESSIONS with EVENTS_EACH events each; their ids."""
    began = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    store.upsert_trainee("BENCH", "Bench", "Bench")
    ids = [f"{n:08d}-0000-4000-8000-000000000000" for n in range(SESSIONS)]
    sessions = [
        {
            "id": sid, "badge": "BENCH", "course_id": "c", "course_version": "1", "content_hash": "h", "seed": 1,
            "lang": "en", "status": "completed", "outcome": "completed", "score": 90.0, "passed": True,
            "started_at": began + timedelta(minutes=n), "ended_at": began + timedelta(minutes=n, seconds=90),
            "event_count": EVENTS_EACH, "head_hash": "0" * 64, "owner_host": "", "owner_pid": 0,
            "heartbeat_at": began, "mode": "exam",
        }
        for n, sid in enumerate(ids)
    ]  # fmt: skip
    events = [
        event_row(sid, Event(seq, seq * 1000, EventKind.CHOSE, f"s{seq}", "ok", {"goto": f"s{seq + 1}"}), began)
        for sid in ids[:EVENT_SESSIONS]
        for seq in range(1, EVENTS_EACH + 1)
    ]
    with store._writing("fill") as conn:
        conn.execute(schema.sessions.insert(), sessions)
        conn.execute(schema.events.insert(), events)
    return ids


def ledger_raw(store: Store) -> None:
    keying = store._keying
    for n in range(ENTRIES):
        with store._writing("bench") as conn:
            ledger.enter(conn, keying, [("head", "bench", n, "0" * 64, None)])


def ledger_execute(store: Store) -> None:
    keying = store._keying
    insert = schema.ledger.insert()
    for n in range(ENTRIES):
        with store._writing("bench") as conn:
            tail = conn.execute(ledger.TAIL).first()
            seq, prev = (tail.seq, tail.hash) if tail is not None else (0, chain.LEDGER_GENESIS)
            seq += 1
            digest = chain.ledger_hash(keying, prev, seq, "head", "bench", n, "0" * 64, None)
            row = {"seq": seq, "kind": "head", "subject": "bench", "event_count": n, "head": "0" * 64}
            conn.execute(insert, [{**row, "facts": None, "prev_hash": prev, "hash": digest}])


def score_rows(session_id: str) -> list[dict[str, Any]]:
    now = access.utcnow()
    return [
        {
            "session_id": session_id, "scored_at": now, "scorer": "model abc", "score": 80.0 + n % 20,
            "passed": n % 3 != 0, "reason": "pass", "review": False, "details": '[{"code":"A","severity":"minor"}]',
            "prev_hash": "0" * 64, "hash": f"{n:064d}",
        }
        for n in range(SCORES)
    ]  # fmt: skip


def scores_write(store: Store, rows: list[dict[str, Any]], how: Callable[[Connection, Any, Any], object]) -> float:
    """CPU of inserting `rows`, rolled back afterwards so every round starts from the same table."""
    conn = store._engine.connect()
    try:
        with conn.begin() as transaction:
            spent = _cpu(lambda: how(conn, schema.scores.insert(), rows))
            transaction.rollback()
    finally:
        conn.close()
    return spent


def listing_raw(store: Store) -> int:
    """The listing as the store read it before: the driver's tuples, their three timestamps and the flag converted
    here (the positions are those of reads.RECORD_COLUMNS)."""
    with store._reading("bench") as conn:
        rows = driver.rows(conn, select(*reads.RECORD_COLUMNS))
        to_utc = schema.UTCDateTime().result_processor(conn.dialect, None)
    assert to_utc is not None
    now = access.utcnow()
    at = {c.name: i for i, c in enumerate(reads.RECORD_COLUMNS)}
    started, ended, beat, passed = at["started_at"], at["ended_at"], at["heartbeat_at"], at["passed"]
    records = []
    for raw in rows:
        row = list(raw)
        row[started], row[ended], row[beat] = to_utc(row[started]), to_utc(row[ended]), to_utc(row[beat])
        row[passed] = None if row[passed] is None else bool(row[passed])
        records.append(reads.session_record(row, now))
    return len(records)


def listing_execute(store: Store) -> int:
    with store._reading("bench") as conn:
        rows = conn.execute(select(*reads.RECORD_COLUMNS)).all()
    now = access.utcnow()
    return len([reads.session_record(row, now) for row in rows])


def events_query(ids: list[str]) -> Any:
    e = schema.events
    query = select(e.c.session_id, e.c.seq, e.c.t_ms, e.c.kind, e.c.state, e.c.action, e.c.data)
    return query.where(e.c.session_id.in_(ids)).order_by(e.c.session_id, e.c.seq)


def events_raw(store: Store, ids: list[str]) -> int:
    total = 0
    for first in range(0, len(ids), 1000):
        with store._reading("bench") as conn:
            total += len(driver.rows(conn, events_query(ids[first : first + 1000])))
    return total


def events_execute(store: Store, ids: list[str]) -> int:
    total = 0
    for first in range(0, len(ids), 1000):
        with store._reading("bench") as conn:
            total += len([tuple(row) for row in conn.execute(events_query(ids[first : first + 1000]))])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        Store.open(Path(folder) / "paths.db", fsync_every_commit=False) as store,
    ):
        ids = fill(store)
        rows = score_rows(ids[0])
        some = ids[:EVENT_SESSIONS]
        found: dict[str, list[tuple[float, float]]] = {"ledger": [], "scores": [], "listing": [], "events": []}
        for _ in range(args.repeat):
            found["ledger"].append((_cpu(lambda: ledger_raw(store)), _cpu(lambda: ledger_execute(store))))
            found["scores"].append(
                (
                    scores_write(store, rows, driver.executemany),
                    scores_write(store, rows, lambda conn, stmt, rows: conn.execute(stmt, rows)),
                )
            )
            found["listing"].append((_cpu(lambda: listing_raw(store)), _cpu(lambda: listing_execute(store))))
            found["events"].append((_cpu(lambda: events_raw(store, some)), _cpu(lambda: events_execute(store, some))))
    what = {
        "ledger": f"{ENTRIES} ledger entries, one transaction each",
        "scores": f"{SCORES} scorings inserted at once",
        "listing": f"{SESSIONS} sessions listed as records",
        "events": f"{EVENT_SESSIONS * EVENTS_EACH} events of {EVENT_SESSIONS} sessions read",
    }
    print(f"{'path':<8} {'work':<42} {'raw CPU s':>10} {'execute() CPU s':>16} {'execute/raw':>12}")
    for name, pairs in found.items():
        raw = statistics.median(p[0] for p in pairs)
        sqla = statistics.median(p[1] for p in pairs)
        print(f"{name:<8} {what[name]:<42} {raw:>10.3f} {sqla:>16.3f} {sqla / raw:>11.2f}x")


if __name__ == "__main__":
    main()
