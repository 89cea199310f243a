"""How long a user waits for a new `trainer` process, as whole processes against floors started the same way.

1. `trainer --help` against `python -c "import argparse"`: goal <= 2x.
2. `trainer course check courses/press-loto-die-change.yaml` against a new process that only loads the same file with
   yaml's CSafeLoader (what any YAML course reader pays): goal <= 1.5x. Beside it, what holds the goal back: a process
   that loads the same file and then only defines as many dataclasses, with as many fields, as `course check`
   imports (the course model's data types, the project's style for data): no methods run, no check made. That
   process's ratio to the same floor is the least any check built on those types can reach.
3. `trainer` to its sign-in screen (headless, badge field focused, then exit) against a hello-world Textual app (a label
   and an input, focused, then exit): goal <= 1.5x.

Pairs run alternated, so a busy moment of the machine lands on both sides; each figure is the median of --runs. Beside
the wall-clock time (what the user waits for, and what the goals judge) each line gives the CPU time of the whole process
(its start to its exit, the interpreter's shutdown included), which moves less when other work shares the machine.
Usage: python bench/bench_startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from goals import goal

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "courses" / "press-loto-die-change.yaml"

# Both apps are driven the same way: run headless, wait until an input has the focus, print the wall-clock time
# (the moment a trainee could type), exit. What the process does after that (finishing opening the database in the
# background, shutting down) is not what the trainee waits for.
DRIVE = """
import sys, time
async def until_ready(pilot):
    while pilot.app.focused is None:
        await pilot.pause(0.001)
    print(f"ready {time.time()}", file=sys.stderr)
    pilot.app.exit()
"""

APP = (
    DRIVE
    + """
from trainer.tui import app as A
run = A.TrainerApp.run
A.TrainerApp.run = lambda self, **kw: run(self, headless=True, auto_pilot=until_ready)
from trainer.cli import main
sys.exit(main(["--db", sys.argv[1]]))
"""
)

HELLO = (
    DRIVE
    + """
from textual.app import App
from textual.widgets import Input, Static
class Hello(App):
    def compose(self):
        yield Static("Hello")
        yield Input()
Hello().run(headless=True, auto_pilot=until_ready)
"""
)


# What the installed `trainer` script runs (python -m would add runpy's own start-up to ours).
TRAINER = [sys.executable, "-c", "import sys; from trainer.cli import run; sys.argv[0] = 'trainer'; run()"]


# An installed Trainer has its bytecode compiled (pip does it); a source tree gets it on the warm-up run, unless
# PYTHONDONTWRITEBYTECODE forbids writing it: then every run would compile every module, which no user pays.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(cmd: list[str]) -> tuple[float, float]:
    """(seconds from starting the process to its end, or to the moment it printed `ready <time>` on stderr; CPU seconds
    of the whole process, user and system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    proc = subprocess.run(
        cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=ENV
    )
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ready = [float(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("ready ")]
    return (ready[0] if ready else ended) - started, cpu


Figures = tuple[float, float]  # (wall, CPU) seconds, medians


def pair(runs: int, ours: list[str], floor: list[str]) -> tuple[Figures, Figures]:
    wall(ours), wall(floor)  # warm the file cache for both
    mine, base = [], []
    for _ in range(runs):
        mine.append(wall(ours))
        base.append(wall(floor))
    return _medians(mine), _medians(base)


def _medians(runs: list[tuple[float, float]]) -> Figures:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def report(number: str, what: str, limit: float, ours: Figures, floor: Figures, floor_name: str) -> None:
    ratio, cpu_ratio = ours[0] / floor[0], ours[1] / floor[1]
    print(
        f"{what:<30} {ours[0] * 1000:6.0f} ms   {floor_name:<28} {floor[0] * 1000:6.0f} ms   {ratio:4.2f}x"
        f"  (CPU {ours[1] * 1000:4.0f} / {floor[1] * 1000:4.0f} ms = {cpu_ratio:4.2f}x)"
    )
    goal(number, f"{what}, new process, wall", f"{ratio:.2f}x (CPU {cpu_ratio:.2f}x; goal <= {limit}x)", ratio <= limit)


def skeleton() -> str:
    """Python code that loads COURSE with CSafeLoader and then defines, with no body, one frozen dataclass for each
    dataclass `trainer course check` imports (same name, same number of fields, same frozen/eq/order/slots): what the
    course model's types cost a new process, apart from everything else the check does."""
    found = subprocess.run(
        [sys.executable, "-c", _DATACLASSES_OF_CHECK, str(COURSE)], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout.split()
    lines = ["import yaml", "from dataclasses import dataclass, field", "from typing import Any"]
    lines.append(f"yaml.load(open({str(COURSE)!r}, encoding='utf-8'), Loader=yaml.CSafeLoader)")
    for n, spec in enumerate(found):
        count, frozen, eq, order, slots = (int(x) for x in spec.split(","))
        lines.append(f"@dataclass(frozen={bool(frozen)}, eq={bool(eq)}, order={bool(order)}, slots={bool(slots)})")
        lines.append(f"class C{n}:")
        lines += [f"    f{i}: Any = None" for i in range(count)] or ["    pass"]
    return "\n".join(lines)


# Run in a new process: the check's own imports, then each trainer dataclass they defined, as "fields,frozen,eq,order,slots".
_DATACLASSES_OF_CHECK = """
import dataclasses, io, sys, contextlib
from trainer.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["course", "check", sys.argv[1]])
for name, module in list(sys.modules.items()):
    if not name.startswith("trainer"):
        continue
    for value in vars(module).values():
        if isinstance(value, type) and value.__module__ == name and dataclasses.is_dataclass(value):
            p = value.__dataclass_params__
            print(f"{len(dataclasses.fields(value))},{int(p.frozen)},{int(p.eq)},{int(p.order)},{int('__slots__' in vars(value))}")
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    py = sys.executable
    print(f"whole processes, median of {runs} alternated pairs; wall clock (CPU of the whole process)")
    ours, floor = pair(runs, [*TRAINER, "--help"], [py, "-c", "import argparse"])
    report("2a", "trainer --help", 2.0, ours, floor, "import argparse")
    load = f"import yaml; yaml.load(open({str(COURSE)!r}, encoding='utf-8'), Loader=yaml.CSafeLoader)"
    ours, floor = pair(runs, [*TRAINER, "course", "check", str(COURSE)], [py, "-c", load])
    report("2b", "trainer course check (press)", 1.5, ours, floor, "CSafeLoader of the same file")
    code = skeleton()
    types, floor = pair(runs, [py, "-c", code], [py, "-c", load])
    ratio = types[0] / floor[0]
    print(
        f"  what holds 2b back: the same load, then {code.count('@dataclass')} dataclasses defined (those the check"
        f" imports), nothing else: {types[0] * 1000:.0f} ms against {floor[0] * 1000:.0f} ms = {ratio:.2f}x the floor"
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        wall([py, "-c", APP, db])  # creates the database: a first start, not what a trainee waits for each time
        ours, floor = pair(runs, [py, "-c", APP, db], [py, "-c", HELLO])
    report("1", "trainer to the sign-in screen", 1.5, ours, floor, "hello-world Textual app")


if __name__ == "__main__":
    main()
