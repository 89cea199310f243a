"""What durability costs: single-event appends through the Store with synchronous=FULL vs NORMAL, against a bare sqlite3 loop.

Each append is its own transaction, as in the terminal app (one trainee answer = one commit). All variants run in the same
process, one after the other, on fresh files in the same folder, so the disk is the same; --repeat rounds of them,
alternated, and every figure is the median of the rounds. Two floors:
- a bare sqlite3 loop of one-row inserts into a one-table file (what a commit costs at all);
- the same statements as the store's: a bare sqlite3 loop on a copy of the store's file, running, with the same
  synchronous setting, each append's statements exactly as the store sent them (captured from a run of the store: the
  session update, the event insert, the ledger's tail and its new entry, with their parameters), BEGIN IMMEDIATE to
  COMMIT. Its CPU per append against the store's is what the store's Python (SQLAlchemy, the hash chain, the checks)
  costs per answer, whatever the disk does; wall-clock rates move with other work's fsyncs on a shared disk.

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
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_load import fresh_postgresql
from sqlalchemy import event

from trainer.engine.events import Event, EventKind
from trainer.store import ledger as store_ledger
from trainer.store.store import Store

Timing = tuple[float, float]  # (wall seconds, CPU seconds of this process)


def _timed_start() -> Timing:
    return time.perf_counter(), time.process_time()


def _timed_end(started: Timing) -> Timing:
    return time.perf_counter() - started[0], time.process_time() - started[1]


def _new_store_file(db: Path, *, fsync_every_commit: bool) -> str:
    """A store file with one trainee and one session in progress (its id returned), closed."""
    with Store.open(db, fsync_every_commit=fsync_every_commit) as store:
        store.upsert_trainee("BENCH", "Bench", "Bench")
        return store.create_session("BENCH", "bench", "1", "hash", 1, "en").id


def _copy(db: Path, to: Path) -> None:
    for suffix in ("", "-wal"):
        if Path(f"{db}{suffix}").exists():
            shutil.copyfile(f"{db}{suffix}", f"{to}{suffix}")


def _events(n: int) -> list[Event]:
    return [Event(seq, seq * 100, EventKind.CHOSE, f"s{seq}", "ok", {"goto": f"s{seq + 1}"}) for seq in range(1, n + 1)]


def store_appends(db: Path, session_id: str, n: int, *, fsync_every_commit: bool, capture: bool = False) -> Any:
    """(wall, CPU) for n one-event appends (chain, insert, session update, ledger entry, commit) through Store.

    capture: instead, the statements each append sent to SQLite, with their parameters, for the bare replay."""
    events = _events(n)
    with Store.open(db, fsync_every_commit=fsync_every_commit) as store:
        if capture:
            sent: list[list[tuple[str, Any, bool]]] = []
            engine = store._engine  # a bench may look inside: the statements SQLAlchemy hands the driver

            @event.listens_for(engine, "before_cursor_execute")
            def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool) -> None:
                sent[-1].append((statement, parameters, many))

            with engine.connect() as conn:  # the ledger's two statements run on the driver's cursor: compiled here
                tail_sql, tail_params, insert_sql, names, _ = store_ledger._sql(conn)
            for e in events:
                sent.append([])
                store.append(session_id, [e])
            event.remove(engine, "before_cursor_execute", record)
            with engine.connect() as conn:
                columns = ", ".join(names)
                ledger = conn.exec_driver_sql(f"SELECT {columns} FROM ledger ORDER BY seq DESC LIMIT {n}").all()
            for statements, row in zip(sent, reversed(ledger), strict=True):
                statements += [(tail_sql, tail_params, False), (insert_sql, tuple(row), False)]
            return sent
        started = _timed_start()
        for e in events:
            store.append(session_id, [e])
        return _timed_end(started)


def replay(db: Path, sent: list[list[tuple[str, Any, bool]]], *, synchronous: str) -> Timing:
    """(wall, CPU) for the store's statements run by the sqlite3 module alone, one transaction per append, on a copy of
    the file the store started from (same schema, same session), with the store's connection settings."""
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        cursor = conn.cursor()
        started = _timed_start()
        for statements in sent:
            cursor.execute("BEGIN IMMEDIATE")
            for statement, parameters, many in statements:
                if many:
                    cursor.executemany(statement, parameters)
                else:
                    cursor.execute(statement, parameters)
                    cursor.fetchall()
            cursor.execute("COMMIT")
        return _timed_end(started)


