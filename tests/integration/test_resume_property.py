"""Every interrupted session resumes, and every stored session replays exactly (a Hypothesis property).

Sessions of the bundled courses, the test fixtures and the mini course with random timer lengths (sub-millisecond
digits included) are played with random valid choices, hints and waits, after random delays: whole milliseconds and
awkward decimal seconds such as 1.0011, read as `trainer play` reads a script's delays. Each is stored through the real
store (an SQLite file), interrupted at random points, resumed with DurableSession.resume and finished; then the stored
record must be exactly the events the session produced, its chain must verify, and replaying it must give back every
stored event. Pauses (Esc) are among the steps, and a terminal may go away while paused; half the sessions are started
as the terminal app starts them, with timers that wait for the scene to be reported shown. The number of examples is
stated in docs/reliability.md ("resume property test size").
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer.course.library import bundled_dir
from trainer.course.loader import check_text, load_course
from trainer.course.model import Course
from trainer.engine.clock import ManualClock, ms_from_seconds
from trainer.engine.events import Event
from trainer.engine.session import replay
from trainer.session_service import DurableSession
from trainer.store.records import StoredEvent
from trainer.store.store import Store

EXAMPLES = 100  # docs/reliability.md states this number: keep them in step
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MINI_TEXT = (FIXTURES / "mini_course.yaml").read_text(encoding="utf-8")
BADGE = "P-0001"


@cache
def courses() -> tuple[Course, ...]:
    files = [*sorted(bundled_dir().glob("*.yaml")), FIXTURES / "mini_course.yaml", FIXTURES / "drill.yaml"]
    return tuple(load_course(f) for f in files)


@cache
def mini_with_timer(seconds: str) -> Course:
    """The mini course whose looping timer lasts `seconds` (as an author would type it in the YAML file)."""
    text = MINI_TEXT.replace("timer: {seconds: 30, goto: begin}", f"timer: {{seconds: {seconds}, goto: begin}}")
    result = check_text(text, f"mini-{seconds}.yaml")
    assert result.course is not None, [str(d) for d in result.diagnostics]
    return result.course


# Delays: whole milliseconds, or decimal seconds as a script gives them (up to 7 digits after the point), with the
# values known to come back one millisecond lower through float seconds.
AWKWARD = ["1.0011", "0.001", "1.001", "2.0005", "0.0015", "4.0009", "8.1234567", "0.3"]
delays = st.one_of(
    st.integers(0, 40_000),
    st.sampled_from(AWKWARD),
    st.from_regex(r"\A[0-9]{1,2}\.[0-9]{1,7}\Z"),
)
steps = st.lists(
    st.tuples(delays, st.sampled_from(["choose", "choose", "choose", "wait", "hint", "pause"]), st.integers(0, 50)),
    max_size=30,
)
timer_seconds = st.from_regex(r"\A[1-9](\.[0-9]{1,4})?\Z")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    # One SQLite file for every example (each plays its own session); no fsync per commit: speed, not durability, here.
    with Store.open(tmp_path_factory.mktemp("resume") / "trainer.db", fsync_every_commit=False) as opened:
        opened.upsert_trainee(BADGE, "Property", "QA")
        yield opened


def _delay_ms(delay: int | str) -> int:
    return delay if isinstance(delay, int) else ms_from_seconds(delay)


def _step(durable: DurableSession, clock: ManualClock, step: tuple[int | str, str, int]) -> list[StoredEvent]:
    """One script line: wait (paused, if the last line paused), let timers run out, then pause, choose an offered
    action (picked by index) or ask for a hint; the scene is reported shown first, as the app does after each paint."""
    delay, what, pick = step
    clock.advance(_delay_ms(delay))
    made = durable.unpause() if durable.engine.paused and what != "pause" else []
    made += durable.tick()
    engine = durable.engine
    if engine.ended:
        return made
    if engine.timers_after_shown and pick % 3:  # sometimes the step comes before the paint's report
        made += durable.shown()
    if what == "pause":
        return made + durable.pause()
    if what == "choose" and engine.available():
        offers = engine.available()
        made += durable.choose(offers[pick % len(offers)].action.id)
    elif what == "hint" and engine.state.hint is not None:
        made += durable.hint()
    return made


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, 1000),
    timer=st.one_of(st.none(), timer_seconds),
    seed=st.integers(0, 2**31 - 1),
    plan=steps,
    cuts=st.lists(st.integers(0, 30), max_size=3),
    restart_at=st.integers(0, 10**9),
    as_the_app=st.booleans(),
)
def test_every_interrupted_session_resumes_and_replays_exactly(
    store, which, timer, seed, plan, cuts, restart_at, as_the_app
):
    course = mini_with_timer(timer) if timer is not None else courses()[which % len(courses())]
    clock = ManualClock()
    durable = DurableSession.begin(store, course, BADGE, seed=seed, clock=clock, timers_after_shown=as_the_app)
    produced: list[Event] = [s.event for s in durable.stored]
    interruptions = sorted(set(cuts))
    for n, step in enumerate(plan):
        if durable.engine.ended:
            break
        if n in interruptions:
            # The terminal goes away; another one (with a clock of another origin) takes the session over.
            durable.release()
            clock = ManualClock(restart_at + n)
            was_paused = durable.engine.paused
            durable = DurableSession.resume(store, course, durable.id, clock=clock)
            assert [s.event for s in durable.stored][: len(produced)] == produced
            # A pause open when the terminal went away is closed by the resume, where it began.
            assert not durable.engine.paused
            assert durable.stored[-1].event.data.get("paused", False) is was_paused
            produced = [s.event for s in durable.stored]
        produced += [s.event for s in _step(durable, clock, step)]
    if not durable.engine.ended:
        produced += [s.event for s in durable.abort("trainee")]  # abandoning from the pause menu, too

    stored = [s.event for s in store.events(durable.id)]
    assert [e.canonical() for e in stored] == [e.canonical() for e in produced]
    assert all(type(e.t_ms) is int for e in stored)
    assert store.verify(durable.id) == []
    rebuilt = replay(course, stored, clock=ManualClock())  # raises ReplayMismatch at the first event that differs
    assert rebuilt.seq == len(stored) and rebuilt.ended and rebuilt.outcome == durable.engine.outcome
