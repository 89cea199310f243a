"""Practice and exam: how a session is played, and the hidden faults drawn for it.

A session is played in one of two modes, chosen before it starts and recorded in its `started` event (and, by the
store, as a fact of the session bound into its tamper evidence):

- practice: hints are free, the app shows the feedback of each action, the session never certifies;
- exam: no hints, no feedback until the debrief, the session certifies; every key random event (a random event is key
  unless the course says `key: false`) fires the first time the trainee enters one of its states.

Sessions recorded before modes existed carry no mode in their `started` event: they were played under the old rules
(hints allowed and counted, events at their probability, no hidden faults) and they certified, so they count as exams
(`mode_of` says exam) while their replay keeps the old rules (`rules_of` says None).

Hidden faults: a course may declare variables whose start value is drawn per session from a set (`hidden:` in the
course file). The draw is made from the session's seed with a generator of its own (so the random events of a seed do
not change with the faults a course declares) and recorded in the `started` event (`hidden`), so that replay, resume
and scoring start from the same values.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from trainer.course.conditions import Value
from trainer.course.model import Course


class Mode(StrEnum):
    PRACTICE = "practice"
    EXAM = "exam"


DEFAULT_MODE = Mode.EXAM  # what a session that names no mode is: certifying, as every session was before modes


def parse_mode(value: object) -> Mode | None:
    """The mode a `started` event's data names; None when it names none (a session recorded before modes)."""
    if value is None:
        return None
    return Mode(str(value))


def rules_of(started: Mapping[str, Any]) -> Mode | None:
    """The rules the session was played under, from its `started` event's data: None for the rules before modes."""
    return parse_mode(started.get("mode"))


def mode_of(started: Mapping[str, Any]) -> Mode:
    """What the session counts as: its mode, and exam for a session recorded before modes (they all certified)."""
    return rules_of(started) or DEFAULT_MODE


def draw_hidden(course: Course, seed: int) -> dict[str, Value]:
    """The start value of each hidden fault of `course` for a session with `seed`: deterministic, independent of the
    generator of the random events."""
    if not course.hidden:
        return {}
    rng = random.Random(f"hidden faults {seed}")
    return {name: rng.choice(list(values)) for name, values in course.hidden.items()}


def start_variables(course: Course, events: Sequence[Any]) -> dict[str, Value]:
    """The variables a session started with: the course's, with the hidden faults its `started` event records."""
    variables: dict[str, Value] = dict(course.variables)
    if events:
        first = events[0]
        data = first.data if hasattr(first, "data") else first[5]
        hidden = data.get("hidden") if isinstance(data, Mapping) else None
        if isinstance(hidden, Mapping):
            variables.update({str(k): v for k, v in hidden.items() if k in variables})
    return variables
