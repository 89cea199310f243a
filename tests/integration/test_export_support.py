"""Helpers for the export and report tests (no tests here): play courses through DurableSession into a temporary
store, at chosen wall-clock times, so that dates, certifications and trends are known in advance."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trainer.course.loader import load_course
from trainer.course.model import Course
from trainer.engine.clock import ManualClock, ms_from_seconds
from trainer.session_service import DurableSession
from trainer.store import access as store_access
from trainer.store.store import Store

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
MINI = FIXTURES / "mini_course.yaml"
PRESS = ROOT / "courses" / "press-loto-die-change.yaml"

# mini_course.yaml: lock then work passes with 100; reach is a critical mistake (incident, 60); waiting 35 s first lets
# the timer run out once (a minor mistake, 95, still a pass).
EXPERT = ["lock", "work"]
CRITICAL = ["reach"]
SLOW = [35, "lock", "work"]

HOSTILE_NAMES = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "#N/A", "a\x07b"]


@contextmanager
def plant_time_zone() -> Iterator[None]:
    """Run in the plant's time zone (Chongqing, UTC+8), whatever the test machine's is."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        yield
    finally:
        mp.undo()
        time.tzset()


@contextmanager
def wall_clock(moment: datetime) -> Iterator[None]:
    """The store stamps sessions (started, ended) with `moment` instead of now."""
    mp = pytest.MonkeyPatch()
    mp.setattr(store_access, "utcnow", lambda: moment)
    try:
        yield
    finally:
        mp.undo()


def course(path: Path = MINI) -> Course:
    return load_course(path)


def play(
    store: Store,
    played: Course,
    badge: str,
    steps: Sequence[str | float],
    *,
    at: datetime | None = None,
    seed: int = 0,
    finish: bool = True,
) -> DurableSession:
    """Play `steps` (an action id after 2 s of thinking, or a number of seconds to wait) with random events off.

    With finish=False the session is released unfinished (interrupted); steps that end the session early stop it.
    """
    moment = at or datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    with wall_clock(moment):
        clock = ManualClock()
        durable = DurableSession.begin(store, played, badge, seed=seed, clock=clock)
        durable.engine.roll = lambda event: False
        for step in steps:
            if durable.engine.ended:
                break
            if isinstance(step, int | float):
                clock.advance(ms_from_seconds(step))
                durable.tick()
                continue
            clock.advance(2000)
            durable.tick()
            durable.choose(step)
        if not durable.engine.ended:
            if finish:
                durable.abort("trainee")
            else:
                durable.release()
    return durable


def register(store: Store, badge: str, name: str, department: str) -> None:
    """Register a trainee; names that sign-in now refuses (control characters) are written as an older version stored
    them, straight into the table: the exports must still handle whatever a database holds."""
    from datetime import UTC, datetime

    from trainer import people
    from trainer.store import schema

    try:
        accepted = (people.badge(badge), people.name(name), people.department(department)) == (badge, name, department)
    except people.TraineeFieldError:
        accepted = False
    if accepted:
        store.upsert_trainee(badge, name, department)
    else:
        with store._engine.begin() as conn:
            conn.execute(
                schema.trainees.insert().values(
                    badge=badge, name=name, department=department, created_at=datetime.now(UTC)
                )
            )


@dataclass(frozen=True)
class Trainee:
    """A trainee registered (with `register`) at this point of a played database."""

    badge: str
    name: str
    department: str


@dataclass(frozen=True)
class Attempt:
    """A session played (with `play`) at this point of a played database."""

    badge: str
    steps: Sequence[str | float]
    at: datetime
    finish: bool = True


def fill(path: Path, recipe: Sequence[Trainee | Attempt], played: Path = MINI) -> None:
    """Register the trainees and play the attempts of `recipe`, in its order, into the store at `path`."""
    mini = course(played)
    with Store.open(path) as store:
        for step in recipe:
            if isinstance(step, Trainee):
                register(store, step.badge, step.name, step.department)
            else:
                play(store, mini, step.badge, step.steps, at=step.at, finish=step.finish)
