"""What scoring costs: rescoring 100 000 stored sessions end to end, against the bare `predict` on the same features.

The setup simulates a few thousand sessions on the bundled courses the model was trained on (simulated trainees through
the real engine), then bulk-inserts copies of them with new ids until the store holds --sessions sessions (not through
Store.append: one durable transaction per event would take hours; the chains are not real, scoring does not verify
them).

Then, in the same process:
- end to end: what `trainer score --all` does (trainer.scoring.rescoring.rescore_all): list the finished sessions, read their
  events in bulk, detect the mistakes and their context, build the features, one model call per batch of sessions,
  apply the course's rule, and store every score in the history and as the session's score; with its default worker
  processes (one per CPU) grading the batches;
- bare predict: `pipeline.predict` alone on the feature matrix of the same mistakes, built beforehand.

Reports sessions per second for both and the ratio end to end / bare. Usage:

    python bench/bench_scoring.py [--sessions 100000] [--distinct 3000] [--model PATH] [--dir /tmp] [--db FILE]

--db FILE keeps the filled database in FILE and reuses it on later runs with the same --sessions and --distinct (the
fill takes minutes); the scores a run adds are deleted before the next run measures, so every run starts alike.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from rows import event_row
from sqlalchemy import create_engine, select

from trainer.course.library import Library, load_library
from trainer.scoring.detect import detect
from trainer.scoring.features import context, matrix
from trainer.scoring.grade import Grader
from trainer.scoring.model import one_thread
from trainer.scoring.rescoring import rescore_all
from trainer.scoring.simulate import simulate
from trainer.store import schema
from trainer.store.store import Store


def fill(db: Path, library: Library, n_sessions: int, n_distinct: int, seed: int = 5) -> None:
    Store.open(db, fsync_every_commit=False).close()  # creates the schema
    played = list(simulate(list(library.courses.values()), n_distinct, seed))
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
        sessions, events = [], []
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
                    "head_hash": "0" * 64,
                    "owner_host": "",
                    "owner_pid": 0,
                    "heartbeat_at": began,
                }
            )
            events.extend(event_row(sid, e, began) for e in s.events)
        with engine.begin() as conn:
            conn.execute(schema.sessions.insert(), sessions)
            conn.execute(schema.events.insert(), events)
        total_events += len(events)
    with engine.begin() as conn:
        conn.execute(schema.meta.insert(), [{"key": "bench_fill", "value": f"{n_sessions} {n_distinct} {seed}"}])
    engine.dispose()
    print(f"  filled {db.name}: {n_sessions} sessions ({n_distinct} distinct), {total_events} events")


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
            conn.execute(schema.scores.delete())
            conn.execute(schema.sessions.update().values(score=None, passed=None))
    finally:
        engine.dispose()
    return True


def end_to_end(db: Path, library: Library, grader: Grader) -> tuple[float, int, int]:
    started = time.perf_counter()
    with Store.open(db) as store:
        done = rescore_all(store, library, grader)
    return time.perf_counter() - started, done.done, done.flagged


def bare(db: Path, library: Library, grader: Grader) -> tuple[float, int, int]:
    """Seconds for pipeline.predict alone on the features of every mistake of the stored sessions (built beforehand)."""
    with Store.open(db) as store:
        records = {r.id: r for r in store.finished_sessions()}
        rows = []
        for sid, events in store.events_of(list(records)):
            course = library.get(records[sid].course_id)
            rows += [context(course, m) for m in detect(course, events)]
    X = matrix(rows)
    started = time.perf_counter()
    with one_thread():
        grader.model.pipeline.predict(X)
    return time.perf_counter() - started, len(records), len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000, help="sessions in the store (default 100000)")
    parser.add_argument("--distinct", type=int, default=3000, help="distinct simulated sessions copied (default 3000)")
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
    print(
        f"scoring {args.sessions} sessions with model {grader.model.short_id} ({grader.model.metadata.get('chosen')}), "
        f"courses {', '.join(library.courses)} (model knows {len(seen)}), {os.cpu_count()} CPUs"
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
        seconds, n, flagged = end_to_end(db, library, grader)
        predict_s, _, mistakes = bare(db, library, grader)
    print(f"  end to end: {n} sessions in {seconds:.1f} s = {n / seconds:,.0f} sessions/s ({flagged} grades flagged)")
    print(
        f"  bare predict: {mistakes} mistakes of the same sessions in {predict_s:.2f} s = {n / predict_s:,.0f} sessions/s"
    )
    print(f"  ratio end to end / bare predict: {seconds / predict_s:.1f}x")


if __name__ == "__main__":
    main()
