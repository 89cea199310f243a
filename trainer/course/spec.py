"""The course format, declared once.

The loader checks files against these declarations (unknown keys, missing fields, wrong types) and the JSON Schema that
editors use is generated from the same declarations, so the two cannot drift apart.
"""

from __future__ import annotations

import difflib
import keyword
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trainer.course.diagnostics import Diagnostic, Severity
from trainer.course.limits import MAX_INT, TIMER_MAX_SECONDS, TIMER_MIN_SECONDS
from trainer.course.yamlsource import Document, Path_

LANGS = ("zh", "en")
SEVERITIES = ("minor", "serious", "critical")
# Other scales' words for our severities (never a guess by spelling: `major` looks like `minor` and means `serious`).
SEVERITY_WORDS = (
    ("major", "serious"),
    ("high", "serious"),
    ("severe", "serious"),
    ("medium", "serious"),
    ("moderate", "serious"),
    ("low", "minor"),
    ("fatal", "critical"),
    ("catastrophic", "critical"),
)
OUTCOMES = ("completed", "incident", "aborted")
AREAS = (
    "stamping",
    "welding",
    "paint",
    "logistics",
    "lifting",
    "fire",
    "chemicals",
    "electrical",
    "maintenance",
    "general",
)
ZONE_KINDS = ("area", "hazard", "exit", "walkway", "assembly")
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
# Variables are read by conditions, so their names must be names there: no '-', no leading digit.
VAR_PATTERN = r"^[a-z_][a-z0-9_]*$"
_NAME_RULES = {
    ID_PATTERN: "lower-case letters, digits, '-', '_'",
    VAR_PATTERN: "lower-case letters, digits and '_', not starting with a digit",
}
CODE_PATTERN = r"^[A-Z][A-Z0-9_]*$"
_ID_RX = re.compile(ID_PATTERN)


