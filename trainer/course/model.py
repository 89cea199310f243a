"""The neutral course model: frozen dataclasses built by the loader, read by the engine, the scoring and the app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from trainer.course.conditions import Condition, Value
from trainer.course.diagnostics import Pos


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


class MistakeSeverity(StrEnum):
    MINOR = "minor"
    SERIOUS = "serious"
    CRITICAL = "critical"


class Outcome(StrEnum):
    COMPLETED = "completed"
    INCIDENT = "incident"
    ABORTED = "aborted"


@dataclass(frozen=True)
class Text:
    """Trainee-visible text in Chinese and English; a missing language falls back to the other one."""

    zh: str | None = None
    en: str | None = None

    def get(self, lang: str | Lang) -> str:
        primary = self.zh if Lang(lang) is Lang.ZH else self.en
        return primary or self.en or self.zh or ""


EMPTY_TEXT = Text()


@dataclass(frozen=True)
class TextBlock:
    """A part of a state's scene, shown only while `when` holds (always, without one)."""

    text: Text
    when: Condition | None = None


def join_blocks(parts: list[str], lang: str | Lang) -> str:
    """A scene's blocks as one text: run on in Chinese, one space between in English; a block that begins with a line
    break starts its own paragraph."""
    out = ""
    for part in parts:
        if out and Lang(lang) is Lang.EN and not part.startswith("\n") and not out.endswith("\n"):
            out += " "
        out += part
    return out


@dataclass(frozen=True)
class Mistake:
    code: str
    severity: MistakeSeverity
    rule: Text
    hazard: str | None = None
    standard: str | None = None
    step: str | None = None  # the procedure step this mistake stands for
    instead: Text | None = None  # what to do instead (the debrief's "the right way"); None: the course does not say


@dataclass(frozen=True)
class Action:
    id: str
    label: Text
    when: Condition | None = None
    set: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    goto: str | None = None
    feedback: Text | None = None
    mistake: Mistake | None = None
    step: str | None = None  # the procedure step this action also performs (a variant with another id)
    pos: Pos = field(default=Pos(), compare=False)


@dataclass(frozen=True)
class Timer:
    seconds: float
    goto: str
    set: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    feedback: Text | None = None
    mistake: Mistake | None = None
    pos: Pos = field(default=Pos(), compare=False)


@dataclass(frozen=True)
class Hazard:
    category: str
    text: Text


@dataclass(frozen=True)
class Person:
    """Someone a state's scene mentions, shown on the map in zone `at` with a short name."""

    at: str
    label: Text


@dataclass(frozen=True)
class State:
    id: str
    text: Text
    actions: tuple[Action, ...] = ()
    timer: Timer | None = None
    outcome: Outcome | None = None
    incident: Text | None = None
    position: str | None = None
    hazard: Hazard | None = None
    hint: Text | None = None
    people: tuple[Person, ...] = ()
    reading_s: float | None = None  # reading time added before the timer starts counting
    blocks: tuple[TextBlock, ...] = ()  # a scene given as blocks, some conditional; `text` is then its fixed part
    pos: Pos = field(default=Pos(), compare=False)

    def scene(self, variables: Mapping[str, Value], lang: str | Lang) -> str:
        """The scene as the trainee sees it now: the blocks whose condition holds for `variables`."""
        if not self.blocks:
            return self.text.get(lang)
        return join_blocks([b.text.get(lang) for b in self.blocks if b.when is None or b.when(variables)], lang)

    @property
    def terminal(self) -> bool:
        return self.outcome is not None

    def action(self, action_id: str) -> Action | None:
        return next((a for a in self.actions if a.id == action_id), None)


@dataclass(frozen=True)
class ProcedureStep:
    action: str
    rule: Text
    after: tuple[str, ...] = ()
    severity: MistakeSeverity = MistakeSeverity.SERIOUS
    standard: str | None = None
    when: Condition | None = None  # required only if this holds at the end of the session
    pos: Pos = field(default=Pos(), compare=False)


@dataclass(frozen=True)
class RandomEvent:
    id: str
    probability: float
    states: tuple[str, ...]
    text: Text
    actions: tuple[Action, ...]
    set: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    ignored: Mistake | None = None
    appears_at: str | None = None
    key: bool = True  # an exam guarantees it: it fires the first time the trainee enters one of `states`
    pos: Pos = field(default=Pos(), compare=False)


@dataclass(frozen=True)
class Zone:
    id: str
    label: Text
    x: int
    y: int
    width: int
    height: int
    kind: str = "area"


@dataclass(frozen=True)
class Machine:
    id: str
    label: Text
    x: int
    y: int
    running: Condition
    locked: Condition | None = None


@dataclass(frozen=True)
class WorkshopMap:
    width: int
    height: int
    zones: tuple[Zone, ...]
    machines: tuple[Machine, ...] = ()

    def zone(self, zone_id: str) -> Zone | None:
        return next((z for z in self.zones if z.id == zone_id), None)


@dataclass(frozen=True)
class InventoryItem:
    when: Condition
    label: Text


@dataclass(frozen=True)
class PassRule:
    min_score: float
    critical_fails: bool = True


@dataclass(frozen=True)
class Course:
    id: str
    version: str
    title: Text
    area: str
    standards: tuple[str, ...]
    minutes: int
    pass_rule: PassRule
    certification_days: int
    start: str
    states: Mapping[str, State]
    summary: Text = EMPTY_TEXT
    objectives: tuple[Text, ...] = ()
    ppe: tuple[Text, ...] = ()
    variables: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    # Hidden faults: variables whose start value each session draws from these values (see trainer/engine/modes.py).
    hidden: Mapping[str, tuple[Value, ...]] = field(default_factory=lambda: MappingProxyType({}))
    procedure: tuple[ProcedureStep, ...] = ()
    random_events: tuple[RandomEvent, ...] = ()
    inventory: tuple[InventoryItem, ...] = ()
    map: WorkshopMap | None = None
    source: str = ""
    content_hash: str = ""
    # Where each variable is declared, so `course test` can name the line of a variable that multiplies situations.
    variable_pos: Mapping[str, Pos] = field(default_factory=lambda: MappingProxyType({}), compare=False)

    def state(self, state_id: str) -> State:
        return self.states[state_id]

    def all_actions(self) -> list[tuple[str, Action]]:
        """Every (owner, action): owner is a state id, or `event:<id>` for a random event's answers."""
        pairs = [(s.id, a) for s in self.states.values() for a in s.actions]
        pairs += [(f"event:{e.id}", a) for e in self.random_events for a in e.actions]
        return pairs
