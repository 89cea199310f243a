"""`trainer serve` in a subprocess on a free loopback port, and the `trainer` processes it starts (one per tab)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"trainer serve exited with {proc.returncode}: {proc.communicate()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"trainer serve did not listen on port {port} within {timeout} s")


def tab_processes(parent: int) -> set[int]:
    """The `trainer` app processes below `parent` (one per open browser tab)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [parent]
    while todo:
        for pid in children.get(todo.pop(), []):
            todo.append(pid)
            try:
                argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"-m" in argv and b"trainer" in argv and b"serve" not in argv:
                found.add(pid)
    return found


@contextlib.contextmanager
def serving(folder: Path, *options: str, port: int | None = None) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """`trainer serve --port PORT --lang en --db FOLDER/t.db OPTIONS`, stopped (and its tabs with it) on leaving."""
    port = port or free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("TRAINER_DB", None)
    env.pop("TRAINER_COURSES", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainer", "serve", "--port", str(port), "--lang", "en"]
        + ["--db", f"sqlite:///{folder / 't.db'}", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=folder,
    )
    try:
        wait_for_port(port, proc)
        yield port, proc
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