class Checker:
    """Collects diagnostics while a document is checked against the spec."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.diagnostics: list[Diagnostic] = []

    def error(self, path: Path_, message: str, *, at_key: bool = False) -> None:
        pos = self.doc.key_pos(path) if at_key else self.doc.pos(path)
        self.diagnostics.append(Diagnostic(self.doc.file, pos, Severity.ERROR, message))

    def warning(self, path: Path_, message: str, *, at_key: bool = False) -> None:
        pos = self.doc.key_pos(path) if at_key else self.doc.pos(path)
        self.diagnostics.append(Diagnostic(self.doc.file, pos, Severity.WARNING, message))


def _where(path: Path_) -> str:
    return ".".join(_part(p) for p in path) or "the course"


def _part(key: str | int) -> str:
    # A key holding a line break or a control character is quoted, so that every diagnostic stays on one line.
    return str(key) if isinstance(key, int) or key.isprintable() else repr(key)


@dataclass(frozen=True)
class Spec:
    """A node of the format. `check` reports problems and returns True when the value can be used."""

    doc: str = ""

    def check(self, value: Any, path: Path_, ck: Checker) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _described(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.doc:
            schema["description"] = self.doc
        return schema


@dataclass(frozen=True)
class Str(Spec):
    pattern: str | None = None
    hint: str = ""

    def check(self, value: Any, path: Path_, ck: Checker) -> bool:
        if not isinstance(value, str) or not value.strip():
            ck.error(path, f"{_where(path)} must be a non-empty text{_quote_it(value, path, ck)}{self.hint}")
            return False
        if self.pattern and not re.match(self.pattern, value):
            ck.error(path, f"{_where(path)} {value!r} is not a valid name{self.hint}")
            return False
        return True

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "string", "minLength": 1}
        if self.pattern:
            s["pattern"] = self.pattern
        return self._described(s)


def Ident(doc: str = "") -> Str:  # noqa: N802 - reads like a type in the declarations below
    return Str(doc=doc, pattern=ID_PATTERN, hint=" (lower-case letters, digits, '-' and '_')")


def Code(doc: str = "") -> Str:  # noqa: N802
    return Str(doc=doc, pattern=CODE_PATTERN, hint=" (upper-case letters, digits and '_', e.g. NO_LOCK)")


def _usable_number(value: int | float, path: Path_, ck: Checker) -> bool:
    """Finite, and small enough to survive conversion to float and to milliseconds."""
    if isinstance(value, float) and not math.isfinite(value):
        ck.error(path, f"{_where(path)} must be a finite number, not {value!r}")
        return False
    if abs(value) > MAX_INT:
        ck.error(path, f"{_where(path)} is too large (at most {MAX_INT:g})")
        return False
    return True


@dataclass(frozen=True)
class Num(Spec):
    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None

    def check(self, value: Any, path: Path_, ck: Checker) -> bool:
        kinds = (int,) if self.integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            ck.error(path, f"{_where(path)} must be {'a whole number' if self.integer else 'a number'}")
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return _usable_number(value, path, ck)
        # The field's own bounds first: "at most 86400" says more than the general "too large".
        if self.minimum is not None and value < self.minimum:
            ck.error(path, f"{_where(path)} must be at least {self.minimum:g}")
            return False
        if self.maximum is not None and value > self.maximum:
            ck.error(path, f"{_where(path)} must be at most {self.maximum:g}")
            return False
        return _usable_number(value, path, ck)

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "integer" if self.integer else "number"}
        if self.minimum is not None:
            s["minimum"] = self.minimum
        if self.maximum is not None:
            s["maximum"] = self.maximum
        return self._described(s)


@dataclass(frozen=True)
class Bool(Spec):
    def check(self, value: Any, path: Path_, ck: Checker) -> bool:
        if not isinstance(value, bool):
            ck.error(path, f"{_where(path)} must be true or false")
            return False
        return True

    def schema(self) -> dict[str, Any]:
        return self._described({"type": "boolean"})


@dataclass(frozen=True)
class Enum(Spec):
    values: tuple[str, ...] = ()
    # Words authors use for one of the values (severity `major` is `serious`); a look-alike guess is only offered
    # above `cutoff`, so `major` is never "corrected" to `minor`, a downgrade.
    synonyms: tuple[tuple[str, str], ...] = ()
    cutoff: float = 0.6

    def check(self, value: Any, path: Path_, ck: Checker) -> bool:
        if value not in self.values:
            meant = dict(self.synonyms).get(value.lower()) if isinstance(value, str) else None
            hint = f"; did you mean {meant!r}?" if meant else _did_you_mean(value, self.values, self.cutoff)
            ck.error(path, f"{_where(path)} must be one of {', '.join(self.values)}{hint}")
            return False
        return True

    def schema(self) -> dict[str, Any]:
        return self._described({"enum": list(self.values)})


@dataclass(frozen=True)
class ScalarValue(Spec):
    """A variable's value: text, number or true/false."""

    def check(self, value: Any, path: Path_, ck: Checker) -> bool:
        if value is None or isinstance(value, dict | list):
            ck.error(path, f"{_where(path)} must be text, a number or true/false")
            return False
        if isinstance(value, int | float) and not isinstance(value, bool):
            # Stored in every event's JSON and compared by conditions: NaN and infinity are not numbers there.
            return _usable_number(value, path, ck)
        return True

    def schema(self) -> dict[str, Any]:
        return self._described({"type": ["string", "number", "boolean"]})


