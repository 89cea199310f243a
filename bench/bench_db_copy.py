"""What moving a plant to PostgreSQL costs: `trainer db copy` of 1 million events SQLite -> PostgreSQL, against a bare
COPY-based load of the same rows, measured in the same run.

The setup writes an SQLite database as Trainer keeps it, in bulk (through Store.append it would take hours): trainees,
sessions of 40 events each (started, viewed and chose in turn, completed), each with the scoring the app stores at the
end, every hash chain real (chain.py: genesis, events, scoring) and the ledger as the store writes it (each trainee, each
session's start, a head entry for every two events, as a terminal's appends make). Then, against a fresh PostgreSQL
schema each (TRAINER_TEST_DB, or --postgresql URL):

- copy: `python -m trainer db copy --from FILE --to URL`, the command as an administrator runs it, in its own process:
  its wall time (start-up and verification included), the copy and verification times it reports, and its peak memory;
  the same for a source a quarter the size, so that memory flat in the number of rows shows as the same peak;
- bare: the floor any loader pays: every table's rows read with sqlite3 and written with psycopg's `cursor.copy`
  (COPY ... FROM STDIN, one write_row per row) into an empty schema, in one transaction, no checks.

The goal is copy <= 2 x bare (the copy's own phase; verification recomputes every hash and is shown apart). Usage:

    python bench/bench_db_copy.py [--events 1000000] [--dir /tmp] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from trainer.engine.events import Event, EventKind, canonical_json
from trainer.store import chain, dialect, schema
from trainer.store.store import Store

ROOT = Path(__file__).resolve().parents[1]
EVENTS_PER_SESSION = 40
SESSIONS_PER_TRAINEE = 10
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a datetime in SQLite


def fill(path: Path, n_events: int) -> tuple[int, int]:
    """An SQLite Trainer database of about n_events events with real chains; (sessions, events)."""
    Store.open(path, fsync_every_commit=False).close()  # the schema, unkeyed (no site key in the bench)
    keying = chain.Keying()
    n_sessions = max(1, n_events // EVENTS_PER_SESSION)
    start = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    ledger: list[tuple[object, ...]] = []
    prev_entry = chain.LEDGER_GENESIS

    def enter(kind: str, subject: str, count: int, head: str, facts: str | None) -> None:
        nonlocal prev_entry
        seq = len(ledger) + 1
        digest = chain.ledger_hash(keying, prev_entry, seq, kind, subject, count, head, facts)
        ledger.append((seq, kind, subject, count, head, facts, prev_entry, digest))
        prev_entry = digest

    trainees = []
    for i in range((n_sessions + SESSIONS_PER_TRAINEE - 1) // SESSIONS_PER_TRAINEE):
        badge = f"E{i:06d}"
        trainees.append((badge, f"Trainee {i}", "Press shop", start.strftime(_SQLITE_TIME), None))
        enter(
            "trainee",
            badge,
            0,
            chain.record_hash(keying, "trainee", chain.trainee_facts(badge, f"Trainee {i}", "Press shop")),
            chain.trainee_facts(badge, f"Trainee {i}", "Press shop"),
        )
    conn.executemany(
        "INSERT INTO trainees (badge, name, department, created_at, plant) VALUES (?, ?, ?, ?, ?)", trainees
    )
    total = 0
    for first in range(0, n_sessions, 2000):
        sessions, events, scores = [], [], []
        for i in range(first, min(n_sessions, first + 2000)):
            sid = str(uuid.UUID(int=i + 1, version=4))
            badge = trainees[i // SESSIONS_PER_TRAINEE][0]
            began = start + timedelta(minutes=i)
            row = {
                "badge": badge,
                "course_id": "press-loto-die-change",
                "course_version": "3",
                "content_hash": "c" * 64,
                "seed": i,
                "lang": "zh",
                "started_at": began,
            }
            facts = chain.identity(sid, row)
            genesis = chain.genesis(keying, facts)
            enter("start", sid, 0, genesis, canonical_json(facts))
            head = genesis
            t = 0
            for seq in range(1, EVENTS_PER_SESSION + 1):
                if seq == 1:
                    ev = Event(seq, 0, EventKind.STARTED, "start", None, {"course": "press-loto-die-change", "seed": i})
                elif seq == EVENTS_PER_SESSION:
                    ev = Event(seq, t, EventKind.COMPLETED, "done", None, {"outcome": "completed"})
                elif seq % 2:
                    ev = Event(
                        seq,
                        t,
                        EventKind.CHOSE,
                        f"step_{seq // 2}",
                        "lock_out",
                        {"goto": f"step_{seq // 2 + 1}", "set": {}},
                    )
                else:
                    ev = Event(seq, t, EventKind.VIEWED, f"step_{seq // 2}", None, {"from": f"step_{seq // 2 - 1}"})
                t += 1500
                utc = began + timedelta(milliseconds=t)
                digest = chain.event_hash(keying, head, sid, ev, utc)
                events.append(
                    (
                        sid,
                        seq,
                        ev.t_ms,
                        utc.strftime(_SQLITE_TIME),
                        str(ev.kind),
                        ev.state,
                        ev.action,
                        canonical_json(ev.data),
                        head,
                        digest,
                    )
                )
                head = digest
                if seq % 2 == 0 and seq < EVENTS_PER_SESSION:
                    enter("head", sid, seq, head, None)
            ended = began + timedelta(milliseconds=t)
            scoring = {
                "session_id": sid,
                "scored_at": ended,
                "scorer": "rubric",
                "score": 95.0,
                "passed": True,
                "reason": "",
                "review": False,
                "details": "[]",
            }
            score_hash = chain.scoring_hash(keying, head, scoring)
            scores.append((sid, ended.strftime(_SQLITE_TIME), "rubric", 95.0, 1, "", 0, "[]", head, score_hash))
            enter("head", sid, EVENTS_PER_SESSION, score_hash, None)
            sessions.append(
                (
                    sid,
                    badge,
                    row["course_id"],
                    row["course_version"],
                    row["content_hash"],
                    i,
                    "zh",
                    "completed",
                    "completed",
                    95.0,
                    1,
                    began.strftime(_SQLITE_TIME),
                    ended.strftime(_SQLITE_TIME),
                    EVENTS_PER_SESSION,
                    head,
                    "pc1",
                    1,
                    ended.strftime(_SQLITE_TIME),
                    None,
                    None,
                    None,
                    score_hash,
                )
            )
        conn.executemany(f"INSERT INTO sessions VALUES ({', '.join('?' * 22)})", sessions)
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", events)
        conn.executemany(
            "INSERT INTO scores (session_id, scored_at, scorer, score, passed, reason, review, details, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            scores,
        )
        total += len(events)
    conn.executemany("INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ledger)
    conn.commit()
    conn.close()
    return n_sessions, total


def bare(source: Path, url: str) -> float:
    """Every table's rows, read with sqlite3 and written with COPY into the empty schema at `url`; seconds."""
    Store.open(url).close()  # the tables
    parsed = dialect.normalize(make_url(url))
    conninfo, env = dialect.libpq_url(parsed)
    began = time.perf_counter()
    src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
    with psycopg.connect(conninfo, password=env.get("PGPASSWORD")) as dst, dst.cursor() as cur:
        for table in schema.metadata.sorted_tables:
            if table.name == "meta":
                continue
            names = ", ".join(c.name for c in table.columns)
            rows = src.execute(f"SELECT {names} FROM {table.name}")
            with cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                while batch := rows.fetchmany(5000):
                    for row in batch:
                        copy.write_row(row)
        dst.commit()
    src.close()
    return time.perf_counter() - began


