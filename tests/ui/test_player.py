"""The player as a trainee found it (issue 17): Esc pauses every clock, resume shows the scene as it was, numbers stay
on their actions, the scene text follows what was done, timers start once the scene is shown, and the ending shows at
once while the session is graded. Keys pressed, screen read, at 80x24."""

from __future__ import annotations

import asyncio
import threading
import time

from screen import (
    Clock,
    choose,
    confirm_name,
    make_app,
    number_of,
    offered,
    open_course,
    screen_text,
    settled,
    sign_in,
    wait_for_actions,
)
from test_trainee_app import EXPERT, PRESS, play_expert

from trainer.engine.events import EventKind


def flat(app) -> str:
    """The screen's text without line breaks and spaces, so a sentence the terminal wrapped is found whole."""
    return "".join(screen_text(app).split())


def kinds(app) -> list[str]:
    return [str(s.event.kind) for s in app.store.events(app.screen.durable.id)]


async def seven_seconds_left(pilot, clock: Clock, badge: str, name: str) -> None:
    """Sign in, play the press course to the state with a 10 s timer and let 3 s of it run: 剩余 7 秒 on screen."""
    await sign_in(pilot, badge, name, "冲压")
    await open_course(pilot, PRESS)
    await play_expert(pilot, EXPERT[: EXPERT.index("stop_entry")])  # the next state has a 10 s timer
    await settled(pilot)
    clock.advance(3_000)
    await settled(pilot, still=0.3)
    assert "剩余 7 秒" in screen_text(pilot.app)


async def test_esc_pauses_the_countdown_and_the_elapsed_clock(tmp_path):
    clock = Clock()
    app = make_app(tmp_path / "t.db", lang="zh", clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await seven_seconds_left(pilot, clock, "P1", "王")
        elapsed = app.screen.durable.engine.now_ms()
        await pilot.press("escape")
        await settled(pilot)
        assert "已暂停" in screen_text(app)
        clock.advance(6_000)  # the trainee's 6 s at the pause menu
        await settled(pilot, still=0.3)
        await pilot.press("escape")  # 继续
        await settled(pilot)
        text = screen_text(app)
        assert "剩余 7 秒" in text and "时间到" not in text  # the issue: 剩余 1 秒, then a timeout with a mistake
        assert app.screen.durable.engine.now_ms() == elapsed  # the elapsed clock stood still too
        clock.advance(5_000)
        await settled(pilot, still=0.3)
        assert "时间到" not in screen_text(app)
        assert kinds(app)[-2:] == ["paused", "unpaused"]


async def test_resume_shows_the_scene_its_event_and_status_as_before_quitting(tmp_path):
    db = tmp_path / "t.db"
    app = make_app(db, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "P2", "李", "冲压")
        await open_course(pilot, PRESS)
        for step in EXPERT:
            if "stop_coworker" in offered(pilot):  # the co-worker walks up: the event the scene must keep showing
                break
            await choose(pilot, step)
        assert "stop_coworker" in offered(pilot)
        await settled(pilot)
        before = screen_text(app)
        await pilot.press("ctrl+q")
        await pilot.pause()
    app = make_app(db, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "P2")
        await confirm_name(pilot, "李")  # without PINs, resuming asks for the registered name first
        await settled(pilot)
        await pilot.press("enter")  # resume
        await wait_for_actions(pilot)
        await settled(pilot)
        after = screen_text(app)
    assert after == before, f"before quitting:\n{before}\nafter resuming:\n{after}"


async def test_numbers_stay_on_their_actions_in_the_hub_and_a_repeated_key_takes_nothing(tmp_path):
    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "P3", "Sun", "Stamping")
        await open_course(pilot, PRESS)
        for step in ["review_energy", "notify_affected", "normal_stop"]:
            await choose(pilot, step)
        assert app.screen.durable.engine.state.id == "stopped"  # the hub: three sources, any order
        numbers = {a: number_of(pilot, a) for a in ("isolate_electrical", "isolate_hydraulic", "isolate_air")}
        stored = len(kinds(app))
        key = str(numbers["isolate_electrical"])
        await pilot.press(key)
        await settled(pilot)
        await pilot.press(key)  # the same key again (the issue: `1 1 2 2` took an action never read)
        await settled(pilot)
        chose = [s.event.action for s in app.store.events(app.screen.durable.id)[stored:] if s.event.action]
        assert chose == ["isolate_electrical"]
        assert "Thatonecannotbechosennow" in flat(app)
        # The others kept their numbers; the one done keeps its number, greyed and not offered.
        assert number_of(pilot, "isolate_hydraulic") == numbers["isolate_hydraulic"]
        assert number_of(pilot, "isolate_air") == numbers["isolate_air"]
        assert number_of(pilot, "isolate_electrical") == numbers["isolate_electrical"]
        assert "isolate_electrical" not in offered(pilot)


async def test_the_hub_scene_no_longer_says_the_locks_are_on_the_belt_once_they_are_hung(tmp_path):
    app = make_app(tmp_path / "t.db", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "P4", "周", "冲压")
        await open_course(pilot, PRESS)
        await play_expert(pilot, EXPERT[: EXPERT.index("isolate_electrical")])
        assert "个人锁和标牌挂在你腰上" in flat(app)
        await play_expert(pilot, EXPERT[EXPERT.index("isolate_electrical") : EXPERT.index("lock_air") + 1])
        text = flat(app)
        assert "腰上" not in text and "三把个人锁和标牌都已挂在隔离点上" in text


