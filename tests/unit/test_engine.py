"""The engine: conditions, timers with an injected clock, seeded random events, replay, critical mistakes."""

from __future__ import annotations

import pytest

from trainer.course.limits import MAX_TIMEOUTS_IN_A_ROW
from trainer.course.loader import check_text
from trainer.engine.clock import ManualClock
from trainer.engine.events import EventKind
from trainer.engine.explore import explore_course
from trainer.engine.session import ActionNotAvailable, ReplayMismatch, Session, SessionOver, replay

COURSE = """
id: cell
version: "2"
title: {zh: 机器人单元, en: Robot cell}
area: welding
standards: ["ISO 10218-2"]
minutes: 5
pass: {min_score: 80}
certification_days: 365
variables: {mode: auto, gate: closed, locked: false, helper_inside: false}
start: outside
states:
  outside:
    text: {zh: 单元外, en: Outside the cell}
    actions:
      - id: stop
        label: {zh: 停止, en: Stop the cell}
        when: mode == "auto"
        set: {mode: stopped}
      - id: lock
        label: {zh: 上锁, en: Lock out}
        when: mode == "stopped" and not locked
        set: {locked: true}
      - id: enter
        label: {zh: 进入, en: Enter by the gate}
        when: locked
        set: {gate: open}
        goto: inside
      - id: climb
        label: {zh: 翻越, en: Climb the fence}
        goto: crushed
        mistake: {code: CLIMB_FENCE, severity: critical, hazard: crush, rule: {zh: 不得翻越, en: Never climb}}
  inside:
    text: {zh: 单元内, en: Inside}
    hazard: {category: crush, text: {zh: 机器人, en: Robot arm nearby}}
    timer:
      seconds: 20
      goto: inside
      mistake: {code: SLOW, severity: minor, rule: {zh: 太慢, en: Too slow}}
    actions:
      - id: fix
        label: {zh: 修理, en: Fix the fixture}
        goto: done
      - id: wave_in
        label: {zh: 叫人, en: Wave a colleague in}
        set: {helper_inside: true}
        mistake: {code: SECOND_PERSON, severity: serious, rule: {zh: 只许一人, en: Only the teacher inside}}
  done:
    text: {zh: 完成, en: Done}
    outcome: completed
  crushed:
    text: {zh: 受伤, en: Crushed}
    outcome: incident
    incident: {zh: 被夹, en: Pinned by the robot}
random_events:
  - id: colleague
    probability: 0.5
    states: [inside]
    text: {zh: 同事走近, en: A colleague walks to the gate}
    actions:
      - id: warn
        label: {zh: 警告, en: Tell them to stay out}
    ignored: {code: IGNORED_COLLEAGUE, severity: serious, rule: {zh: 必须阻止, en: Stop them}}
procedure:
  - {action: stop, rule: {zh: 先停, en: Stop first}}
  - {action: lock, after: [stop], rule: {zh: 上锁, en: Lock}}
  - {action: enter, after: [lock], rule: {zh: 进入, en: Enter}}
"""


class Clock(ManualClock):
    """Integer milliseconds, as the engine requires; any origin: the engine counts from its start."""

    def __init__(self) -> None:
        super().__init__(100_000)


@pytest.fixture(scope="module")
def course():
    result = check_text(COURSE, "cell.yaml")
    assert result.course is not None, [str(d) for d in result.diagnostics]
    return result.course


def seed_with(course, fired: bool) -> int:
    """A seed for which the colleague event does (or does not) happen on entering the cell."""
    for seed in range(200):
        s = Session(course, seed, clock=Clock())
        s.start()
        for a in ("stop", "lock", "enter"):
            s.choose(a)
        if bool(s.active_events()) == fired:
            return seed
    raise AssertionError("no seed found")


def kinds(events):
    return [str(e.kind) for e in events]