# The child's peak memory: VmHWM, this process's own high-water mark. Not ru_maxrss: on Linux that keeps the high-water
# mark of the process the child was forked from (this bench, after filling a million events: 300 MB) across exec.
_CHILD = """
import sys
from trainer.cli import main
code = main(sys.argv[1:])
peak = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
print(f"peak {int(peak) // 1024}", file=sys.stderr)
sys.exit(code)
"""


def command(source: Path, url: str) -> tuple[float, float, float, int]:
    """`trainer db copy` in its own process: (wall s, copy s, verify s as it reports them, its peak RSS in MiB)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TRAINER_DB", "TRAINER_SITE_KEY_FILE")}
    env["PYTHONPATH"] = str(ROOT)
    began = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, "db", "copy", "--from", str(source), "--to", url],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - began
    if run.returncode != 0:
        raise SystemExit(f"trainer db copy failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    times = re.search(r"in ([\d.]+) s, verified in ([\d.]+) s", run.stdout)
    peak = re.search(r"peak (\d+)", run.stderr)
    assert times and peak, run.stdout + run.stderr
    return wall, float(times[1]), float(times[2]), int(peak[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--postgresql", default=os.environ.get("TRAINER_TEST_DB"))
    args = parser.parse_args()
    if not args.postgresql:  # as bench_load: a machine without the server skips the bench, saying so
        print(
            "skipped: this bench copies into PostgreSQL; give --postgresql URL or set TRAINER_TEST_DB", file=sys.stderr
        )
        return
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    from backends import fresh_postgresql

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        figures = []
        for n in (args.events // 4, args.events):
            source = Path(tmp) / f"source-{n}.db"
            began = time.perf_counter()
            sessions, events = fill(source, n)
            print(
                f"  filled {source.name}: {sessions} sessions, {events} events ({time.perf_counter() - began:.0f} s)",
                flush=True,
            )
            with fresh_postgresql(args.postgresql) as url:
                wall, copied, verified, rss = command(source, url)
            figures.append((events, wall, copied, verified, rss))
            print(
                f"  copy of {events} events: {wall:.1f} s in all, of which copying {copied:.1f} s and verifying "
                f"{verified:.1f} s; peak memory {rss} MiB",
                flush=True,
            )
        with fresh_postgresql(args.postgresql) as url:
            floor = bare(source, url)
        events, wall, copied, verified, rss = figures[-1]
        print(f"  bare COPY of the same rows: {floor:.1f} s")
        print(
            f"  ratio copy/bare: {copied / floor:.2f} (goal <= 2); with start-up and verification: {wall / floor:.2f}; "
            f"peak memory {figures[0][4]} MiB at {figures[0][0]} events, {rss} MiB at {events}"
        )


if __name__ == "__main__":
    main()