@dataclass(frozen=True)
class Text(Spec):
    """Trainee-visible text in Chinese and English: {zh: ..., en: ...}. A missing language is a warning."""

    def check(self, value: Any, path: Path_, ck: Checker) -> bool:
        if not isinstance(value, dict):
            ck.error(path, f"{_where(path)} must be a text in both languages: {{zh: ..., en: ...}}")
            return False
        ok = True
        for key in value:
            if key not in LANGS:
                ck.error((*path, key), f"unknown language {key!r} in {_where(path)}; use zh and en", at_key=True)
                ok = False
            elif not isinstance(value[key], str) or not value[key].strip():
                ck.error((*path, key), f"{_where((*path, key))} must be a non-empty text")
                ok = False
        present = [lang for lang in LANGS if isinstance(value.get(lang), str) and value[lang].strip()]
        if not present:
            if ok:
                ck.error(path, f"{_where(path)} needs a text in zh, en or both")
            return False
        for lang in LANGS:
            if lang not in value:
                other = present[0]
                ck.warning(path, f"{_where(path)} has no {lang!r} text; trainees will see the {other!r} text")
        return ok

    def schema(self) -> dict[str, Any]:
        return self._described(
            {
                "type": "object",
                "properties": {lang: {"type": "string", "minLength": 1} for lang in LANGS},
                "additionalProperties": False,
                "minProperties": 1,
            }
        )


@dataclass(frozen=True)
class SceneText(Spec):
    """A state's scene: a text {zh, en}, or a list of blocks {zh, en, when} shown while their condition holds."""

    def check(self, value: Any, path: Path_, ck: Checker) -> bool:
        if not isinstance(value, list):
            return Text().check(value, path, ck)
        if not value:
            ck.error(path, f"{_where(path)} needs at least one block {{zh: ..., en: ...}}")
            return False
        ok = True
        for i, block in enumerate(value):
            if not isinstance(block, dict):
                ck.error((*path, i), f"{_where((*path, i))} must be a block {{zh: ..., en: ..., when: ...}}")
                ok = False
                continue
            if "when" in block and not Str().check(block["when"], (*path, i, "when"), ck):
                ok = False
            ok = Text().check({k: v for k, v in block.items() if k != "when"}, (*path, i), ck) and ok
        return ok

    def schema(self) -> dict[str, Any]:
        block = Text().schema()
        block = {**block, "properties": {**block["properties"], "when": {"type": "string", "minLength": 1}}}
        block.pop("description", None)
        return self._described({"oneOf": [Text().schema(), {"type": "array", "minItems": 1, "items": block}]})


@dataclass(frozen=True)
class ListOf(Spec):
    item: Spec = field(default_factory=Spec)
    min_items: int = 0
    max_items: int | None = None

    def check(self, value: Any, path: Path_, ck: Checker) -> bool:
        if not isinstance(value, list):
            ck.error(path, f"{_where(path)} must be a list")
            return False
        if len(value) < self.min_items:
            ck.error(path, f"{_where(path)} needs at least {self.min_items} item(s)")
            return False
        if self.max_items is not None and len(value) > self.max_items:
            ck.error(path, f"{_where(path)} has {len(value)} items; at most {self.max_items}")
            return False
        results = [self.item.check(v, (*path, i), ck) for i, v in enumerate(value)]
        return all(results)

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "array", "items": self.item.schema()}
        if self.min_items:
            s["minItems"] = self.min_items
        if self.max_items is not None:
            s["maxItems"] = self.max_items
        return self._described(s)


@dataclass(frozen=True)
class MapOf(Spec):
    """A mapping whose keys are names chosen by the author (state ids, variable names)."""

    value: Spec = field(default_factory=Spec)
    key_pattern: str = ID_PATTERN
    min_items: int = 0

    def check(self, value: Any, path: Path_, ck: Checker) -> bool:
        if not isinstance(value, dict):
            ck.error(path, f"{_where(path)} must be a mapping of names to entries")
            return False
        if len(value) < self.min_items:
            ck.error(path, f"{_where(path)} needs at least {self.min_items} entry")
            return False
        ok = True
        for key, item in value.items():
            if not re.match(self.key_pattern, key):
                rule = _NAME_RULES.get(self.key_pattern, "lower-case letters, digits, '-', '_'")
                ck.error((*path, key), f"{key!r} is not a valid name ({rule})", at_key=True)
                ok = False
            elif self.key_pattern == VAR_PATTERN and keyword.iskeyword(key):
                ck.error((*path, key), f"{key!r} is a word of the condition language; choose another name", at_key=True)
                ok = False
            ok = self.value.check(item, (*path, key), ck) and ok
        return ok

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {
            "type": "object",
            "patternProperties": {self.key_pattern: self.value.schema()},
            "additionalProperties": False,
        }
        if self.min_items:
            s["minProperties"] = self.min_items
        return self._described(s)


