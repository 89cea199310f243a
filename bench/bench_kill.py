"""Reliability: SIGKILL `trainer play` at random moments, many times (100 by default).

After each kill: every event the process reported as stored ("stored SEQ KIND", printed only after COMMIT) must be in
the database, the session's hash chain must verify, a finished session must have its score (stored with its ending,
in one transaction), and `--resume` must complete the same session. The CI test suite
runs 20 such trials (tests/integration/test_play.py); this runs more. Usage: python bench/bench_kill.py [--trials 100]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DRILL = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "drill.yaml"


def run(args: list[str], db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRAINER_DB": f"sqlite:///{db}"}
    return subprocess.run(
        [sys.executable, "-m", "trainer", *args], capture_output=True, text=True, env=env, timeout=120
    )


def trial(n: int, folder: Path) -> str | None:
    """One kill; returns a problem description, or None when everything held."""
    db = folder / f"kill-{n}.db"
    script = folder / "drill.txt"
    script.write_text("\n".join(["0.02 check"] * 40 + ["finish"]) + "\n", encoding="utf-8")
    env = {**os.environ, "TRAINER_DB": f"sqlite:///{db}", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainer", "play", str(DRILL), "--badge", "K", "--name", "K", "--department", "D",
         "--script", str(script), "--real-time", "--seed", str(n)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    first = proc.stdout.readline() if proc.stdout else ""
    if not first.startswith("session "):
        proc.kill()
        return f"trial {n}: no session started: {first!r}"
    sid = first.split()[1]
    time.sleep(random.Random(n).uniform(0.0, 1.0))
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    acknowledged = {int(line.split()[1]) for line in (first + out).splitlines() if line.startswith("stored ")}
    with sqlite3.connect(db) as conn:
        stored = {row[0] for row in conn.execute("SELECT seq FROM events WHERE session_id = ?", (sid,))}
    if not acknowledged <= stored:
        return f"trial {n}: acknowledged but lost: {sorted(acknowledged - stored)}"
    if run(["sessions", "verify", sid], db).returncode != 0:
        return f"trial {n}: the chain does not verify"
    with sqlite3.connect(db) as conn:
        status, score = conn.execute("SELECT status, score FROM sessions WHERE id = ?", (sid,)).fetchone()
    if status == "completed" and score is None:
        return f"trial {n}: completed without a score"
    # The kill may land after the last commit but before "outcome:" is printed: the database says whether it ended.
    if status != "completed":
        resumed = run(["play", str(DRILL), "--badge", "K", "--script", str(script), "--resume", sid], db)
        if resumed.returncode != 0 or "outcome: completed" not in resumed.stdout:
            return f"trial {n}: resume failed: {resumed.stderr.strip() or resumed.stdout[-200:]}"
        if run(["sessions", "verify", sid], db).returncode != 0:
            return f"trial {n}: the chain does not verify after the resume"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args()
    problems: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.trials):
            problem = trial(n, Path(tmp))
            if problem:
                problems.append(problem)
    print(f"SIGKILL trials: {args.trials} in {time.perf_counter() - started:.0f} s; problems: {len(problems)}")
    print(
        "  every acknowledged event present, every chain verified, every finished session scored, every session resumed"
        if not problems
        else ""
    )
    for problem in problems[:10]:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
