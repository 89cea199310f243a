"""Load: simulated trainees, each its own process, play full courses at once against PostgreSQL and SQLite.

Each trainee is a separate Python process that does what a terminal does: it opens the store, registers its badge and
plays every bundled course once through DurableSession (the app's own path: each input's events are committed before the
next input). What it chooses comes from a simulated trainee of trainer.scoring.simulate (expert, careful novice, hurried,
violator, confused, in turn), decided ahead in simulated time and then played against the database with no thinking time
by default (--pace stretches it), so the figures are a stress test far above a real training room. All trainees start
together (a gate file) and play at once.

Checked afterwards, for each backend: no store error reached a trainee, every session's stored events are exactly the
engine's (none lost, none added), the database holds every acknowledged event and nothing else, and every hash chain
verifies. Figures: events/s and appends/s over the whole run, append latency percentiles (each append is one commit),
duration, and the machine. Usage:

    python bench/bench_load.py [--trainees 30] [--db URL ...] [--write docs/performance.md]

Without --db: a fresh SQLite file in a temporary folder (--dir to choose the disk), and a fresh schema in the PostgreSQL
database named by TRAINER_TEST_DB (or --postgresql URL), dropped afterwards. Exit code 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Load: 30 trainees"
PROFILE_ORDER = ("expert", "careful-novice", "hurried", "violator", "confused")
_SYNCHRONOUS = {"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"}


# --- one trainee (a worker process) -------------------------------------------------------------------------------------


def _play(store: Any, course: Any, badge: str, planned: list[Any], seed: int, pace: float) -> tuple[int, bool]:
    """Play one course as the simulated trainee decided it (`planned`: the engine's events in simulated time, from
    simulate.play with this seed); returns (events stored, stored events == planned)."""
    from trainer.engine.clock import ManualClock
    from trainer.engine.events import EventKind
    from trainer.session_service import DurableSession

    clock = ManualClock()
    durable = DurableSession.begin(store, course, badge, seed=seed, lang="zh", clock=clock)
    for event in planned[len(durable.stored) :]:
        if durable.engine.ended:
            break
        if event.kind not in (EventKind.CHOSE, EventKind.ABORTED, EventKind.TIMED_OUT):
            continue  # an effect of an input, not an input
        if pace:
            time.sleep(max(0, event.t_ms - clock.ms) / 1000 * pace)
        clock.ms = event.t_ms  # the engine's clock is in integer milliseconds: the planned time, exactly
        durable.tick()
        if durable.engine.ended:
            break
        if event.kind is EventKind.CHOSE:
            assert event.action is not None
            durable.choose(event.action)
        elif event.kind is EventKind.ABORTED:
            durable.abort(str(event.data.get("reason", "trainee")))
    stored = [s.event for s in durable.stored]
    return len(stored), stored == planned


def worker(
    url: str, badge: str, profile_name: str, seed: int, course_ids: list[str], gate: Path, pace: float
) -> dict[str, Any]:
    from trainer.course.library import load_library
    from trainer.errors import TrainerError
    from trainer.scoring import simulate
    from trainer.scoring.grade import Grader
    from trainer.store.store import Store

    library = load_library([])
    profile = simulate.PROFILES[profile_name]
    latencies: list[float] = []
    errors: list[str] = []
    sessions: list[dict[str, Any]] = []
    started = ended = 0.0
    try:
        with Store.open(url) as store:
            append = store.append

            def timed_append(session_id: str, events: Any, **kwargs: Any) -> Any:  # kwargs: a finish's score
                begin = time.perf_counter()
                try:
                    return append(session_id, events, **kwargs)
                finally:
                    latencies.append((time.perf_counter() - begin) * 1000)

            store.append = timed_append  # type: ignore[method-assign]
            store.upsert_trainee(badge, f"Trainee {badge}", "Load test")
            # Decide every move first (simulated time) and load the scoring model (a terminal does at its first
            # finish; cached): the timed part is the app's own work, the engine, the store and the scoring.
            plans = [
                (course_id, simulate.play(library.courses[course_id], profile, seed + number), seed + number)
                for number, course_id in enumerate(course_ids)
            ]
            Grader.current()
            Path(f"{gate}.{badge}").touch()
            deadline = time.monotonic() + 300
            while not gate.exists():
                if time.monotonic() > deadline:
                    raise TimeoutError("the start gate never opened")
                time.sleep(0.005)
            started = time.time()
            for course_id, planned, course_seed in plans:
                try:
                    count, exact = _play(store, library.courses[course_id], badge, planned, course_seed, pace)
                except TrainerError as exc:  # what the app would show the trainee
                    errors.append(f"{course_id}: {exc}")
                    continue
                sessions.append({"course": course_id, "events": count, "exact": exact})
            ended = time.time()
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    return {
        "badge": badge,
        "started": started,
        "ended": ended,
        "latencies_ms": latencies,
        "errors": errors,
        "sessions": sessions,
    }


# --- the coordinator ----------------------------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    pace: float  # real seconds of thinking per simulated second (0: none)
    where: str
    trainees: int
    sessions: int
    events: int
    appends: int
    duration_s: float
    events_per_s: float
    appends_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    database: str  # engine and version
    stored_events: int  # counted in the database afterwards
    errors: list[str] = field(default_factory=list)  # store errors a trainee would have seen
    inexact: int = 0  # sessions whose stored events differ from the engine's
    chain_problems: list[str] = field(default_factory=list)
    unscored: int = 0  # finished sessions stored without their score

    @property
    def ok(self) -> bool:
        return (
            not self.errors
            and not self.inexact
            and not self.chain_problems
            and not self.unscored
            and self.stored_events == self.events
        )


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def run_load(url: str, trainees: int, *, course_limit: int | None = None, seed: int = 1, pace: float = 0.0) -> Result:
    """`trainees` worker processes play the bundled courses at once against `url` (an empty or new database)."""
    from trainer.course.library import load_library
    from trainer.store.store import Store

    course_ids = list(load_library([]).courses)[:course_limit]
    with Store.open(url) as store:  # create the schema once, as the first terminal of the day would
        where = store.describe()
        settings = store.diagnostics()
    database = (
        f"PostgreSQL {settings['server_version'].split()[0]}"
        if "server_version" in settings
        else f"SQLite {sqlite3.sqlite_version} (WAL, synchronous={_SYNCHRONOUS.get(settings.get('synchronous', ''), '?')})"
    )
    with tempfile.TemporaryDirectory() as folder:
        gate = Path(folder) / "go"
        env = {**os.environ, "TRAINER_BENCH_URL": url}
        procs = []
        for number in range(trainees):
            badge = f"L{number:03d}"
            args = [
                badge,
                PROFILE_ORDER[number % len(PROFILE_ORDER)],
                str(seed * 1000 + number * 17),
                ",".join(course_ids),
                str(gate),
                str(pace),
            ]
            procs.append(
                subprocess.Popen(
                    [sys.executable, __file__, "_worker", *args],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                    cwd=ROOT,
                )
            )
        deadline = time.monotonic() + 300
        while sum(Path(f"{gate}.L{n:03d}").exists() for n in range(trainees)) < trainees:
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        gate.touch()
        outputs = [p.communicate(timeout=1800) for p in procs]
    reports: list[dict[str, Any]] = []
    crashed: list[str] = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        lines = out.strip().splitlines()
        if proc.returncode != 0 or not lines:
            crashed.append(f"worker exited with {proc.returncode}: {err.strip().splitlines()[-1:] or ''}")
            continue
        reports.append(json.loads(lines[-1]))
    latencies = [ms for r in reports for ms in r["latencies_ms"]]
    sessions = [s for r in reports for s in r["sessions"]]
    events = sum(s["events"] for s in sessions)
    starts = [r["started"] for r in reports if r["started"]]
    ends = [r["ended"] for r in reports if r["ended"]]
    duration = (max(ends) - min(starts)) if starts and ends else 0.0
    with Store.open(url) as store:
        problems = [f"{p.session_id[:8]}: {p.reason}" for p in store.verify()]
        stored = sum(len(store.events(s.id)) for s in store.sessions())
        unscored = len(store.unscored_sessions())
    return Result(
        backend="postgresql" if url.startswith("postgresql") else "sqlite",
        pace=pace,
        where=where,
        trainees=trainees,
        sessions=len(sessions),
        events=events,
        appends=len(latencies),
        duration_s=round(duration, 2),
        events_per_s=round(events / duration, 1) if duration else 0.0,
        appends_per_s=round(len(latencies) / duration, 1) if duration else 0.0,
        p50_ms=round(statistics.median(latencies), 2) if latencies else 0.0,
        p95_ms=round(_percentile(latencies, 95), 2),
        p99_ms=round(_percentile(latencies, 99), 2),
        max_ms=round(max(latencies), 2) if latencies else 0.0,
        database=database,
        stored_events=stored,
        errors=crashed + [f"{r['badge']}: {e}" for r in reports for e in r["errors"]],
        inexact=sum(not s["exact"] for s in sessions),
        chain_problems=problems,
        unscored=unscored,
    )


@contextmanager
def fresh_postgresql(base: str) -> Iterator[str]:
    """A new schema in the database `base` names, and a URL that uses it; dropped afterwards."""
    import sqlalchemy
    from sqlalchemy.engine import make_url

    name = f"trainer_load_{uuid.uuid4().hex[:10]}"
    parsed = make_url(base)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    admin = sqlalchemy.create_engine(parsed, poolclass=sqlalchemy.NullPool)
    try:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{name}"'))
        try:
            yield parsed.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)
        finally:
            with admin.begin() as conn:
                conn.execute(sqlalchemy.text(f'DROP SCHEMA "{name}" CASCADE'))
    finally:
        admin.dispose()


def machine(folder: Path) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    fs = "?"
    try:
        best = ""
        for line in Path("/proc/mounts").read_text().splitlines():
            _, mount, kind, *_ = line.split()
            if str(folder.resolve()).startswith(mount) and len(mount) >= len(best):
                best, fs = mount, kind
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, Python {platform.python_version()}, SQLite file on {fs}"


def table(results: list[Result]) -> str:
    rows = [
        "| backend | thinking | trainees | sessions | events | appends | duration | events/s | appends/s | append p50 | p95 | p99 | max | checks |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        checks = (
            "all passed"
            if r.ok
            else f"FAILED: {len(r.errors)} errors, {r.inexact} inexact, {len(r.chain_problems)} chains, "
            f"{r.unscored} unscored"
        )
        rows.append(
            f"| {r.database} | {'none' if not r.pace else f'x{r.pace:g}'} | {r.trainees} | {r.sessions} | {r.events:,} | {r.appends:,} | {r.duration_s:.1f} s | "
            f"{r.events_per_s:,.0f} | {r.appends_per_s:,.0f} | {r.p50_ms:.1f} ms | {r.p95_ms:.1f} ms | {r.p99_ms:.1f} ms | "
            f"{r.max_ms:.0f} ms | {checks} |"
        )
    return "\n".join(rows)


def write_section(doc: Path, body: str) -> None:
    """Replace (or add) this bench's section of docs/performance.md, leaving the other sections as they are."""
    text = (
        doc.read_text(encoding="utf-8")
        if doc.exists()
        else "# Performance\n\nMeasured figures, each section written by the bench named in it.\n"
    )
    section = f"{SECTION}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    doc.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=30, help="trainee processes playing at once (default 30)")
    parser.add_argument(
        "--db", action="append", default=[], metavar="URL", help="use this (empty) database; repeatable"
    )
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        default=os.environ.get("TRAINER_TEST_DB"),
        help="PostgreSQL database for a fresh schema (default: TRAINER_TEST_DB)",
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="folder for the SQLite file (default: a temporary folder)"
    )
    parser.add_argument("--course-limit", type=int, default=None, metavar="N", help="only the first N bundled courses")
    parser.add_argument(
        "--pace",
        type=float,
        action="append",
        default=[],
        help="real seconds of thinking per simulated second (default 0: none); repeat for several runs",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the results as JSON (one object per backend)")
    parser.add_argument("--write", type=Path, metavar="FILE", help=f"write the figures into FILE under {SECTION!r}")
    args = parser.parse_args()

    if args.db and len(args.pace) > 1:
        parser.error("--db takes one --pace: each run needs an empty database")
    results: list[Result] = []
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        for pace in args.pace or [0.0]:
            run = {"course_limit": args.course_limit, "seed": args.seed, "pace": pace}
            if args.db:
                results += [run_load(url, args.trainees, **run) for url in args.db]
                continue
            if args.postgresql:
                with fresh_postgresql(args.postgresql) as url:
                    results.append(run_load(url, args.trainees, **run))
            else:
                print("PostgreSQL skipped: give --postgresql URL or set TRAINER_TEST_DB", file=sys.stderr)
            results.append(run_load(f"sqlite:///{Path(folder) / f'load-{pace}.db'}", args.trainees, **run))
        where = f"{machine(Path(folder))}; load average {load_before:.1f} when the bench started"
    if args.json:
        for r in results:
            print(json.dumps({**asdict(r), "ok": r.ok}))
    else:
        print(table(results))
        print(f"machine: {where}")
        for r in results:
            for line in (r.errors + r.chain_problems)[:10]:
                print(f"{r.backend}: {line}", file=sys.stderr)
    if args.write:
        write_section(args.write, report(results, where, args))
        print(f"written: {args.write}")
    return 0 if all(r.ok for r in results) else 1


def report(results: list[Result], where: str, args: argparse.Namespace) -> str:
    trainees = results[0].trainees if results else args.trainees
    courses = results[0].sessions // max(1, trainees) if results else 0
    paces = sorted({r.pace for r in results})
    command = " ".join(
        [
            "python bench/bench_load.py",
            f"--trainees {trainees}",
            *([f"--course-limit {args.course_limit}"] if args.course_limit else []),
            *(f"--pace {p:g}" for p in paces),
            f"--write {args.write}",
        ]
    )
    names = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
    stress = [r for r in results if not r.pace]
    paced = [r for r in results if r.pace]
    sustained = ", ".join(f"{r.appends_per_s:,.0f} appends/s on {names[r.backend]}" for r in stress)
    lines = [
        f"`{command}` ({date.today().isoformat()}): {trainees} simulated trainees, each a separate process, open the store "
        f"and play the {courses} bundled courses through DurableSession (one commit per input, as in the app), all at once, "
        "against PostgreSQL (a fresh schema on a local server) and against an SQLite file (WAL, synchronous=FULL). Their "
        "choices come from the simulated profiles of trainer.scoring.simulate (expert, careful novice, hurried, violator, "
        "confused, in turn). Thinking: none (every input right after the last one was stored: a stress test), or the "
        "simulated thinking times scaled by the factor shown (x0.1: ten times quicker than the simulated people).",
        "",
        table(results),
        "",
        f"Machine: {where}. The trainees, the database server and the bench share its cores; the latencies include waiting "
        "for a core. An append is one transaction: the session's row locked (PostgreSQL) or the file's write lock taken "
        "(SQLite), the events inserted, the session row updated, the commit flushed to disk.",
        "",
        "Checked on every run: no store error reached a trainee (a busy or locked start is retried inside the store, and "
        "none got through), every session's stored events are exactly the engine's, the database holds every acknowledged "
        "event and no other, and every hash chain verifies.",
    ]
    if stress:
        if paced:
            r = paced[0]
            demand = (
                f"At the simulated people's own pace (their reading, thinking and waiting for timers), {trainees} trainees "
                f"ask for about {r.appends_per_s * r.pace:.1f} appends/s; the x{r.pace:g} run asked for {r.appends_per_s:,.0f}."
            )
        else:
            demand = f"A real room of {trainees} trainees answering every few seconds asks for about {trainees / 3:.0f} appends/s."
        lines += [
            "",
            f"{demand} Without any thinking the store sustained {sustained}. SQLite has one write lock for the whole "
            "file: a writer that finds it taken pauses for a random time, doubling up to 32 ms, and tries again, which "
            "with waiting for a core is where its tail comes from when many terminals write in the same instant (see the "
            "30 writers above). PostgreSQL locks only "
            "the session being written; its latency under stress is mostly waiting for a core.",
        ]
    return "\n".join(
        line if line.startswith("|") else textwrap.fill(line, 120, break_on_hyphens=False) for line in lines
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        badge, profile_name, seed, courses, gate, pace_text = sys.argv[2:8]
        print(
            json.dumps(
                worker(
                    os.environ["TRAINER_BENCH_URL"],
                    badge,
                    profile_name,
                    int(seed),
                    courses.split(","),
                    Path(gate),
                    float(pace_text),
                )
            )
        )
        sys.exit(0)
    sys.exit(main())