@dataclass(frozen=True)
class F:
    """A field of an object."""

    spec: Spec
    required: bool = False


@dataclass(frozen=True)
class Obj(Spec):
    fields: dict[str, F] = field(default_factory=dict)
    name: str = "entry"
    extra: Callable[[dict[str, Any], Path_, Checker], None] | None = None

    def check(self, value: Any, path: Path_, ck: Checker) -> bool:
        if not isinstance(value, dict):
            ck.error(path, f"{_where(path)} must be a mapping ({self.name})")
            return False
        ok = True
        for key in value:
            if key not in self.fields:
                hint = _did_you_mean(key, self.fields)
                ck.error((*path, key), f"unknown key {key!r} in {self.name}{hint}", at_key=True)
                ok = False
        for key, f in self.fields.items():
            if key in value:
                ok = f.spec.check(value[key], (*path, key), ck) and ok
            elif f.required:
                ck.error(path, f"{_where(path)} is missing the required key {key!r}")
                ok = False
        if self.extra is not None:
            self.extra(value, path, ck)
        return ok

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {
            "type": "object",
            "properties": {k: f.spec.schema() for k, f in self.fields.items()},
            "additionalProperties": False,
        }
        required = [k for k, f in self.fields.items() if f.required]
        if required:
            s["required"] = required
        return self._described(s)


def _did_you_mean(word: Any, choices: Any, cutoff: float = 0.6) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


def _quote_it(value: Any, path: Path_, ck: Checker) -> str:
    """For a text YAML read as a number, true/false or null (`version: 1.0`, `when: true`): say to quote it."""
    raw = ck.doc.raw.get(path)
    if raw is None or isinstance(value, str):
        return ""
    kind = "true/false" if isinstance(value, bool) else "a number" if isinstance(value, int | float) else "empty"
    key = path[-1] if path and isinstance(path[-1], str) else "it"
    return f', but YAML read {raw!r} as {kind}: quote it, e.g. {key}: "{raw}"'


# ---------------------------------------------------------------------------------------------------------------------
# The format itself. docs/course-format.md explains each key; keep the two in step.

MISTAKE = Obj(
    name="mistake",
    doc="A mistake the trainee makes by taking this action (or by letting the timer run out).",
    fields={
        "code": F(Code("Stable code of the mistake, e.g. NO_LOCK"), required=True),
        "severity": F(
            Enum(
                values=SEVERITIES,
                synonyms=SEVERITY_WORDS,
                cutoff=0.8,
                doc="minor, serious, or critical (critical fails the session)",
            ),
            required=True,
        ),
        "hazard": F(Ident("Hazard category, e.g. crush, electrical, fall, fire, chemical")),
        "rule": F(Text(doc="The rule broken, as the debrief states it"), required=True),
        "standard": F(Str(doc="The clause of the standard the rule comes from")),
        "instead": F(Text(doc="What to do instead: the right response, as the debrief shows it under the deduction")),
        "step": F(
            Ident("The procedure step (action id) this mistake stands for; skipping that step is not counted again")
        ),
    },
)

ACTION = Obj(
    name="action",
    doc="Something the trainee can do in this state.",
    fields={
        "id": F(Ident("Action id, unique within the state"), required=True),
        "label": F(Text(doc="What the trainee sees in the list of actions"), required=True),
        "when": F(Str(doc="Condition over variables; the action is offered only while it holds")),
        "set": F(MapOf(value=ScalarValue(), key_pattern=VAR_PATTERN, doc="Variables changed by the action")),
        "goto": F(Ident("Next state; without it the trainee stays in this state")),
        "feedback": F(Text(doc="Shown right after the action")),
        "mistake": F(MISTAKE),
        "step": F(Ident("The procedure step (action id) this action also performs, e.g. a variant with another id")),
    },
)