async def test_a_timer_starts_once_its_scene_is_on_screen(tmp_path):
    clock = Clock()
    app = make_app(tmp_path / "t.db", lang="en", clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "P5", "Wu", "Stamping")
        await open_course(pilot, PRESS)
        await play_expert(pilot, EXPERT[: EXPERT.index("stop_entry")])
        await settled(pilot)
        events = [s.event for s in app.store.events(app.screen.durable.id)]
        viewed = max(i for i, e in enumerate(events) if e.kind is EventKind.VIEWED)
        assert events[viewed + 1 :][-1].kind is EventKind.SHOWN  # stored after the scene was painted
        assert "10 s left" in screen_text(app)


async def test_the_ending_shows_at_once_while_the_session_is_graded(tmp_path, monkeypatch):
    from trainer.scoring import grade
    from trainer.tui.screens.incident import IncidentScreen

    real = grade.Grader.current
    app = make_app(tmp_path / "t.db", lang="en")
    on_screen_while_grading: list[str] = []

    def slow_model(*args, **kwargs):  # a model still loading when the session ends (3-10 s on the 2-core machine)
        time.sleep(1.0)
        on_screen_while_grading.append(type(app.screen).__name__)
        return real(*args, **kwargs)

    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "P6", "Zheng", "Stamping")
        await open_course(pilot, PRESS)
        for step in ["notify_affected", "normal_stop", "isolate_electrical"]:
            await choose(pilot, step)
        monkeypatch.setattr(grade.Grader, "current", staticmethod(slow_model))
        await pilot.press(str(number_of(pilot, "to_press_electrical_only")))  # a critical mistake: the incident
        for _ in range(100):  # the key's handler returns at once now (the worker grades): wait for the grading
            if on_screen_while_grading:
                break
            await pilot.pause(0.1)
        # The incident was on screen while the session was graded, not after (the issue: ~8 s of a frozen screen).
        assert on_screen_while_grading == [IncidentScreen.__name__]
        assert "Incident" in screen_text(app)
        await pilot.press("enter")  # the debrief: its score was stored with the ending, in one transaction
        for _ in range(60):
            await asyncio.sleep(0.1)
            if "FAILED" in screen_text(app):
                break
        assert "FAILED" in screen_text(app)
        record = app.store.sessions(badge="P6")[0]
        assert record.status == "failed" and record.score is not None


async def test_help_over_the_scene_stops_the_countdown_and_the_elapsed_clock(tmp_path):
    """Issue 17 item 1: the help covers the scene, so reading it must not cost timer seconds (it used to: a trainee
    reading the keys at 剩余 7 秒 came back to a timeout and a serious mistake). Stored as a pause, like Esc."""
    clock = Clock()
    app = make_app(tmp_path / "t.db", lang="zh", clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await seven_seconds_left(pilot, clock, "P9", "赵")
        player = app.screen
        elapsed = player.durable.engine.now_ms()
        await pilot.press("question_mark")
        await settled(pilot)
        assert "帮助" in screen_text(app) and "计时暂停" in screen_text(app)
        clock.advance(8_000)  # reading the help for longer than the timer has left
        await settled(pilot, still=0.3)
        assert "时间到" not in screen_text(app)
        await pilot.press("escape")  # closes the help
        await settled(pilot)
        assert app.screen is player
        text = screen_text(app)
        assert "剩余 7 秒" in text and "时间到" not in text
        assert player.durable.engine.now_ms() == elapsed  # the elapsed clock stood still too
        assert kinds(app)[-2:] == ["paused", "unpaused"]
        assert "timed_out" not in kinds(app)
        await pilot.press("question_mark")  # a second look pauses again, and closing it with ? resumes again
        await settled(pilot)
        await pilot.press("question_mark")
        await settled(pilot)
        assert kinds(app)[-4:] == ["paused", "unpaused", "paused", "unpaused"]
        assert "剩余 7 秒" in screen_text(app)


async def test_a_slow_save_leaves_the_screen_answering_and_keys_typed_meanwhile_are_taken_after_it_once(
    tmp_path, monkeypatch
):
    """Issue 21 item 5: an action is committed in a worker, so the screen answers while it is stored (the map key, the
    language key), says it is saving, and acknowledges nothing before the store has it; numbers typed meanwhile are
    taken after it, in order, each once (the same number twice: the second finds it done)."""
    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "P20", "Lu", "Stamping")
        await open_course(pilot, PRESS)
        first, second = number_of(pilot, "review_energy"), number_of(pilot, "notify_affected")
        release = threading.Event()
        real = app.store.append

        def slow_disk(*args, **kwargs):
            release.wait(20)
            return real(*args, **kwargs)

        monkeypatch.setattr(app.store, "append", slow_disk)
        await pilot.press(str(first), str(second), str(second))
        await pilot.press("m")  # the map takes the scene's place at 80x24, while the action is being stored
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "m: back to the scene" in text and "Saving…" in text
        assert "The card lists the main disconnect" not in text  # not acknowledged before it is stored
        assert kinds(app).count("chose") == 0
        await pilot.press("m", "f2")
        await pilot.pause(0.2)
        assert "正在保存…" in screen_text(app)
        release.set()
        await wait_for_actions(pilot)
        for _ in range(50):
            if kinds(app).count("chose") == 2 and not app.screen.busy:
                break
            await pilot.pause(0.1)
        await pilot.pause(0.2)
        chosen = [s.event.action for s in app.store.events(app.screen.durable.id) if s.event.kind is EventKind.CHOSE]
        assert chosen == ["review_energy", "notify_affected"]
        assert "这一项现在不能选。" in screen_text(app)  # the second press of the same number found it done
