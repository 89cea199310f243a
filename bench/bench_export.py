"""What the score sheet costs: `trainer export scores --format xlsx` against an XlsxWriter constant_memory dump of the
same rows, and its peak memory at 1k, 10k, 50k and 100k attempts (issue 22, goal 3).

The setup fills a fresh store with bulk inserts (not through Store.append: that is one durable transaction per event and
would take an hour): trainees in a few departments, and sessions of tests/fixtures/mini_course.yaml whose events were
played through the real engine (an expert run, a critical mistake, a timer that ran out, an abandoned run), copied with
new ids, times and hashes that are not a real chain (the export does not verify chains), each with the scoring the app
stores when a session ends (the rubric's), but for one session in a hundred, as if never scored.

Measured, on the largest store, runs alternated, medians:
- export, in this process: the whole export as the CLI does it (the cyclic garbage collector paused): the sessions
  streamed from the store with each attempt's last event time and the mistakes its latest scoring kept (the events of
  the 1% never scored read, their mistakes detected), the Attempts sheet written as they come, then the Trainees,
  Departments and About sheets, with types, formats, widths, frozen headers, filters and print setup. On 2+ cores the
  sessions are read in a forked child process while this one writes (trainer/export/readahead.py): its wall time,
  the CPU of this process, and the CPU of both processes (the per-core figure: what the export costs the machine);
  also the same export with the sessions read in this process (readahead off), for the fork's gain;
- floor, in this process: XlsxWriter in constant_memory mode (formula, number and URL guessing off, as the export has
  them) writing exactly the same rows (read beforehand, not timed) as plain values with write_row() to three sheets,
  no formats: the least any XLSX writer of these rows does. Goal: export <= 1.3 x floor.
- the same as whole processes: `trainer export scores` against a new Python process that loads the same rows (pickled)
  and dumps them as above (CPU: every process of the command, its reader child included). Goal 3a: the whole
  process's wall time <= 1.3 x the floor process's.
- peak memory: the peak resident set (ru_maxrss) of the `trainer export scores` process on each store, and of
  the floor process (started from a small launcher process: see LAUNCHER; with a reader child, the larger of the two
  processes' peaks, the child's counting the pages it shares with its parent): goal, flat in the number of rows (the 100k
  peak within 15% of the peak once every trainee has an attempt: 10k attempts for 5,000 trainees; below that the
  summaries per trainee and course still grow in number).

Usage:

    python bench/bench_export.py [--sizes 1000,10000,50000,100000] [--trainees 5000] [--repeat 3] [--dir /tmp]
    python bench/bench_export.py --trainer-path /elsewhere/trainer-tree  # the whole-process runs with another tree
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import xlsxwriter
from bench_startup import ENV, TRAINER
from goals import goal
from rows import event_row
from sqlalchemy import create_engine

from trainer.course.library import Library
from trainer.course.loader import load_course
from trainer.engine.clock import ManualClock
from trainer.engine.events import Event, canonical_json
from trainer.engine.session import Session
from trainer.export import readahead
from trainer.export.xlsx import write_xlsx
from trainer.gcpause import paused_gc
from trainer.reports import scores
from trainer.reports.period import Period
from trainer.scoring.detect import detect, outcome_of
from trainer.scoring.grade import score_row
from trainer.scoring.rubric import SessionScore, score_session
from trainer.store import schema
from trainer.store.store import Store

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini_course.yaml"
DEPARTMENTS = [
    "冲压一车间",
    "冲压二车间",
    "焊装车间",
    "涂装车间",
    "总装车间",
    "模具车间",
    "质检部",
    "设备部",
    "物流部",
    "安全部",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
TODAY = date(2026, 11, 30)


def played_variants(course) -> list[tuple[list[Event], str, str, SessionScore]]:
    """(events, status, outcome, score) of a few ways through the mini course, played by the engine."""
    ways: list[list[str | float]] = [["lock", "work"], [12, "lock", 40, "work"], ["reach"], [35, "lock", "work"], []]
    out = []
    for way in ways:
        clock = ManualClock()
        session = Session(course, 1, clock=clock)
        events = session.start()
        for step in way:
            if isinstance(step, int | float):
                clock.advance(step * 1000)
                events += session.tick()
                continue
            clock.advance(3000)
            events += session.tick()
            events += session.choose(step)
        if not session.ended:
            clock.advance(5000)
            events += session.abort("trainee")
        result = score_session(course, detect(course, events), outcome_of(events))
        kind = str(events[-1].kind)
        out.append((events, kind, str(outcome_of(events)), result))
    return out


def fill(db: Path, n_attempts: int, n_trainees: int, seed: int = 7) -> None:
    """Bulk-insert trainees, sessions and events (a few executemany calls in one transaction each)."""
    Store.open(db, fsync_every_commit=False).close()  # creates the schema
    course = load_course(MINI)
    variants = played_variants(course)
    weights = [60, 15, 10, 10, 5]
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    trainees = [
        {
            "badge": f"ZX{i:05d}",
            "name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
            "department": rng.choice(DEPARTMENTS),
            "created_at": start,
        }
        for i in range(n_trainees)
    ]
    sessions, events, scorings = [], [], []
    for i in range(n_attempts):
        sid = str(UUID(int=rng.getrandbits(128), version=4))
        evs, status, outcome, result = rng.choices(variants, weights)[0]
        score, passed = result.score, result.passed
        began = start + timedelta(minutes=rng.randrange(700 * 24 * 60))
        sessions.append(
            {
                "id": sid,
                "badge": trainees[rng.randrange(n_trainees)]["badge"],
                "course_id": course.id,
                "course_version": course.version,
                "content_hash": course.content_hash,
                "seed": i,
                "lang": "zh",
                "status": status,
                "outcome": outcome,
                "score": score,
                "passed": passed,
                "started_at": began,
                "ended_at": began + timedelta(milliseconds=evs[-1].t_ms),
                "event_count": len(evs),
                "head_hash": "0" * 64,
                "owner_host": "",
                "owner_pid": 0,
                "heartbeat_at": began,
            }
        )
        events.extend(event_row(sid, e, began) for e in evs)
        if i % 100:  # as DurableSession does at the end; one in a hundred was never scored (e.g. an older database)
            row = score_row(sid, result)
            scorings.append(row | {"scored_at": sessions[-1]["ended_at"], "details": canonical_json(row["details"])})
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(schema.trainees.insert(), trainees)
        conn.execute(schema.sessions.insert(), sessions)
        conn.execute(schema.events.insert(), events)
        conn.execute(schema.scores.insert(), scorings)
    engine.dispose()
    print(
        f"  filled {db.name}: {n_trainees} trainees, {n_attempts} sessions, {len(events)} events, {len(scorings)} scorings"
    )


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)  # the child processes ended and reaped so far
    return used.ru_utime + used.ru_stime


class Timer:
    """Wall-clock and CPU seconds of this process (the CPU figure hardly moves when other work shares the machine), and
    the CPU of the child processes it started and reaped meanwhile (the export's reader)."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.children = _children_cpu()

    def lap(self) -> tuple[float, float, float]:
        """(wall, CPU of this process, CPU of this process and its children) since the last lap."""
        wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
        out = (wall - self.wall, cpu - self.cpu, cpu - self.cpu + children - self.children)
        self.wall, self.cpu, self.children = wall, cpu, children
        return out


LIBRARY_DIR = MINI.parent
FLOOR_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


FORKED: list[bool] = []  # whether each export as shipped forked its reader (the machine's load decides)


def export(db: Path, out: Path, *, reader: str = "") -> tuple[tuple[float, float, float], scores.ScoreSheet]:
    """(wall, CPU here, CPU of all processes) of `export scores --format xlsx` without the CLI's start-up: read, build
    and write, streamed. `reader`: "" as shipped (a forked reader when two cores are free), "fork" always a forked
    reader, "here" the sessions read in this process."""
    library = Library({"mini": load_course(MINI)}, ())
    forks = readahead.forks

    def chosen(scan: scores.Scan) -> bool:
        if reader:
            return reader == "fork"
        FORKED.append(forks(scan))
        return FORKED[-1]

    readahead.forks = chosen
    try:
        with paused_gc():  # as the CLI does
            timer = Timer()
            with Store.open(db) as store:
                scan = scores.Scan(store, library, today=TODAY, period=Period())
                sheet = write_xlsx(scan, out, force=True)  # replaces the last run's
            return timer.lap(), sheet
    finally:
        readahead.forks = forks


def same_rows(db: Path) -> list[tuple[str, list[str], list[tuple]]]:
    """The rows the export writes to its three tables (sheet name, headers, rows), read once beforehand for the floor."""
    library = Library({"mini": load_course(MINI)}, ())
    with Store.open(db) as store:
        sheet = scores.build(store, library, today=TODAY, period=Period())
    tables = [sheet.trainee_table(), sheet.attempt_table(), sheet.department_table()]
    return [(t.name, list(t.headers), list(t.rows)) for t in tables]


def dump(tables: list[tuple[str, list[str], list[tuple]]], out: Path) -> None:
    """The floor: XlsxWriter constant_memory, the same rows as plain values, write_row() each, no formats."""
    wb = xlsxwriter.Workbook(str(out), FLOOR_OPTIONS)
    for name, headers, rows in tables:
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, headers)
        for n, row in enumerate(rows, start=1):
            ws.write_row(n, 0, row)
    wb.close()


