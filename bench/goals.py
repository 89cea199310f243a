"""Issue 22's goals, each reported by the bench that measures it, on one line `python -m bench` collects:

    GOAL 2b | trainer course check (press), whole process | 1.62x (goal <= 1.5x) | missed

`python -m bench` prints the lines it saw again at the end, with the goals no bench run reported.
"""

from __future__ import annotations

# The goals of issue 22, by number (2a/2b: its goal 2 has two parts; 3a/3b, 5a/5b likewise).
GOALS = {
    "1": "cold start to the sign-in screen, new process, <= 1.5x a hello-world Textual app (startup)",
    "2a": "trainer --help <= 2x `import argparse`, new processes (startup)",
    "2b": "trainer course check <= 1.5x a bare CSafeLoader load, new processes (startup)",
    "3a": "XLSX export <= 1.3x an XlsxWriter constant_memory dump of the same rows (export)",
    "3b": "XLSX export peak memory flat in the number of rows (export)",
    "4": "course test peak memory <= 150 MB on every bundled course, and no slower (memory)",
    "5a": "rescoring per core <= 1.5x the bare predict (scoring)",
    "5b": "rescoring >= 30k sessions/s, 100k sessions, 2 cores (scoring)",
    "6": "map toggle redraw p95 < 16 ms on the pinned Textual (app)",
    "7": "honest floors: medians, per-core ratios, whole-process figures, durable appends' CPU vs the same statements",
}


def goal(number: str, what: str, figure: str, met: bool | None) -> None:
    """Print one goal's line; met None: not measured here (say why in `figure`)."""
    verdict = "not measured" if met is None else "met" if met else "missed"
    print(f"GOAL {number} | {what} | {figure} | {verdict}", flush=True)
