"""Instructor mode: preview with a state jumper and a variable inspector; any trainee's session in the debrief."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from screen import Clock, choose, library, make_app, offered, open_course, screen_text, settled, shows, sign_in, until
from textual.widgets import DataTable

from trainer.instructor_password import SETTING, check_password, hash_password
from trainer.store.store import Store
from trainer.tui.app import TrainerApp
from trainer.tui.preview import variables_on_the_way


def instructor_app(db):
    store = Store.open(f"sqlite:///{db}")
    return TrainerApp(library(), store, lang="en", clock=Clock(), seed=lambda: 1, instructor=True)


def test_password_is_stored_as_a_salted_scrypt_hash():
    stored = hash_password("die-setter-2026")
    assert stored.startswith("scrypt$") and "die-setter-2026" not in stored
    assert check_password("die-setter-2026", stored)
    assert not check_password("die-setter-2027", stored)
    assert hash_password("die-setter-2026") != stored  # a fresh salt each time


def test_cli_sets_the_password_and_refuses_a_wrong_one(tmp_path):
    env = {**os.environ, "TRAINER_DB": f"sqlite:///{tmp_path / 't.db'}"}
    run = lambda *a, stdin: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "trainer", "instructor", *a], input=stdin, capture_output=True, text=True, env=env
    )
    assert run(stdin="x\n").returncode == 1  # no password set yet
    assert run("set-password", "--stdin", stdin="short\n").returncode == 1
    assert run("set-password", "--stdin", stdin="correct horse\n").returncode == 0
    wrong = run(stdin="wrong horse\n")
    assert wrong.returncode == 1 and wrong.stderr.strip() == "trainer: error: wrong instructor password"
    with Store.open(env["TRAINER_DB"]) as store:
        assert check_password("correct horse", store.get_setting(SETTING))


async def test_preview_jumps_to_a_state_and_flips_a_variable_storing_nothing(tmp_path):
    db = tmp_path / "t.db"
    app = instructor_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "Preview a course" in screen_text(app)
        await until(pilot, lambda: app.screen.query_one("#preview-courses", DataTable).row_count > 0, "the course list")
        table = app.screen.query_one("#preview-courses", DataTable)
        keys = [row.value for row in table.rows]
        await pilot.press(*["down"] * keys.index("press-loto-die-change"), "enter")
        await settled(pilot)
        assert "review_energy" in offered(pilot)
        await pilot.press("j")
        await pilot.pause()
        jumper = app.screen.query_one("#jumper")
        target = [jumper.get_option_at_index(i).id for i in range(jumper.option_count)].index("at_press")
        await pilot.press("home", *["down"] * target, "enter")
        await settled(pilot)
        assert "wait_flywheel" in offered(pilot)
        await pilot.press("v")
        await pilot.pause()
        variables = app.screen.query_one("#variables", DataTable)
        names = [row.value for row in variables.rows]
        await pilot.press(*["down"] * names.index("flywheel_stopped"), "enter", "escape")
        await settled(pilot)
        assert "wait_flywheel" not in offered(pilot) and "insert_blocks" in offered(pilot)
    assert Store.open(f"sqlite:///{db}").sessions() == []  # a preview stores nothing


async def test_any_trainees_session_opens_in_the_debrief(tmp_path):
    db = tmp_path / "t.db"
    trainee = make_app(db, lang="en")
    async with trainee.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E77", "Wu", "Stamping")
        await open_course(pilot, "press-loto")
        for step in ["notify_affected", "normal_stop", "isolate_electrical", "to_press_electrical_only"]:
            await choose(pilot, step)
    app = instructor_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "E77" in screen_text(app)
        await pilot.press("enter")  # the sessions list has the focus when there are sessions: open the first
        await settled(pilot)
        text = screen_text(app)
        assert "FAILED" in text and "Isolate every energy source" in text


async def test_reports_open_from_instructor_mode(tmp_path):
    app = instructor_app(tmp_path / "t.db")
    async with app.run_test(size=(100, 30)) as pilot:
        await shows(pilot, "Reports")  # the key hint
        await pilot.press("ctrl+r")
        await settled(pilot)
        assert type(app.screen).__name__ == "ReportsScreen"


def at_a_terminal(args, answers, env):
    """Run `trainer ARGS` on a pseudo-terminal (getpass reads the terminal, not stdin), typing each answer after
    the prompt that precedes it; the whole terminal output and the exit code."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes trainer, its terminal the pty
        os.execve(sys.executable, [sys.executable, "-m", "trainer", *args], env)
    output, pending, deadline, given = b"", list(answers), time.monotonic() + 60, []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            prompt = pending[0][0].encode() if pending else b""
            # the prompt shown once more than it was answered (the same prompt may come again after an error)
            if pending and output.rstrip().endswith(prompt) and output.count(prompt) > given.count(prompt):
                given.append(prompt)
                os.write(fd, pending.pop(0)[1].encode() + b"\r")
    else:  # still running at the deadline (waiting for an answer that never comes): stop it, or the test hangs
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return output.decode("utf-8", "replace"), os.waitstatus_to_exitcode(status)


