"""`trainer course test` on every bundled course, as an author runs it: a new process per course.

Figures per course: the median wall time of three runs, the situations explored, and the peak resident set size of the
process (ru_maxrss from wait4, so the whole process, interpreter included). Goal (issue 22): peak <= 150 MB on every
bundled course. Each explored situation once kept its own copy of the random generator's 24 KB state (press course:
741 MB); snapshots now share it until a draw, and variables that can no longer be read no longer split situations.
Usage: python bench/bench_course_test.py [--runs 3] [COURSE ...]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MB = 150


def run(course: Path) -> tuple[float, float, str]:
    """(seconds, peak MB, first output line) of one `trainer course test COURSE` process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainer", "course", "test", str(course)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, out.splitlines()[0] if out else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("courses", nargs="*", type=Path)
    args = parser.parse_args()
    courses = args.courses or sorted((ROOT / "courses").glob("*.yaml"))
    print(f"trainer course test, new process per run, median of {args.runs} runs; goal: peak <= {GOAL_MB} MB")
    print(f"  {'course':<24} {'situations':>10} {'time s':>8} {'peak MB':>8}")
    worst = 0.0
    for course in courses:
        runs = [run(course) for _ in range(args.runs)]
        seconds = statistics.median(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        found = re.search(r"(\d+) situations explored", runs[0][2])
        situations = found.group(1) if found else "?"
        worst = max(worst, peak)
        print(f"  {course.stem:<24} {situations:>10} {seconds:8.2f} {peak:8.1f}")
    verdict = "met" if worst <= GOAL_MB else "missed"
    print(f"  worst peak {worst:.1f} MB against the goal of {GOAL_MB} MB: {verdict}")


if __name__ == "__main__":
    main()