TIMER = Obj(
    name="timer",
    doc="The state times out after `seconds` and moves to `goto`.",
    fields={
        "seconds": F(
            Num(
                minimum=TIMER_MIN_SECONDS,
                maximum=TIMER_MAX_SECONDS,
                doc=f"Seconds before the time is up: {TIMER_MIN_SECONDS} to {TIMER_MAX_SECONDS} (24 hours)",
            ),
            required=True,
        ),
        "goto": F(Ident("State entered when the time is up"), required=True),
        "set": F(MapOf(value=ScalarValue(), key_pattern=VAR_PATTERN, doc="Variables changed when the time is up")),
        "feedback": F(Text()),
        "mistake": F(MISTAKE),
    },
)

HAZARD = Obj(
    name="hazard",
    doc="Being in this state exposes the trainee to a hazard.",
    fields={"category": F(Ident("e.g. crush, electrical, fire"), required=True), "text": F(Text(), required=True)},
)

PERSON = Obj(
    name="person",
    doc="Someone the scene mentions, drawn on the map where they are while the trainee is in this state.",
    fields={
        "at": F(Ident("Map zone where the person is"), required=True),
        "label": F(Text(doc="Who: a short name shown beside the mark on the map (小李, Xiao Li)"), required=True),
    },
)

STATE = Obj(
    name="state",
    fields={
        "text": F(
            SceneText(
                doc="The scene: what the trainee sees and hears; a list of blocks {zh, en, when} shows each block "
                "only while its condition holds"
            ),
            required=True,
        ),
        "actions": F(ListOf(item=ACTION)),
        "timer": F(TIMER),
        "reading_s": F(
            Num(
                minimum=0,
                maximum=TIMER_MAX_SECONDS,
                doc="Seconds of reading time before the state's timer starts counting (default 0)",
            )
        ),
        "outcome": F(Enum(values=OUTCOMES, doc="Makes this a terminal state: completed, incident or aborted")),
        "incident": F(Text(doc="For an incident: what would have happened on the real line")),
        "position": F(Ident("Map zone where the trainee stands")),
        "people": F(ListOf(item=PERSON, doc="People the scene mentions, and where they are on the map")),
        "hint": F(
            Text(doc="A hint the trainee may ask for (key h); asking is recorded and counted as a minor deviation")
        ),
        "hazard": F(HAZARD),
    },
)

STEP = Obj(
    name="procedure step",
    fields={
        "action": F(Ident("The action id that performs this step"), required=True),
        "after": F(ListOf(item=Ident(), doc="Steps (action ids) that must be done before this one")),
        "severity": F(
            Enum(
                values=SEVERITIES,
                synonyms=SEVERITY_WORDS,
                cutoff=0.8,
                doc="Severity when skipped or done out of order (default serious)",
            )
        ),
        "when": F(Str(doc="Condition at the end of the session: the step is required only if it holds")),
        "rule": F(Text(doc="Why the step matters"), required=True),
        "standard": F(Str()),
    },
)

RANDOM_EVENT = Obj(
    name="random event",
    doc="Something that may happen on entering one of `states`, drawn from the session's seeded generator.",
    fields={
        "id": F(Ident(), required=True),
        "probability": F(Num(minimum=0, maximum=1), required=True),
        "states": F(ListOf(item=Ident(), min_items=1), required=True),
        "text": F(Text(doc="What happens"), required=True),
        "set": F(MapOf(value=ScalarValue(), key_pattern=VAR_PATTERN)),
        "actions": F(
            ListOf(item=ACTION, min_items=1, doc="The answers offered while the event is active"), required=True
        ),
        "ignored": F(MISTAKE),
        "appears_at": F(Ident("Map zone where the event's person or vehicle appears")),
        "key": F(
            Bool(
                doc="An exam guarantees the event: it fires the first time the trainee enters one of its states "
                "(default true; false: it fires at its probability in an exam too)"
            )
        ),
    },
)

