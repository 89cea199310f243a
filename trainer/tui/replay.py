"""Step through a stored session: the situation after each event, rebuilt from the events alone.

Events carry what changed (`set` of an action or a random event), so variables, position and the people on the map at
any event are a fold over the events before it; the debrief's replay needs no engine and no database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trainer.course.conditions import Value
from trainer.course.model import Course
from trainer.engine.events import Event, EventKind
from trainer.engine.modes import start_variables


@dataclass(frozen=True)
class Frame:
    event: Event
    variables: Mapping[str, Value]
    position: str | None
    people: tuple[str, ...]  # map zones where a random event's person or vehicle is


def frames(course: Course, events: Sequence[Event]) -> list[Frame]:
    variables: dict[str, Value] = start_variables(course, events)  # with the session's hidden faults
    position: str | None = None
    active: list[str] = []
    by_id = {e.id: e for e in course.random_events}
    out: list[Frame] = []
    for e in events:
        if e.kind is EventKind.CHOSE:
            variables.update(e.data.get("set") or {})
            answered = e.data.get("event")
            if answered in active:
                active.remove(answered)
        elif e.kind is EventKind.TIMED_OUT:
            variables.update(e.data.get("set") or {})
        elif e.kind is EventKind.RANDOM_EVENT:
            variables.update(e.data.get("set") or {})
            active.append(str(e.data.get("event")))
        elif e.kind is EventKind.VIEWED:
            state = course.states.get(e.state)
            if state is not None and state.position:
                position = state.position
            active = [a for a in active if a in by_id and e.state in by_id[a].states]
        people = tuple(at for a in active if a in by_id and (at := by_id[a].appears_at))
        out.append(Frame(e, dict(variables), position, people))
    return out


def time_per_state(events: Sequence[Event]) -> list[tuple[str, int]]:
    """(state, milliseconds spent) for each visit, in order."""
    visits: list[tuple[str, int]] = []
    entered: tuple[str, int] | None = None
    for e in events:
        if e.kind is EventKind.VIEWED:
            if entered is not None:
                visits.append((entered[0], e.t_ms - entered[1]))
            entered = (e.state, e.t_ms)
    if entered is not None and events:
        visits.append((entered[0], events[-1].t_ms - entered[1]))
    return visits
