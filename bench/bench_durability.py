"""What durability costs: single-event appends through the Store with synchronous=FULL vs NORMAL, against a bare sqlite3 loop.

Each append is its own transaction, as in the terminal app (one trainee answer = one commit). All variants run in the same
process, one after the other, on fresh files in the same folder, so the disk is the same. Usage:

    python bench/bench_durability.py [--events 2000] [--dir /path/on/the/disk/to/measure]

The folder matters: fsync on tmpfs costs nothing. Measure where the database will live.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from trainer.engine.events import Event, EventKind
from trainer.store.store import Store


def store_appends(folder: Path, n: int, *, fsync_every_commit: bool) -> float:
    """Seconds for n one-event appends (chain, insert, session update, commit) through Store."""
    with Store.open(folder / f"store-{fsync_every_commit}.db", fsync_every_commit=fsync_every_commit) as store:
        store.upsert_trainee("BENCH", "Bench", "Bench")
        session = store.create_session("BENCH", "bench", "1", "hash", 1, "en")
        started = time.perf_counter()
        for seq in range(1, n + 1):
            event = Event(seq, seq * 100, EventKind.CHOSE, f"s{seq}", "ok", {"goto": f"s{seq + 1}"})
            store.append(session.id, [event])
        return time.perf_counter() - started


def bare_inserts(folder: Path, n: int, *, synchronous: str) -> float:
    """Seconds for n one-row transactions with the sqlite3 module alone (WAL, same synchronous): the floor."""
    with closing(sqlite3.connect(folder / f"bare-{synchronous}.db", isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("CREATE TABLE events (session_id TEXT, seq INTEGER, data TEXT, PRIMARY KEY (session_id, seq))")
        started = time.perf_counter()
        for seq in range(1, n + 1):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO events VALUES (?, ?, ?)", ("bench", seq, '{"goto":"s"}'))
            conn.execute("COMMIT")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="appends per variant (default 2000)")
    parser.add_argument(
        "--dir", type=Path, default=None, help="folder on the disk to measure (default: the temp folder)"
    )
    args = parser.parse_args()

    variants: dict[str, Callable[[Path, int], float]] = {
        "store, synchronous=FULL (shipped)": lambda d, n: store_appends(d, n, fsync_every_commit=True),
        "store, synchronous=NORMAL": lambda d, n: store_appends(d, n, fsync_every_commit=False),
        "bare sqlite3, synchronous=FULL": lambda d, n: bare_inserts(d, n, synchronous="FULL"),
        "bare sqlite3, synchronous=NORMAL": lambda d, n: bare_inserts(d, n, synchronous="NORMAL"),
    }
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="trainer-bench-", dir=args.dir) as tmp:
        print(
            f"{args.events} single-event transactions per variant in {tmp} ({os.cpu_count()} CPUs, SQLite {sqlite3.sqlite_version})"
        )
        for name, run in variants.items():
            seconds = run(Path(tmp), args.events)
            rates[name] = args.events / seconds
            print(f"  {name:36} {rates[name]:9.0f} events/s  ({seconds * 1000 / args.events:.3f} ms per append)")

    full, normal = rates["store, synchronous=FULL (shipped)"], rates["store, synchronous=NORMAL"]
    bare_full, bare_normal = rates["bare sqlite3, synchronous=FULL"], rates["bare sqlite3, synchronous=NORMAL"]
    print("ratios")
    print(f"  store NORMAL / store FULL        {normal / full:6.2f}x  (what synchronous=FULL costs the store)")
    print(
        f"  bare FULL / store FULL           {bare_full / full:6.2f}x  (what SQLAlchemy, the chain and the session row cost)"
    )
    print(
        f"  bare NORMAL / bare FULL          {bare_normal / bare_full:6.2f}x  (what fsync per commit costs SQLite alone)"
    )


if __name__ == "__main__":
    main()
