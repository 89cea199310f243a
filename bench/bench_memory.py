"""Peak memory of the trainee's app with every bundled course loaded, against a hello-world Textual app.

Each app runs in its own fresh process (Pilot, 80x24): the trainee's app signs in and shows the catalog of all courses
(every course parsed, validated and held in memory); the peak resident set size (ru_maxrss) is read at the end. The
median of --runs runs of each.

Then `trainer course test` on every bundled course, each a new process: its peak memory and its time (issue 22, goal 4:
<= 150 MB on every course, and no slower; the time is compared with the figure in docs/performance.md).
Usage: python bench/bench_memory.py [--runs 3] [--test-runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time

from bench_startup import ENV, ROOT, TRAINER
from goals import goal

from trainer.course.library import bundled_dir, course_files

HELLO = """
import asyncio, json, resource
from textual.app import App
from textual.widgets import Input, Static
class Hello(App):
    def compose(self):
        yield Static("Hello")
        yield Input()
async def main():
    async with Hello().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
asyncio.run(main())
print(json.dumps({"kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

TRAINER_APP = """
import asyncio, json, resource, tempfile, os
from trainer.course.library import load_library
from trainer.store.store import Store
from trainer.tui.app import TrainerApp
async def main(folder):
    library = load_library()
    store = Store.open("sqlite:///" + os.path.join(folder, "m.db"))
    app = TrainerApp(library, store, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"E1", "enter")
        await pilot.pause()
        await pilot.press(*"Mem", "enter", *"Bench", "enter")
        await pilot.pause()
    store.close()
    return len(library.courses)
with tempfile.TemporaryDirectory() as folder:
    n = asyncio.run(main(folder))
print(json.dumps({"kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "courses": n}))
"""


def peak(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def course_test(path: str) -> tuple[float, float]:
    """(peak MB, wall seconds) of a new `trainer course test PATH` process."""
    started = time.perf_counter()
    proc = subprocess.Popen([*TRAINER, "course", "test", path], stdout=subprocess.DEVNULL, cwd=ROOT, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"trainer course test {path} failed")
    return usage.ru_maxrss / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each app (default 3)")
    parser.add_argument("--test-runs", type=int, default=1, help="runs of course test per course (default 1)")
    args = parser.parse_args()
    hellos, trainers = [], []
    for _ in range(args.runs):  # alternated
        hellos.append(peak(HELLO))
        trainers.append(peak(TRAINER_APP))
    hello = {"kb": statistics.median(h["kb"] for h in hellos)}
    ours = {"kb": statistics.median(t["kb"] for t in trainers), "courses": trainers[0]["courses"]}
    print(
        f"peak memory (max RSS), 80x24 in Textual's Pilot, with all {ours['courses']} bundled courses loaded,"
        f" median of {args.runs}"
    )
    print(f"  hello-world Textual app: {hello['kb'] / 1024:6.1f} MB")
    print(f"  trainer at the catalog:  {ours['kb'] / 1024:6.1f} MB")
    print(
        f"  ratio: {ours['kb'] / hello['kb']:.2f}x; the courses and the app cost {(ours['kb'] - hello['kb']) / 1024:.1f} MB"
    )
    print(f"trainer course test, each bundled course in a new process (median of {args.test_runs})")
    worst = 0.0
    for path in course_files([bundled_dir()]):
        runs = [course_test(str(path)) for _ in range(args.test_runs)]
        mb, seconds = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        worst = max(worst, mb)
        print(f"  {path.stem:36} peak {mb:7.1f} MB  {seconds:6.1f} s")
    goal("4", "course test peak memory, every bundled course", f"worst {worst:.0f} MB (goal <= 150 MB)", worst <= 150)


if __name__ == "__main__":
    main()