def floor(tables: list[tuple[str, list[str], list[tuple]]], out: Path) -> tuple[float, float]:
    timer = Timer()
    dump(tables, out)
    return timer.lap()[:2]


FLOOR_PROCESS = """
import pickle, sys
import xlsxwriter
sys.path.insert(0, {here!r})
from bench_export import dump
with open(sys.argv[1], "rb") as f:
    tables = pickle.load(f)
dump(tables, __import__("pathlib").Path(sys.argv[2]))
"""


# Runs one command and reports its CPU and peak RSS. A child's ru_maxrss starts from what its parent held when it was
# forked (the pages it shared before exec count), so the command is started from this small launcher, not from the
# bench (which holds the rows): the launcher's own ~10 MB is below any figure measured here.
LAUNCHER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(used.ru_utime + used.ru_stime, used.ru_maxrss / 1024, file=sys.stderr)
sys.exit(code)
"""


def child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one process running `cmd`, in the tree it runs (python -c imports from there)."""
    started = time.perf_counter()
    cwd = env.get("PYTHONPATH", str(ROOT))
    done = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr}")
    cpu, peak = (float(x) for x in done.stderr.split()[-2:])
    return wall, cpu, peak


# `trainer` with its export's reader always forked, whatever the machine's load: the reader's memory, measured.
FORKING = [
    sys.executable,
    "-c",
    "import sys; from trainer.export import readahead; readahead.forks = lambda scan: True;"
    " from trainer.cli import run; sys.argv[0] = 'trainer'; run()",
]


