"""Course and play-script bounds, as an instructor and a script writer meet them: one short line, never a crash or a hang.

The bounds live in trainer/course/limits.py; docs/course-format.md and docs/operations.md state them.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from backends import scalars
from cliproc import run_cli, trainer

from trainer.course.limits import MAX_TIMEOUTS_IN_A_ROW, QUOTE_CHARS

ROOT = Path(__file__).resolve().parent.parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini_course.yaml"
MINI_TEXT = MINI.read_text(encoding="utf-8")
TIMER = "seconds: 30"


def where(text: str, token: str) -> str:
    """line:col of the first `token` in `text`, as the checker reports it."""
    offset = text.index(token)
    line_start = text.rfind("\n", 0, offset) + 1
    return f"{text.count(chr(10), 0, offset) + 1}:{offset - line_start + 1}"


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The error, which must be alone on stderr."""
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    err = proc.stderr.strip()
    assert err.count("\n") == 0, err
    return err


# --- course bounds: `trainer course check` -----------------------------------------------------------------------------

# A number variable that a condition reads (an unread one is a warning of its own).
WITH_NUMBER = MINI_TEXT.replace("  locked: false\n", "  locked: false\n  pressure: 6\n").replace(
    "when: locked\n", "when: locked and pressure < 7\n"
)

