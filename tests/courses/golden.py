"""Play bundled courses through the real engine with a scripted clock, for golden tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainer.cli.play import parse_script
from trainer.course.loader import load_course
from trainer.course.model import Course
from trainer.engine.clock import ManualClock, ms_from_seconds
from trainer.engine.events import Event, EventKind
from trainer.engine.modes import Mode, draw_hidden
from trainer.engine.session import Session
from trainer.scoring.detect import DetectedMistake, detect, outcome_of
from trainer.scoring.rubric import SessionScore, score_session

COURSES = Path(__file__).resolve().parent.parent.parent / "courses"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def script_actions(path: Path) -> list[str]:
    """The action ids of a `trainer play` script, read by the same parser `trainer play` uses."""
    return [line.action for line in parse_script(path) if line.action]


class ScriptClock(ManualClock):
    """The engine's clock, in integer milliseconds, moved by the script."""


@dataclass
class Played:
    course: Course
    events: list[Event]
    mistakes: list[DetectedMistake]
    score: SessionScore
    session: Session

    @property
    def outcome(self) -> str | None:
        o = outcome_of(self.events)
        return None if o is None else str(o)

    def codes(self) -> list[tuple[str, str]]:
        """(code, severity) of every mistake, in order."""
        return [(m.code, str(m.severity)) for m in self.mistakes]

    def folded(self) -> dict[str, str]:
        """code -> the code of its root mistake, for every consequence folded under a root (no points of its own)."""
        codes = {m.id: m.code for m in self.mistakes}
        return {m.code: codes[m.under] for m in self.mistakes if m.under is not None}

    def random_events(self) -> list[str]:
        return [str(e.data["event"]) for e in self.events if e.kind is EventKind.RANDOM_EVENT]


def play(
    course_id: str,
    steps: list[str | float],
    *,
    seed: int = 0,
    event: bool | None = None,
    faults: dict[str, object] | None = None,
) -> Played:
    """Play `steps`: an action id is chosen after 2 s of thinking; a number waits that many seconds (timers may fire).

    `event` forces every random event on (True) or off (False); None leaves them to the seed. `faults` plays a practice
    session from the first seed (from `seed` on) that draws these hidden faults; without it the session is played under
    the rules before modes, from the values the course declares.
    """
    course = load_course(COURSES / f"{course_id}.yaml")
    clock = ScriptClock()
    mode = None
    if faults is not None:
        mode = Mode.PRACTICE
        seed = next(s for s in range(seed, seed + 1000) if faults.items() <= draw_hidden(course, s).items())
    session = Session(course, seed, clock=clock, mode=mode)
    if event is not None:
        session.roll = lambda ev: event
    events = session.start()
    for step in steps:
        if session.ended:
            raise AssertionError(f"the session ended before {step!r}")
        if isinstance(step, int | float):
            clock.advance(ms_from_seconds(step))
            events += session.tick()
            continue
        clock.advance(2000)
        events += session.tick()
        events += session.choose(step)
    mistakes = detect(course, events)
    return Played(course, events, mistakes, score_session(course, mistakes, outcome_of(events)), session)


def expert_passes(course_id: str, expert: list[str | float], faults: dict[str, object] | None = None) -> Played:
    """The expert path, random events off: completed, no mistake at all, full marks."""
    played = play(course_id, expert, event=False, faults=faults)
    assert played.outcome == "completed"
    assert played.mistakes == []
    assert played.score.passed and played.score.score == 100
    return played