def test_conditions_gate_the_actions(course):
    s = Session(course, 1, clock=Clock())
    s.start()
    assert [o.action.id for o in s.available()] == ["stop", "climb"]
    s.choose("stop")
    assert [o.action.id for o in s.available()] == ["lock", "climb"]
    with pytest.raises(ActionNotAvailable, match="'enter' is not available in state 'outside'"):
        s.choose("enter")


def test_expert_path_completes_with_times_from_the_clock(course):
    clock = Clock()
    s = Session(course, seed_with(course, fired=False), clock=clock)
    events = s.start()
    for delay, action in [(3, "stop"), (4, "lock"), (2, "enter"), (5, "fix")]:
        clock.advance(delay * 1000)
        events += s.choose(action)
    assert s.ended and str(s.outcome) == "completed"
    assert events[-1].kind is EventKind.COMPLETED
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].t_ms == 14_000
    assert EventKind.HAZARD in [e.kind for e in events]  # entering the cell is exposure, recorded
    with pytest.raises(SessionOver):
        s.choose("fix")


def test_critical_mistake_ends_as_incident(course):
    s = Session(course, 1, clock=Clock())
    s.start()
    events = s.choose("climb")
    assert kinds(events) == ["chose", "mistake", "viewed", "failed"]
    assert events[1].data["code"] == "CLIMB_FENCE" and events[1].data["severity"] == "critical"
    assert s.ended and str(s.outcome) == "incident"


def test_timer_fires_at_its_deadline_with_an_injected_clock(course):
    clock = Clock()
    s = Session(course, seed_with(course, fired=False), clock=clock)
    s.start()
    for a in ("stop", "lock", "enter"):
        s.choose(a)
    clock.advance(19_900)
    assert s.tick() == []
    assert s.time_left_ms() == 100
    clock.advance(500)
    events = s.tick()
    assert kinds(events)[:2] == ["timed_out", "mistake"]
    assert events[0].t_ms == 20_000  # stamped at the deadline, not when noticed
    assert events[1].data["code"] == "SLOW"
    assert s.time_left_ms() == 19_600  # the state was re-entered: a fresh timer


def test_choose_after_the_deadline_gets_the_timeout_first(course):
    clock = Clock()
    s = Session(course, seed_with(course, fired=False), clock=clock)
    s.start()
    for a in ("stop", "lock", "enter"):
        s.choose(a)
    clock.advance(25_000)
    events = s.choose("fix")
    assert events[0].kind is EventKind.TIMED_OUT
    assert not s.ended  # the action was not taken: time ran out first


def test_random_events_reproduce_by_seed(course):
    def run(seed):
        s = Session(course, seed, clock=Clock())
        s.start()
        for a in ("stop", "lock", "enter"):
            s.choose(a)
        return [ev.id for ev in s.active_events()]

    outcomes = {seed: tuple(run(seed)) for seed in range(40)}
    assert outcomes == {seed: tuple(run(seed)) for seed in range(40)}
    assert {bool(v) for v in outcomes.values()} == {True, False}  # p = 0.5 happens for some seeds and not others


def test_ignoring_a_random_event_is_a_mistake_once(course):
    s = Session(course, seed_with(course, fired=True), clock=Clock())
    s.start()
    for a in ("stop", "lock", "enter"):
        s.choose(a)
    assert [o.action.id for o in s.available()][0] == "warn"  # the answer is offered first
    events = s.choose("wave_in")
    codes = [e.data["code"] for e in events if e.kind is EventKind.MISTAKE]
    assert codes == ["SECOND_PERSON", "IGNORED_COLLEAGUE"]
    events = s.choose("wave_in")
    assert [e.data["code"] for e in events if e.kind is EventKind.MISTAKE] == ["SECOND_PERSON"]
    s.choose("warn")
    assert s.active_events() == []


def test_replay_equals_the_live_run_event_for_event(course):
    clock = Clock()
    live = Session(course, seed_with(course, fired=True), clock=clock)
    events = live.start()
    for delay, action in [(1, "stop"), (2, "lock"), (1, "enter"), (25, None), (3, "warn"), (30, None), (1, "fix")]:
        clock.advance(delay * 1000)
        events += live.tick() if action is None else live.choose(action)
    assert live.ended
    rebuilt = replay(course, events, clock=Clock())
    assert rebuilt.snapshot().variables == live.snapshot().variables
    assert rebuilt.outcome == live.outcome and rebuilt.seq == live.seq


