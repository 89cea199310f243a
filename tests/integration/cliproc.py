"""`trainer` as a user types it: `trainer()` runs it in a new process (the tests that need a real one: kills, signals,
the interpreter's own exit, `python -m trainer` itself); `run_cli()` runs the same command line in this process, for
the many tests about what a command does, not about the process (no interpreter start, no imports paid again)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]


def environment(db: str, env: dict[str, str] | None) -> dict[str, str]:
    """This process's environment with TRAINER_DB `db` (unset if ""), TRAINER_COURSES unset (only the folders the test
    names count), `env` on top."""
    full = {k: v for k, v in os.environ.items() if k not in ("TRAINER_COURSES", "TRAINER_DB")}
    if db:
        full["TRAINER_DB"] = db
    full.update(env or {})
    return full


def trainer(
    *args: str, db: str = "", env: dict[str, str] | None = None, timeout: float = 120, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """`python -m trainer ARGS` in a new process, environment as `environment()` says; output captured as text, never
    raising on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "trainer", *args],
        capture_output=True,
        text=True,
        env=environment(db, env),
        timeout=timeout,
        cwd=cwd,
    )


def run_cli(
    *args: str, db: str = "", env: dict[str, str] | None = None, cwd: Path = ROOT, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """`trainer ARGS` in this process, as `trainer()` would run it: the same environment (set for the call, then put
    back), working folder `cwd`, standard input `stdin` (not a terminal), stdout and stderr captured. A usage error's
    SystemExit gives its code; an exception the CLI lets through is printed as the interpreter would (a traceback on
    stderr, exit code 1), so a test that says "no traceback" still sees one."""
    from trainer.cli import main

    out, err = io.StringIO(), io.StringIO()
    with (
        _in(cwd, environment(db, env)),
        mock.patch.object(sys, "stdin", io.StringIO(stdin)),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: a usage error (2), --help or --version (0)
            code = _exit_code(exc.code)
        except Exception:  # what the interpreter does with an uncaught exception
            traceback.print_exc()
            code = 1
    return subprocess.CompletedProcess(["trainer", *args], code, out.getvalue(), err.getvalue())


@contextmanager
def _in(cwd: Path, env: dict[str, str]) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(cwd)
    try:
        with mock.patch.dict(os.environ, env, clear=True):
            time.tzset()  # local time follows TZ, as in a process started with this environment
            yield
    finally:
        os.chdir(before)
        time.tzset()


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message"): printed, exit code 1
    return 1