def bare_inserts(folder: Path, n: int, *, synchronous: str) -> Timing:
    """(wall, CPU) for n one-row transactions with the sqlite3 module alone (WAL, same synchronous): the floor."""
    db = folder / f"bare-{synchronous}.db"
    db.unlink(missing_ok=True)
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("CREATE TABLE events (session_id TEXT, seq INTEGER, data TEXT, PRIMARY KEY (session_id, seq))")
        started = _timed_start()
        for seq in range(1, n + 1):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO events VALUES (?, ?, ?)", ("bench", seq, '{"goto":"s"}'))
            conn.execute("COMMIT")
        return _timed_end(started)


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
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the single-process variants (default 3)")
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

    rates: dict[str, float] = {}
    cpu: dict[str, float] = {}  # ms of CPU per append
    with tempfile.TemporaryDirectory(prefix="trainer-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        n = args.events
        print(
            f"{n} single-event transactions per variant in {tmp} ({os.cpu_count()} CPUs, SQLite {sqlite3.sqlite_version}),"
            f" median of {args.repeat} alternated rounds"
        )
        captured = {}
        for sync, fsync in (("FULL", True), ("NORMAL", False)):
            template = folder / f"template-{sync}.db"
            session_id = _new_store_file(template, fsync_every_commit=fsync)
            _copy(template, folder / f"capture-{sync}.db")
            sent = store_appends(folder / f"capture-{sync}.db", session_id, n, fsync_every_commit=fsync, capture=True)
            captured[sync] = (template, session_id, sent)

        def store_run(sync: str, fsync: bool, round_: int) -> Timing:
            template, session_id, _ = captured[sync]
            db = folder / f"store-{sync}-{round_}.db"
            _copy(template, db)
            return store_appends(db, session_id, n, fsync_every_commit=fsync)

        def replay_run(sync: str, round_: int) -> Timing:
            template, _, sent = captured[sync]
            db = folder / f"replay-{sync}-{round_}.db"
            _copy(template, db)
            return replay(db, sent, synchronous=sync)

        variants: dict[str, Callable[[int], Timing]] = {
            "store, synchronous=FULL (shipped)": lambda r: store_run("FULL", True, r),
            "store, synchronous=NORMAL": lambda r: store_run("NORMAL", False, r),
            "store's statements, bare, FULL": lambda r: replay_run("FULL", r),
            "store's statements, bare, NORMAL": lambda r: replay_run("NORMAL", r),
            "bare sqlite3, synchronous=FULL": lambda r: bare_inserts(folder, n, synchronous="FULL"),
            "bare sqlite3, synchronous=NORMAL": lambda r: bare_inserts(folder, n, synchronous="NORMAL"),
        }
        timings: dict[str, list[Timing]] = {name: [] for name in variants}
        for round_ in range(args.repeat):
            for name, run in variants.items():
                timings[name].append(run(round_))
        for name, runs in timings.items():
            wall, spent = statistics.median(t[0] for t in runs), statistics.median(t[1] for t in runs)
            rates[name], cpu[name] = n / wall, spent * 1000 / n
            print(
                f"  {name:36} {rates[name]:9.0f} events/s  ({wall * 1000 / n:.3f} ms per append, CPU {cpu[name]:.3f} ms)"
            )
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
    for sync, store_name in (("FULL", "store, synchronous=FULL (shipped)"), ("NORMAL", "store, synchronous=NORMAL")):
        ours, floor = cpu[store_name], cpu[f"store's statements, bare, {sync}"]
        print(
            f"CPU per append, synchronous={sync}: store {ours:.3f} ms, the same statements bare {floor:.3f} ms:"
            f" {ours / floor:.2f}x (the store's Python: {ours - floor:.3f} ms per answer)"
        )
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
