"""What rescoring costs: `trainer score --all` on 100 000 stored sessions with a new model, against the bare model.

The setup simulates a few thousand sessions on the bundled courses the model was trained on (simulated trainees through
the real engine), then bulk-inserts copies of them with new ids until the store holds --sessions sessions (not through
Store.append: one durable transaction per event would take hours; the chains are not real, scoring does not verify
them), each with the features its first scoring stores (trainer.scoring.features.for_store, hashed after the session's
head as Store.append hashes them).

Then, in the same process, each --runs times, one after the other (the figures are medians):
- from features: what `trainer score --all` does with a new model (trainer.scoring.rescoring.rescore_all, its default
  worker processes, one per CPU): list the finished sessions, read their stored features in bulk, one model call per
  batch of sessions (the grades and what the model weighed for each), apply the course's rule, store every score in the
  history and as the session's score;
- bare predict: `pipeline.predict_proba` alone, on one thread, on exactly the rows the grader gives the model: the
  features of every mistake it grades (hints and consequences have fixed grades), built beforehand; and the same plus
  the rows the explanation adds (each row again with one fact set to its neutral value: features.attribution).

and once (it stores the features again, as an older database's first rescoring does):
- from events: the same with no stored features: every session's events read in bulk and its mistakes detected.

Reports sessions per second (whole run) and the CPU per session of every process (the workers' and this one's, summed)
against the bare predict's, per core: that ratio is what stays when the cores are shared. Usage:

    python bench/bench_scoring.py [--sessions 100000] [--distinct 3000] [--runs 3] [--model PATH] [--dir /tmp] [--db FILE]

--db FILE keeps the filled database in FILE and reuses it on later runs with the same --sessions and --distinct (the
fill takes minutes); the scores a run adds are deleted before the next run measures, so every run starts alike.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from rows import event_row
from sqlalchemy import create_engine, select

from trainer.course.library import Library, load_library
from trainer.scoring.detect import detect_rows, outcome_of_rows, rows_of
from trainer.scoring.features import FEATURE_SET, for_store, from_stored, matrix_of, probes
from trainer.scoring.grade import Grader
from trainer.scoring.model import one_thread
from trainer.scoring.rescoring import rescore_all
from trainer.scoring.rubric import fixed_grade
from trainer.scoring.simulate import simulate
from trainer.store import chain, schema
from trainer.store.store import Store

HEAD = "0" * 64  # the sessions' head hash in the filled store (their chains are not real)


def fill(db: Path, library: Library, n_sessions: int, n_distinct: int, seed: int = 5) -> None:
    with Store.open(db, fsync_every_commit=False) as store:  # creates the schema
        keying = store._keying
    played = list(simulate(list(library.courses.values()), n_distinct, seed))
    kept = []  # the features each session's end stores (Store.append), by simulated session
    for s in played:
        rows = rows_of(s.events)
        kept.append(for_store(s.course, detect_rows(s.course, rows), outcome_of_rows(rows)))
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    trainees = {s.trainee for s in played}
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(
            schema.trainees.insert(),
            [{"badge": t, "name": "Sim", "department": "stamping", "created_at": start} for t in sorted(trainees)],
        )
    total_events = 0
    for first in range(0, n_sessions, 10_000):
        sessions, events, features = [], [], []
        for i in range(first, min(n_sessions, first + 10_000)):
            s = played[i % len(played)]
            sid = str(UUID(int=rng.getrandbits(128), version=4))
            began = start + timedelta(minutes=rng.randrange(700 * 24 * 60))
            last = s.events[-1]
            sessions.append(
                {
                    "id": sid,
                    "badge": s.trainee,
                    "course_id": s.course.id,
                    "course_version": s.course.version,
                    "content_hash": s.course.content_hash,
                    "seed": s.seed,
                    "lang": "zh",
                    "status": {"completed": "completed", "failed": "failed"}.get(str(last.kind), "aborted"),
                    "outcome": last.data.get("outcome"),
                    "started_at": began,
                    "ended_at": began + timedelta(milliseconds=last.t_ms),
                    "event_count": len(s.events),
                    "head_hash": HEAD,
                    "owner_host": "",
                    "owner_pid": 0,
                    "heartbeat_at": began,
                }
            )
            events.extend(event_row(sid, e, began) for e in s.events)
            row = {"session_id": sid, **kept[i % len(played)]}
            features.append({**row, "hash": chain.features_hash(keying, HEAD, row)})
        with engine.begin() as conn:
            conn.execute(schema.sessions.insert(), sessions)
            conn.execute(schema.events.insert(), events)
            conn.execute(schema.features.insert(), features)
        total_events += len(events)
    with engine.begin() as conn:
        conn.execute(schema.meta.insert(), [{"key": "bench_fill", "value": f"{n_sessions} {n_distinct} {seed}"}])
    engine.dispose()
    print(f"  filled {db.name}: {n_sessions} sessions ({n_distinct} distinct), {total_events} events, their features")


def reuse(db: Path, n_sessions: int, n_distinct: int, seed: int = 5) -> bool:
    """Whether `db` was filled by fill() with these arguments; if so, forget the scores earlier runs stored."""
    if not db.exists():
        return False
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            m = schema.meta
            got = conn.execute(select(m.c.value).where(m.c.key == "bench_fill")).scalar_one_or_none()
            if got != f"{n_sessions} {n_distinct} {seed}":
                return False
            forget_scores(conn)
    finally:
        engine.dispose()
    return True


def forget_scores(conn) -> None:
    conn.execute(schema.scores.delete())
    conn.execute(schema.ledger.delete())
    conn.execute(schema.sessions.update().values(score=None, passed=None, score_hash=None))


def cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the worker processes)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def rescoring(db: Path, library: Library, grader: Grader, *, events: bool = False) -> tuple[float, float, int, int]:
    """(seconds, CPU seconds of every process, sessions, of which read from their events), with its scores forgotten
    before it starts (and, with `events`, the stored features: an older database's first rescoring)."""
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        forget_scores(conn)
        if events:
            conn.execute(schema.features.delete())
    engine.dispose()
    started, used = time.perf_counter(), cpu()
    with Store.open(db) as store:
        done = rescore_all(store, library, grader)
    return time.perf_counter() - started, cpu() - used, done.done, done.from_events


def model_rows(db: Path, library: Library) -> tuple[list[tuple], int]:
    """The rows the grader gives the model: each graded mistake's features (from the stored features), and sessions."""
    with Store.open(db) as store:
        records = {r.id: r for r in store.finished_sessions()}
        kept = store.stored_features(list(records), FEATURE_SET).found
    rows = []
    for _, text in kept.values():
        mistakes, _, values = from_stored(text)
        rows += [row for m, row in zip(mistakes, values, strict=True) if not fixed_grade(m)]
    return rows, len(records)


def bare(grader: Grader, X) -> float:
    """CPU seconds of pipeline.predict_proba on X, one thread."""
    with one_thread():
        started = time.process_time()
        grader.model.pipeline.predict_proba(X)
        return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000, help="sessions in the store (default 100000)")
    parser.add_argument("--distinct", type=int, default=3000, help="distinct simulated sessions copied (default 3000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measure; medians are reported (default 3)")
    parser.add_argument("--model", default=None, help="model file (default: the current model)")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the database (default: temp)")
    parser.add_argument("--db", type=Path, default=None, help="keep the filled database in this file and reuse it")
    args = parser.parse_args()
    grader = Grader.current(args.model, strict=True)
    if grader.model is None:
        raise SystemExit("no model installed: train one or pass --model")
    library = load_library()
    seen = grader.model.metadata.get("courses", {})
    library = Library(
        {k: c for k, c in library.courses.items() if grader.model.knows_content(k, c.version, c.content_hash)}, ()
    )
    cores = len(os.sched_getaffinity(0))
    print(
        f"rescoring {args.sessions} sessions with model {grader.model.short_id} ({grader.model.metadata.get('chosen')}), "
        f"courses {', '.join(library.courses)} (model knows {len(seen)}), {cores} CPUs, medians of {args.runs} runs"
    )
    with tempfile.TemporaryDirectory(prefix="trainer-bench-", dir=args.dir) as tmp:
        db = args.db.absolute() if args.db else Path(tmp) / "bench.db"
        if reuse(db, args.sessions, args.distinct):
            print(f"  reusing {db} (its earlier scores deleted)")
        else:
            db.unlink(missing_ok=True)
            t = time.perf_counter()
            fill(db, library, args.sessions, args.distinct)
            print(f"  setup {time.perf_counter() - t:.0f} s")
        rows, n_sessions = model_rows(db, library)
        X = matrix_of(rows)
        plus = probes(X)[0]  # as features.attribution asks the model
        # Each rescoring followed by the bare predictions, so that a busy moment of the shared machine lands on both.
        runs, floors = [], []
        for _ in range(args.runs):
            runs.append(rescoring(db, library, grader))
            floors.append((bare(grader, X), bare(grader, plus)))
        assert all(r[3] == 0 for r in runs), "stored features were not used"
        old_seconds, old_used, _, old_read = rescoring(db, library, grader, events=True)
    seconds, used, n = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), runs[0][2]
    predict_s = statistics.median(f[0] for f in floors)
    model_s = statistics.median(f[0] + f[1] for f in floors)
    per_core = statistics.median(r[1] / (f[0] + f[1]) for r, f in zip(runs, floors, strict=True))
    print(
        f"  from features: {n} sessions in {seconds:.2f} s = {n / seconds:,.0f} sessions/s (runs: "
        f"{', '.join(f'{r[0]:.2f}' for r in runs)} s), CPU {used:.2f} s = {used / n * 1e6:.0f} us/session"
    )
    print(
        f"  from events (no stored features, stored again): {n} sessions in {old_seconds:.2f} s = "
        f"{n / old_seconds:,.0f} sessions/s, CPU {old_used / n * 1e6:.0f} us/session ({old_read} read from events)"
    )
    print(
        f"  bare predict_proba, one thread: {len(X)} graded mistakes {predict_s:.2f} s = {predict_s / n_sessions * 1e6:.0f} "
        f"us/session; with the explanation's {len(plus)} rows {model_s:.2f} s = {model_s / n_sessions * 1e6:.0f} us/session"
    )
    print(
        f"  per core, from features (median of the runs' ratios): {used / predict_s:.2f}x bare predict of the graded "
        f"mistakes, {per_core:.2f}x the model's rows with the explanation's (goal <= 1.5x: "
        f"{'met' if per_core <= 1.5 else 'missed'})"
    )
    print(
        f"  whole, from features: {n / seconds:,.0f} sessions/s on {cores} CPUs (goal >= 30,000: "
        f"{'met' if n / seconds >= 30_000 else 'missed'}); from events: {n / old_seconds:,.0f}/s, "
        f"{old_used / used:.1f}x the CPU"
    )


if __name__ == "__main__":
    main()