COURSE_CASES = {
    # timer seconds: the 1e308 that crashed `course test` and `play`, just over a day, under a second, not a number
    "timer-1e308": (MINI_TEXT.replace(TIMER, "seconds: 1.0e+308"), "1.0e+308", "states.begin.timer.seconds must be at most 86400"),
    "timer-over-a-day": (MINI_TEXT.replace(TIMER, "seconds: 86401"), "86401", "states.begin.timer.seconds must be at most 86400"),
    "timer-under-1s": (MINI_TEXT.replace(TIMER, "seconds: 0.5"), "0.5", "states.begin.timer.seconds must be at least 1"),
    "timer-nan": (MINI_TEXT.replace(TIMER, "seconds: .nan"), ".nan", "states.begin.timer.seconds must be a finite number, not nan"),
    # numbers in variables and `set` go into every event's JSON and into conditions
    "variable-nan": (WITH_NUMBER.replace("pressure: 6", "pressure: .nan"), ".nan", "variables.pressure must be a finite number, not nan"),
    "variable-inf": (WITH_NUMBER.replace("pressure: 6", "pressure: -.inf"), "-.inf", "variables.pressure must be a finite number, not -inf"),
    "variable-huge": (WITH_NUMBER.replace("pressure: 6", "pressure: 1.0e+300"), "1.0e+300", "variables.pressure is too large (at most 1e+15)"),
    "set-inf": (
        WITH_NUMBER.replace("set: {locked: true, power: off}", "set: {locked: true, power: off, pressure: .inf}"),
        ".inf",
        "states.begin.actions.0.set.pressure must be a finite number, not inf",
    ),
    "condition-1e999": (
        MINI_TEXT.replace('when: power == "on" and not locked', 'when: power == "on" and 1e999 > 0'),
        'power == "on" and 1e999',
        """condition 'power == "on" and 1e999 > 0': the number is too large""",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", COURSE_CASES)
def test_course_check_refuses_each_bound_at_its_place(write, name):
    text, token, message = COURSE_CASES[name]
    path = write(text, "c.yaml")
    proc = run_cli("course", "check", str(path))
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [f"{path}:{where(text, token)}: error: {message}"]


def test_a_timer_of_a_day_is_allowed(write):
    path = write(MINI_TEXT.replace(TIMER, "seconds: 86400"), "c.yaml")
    proc = trainer("course", "check", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_1e308_timer_is_refused_by_course_test_and_play_instead_of_crashing(write, tmp_path, db_url):
    text = MINI_TEXT.replace(TIMER, "seconds: 1.0e+308")
    path = write(text, "big.yaml")
    expected = f"{path}:{where(text, '1.0e+308')}: error: states.begin.timer.seconds must be at most 86400"
    tested = run_cli("course", "test", str(path))
    assert tested.returncode == 3 and expected in one_line(tested), tested.stdout + tested.stderr
    script = write("lock\nwork\n", "s.txt")
    played = run_cli(
        "play", str(path), "--badge", "B1", "--name", "A", "--department", "D", "--script", str(script), db=db_url
    )
    assert played.returncode == 3 and expected in one_line(played), played.stdout + played.stderr
    assert played.stdout == ""  # no session was begun


# --- play-script bounds ------------------------------------------------------------------------------------------------

SCRIPT_CASES = {
    "delay-300-digits": (lambda: "9" * 300 + " lock\n", "s.txt:1: the delay '" + "9" * QUOTE_CHARS + "…' is longer than 86400 seconds"),
    "delay-over-a-day": (lambda: "lock\n86400.001 work\n", "s.txt:2: the delay '86400.001' is longer than 86400 seconds"),
    "line-too-long": (lambda: "lock\n" + "9" * 5000 + "\n", "s.txt:2: the line has 5000 characters, more than the 1000"),
    "line-of-50-mb": (lambda: "x" * (50 * 1024 * 1024) + "\n", "s.txt: the script is larger than 1024 KB"),
    "garbage": (lambda: "lock\n" + "é" * 900 + "\n", "s.txt:2: expected 'ACTION', 'SECONDS ACTION', 'SECONDS' or 'on EVENT: ACTION', got '" + "é" * QUOTE_CHARS + "…'"),
}  # fmt: skip


@pytest.mark.parametrize("name", SCRIPT_CASES)
def test_a_script_beyond_the_bounds_is_refused_in_one_short_line(tmp_path, db_url, name):
    make, words = SCRIPT_CASES[name]
    script = tmp_path / "s.txt"
    script.write_text(make(), encoding="utf-8")
    started = time.monotonic()
    proc = run_cli(
        "play", str(MINI), "--badge", "B2", "--name", "A", "--department", "D", "--script", str(script), db=db_url
    )
    assert time.monotonic() - started < 60
    assert proc.returncode == 1
    assert proc.stdout == ""  # refused before any session is begun
    err = one_line(proc)
    assert len(err) < len(str(script)) + 200, err
    assert err.startswith(f"trainer: error: {tmp_path}/") and words in err, err


def test_a_day_long_wait_over_a_1s_timer_that_restarts_its_state_is_bounded(write, db_url):
    # 86,400 timeouts took 3 minutes and 580 MB; the timer now stops after MAX_TIMEOUTS_IN_A_ROW until the trainee acts.
    course = write(MINI_TEXT.replace(TIMER, "seconds: 1"), "loop.yaml")
    script = write("86400 lock\nwork\n", "s.txt")
    started = time.monotonic()
    proc = run_cli(
        "play", str(course), "--badge", "B3", "--name", "A", "--department", "D", "--script", str(script), db=db_url
    )
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 60
    assert "outcome: completed" in proc.stdout
    sid = proc.stdout.splitlines()[0].split()[1]
    timeouts = scalars(db_url, "SELECT count(*) FROM events WHERE session_id = :sid AND kind = 'timed_out'", sid=sid)
    assert timeouts == [MAX_TIMEOUTS_IN_A_ROW]
    verified = run_cli("sessions", "verify", sid, db=db_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr


# --- a script that stops half-way releases its session -----------------------------------------------------------------


def owner_host(db_url: str, sid: str) -> str:
    (host,) = scalars(db_url, "SELECT owner_host FROM sessions WHERE id = :sid", sid=sid)
    return host


def test_an_unknown_action_releases_the_session_and_resume_goes_on(write, db_url):
    bad = write("lock\nfly\n", "s.txt")
    run = run_cli(
        "play", str(MINI), "--badge", "B4", "--name", "A", "--department", "D", "--script", str(bad), db=db_url
    )
    assert run.returncode == 1
    sid = run.stdout.splitlines()[0].split()[1]
    err = one_line(run)
    assert err == (
        f"trainer: error: {bad}:2: action 'fly' is not available in state 'begin' (available: work, reach); "
        f"session {sid[:8]} kept, resume with --resume {sid}"
    )
    assert owner_host(db_url, sid) == ""  # released: resumable at once, from any machine
    good = write("lock\nwork\n", "good.txt")
    resumed = run_cli("play", str(MINI), "--badge", "B4", "--script", str(good), "--resume", sid, db=db_url)
    assert resumed.returncode == 0, resumed.stderr
    assert "outcome: completed" in resumed.stdout
    assert run_cli("sessions", "verify", sid, db=db_url).returncode == 0


def test_a_resume_script_that_disagrees_releases_the_session_again(write, db_url):
    first = write("lock\n", "s.txt")
    run = run_cli(
        "play", str(MINI), "--badge", "B5", "--name", "A", "--department", "D", "--script", str(first), db=db_url
    )
    sid = run.stdout.splitlines()[0].split()[1]
    other = write("reach\n", "other.txt")
    refused = run_cli("play", str(MINI), "--badge", "B5", "--script", str(other), "--resume", sid, db=db_url)
    assert refused.returncode == 1
    assert one_line(refused).endswith(f"session {sid[:8]} kept, resume with --resume {sid}")
    assert owner_host(db_url, sid) == ""
    again = run_cli(
        "play", str(MINI), "--badge", "B5", "--script", str(write("lock\nwork\n", "t.txt")), "--resume", sid, db=db_url
    )
    assert again.returncode == 0 and "outcome: completed" in again.stdout, again.stderr