def test_replay_rejects_events_the_course_does_not_produce(course):
    s = Session(course, 3, clock=Clock())
    events = s.start() + s.choose("stop") + s.choose("lock")
    forged = list(events)
    forged[2] = type(events[2])(events[2].seq, events[2].t_ms, events[2].kind, events[2].state, "lock", events[2].data)
    with pytest.raises(ReplayMismatch) as err:
        replay(course, forged)
    assert err.value.seq == 3


def test_resume_continues_where_it_stopped_and_restarts_the_timer(course):
    clock = Clock()
    s = Session(course, seed_with(course, fired=False), clock=clock)
    events = s.start()
    for a in ("stop", "lock", "enter"):
        clock.advance(1000)
        events += s.choose(a)
    clock.advance(15_000)  # 15 of the 20 seconds used, then the terminal was closed
    later = ManualClock(5_000_000)
    resumed = replay(course, events, clock=later)
    events += resumed.resume(gap_ms=3_600_000)
    assert resumed.state.id == "inside"
    assert resumed.time_left_ms() == 20_000
    later.advance(2000)
    events += resumed.choose("fix")
    assert resumed.ended and events[-1].kind is EventKind.COMPLETED
    assert replay(course, events).outcome == resumed.outcome  # the resumed session replays too


def test_explorer_covers_every_state_and_action(course):
    report = explore_course(course, random_runs=30, seed=1)
    assert report.state_coverage() == (4, 4)
    assert report.action_coverage() == (7, 7)
    assert not report.failed


def test_explorer_finds_a_trap_the_static_check_cannot_see(course):
    # Every state is linked, so the static check passes; but `lock` and `climb` now need a mode that never happens,
    # so after `stop` the trainee has nothing left to do.
    # `enter` needs locked, but lock now needs a mode that never happens: the trainee can only climb or stop forever.
    trapped = COURSE.replace('when: mode == "stopped" and not locked', 'when: mode == "manual"').replace(
        "      - id: climb\n", '      - id: climb\n        when: mode == "manual"\n'
    )
    result = check_text(trapped, "trap.yaml")
    assert result.course is not None, [str(d) for d in result.diagnostics]
    report = explore_course(result.course, random_runs=5)
    assert report.failed
    assert any(f.kind == "trap" and "'outside'" in f.message for f in report.findings)


def test_a_timer_can_change_variables(course):
    text = COURSE.replace(
        "      goto: inside\n      mistake: {code: SLOW",
        "      goto: inside\n      set: {helper_inside: true}\n      mistake: {code: SLOW",
    )
    result = check_text(text, "timer-set.yaml")
    assert result.course is not None, [str(d) for d in result.diagnostics]
    clock = Clock()
    s = Session(result.course, seed_with(result.course, fired=False), clock=clock)
    events = s.start() + s.choose("stop") + s.choose("lock") + s.choose("enter")
    clock.advance(21_000)
    events += s.tick()
    assert s.variables["helper_inside"] is True
    assert replay(result.course, events).variables["helper_inside"] is True


def test_ignoring_an_event_with_a_critical_mistake_ends_the_session(course):
    text = COURSE.replace(
        "ignored: {code: IGNORED_COLLEAGUE, severity: serious", "ignored: {code: IGNORED_COLLEAGUE, severity: critical"
    )
    result = check_text(text, "critical-ignored.yaml")
    assert result.course is not None
    s = Session(result.course, seed_with(result.course, fired=True), clock=Clock())
    s.start()
    for a in ("stop", "lock", "enter"):
        s.choose(a)
    events = s.choose("fix")
    assert [str(e.kind) for e in events][-1] == "failed"
    assert events[-1].data["code"] == "IGNORED_COLLEAGUE"
    assert str(s.outcome) == "incident"


