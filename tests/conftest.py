from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis's per-example deadline (200 ms) and its too-slow health check are timed tests: on a loaded 2-core CI
# machine (and under pytest -n) a correct example can take longer. Speed is measured by the benches under bench/,
# never by a test failing on time. Neither profile sets max_examples: each test keeps its own count.
# "dev": a developer's run; "ci": also prints the blob that replays a failing example on another machine.
# HYPOTHESIS_PROFILE picks one; without it, "ci" when the CI variable is set (as CI services set it), else "dev".
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

ROOT = Path(__file__).resolve().parent.parent
COURSES = ROOT / "courses"


@pytest.fixture
def write(tmp_path: Path):
    """Write a text file under tmp_path and return its path."""

    def _write(text: str, name: str = "course.yaml") -> Path:
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        return p

    return _write


@pytest.fixture
def utc_machine(monkeypatch: pytest.MonkeyPatch):
    """The process runs in UTC (a server), as opposed to the site's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