def cli(db: Path, out: Path, trainer: list[str] = TRAINER) -> list[str]:
    return [*trainer, "export", "scores", "--db", str(db), "--courses", str(LIBRARY_DIR), "--out", str(out)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000,100000", help="attempts in each store (comma-separated)")
    parser.add_argument("--trainees", type=int, default=5000, help="trainees (default 5000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; their median counts (default 3)")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the databases and files (default: temp)")
    parser.add_argument("--trainer-path", type=Path, default=ROOT, help="the tree whose trainer the processes run")
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.sizes.split(","))
    env = {**ENV, "PYTHONPATH": str(args.trainer_path), "TRAINER_TODAY": TODAY.isoformat()}
    with tempfile.TemporaryDirectory(prefix="trainer-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        print(
            f"score sheet export, XlsxWriter {xlsxwriter.__version__}, {os.cpu_count()} CPUs, trainer from {args.trainer_path}"
        )
        dbs = {}
        for n in sizes:
            t = time.perf_counter()
            dbs[n] = folder / f"bench-{n}.db"
            fill(dbs[n], n, args.trainees)
            print(f"  setup {time.perf_counter() - t:.1f} s")
        largest = sizes[-1]
        db = dbs[largest]
        tables = same_rows(db)
        rows = sum(len(r) for _, _, r in tables)
        print(f"\n{largest} attempts: {rows} rows in three sheets; median of {args.repeat} runs, alternated")
        print(f"  {readahead.cores()} cores, {readahead.others_running()} other tasks running at the start")
        if args.trainer_path == ROOT:
            runs = []
            for _ in range(args.repeat):
                runs.append(
                    (
                        export(db, folder / "export.xlsx")[0],
                        floor(tables, folder / "floor.xlsx"),
                        export(db, folder / "export-fork.xlsx", reader="fork")[0],
                        export(db, folder / "export-here.xlsx", reader="here")[0],
                    )
                )
            ours = [statistics.median(r[0][k] for r in runs) for k in (0, 1, 2)]
            base = [statistics.median(r[1][k] for r in runs) for k in (0, 1)]
            fork = [statistics.median(r[2][k] for r in runs) for k in (0, 1, 2)]
            here = [statistics.median(r[3][k] for r in runs) for k in (0, 1, 2)]
            print("  in this process (x: / the floor)         wall s       cpu s here        cpu s all (per core)")
            for label, m in (
                (f"export as shipped (forked {sum(FORKED)}/{len(FORKED)})", ours),
                ("export, reader always forked", fork),
                ("export, read in this process", here),
                ("floor: XlsxWriter dump", [*base, base[1]]),
            ):
                print(
                    f"    {label:38s}{m[0]:6.2f} {m[0] / base[0]:5.2f}x  {m[1]:6.2f} {m[1] / base[1]:5.2f}x"
                    f"  {m[2]:6.2f} {m[2] / base[1]:5.2f}x"
                )
        else:
            ours, base = [0.0, 0.0, 0.0], [0.0, 0.0]
        with open(folder / "rows.pickle", "wb") as f:
            pickle.dump(tables, f)
        script = folder / "floor_process.py"
        script.write_text(FLOOR_PROCESS.format(here=str(Path(__file__).resolve().parent)))
        floor_cmd = [sys.executable, str(script), str(folder / "rows.pickle"), str(folder / "floor-p.xlsx")]
        whole, bare = [], []
        child(cli(db, folder / "warm.xlsx"), env)  # bytecode and file cache warm for both
        for _ in range(args.repeat):
            whole.append(child([*cli(db, folder / "cli.xlsx"), "--force"], env))
            bare.append(child(floor_cmd, env))
        w = [statistics.median(r[k] for r in whole) for k in range(3)]
        b = [statistics.median(r[k] for r in bare) for k in range(3)]
        print("  whole processes                 wall s  cpu s all   peak MB")
        print(f"    trainer export scores        {w[0]:8.2f}  {w[1]:9.2f}  {w[2]:8.1f}")
        print(f"    floor process (unpickle+dump){b[0]:8.2f}  {b[1]:9.2f}  {b[2]:8.1f}")
        print(
            f"    ratio                        {w[0] / b[0]:7.2f}x  {w[1] / b[1]:8.2f}x  (goal <= 1.3x wall; cpu: per core)"
        )
        print(f"  machine load (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"  file size {(folder / 'cli.xlsx').stat().st_size / 1e6:.1f} MB")
        print(
            "\npeak memory of `trainer export scores` (peak RSS of its process, median of runs; reader forked: the"
            " larger of the exporting and the reading process)"
        )
        peaks, forked_peaks = {}, {}
        for n in sizes:
            peaks[n] = statistics.median(
                child([*cli(dbs[n], folder / f"m{n}.xlsx"), "--force"], env)[2] for _ in range(args.repeat)
            )
            forked_peaks[n] = statistics.median(
                child([*cli(dbs[n], folder / f"f{n}.xlsx", FORKING), "--force"], env)[2] for _ in range(args.repeat)
            )
            print(f"  {n:7d} attempts  {peaks[n]:7.1f} MB as shipped, {forked_peaks[n]:7.1f} MB reader forked")
        inside = f"; in process {ours[0] / base[0]:.2f}x wall" if args.trainer_path == ROOT else ""
        ratio = w[0] / b[0]
        goal(
            "3a",
            "XLSX export vs XlsxWriter constant_memory, wall, whole process",
            f"{ratio:.2f}x (goal <= 1.3x{inside}; CPU of all its processes {w[1] / b[1]:.2f}x the floor's, per core;"
            f" load {os.getloadavg()[0]:.1f})",
            ratio <= 1.3,
        )
        # Rows, not trainees: each trainee and course keeps one summary (Trainees sheet), so memory grows until every
        # trainee has an attempt (5,000 trainees: most by 10,000 attempts), then stays; the goal is judged from there.
        base_n = next((n for n in sizes if n >= 2 * args.trainees), sizes[0])
        grow = max(peaks[largest] / peaks[base_n], forked_peaks[largest] / forked_peaks[base_n])
        spread = ", ".join(f"{peaks[n]:.0f} ({forked_peaks[n]:.0f} forked) MB at {n}" for n in sizes)
        goal(
            "3b",
            "XLSX export peak memory flat in rows (peak RSS)",
            f"{spread}; {grow:.2f}x from {base_n}",
            grow <= 1.15,
        )


if __name__ == "__main__":
    main()