def test_set_password_at_a_terminal_asks_again_after_a_short_one_and_speaks_chinese(tmp_path):
    env = {**os.environ, "TRAINER_DB": f"sqlite:///{tmp_path / 't.db'}"}
    answers = [("新的教员密码：", "short"), ("新的教员密码：", "correct horse"), ("再输入一次：", "correct horse")]
    output, code = at_a_terminal(["instructor", "set-password", "--lang", "zh"], answers, env)
    assert code == 0, output
    assert "密码至少要 8 个字符，请重新输入。" in output and "教员密码已设置。" in output
    with Store.open(env["TRAINER_DB"]) as store:
        assert check_password("correct horse", store.get_setting(SETTING))
    # Replacing it asks for the current one first, in Chinese too; a wrong one changes nothing.
    answers = [("当前的教员密码：", "wrong horse"), ("新的教员密码：", "other horse"), ("再输入一次：", "other horse")]
    output, code = at_a_terminal(["instructor", "set-password", "--lang", "zh"], answers, env)
    assert code == 1 and "Current instructor password" not in output, output
    with Store.open(env["TRAINER_DB"]) as store:
        assert check_password("correct horse", store.get_setting(SETTING))


async def instructor_with_a_session(tmp_path, size, lang="zh"):
    db = tmp_path / "t.db"
    trainee = make_app(db, lang="zh")
    async with trainee.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E500", "王芳", "冲压车间")
        await open_course(pilot, "press-loto")
        for step in ["notify_affected", "normal_stop", "isolate_electrical", "to_press_electrical_only"]:
            await choose(pilot, step)
    app = instructor_app(db)
    app.lang = lang
    return app


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_the_session_list_is_whole_at_first_sight_and_enter_opens_the_session_with_whose_it_is(tmp_path, size):
    app = await instructor_with_a_session(tmp_path, size)
    async with app.run_test(size=size) as pilot:
        text = await shows(pilot, "E500")
        assert "press-loto-die-change" in text and "20 ✖" in text  # not cut to the headers' width until a resize
        assert "▶ 学员记录" in text  # the list with the focus is marked
        await pilot.press("enter")
        text = await shows(pilot, "扣分明细")
        assert "学员 王芳（工号 E500，冲压车间）" in text
        # the confidence says what it is (read across the line it may wrap onto); no dead retry
        assert "模型置信度" in "".join(text.split()) and "再练一次" not in text
        await pilot.press("r")
        await settled(pilot)
        assert type(app.screen).__name__ == "DebriefScreen"
        await pilot.press("left")
        assert "逐条回放学员的操作" in await shows(pilot, "回放 ")


async def test_the_preview_is_marked_and_a_jump_brings_the_variables_of_the_way_there(tmp_path):
    app = instructor_app(tmp_path / "t.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.screen.query_one("#preview-courses", DataTable).row_count > 0, "the course list")
        table = app.screen.query_one("#preview-courses", DataTable)
        keys = [row.value for row in table.rows]
        await pilot.press(*["down"] * keys.index("press-loto-die-change"), "enter")
        assert "PREVIEW (nothing is stored)" in await shows(pilot, "What do you do now?")
        await pilot.press("j")
        await pilot.pause()
        jumper = app.screen.query_one("#jumper")
        target = [jumper.get_option_at_index(i).id for i in range(jumper.option_count)].index("at_press")
        await pilot.press("home", *["down"] * target, "enter")
        text = await shows(pilot, "shortest way here")
        assert "PREVIEW" in text
        engine = app.screen.durable.engine
        course = app.library.get("press-loto-die-change")
        assert engine.variables == variables_on_the_way(course, "at_press") != course.variables


async def test_the_preview_clock_waits_while_the_variable_inspector_or_the_jumper_covers_the_scene(tmp_path):
    """Issue 17 item 1 for the preview: an instructor reading the variables of a timed state is not timed out."""
    app = instructor_app(tmp_path / "t.db")
    clock = app.clock
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await until(pilot, lambda: app.screen.query_one("#preview-courses", DataTable).row_count > 0, "the course list")
        table = app.screen.query_one("#preview-courses", DataTable)
        keys = [row.value for row in table.rows]
        await pilot.press(*["down"] * keys.index("press-loto-die-change"), "enter")
        await settled(pilot)
        await pilot.press("j")
        await pilot.pause()
        jumper = app.screen.query_one("#jumper")
        target = [jumper.get_option_at_index(i).id for i in range(jumper.option_count)].index("first_stroke")
        await pilot.press("home", *["down"] * target, "enter")  # a state with a 10 s timer
        await settled(pilot)
        clock.advance(3_000)
        await settled(pilot, still=0.3)
        assert "7 s left" in screen_text(app)
        for key in ("v", "j"):
            await pilot.press(key)
            await settled(pilot)
            clock.advance(12_000)  # longer than the timer has left
            await settled(pilot, still=0.3)
            await pilot.press("escape")
            await settled(pilot)
            assert "7 s left" in screen_text(app), key
            assert "stop_entry" in offered(pilot), key  # still in the timed state: no timeout took the trainee on
