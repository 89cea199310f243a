"""What durability costs: single-event appends through the Store with synchronous=FULL vs NORMAL, against a bare sqlite3 loop.

Each append is its own transaction, as in the terminal app (one trainee answer = one commit). All variants run in the same
process, one after the other, on fresh files in the same folder, so the disk is the same.

Then the same from --processes processes at once (30 by default: a training room), each appending to its own session in
one shared SQLite file (the store, synchronous=FULL, as shipped), against the same processes doing bare sqlite3 inserts
with SQLite's own busy handler. All processes are started and have their store open before a gate opens; the figure is
events over the time from the gate to the last process done, with the wait for one append (p50, p99, worst): a terminal
starved for seconds holds the figure back, as it would hold back its trainee. Any error (a lock error above all) is
counted and shown. Usage:

    python bench/bench_durability.py [--events 2000] [--processes 30] [--per-process 300] [--dir /path/to/the/disk]

The folder matters: fsync on tmpfs costs nothing. Measure where the database will live.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_load import fresh_postgresql

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


def _appender(args: tuple[str, Path, int, int, Path]) -> tuple[float, int, str, list[float]]:
    """One terminal: open, wait for the gate, append `n` events one per transaction.

    (end time, appended, first error, seconds each append took)."""
    kind, db, number, n, gate = args
    error = ""
    done = 0
    if kind in ("store", "postgresql"):
        store = Store.open(db)
        badge = f"P{number:03d}"
        store.upsert_trainee(badge, "Bench", "Bench")
        session = store.create_session(badge, "bench", "1", "hash", 1, "en")

        def append(seq: int) -> None:
            store.append(session.id, [Event(seq, seq * 100, EventKind.CHOSE, f"s{seq}", "ok", {"goto": f"s{seq + 1}"})])
    else:
        conn = sqlite3.connect(db, isolation_level=None, timeout=30)
        conn.execute("PRAGMA synchronous = FULL")

        def append(seq: int) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO events VALUES (?, ?, ?)", (f"p{number}", seq, '{"goto":"s"}'))
            conn.execute("COMMIT")

    while not gate.exists():
        time.sleep(0.001)
    waits = []
    for seq in range(1, n + 1):
        started = time.perf_counter()
        try:
            append(seq)
            done += 1
        except Exception as exc:  # counted and shown: the bench must see a lock error, not hide it
            error = error or f"{type(exc).__name__}: {exc}"
        waits.append(time.perf_counter() - started)
    return time.time(), done, error, waits


@dataclass(frozen=True)
class Together:
    """What `processes` appenders at once achieved."""

    rate: float  # events/s from the gate to the last process done
    appended: int
    errors: list[str]
    waits: list[float]  # seconds per append, sorted

    def line(self, name: str) -> str:
        p50, p99 = self.waits[len(self.waits) // 2], self.waits[int(len(self.waits) * 0.99)]
        return (
            f"  {name:36} {self.rate:9.0f} events/s  (append p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
            f"worst {self.waits[-1] * 1000:.0f} ms; {self.appended} appended, {len(self.errors)} process(es) with errors)"
        )


def concurrent(folder: Path, kind: str, processes: int, n: int, url: str | None = None) -> Together:
    """`processes` appenders at once: kind "store" and "bare" on an SQLite file in `folder`, "postgresql" through the
    store at `url`."""
    db: Any = url if kind == "postgresql" else folder / f"concurrent-{kind}.db"
    gate = folder / f"gate-{kind}"
    if kind in ("store", "postgresql"):
        Store.open(db).close()
    else:
        with closing(sqlite3.connect(db, isolation_level=None)) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("CREATE TABLE events (session_id TEXT, seq INTEGER, data TEXT, PRIMARY KEY (session_id, seq))")
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        pending: Any = pool.map_async(_appender, [(kind, db, i, n, gate) for i in range(processes)])
        time.sleep(2 + processes * 0.15)  # every process started, its store open and its session made
        opened = time.time()
        gate.touch()
        results = pending.get(timeout=600)
    seconds = max(end for end, _, _, _ in results) - opened
    appended = sum(done for _, done, _, _ in results)
    waits = sorted(wait for *_, each in results for wait in each)
    return Together(appended / seconds, appended, [e for _, _, e, _ in results if e], waits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="appends per variant (default 2000)")
    parser.add_argument(
        "--dir", type=Path, default=None, help="folder on the disk to measure (default: the temp folder)"
    )
    parser.add_argument("--processes", type=int, default=30, help="processes appending at once (default 30; 0: skip)")
    parser.add_argument("--per-process", type=int, default=300, help="appends per process (default 300)")
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        default=os.environ.get("TRAINER_TEST_DB"),
        help="also run the processes against a fresh schema in this PostgreSQL database (default: TRAINER_TEST_DB)",
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
        if args.processes:
            print(f"{args.processes} processes at once, {args.per_process} single-event transactions each, one file")
            together = {}
            for kind, name in (
                ("store", "store, synchronous=FULL (shipped)"),
                ("bare", "bare sqlite3, its own busy handler"),
            ):
                result = concurrent(Path(tmp), kind, args.processes, args.per_process)
                together[kind] = result.rate
                print(result.line(name))
                for error in result.errors[:3]:
                    print(f"    {error}")
            if args.postgresql:
                with fresh_postgresql(args.postgresql) as url:
                    result = concurrent(Path(tmp), "postgresql", args.processes, args.per_process, url)
                print(result.line("store, PostgreSQL (synchronous_commit)"))
                for error in result.errors[:3]:
                    print(f"    {error}")

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
    if args.processes:
        print(
            f"  bare / store, {args.processes} processes        {together['bare'] / together['store']:6.2f}x"
            "  (what the store costs when terminals write at once)"
        )


if __name__ == "__main__":
    main()
