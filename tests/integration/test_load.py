"""A small run of bench/bench_load.py on each backend: trainee processes playing at once lose nothing and see no error.

The full run (30 trainees, every bundled course, figures in docs/performance.md) is `python bench/bench_load.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a training room's worth of processes for a minute or more (pytest -m slow; CI runs it)
def test_trainees_playing_at_once_lose_nothing(db_url: str) -> None:
    trainees, courses = 8, 2
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_load.py"),
            "--db",
            db_url,
            "--trainees",
            str(trainees),
            "--course-limit",
            str(courses),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert run.stdout.strip(), run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["errors"] == [] and result["chain_problems"] == [], result
    assert result["sessions"] == trainees * courses
    assert result["inexact"] == 0  # every session's stored events are the engine's, event for event
    assert result["stored_events"] == result["events"] > 0  # every acknowledged event is in the database, no other
    assert result["ok"] and run.returncode == 0
