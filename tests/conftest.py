from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis's per-example deadline (200 ms) is a timed test: on a loaded 2-core CI machine a correct example can take
# longer. Speed is measured by the benches under bench/, never by a test failing on time.
settings.register_profile("trainer", deadline=None)
settings.load_profile("trainer")

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
