"""`trainer` run in a new process, as a user types it: the tests that need a real process (kills, exit codes) use this."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def trainer(
    *args: str, db: str = "", env: dict[str, str] | None = None, timeout: float = 120, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """`python -m trainer ARGS`: TRAINER_DB is `db` (unset if ""), TRAINER_COURSES unset (only the folders the test
    names count), `env` on top; output captured as text, never raising on a non-zero exit."""
    full = {k: v for k, v in os.environ.items() if k not in ("TRAINER_COURSES", "TRAINER_DB")}
    if db:
        full["TRAINER_DB"] = db
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "trainer", *args], capture_output=True, text=True, env=full, timeout=timeout, cwd=cwd
    )
