"""The real app in a real terminal (tmux): it draws, answers keys, and exits cleanly with ctrl+q."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True, timeout=30).stdout


def wait_for(name: str, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", name)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the screen shows:\n{screen}")


def test_app_runs_in_tmux_and_exits_cleanly(tmp_path):
    name = f"trainer-test-{uuid.uuid4().hex[:8]}"
    db = tmp_path / "t.db"
    command = f"{shlex.quote(sys.executable)} -m trainer --lang en --db sqlite:///{db}; echo EXIT=$?; sleep 30"
    tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", command)
    try:
        wait_for(name, "Scan your badge")
        tmux("send-keys", "-t", name, "E42", "Enter")
        wait_for(name, "First time here")
        tmux("send-keys", "-t", name, "Liu", "Enter")
        time.sleep(0.5)
        tmux("send-keys", "-t", name, "Stamping", "Enter")
        screen = wait_for(name, "Welcome, Liu (Stamping)")
        assert "800 t press die" in screen, screen
        tmux("send-keys", "-t", name, "C-q")
        screen = wait_for(name, "EXIT=")
        assert "EXIT=0" in screen
        assert "Traceback" not in screen
        assert "Welcome" not in screen  # the alternate screen was left: the shell's screen is back
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