ZONE = Obj(
    name="zone",
    fields={
        "id": F(Ident(), required=True),
        "label": F(Text(), required=True),
        "rect": F(
            ListOf(item=Num(integer=True, minimum=0), min_items=4, max_items=4, doc="[x, y, width, height]"),
            required=True,
        ),
        "kind": F(Enum(values=ZONE_KINDS)),
    },
)

MACHINE = Obj(
    name="machine",
    fields={
        "id": F(Ident(), required=True),
        "label": F(Text(), required=True),
        "at": F(ListOf(item=Num(integer=True, minimum=0), min_items=2, max_items=2, doc="[x, y]"), required=True),
        "running": F(Str(doc="Condition: the machine is running"), required=True),
        "locked": F(Str(doc="Condition: the machine is locked out")),
    },
)

MAP = Obj(
    name="map",
    fields={
        "width": F(Num(integer=True, minimum=10, maximum=200), required=True),
        "height": F(Num(integer=True, minimum=3, maximum=60), required=True),
        "zones": F(ListOf(item=ZONE, min_items=1), required=True),
        "machines": F(ListOf(item=MACHINE)),
    },
)

INVENTORY_ITEM = Obj(
    name="inventory item",
    doc="Something the trainee carries or wears, shown in the status bar while `when` holds.",
    fields={
        "when": F(Str(doc="Condition: the trainee has it now"), required=True),
        "label": F(Text(doc="Short name, e.g. own lock, safety glasses"), required=True),
    },
)

PASS_RULE = Obj(
    name="pass rule",
    fields={
        "min_score": F(Num(minimum=0, maximum=100), required=True),
        "critical_fails": F(Bool(doc="Any critical mistake fails the session (default true)")),
    },
)

COURSE = Obj(
    name="course",
    doc="A Trainer course: a state machine the trainee plays.",
    fields={
        "id": F(Ident("Course id, e.g. press-loto-die-change"), required=True),
        "version": F(Str(doc="Course version, e.g. 1.0.0"), required=True),
        "title": F(Text(), required=True),
        "summary": F(Text()),
        "area": F(Enum(values=AREAS), required=True),
        "standards": F(ListOf(item=Str(), min_items=1), required=True),
        "minutes": F(Num(integer=True, minimum=1, maximum=240, doc="Estimated minutes to play"), required=True),
        "pass": F(PASS_RULE, required=True),
        "certification_days": F(Num(integer=True, minimum=1, maximum=36500), required=True),
        "objectives": F(ListOf(item=Text())),
        "ppe": F(ListOf(item=Text(), doc="Protective equipment required")),
        "variables": F(MapOf(value=ScalarValue(), key_pattern=VAR_PATTERN, doc="Variables and their initial values")),
        "hidden": F(
            MapOf(
                value=ListOf(item=ScalarValue(), min_items=2, max_items=20),
                key_pattern=VAR_PATTERN,
                doc="Hidden faults: variables whose start value each session draws from these values (the trainee "
                "finds out by the procedure); the variable's declared value is one of them",
            )
        ),
        "start": F(Ident("The first state"), required=True),
        "states": F(MapOf(value=STATE, min_items=1), required=True),
        "procedure": F(ListOf(item=STEP)),
        "random_events": F(ListOf(item=RANDOM_EVENT)),
        "inventory": F(ListOf(item=INVENTORY_ITEM, doc="What the status bar shows the trainee carrying or wearing")),
        "map": F(MAP),
    },
)


def is_ident(value: str) -> bool:
    return bool(_ID_RX.match(value))

