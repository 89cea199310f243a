"""The engine as the player needs it (issue 17): a pause that stops every clock and is stored, numbers that stay on
their actions while a state is shown, timers that start when the scene is on screen (plus reading time), and scene
text that follows the variables."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_engine import COURSE, Clock, seed_with

from trainer.course.loader import check_text, load_course
from trainer.engine.events import EventKind
from trainer.engine.session import EngineError, Session, replay
from trainer.reports.attempts import attempt
from trainer.reports.course_report import time_in_states
from trainer.session_service import DurableSession
from trainer.store.store import Store

ROOT_COURSES = Path(__file__).resolve().parent.parent.parent / "courses"


@pytest.fixture(scope="module")
def course():
    result = check_text(COURSE, "cell.yaml")
    assert result.course is not None
    return result.course


def into_the_cell(course, clock, **kwargs) -> tuple[Session, list]:
    s = Session(course, seed_with(course, fired=False), clock=clock, **kwargs)
    events = s.start()
    for a in ("stop", "lock", "enter"):
        events += s.choose(a)
    return s, events


def test_a_pause_stops_the_timer_and_the_elapsed_clock_and_replays(course):
    clock = Clock()
    s, events = into_the_cell(course, clock)  # "inside" has a 20 s timer
    clock.advance(13_000)
    assert s.time_left_ms() == 7_000
    events += s.pause()
    clock.advance(6_000)  # paused for 6 s: nothing moves
    assert s.time_left_ms() == 7_000 and s.tick() == [] and s.now_ms() == 13_000
    with pytest.raises(EngineError, match="paused"):
        s.choose("fix")
    events += s.unpause()
    assert s.time_left_ms() == 7_000  # the issue: it read 1 s here, then timed out with a mistake
    clock.advance(6_000)
    assert s.tick() == []
    events += s.choose("fix")
    paused, unpaused = (e for e in events if e.kind in (EventKind.PAUSED, EventKind.UNPAUSED))
    assert paused.t_ms == unpaused.t_ms == 13_000 and unpaused.data["paused_ms"] == 6_000
    assert events[-1].t_ms == 19_000  # session time leaves the 6 s pause out
    rebuilt = replay(course, events, clock=Clock())
    assert rebuilt.seq == len(events) and rebuilt.ended


def test_paused_time_is_left_out_of_state_times_and_the_session_duration(course):
    clock = Clock()
    s, events = into_the_cell(course, clock)
    clock.advance(2_000)
    events += s.pause()
    clock.advance(60_000)
    events += s.unpause()
    clock.advance(1_000)
    events += s.choose("fix")
    assert time_in_states(events)["inside"] == 3_000
    assert attempt(_record(), events, None).duration.total_seconds() == 3.0  # exports' duration column


def _record():
    from trainer.store.records import SessionRecord

    fields = SessionRecord.__dataclass_fields__
    values = {name: None for name in fields}
    values.update(id="s", badge="B", course_id="cell", course_version="2", content_hash="", seed=1, lang="zh")
    values.update(started_at=datetime.now(UTC), status="completed", event_count=0)
    return SessionRecord(**values)


def test_a_kill_during_a_pause_resumes_with_the_pause_closed_where_it_began(course, tmp_path):
    with Store.open(tmp_path / "t.db", fsync_every_commit=False) as store:
        store.upsert_trainee("B", "Test", "QA")
        clock = Clock()
        durable = DurableSession.begin(store, course, "B", seed=seed_with(course, fired=False), clock=clock)
        for a in ("stop", "lock", "enter"):
            clock.advance(1_000)
            durable.choose(a)
        clock.advance(5_000)
        durable.pause()
        paused_at = durable.engine.now_ms()
        # The terminal is killed while paused; another one resumes the session later.
        durable.release()
        again = DurableSession.resume(store, course, durable.id, clock=Clock())
        resumed = again.stored[-1].event
        assert resumed.kind is EventKind.RESUMED and resumed.data["paused"] is True and resumed.t_ms == paused_at
        assert not again.engine.paused and again.engine.time_left_ms() == 20_000  # the timer starts again in full
        again.choose("fix")
        events = [s.event for s in store.events(durable.id)]
        assert replay(course, events, clock=Clock()).ended
        assert store.verify(durable.id) == []


def test_numbers_stay_on_their_actions_while_a_hub_state_is_shown():
    press = load_course(ROOT_COURSES / "press-loto-die-change.yaml")
    s = Session(press, 1, clock=Clock())
    s.start()
    for a in ("review_energy", "notify_affected", "normal_stop"):
        s.choose(a)
    assert s.state.id == "stopped"  # the hub: isolate and lock three sources, in any order
    for step in ("isolate_electrical", "isolate_hydraulic", "isolate_air", "lock_electrical", "lock_hydraulic"):
        before = {m.action.id: m.number for m in s.menu() if m.offer is not None}
        s.choose(step)
        after = {m.action.id: m.number for m in s.menu()}
        # Every action still offered keeps its number; the one chosen keeps its number, greyed (not offered).
        assert {a: n for a, n in after.items() if a in before} == {a: before[a] for a in after if a in before}
        greyed = [m for m in s.menu() if m.action.id == step]
        assert greyed and greyed[0].offer is None and greyed[0].number == before[step]


def test_a_timer_waits_for_the_scene_to_be_shown_then_counts_reading_time_too():
    text = COURSE.replace("    timer:\n      seconds: 20", "    reading_s: 5\n    timer:\n      seconds: 20")
    result = check_text(text, "cell.yaml")
    assert result.course is not None, [str(d) for d in result.diagnostics]
    course = result.course
    clock = Clock()
    s, events = into_the_cell(course, clock, timers_after_shown=True)
    assert events[0].data["timers"] == "shown"
    clock.advance(30_000)  # the app is still laying the scene out: no timer yet
    assert s.time_left_ms() is None and s.tick() == []
    events += s.shown()
    assert events[-1].kind is EventKind.SHOWN and s.shown() == []  # reported once
    assert s.time_left_ms() == 25_000  # 5 s reading time + the 20 s timer
    clock.advance(25_000)
    events += s.tick()
    assert EventKind.TIMED_OUT in [e.kind for e in events]
    rebuilt = replay(course, events, clock=Clock())
    assert rebuilt.seq == len(events) and rebuilt.awaiting_shown  # back in "inside": waiting for the next paint


def test_scene_blocks_follow_the_variables():
    press = load_course(ROOT_COURSES / "press-loto-die-change.yaml")
    stopped = press.states["stopped"]
    start = dict(press.variables)
    assert "hang on your belt" in stopped.scene(start, "en") and "腰上" in stopped.scene(start, "zh")
    locked = {**start, "elec_locked": True, "hyd_locked": True, "air_locked": True}
    assert "belt" not in stopped.scene(locked, "en") and "腰上" not in stopped.scene(locked, "zh")
    assert "three locks and tags hang on the isolation points" in stopped.scene(locked, "en")


BLOCKS = COURSE.replace(
    "    text: {zh: 单元外, en: Outside the cell}",
    "    text:\n      - {zh: 单元外, en: Outside the cell}\n      - when: lockd\n        zh: 已上锁\n        en: Locked out",
)


def test_course_check_names_file_line_and_column_of_a_bad_block_condition():
    result = check_text(BLOCKS, "cell.yaml")
    errors = [str(d) for d in result.diagnostics]
    assert result.course is None
    assert any(e.startswith("cell.yaml:16:15: error") and "unknown variable 'lockd'" in e for e in errors), errors


def test_course_check_refuses_negative_reading_time():
    text = COURSE.replace("    timer:\n      seconds: 20", "    reading_s: -1\n    timer:\n      seconds: 20")
    errors = [str(d) for d in check_text(text, "cell.yaml").diagnostics]
    assert any("reading_s must be at least 0" in e for e in errors), errors