def test_a_timer_that_leads_back_stops_after_many_timeouts_in_a_row_and_replays(course):
    # `inside` times out back into itself every 20 s. A day without input used to be 4,320 timeouts in one tick (a day
    # over a 1 s timer, 86,400); now the timer stops after MAX_TIMEOUTS_IN_A_ROW and the trainee's next input restarts it.
    clock = Clock()
    s = Session(course, seed_with(course, fired=False), clock=clock)
    events = s.start()
    for a in ("stop", "lock", "enter"):
        events += s.choose(a)
    clock.advance(86_400_000)
    waited = s.tick()
    events += waited
    assert kinds(waited).count("timed_out") == MAX_TIMEOUTS_IN_A_ROW
    assert waited[-1].t_ms == MAX_TIMEOUTS_IN_A_ROW * 20_000  # each one at its own deadline, then the timer stopped
    assert s.time_left_ms() is None and s.tick() == [] and not s.ended
    events += s.choose("wave_in")  # stays in `inside`: the stopped timer starts again from this action
    assert s.time_left_ms() == 20_000
    clock.advance(20_000)
    again = s.tick()
    events += again
    assert kinds(again).count("timed_out") == 1 and again[0].t_ms == 86_420_000
    clock.advance(1000)
    events += s.choose("fix")
    assert s.ended
    rebuilt = replay(course, events, clock=Clock())  # raises ReplayMismatch at the first event that differs
    assert rebuilt.seq == s.seq and rebuilt.outcome == s.outcome


def test_decimal_seconds_become_whole_milliseconds_exactly():
    from trainer.engine.clock import ms_from_seconds

    assert ms_from_seconds("1.0011") == 1001 and ms_from_seconds(1.001) == 1001  # never 1000.999... truncated
    assert ms_from_seconds("1.0015") == 1002 and ms_from_seconds("1.0025") == 1003  # halves up
    assert ms_from_seconds("0.0004") == 0 and ms_from_seconds(30) == 30_000
    assert ms_from_seconds("9" * 300) == int("9" * 300) * 1000  # no 28-digit decimal context on the way
    with pytest.raises(ValueError):
        ms_from_seconds(float("inf"))


def test_the_engine_refuses_a_clock_in_float_seconds(course):
    s = Session(course, 1, clock=lambda: 12.5)
    s.start()
    with pytest.raises(TypeError, match="integer milliseconds"):
        s.choose("stop")


def test_an_action_at_an_awkward_millisecond_replays_to_the_same_millisecond(course):
    clock = Clock()
    live = Session(course, seed_with(course, fired=False), clock=clock)
    events = live.start()
    for ms, action in [(1001, "stop"), (1, "lock"), (2003, "enter")]:
        clock.advance(ms)
        events += live.choose(action)
    assert [e.t_ms for e in events if e.kind is EventKind.CHOSE] == [1001, 1002, 3005]
    assert replay(course, events).seq == len(events)


def test_snapshots_share_the_random_state_until_a_draw_and_undo_still_replays_the_same_draws(course):
    # `course test` keeps a snapshot per explored situation: a copied 24 KB generator state in each made the press
    # course take 741 MB. Snapshots taken with no draw in between share one state; an undo still restores the draws.
    s = Session(course, 7, clock=Clock())
    s.start()
    first = s.snapshot()
    s.choose("stop")
    assert s.snapshot().rng_state is first.rng_state  # nothing drawn: shared, not copied
    s.choose("lock")
    before_enter = s.snapshot()
    s.choose("enter")  # draws for the colleague event
    after = s.snapshot()
    assert after.rng_state is not before_enter.rng_state
    fired = [ev.id for ev in s.active_events()]
    for _ in range(3):  # undo and redo: the same draw each time
        s.restore(before_enter)
        s.choose("enter")
        assert [ev.id for ev in s.active_events()] == fired
        assert s.snapshot().rng_state == after.rng_state
