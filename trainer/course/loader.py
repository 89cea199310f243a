"""Course file -> checked -> frozen Course. The one entry point the rest of Trainer uses to read courses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from trainer.course import model as m
from trainer.course.conditions import parse_condition
from trainer.course.diagnostics import CourseInvalid, Diagnostic, Pos, Severity
from trainer.course.spec import COURSE, Checker
from trainer.course.validate import check_semantics
from trainer.course.yamlsource import Document, Path_, parse_text, read_document


@dataclass(frozen=True)
class CheckResult:
    """What `trainer course check` reports for one file: the course when it has no errors, and every diagnostic."""

    file: str
    course: m.Course | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]


def check_path(path: str | Path) -> CheckResult:
    """Read and check one course file; never raises for a problem in the file."""
    try:
        doc = read_document(Path(path))
    except CourseInvalid as exc:
        return CheckResult(str(path), None, tuple(exc.diagnostics))
    return check_document(doc)


def check_text(text: str, file: str = "<course>") -> CheckResult:
    try:
        doc = parse_text(text, file)
    except CourseInvalid as exc:
        return CheckResult(file, None, tuple(exc.diagnostics))
    return check_document(doc)


def check_document(doc: Document) -> CheckResult:
    ck = Checker(doc)
    ck.diagnostics.extend(doc.diagnostics)
    if not isinstance(doc.data, dict):
        kind = type(doc.data).__name__ if doc.data is not None else "empty"
        ck.error(
            (), f"a course must be a mapping (id: ..., states: ...), not {'a ' + kind if kind != 'empty' else kind}"
        )
        return CheckResult(doc.file, None, tuple(ck.diagnostics))
    shape_ok = COURSE.check(doc.data, (), ck)
    check_semantics(doc.data, ck, shape_ok=shape_ok)
    diagnostics = tuple(sorted(ck.diagnostics, key=lambda d: (d.pos, d.severity, d.message)))
    if any(d.severity is Severity.ERROR for d in diagnostics):
        return CheckResult(doc.file, None, diagnostics)
    return CheckResult(doc.file, _build(doc), diagnostics)


def load_course(path: str | Path) -> m.Course:
    """Load a course, raising CourseInvalid (with every diagnostic) when it has errors. Warnings are allowed."""
    result = check_path(path)
    if result.course is None:
        raise CourseInvalid(list(result.diagnostics))
    return result.course


# --- building the model from checked data -------------------------------------------------------------------------


def _text(value: dict[str, str] | None) -> m.Text | None:
    return None if value is None else m.Text(zh=value.get("zh"), en=value.get("en"))


def _mistake(value: dict[str, Any] | None) -> m.Mistake | None:
    if value is None:
        return None
    return m.Mistake(
        code=value["code"],
        severity=m.MistakeSeverity(value["severity"]),
        rule=m.Text(**value["rule"]),
        hazard=value.get("hazard"),
        standard=value.get("standard"),
        step=value.get("step"),
        instead=_text(value.get("instead")),
    )


def _frozen(values: dict[str, Any] | None) -> MappingProxyType[str, Any]:
    return MappingProxyType(dict(values or {}))


def _action(value: dict[str, Any], pos: Pos) -> m.Action:
    return m.Action(
        id=value["id"],
        label=m.Text(**value["label"]),
        when=parse_condition(value["when"]) if "when" in value else None,
        set=_frozen(value.get("set")),
        goto=value.get("goto"),
        feedback=_text(value.get("feedback")),
        mistake=_mistake(value.get("mistake")),
        step=value.get("step"),
        pos=pos,
    )


def _actions(doc: Document, values: list[dict[str, Any]], path: Path_) -> tuple[m.Action, ...]:
    return tuple(_action(a, doc.pos((*path, i))) for i, a in enumerate(values))


def _blocks(value: Any) -> tuple[m.TextBlock, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        m.TextBlock(m.Text(zh=b.get("zh"), en=b.get("en")), parse_condition(b["when"]) if "when" in b else None)
        for b in value
    )


def _fixed_text(blocks: tuple[m.TextBlock, ...]) -> m.Text:
    """The part of a scene shown whatever the variables (or its first block): what reports and previews quote."""
    fixed = [b for b in blocks if b.when is None] or [blocks[0]]
    return m.Text(
        zh=m.join_blocks([b.text.get("zh") for b in fixed], "zh"),
        en=m.join_blocks([b.text.get("en") for b in fixed], "en"),
    )


def _state(doc: Document, sid: str, value: dict[str, Any]) -> m.State:
    path = ("states", sid)
    timer = value.get("timer")
    hazard = value.get("hazard")
    blocks = _blocks(value["text"])
    return m.State(
        id=sid,
        text=_fixed_text(blocks) if blocks else m.Text(**value["text"]),
        blocks=blocks,
        reading_s=float(value["reading_s"]) if "reading_s" in value else None,
        actions=_actions(doc, value.get("actions") or [], (*path, "actions")),
        timer=None
        if timer is None
        else m.Timer(
            seconds=float(timer["seconds"]),
            goto=timer["goto"],
            set=_frozen(timer.get("set")),
            feedback=_text(timer.get("feedback")),
            mistake=_mistake(timer.get("mistake")),
            pos=doc.pos((*path, "timer")),
        ),
        outcome=m.Outcome(value["outcome"]) if "outcome" in value else None,
        incident=_text(value.get("incident")),
        position=value.get("position"),
        hint=_text(value.get("hint")),
        people=tuple(m.Person(p["at"], m.Text(**p["label"])) for p in value.get("people") or ()),
        hazard=None if hazard is None else m.Hazard(hazard["category"], m.Text(**hazard["text"])),
        pos=doc.key_pos(path),
    )


def _zone(value: dict[str, Any]) -> m.Zone:
    x, y, width, height = value["rect"]
    return m.Zone(value["id"], m.Text(**value["label"]), x, y, width, height, kind=value.get("kind", "area"))


def _machine(value: dict[str, Any]) -> m.Machine:
    x, y = value["at"]
    return m.Machine(
        value["id"],
        m.Text(**value["label"]),
        x,
        y,
        running=parse_condition(value["running"]),
        locked=parse_condition(value["locked"]) if "locked" in value else None,
    )


def _map(value: dict[str, Any] | None) -> m.WorkshopMap | None:
    if value is None:
        return None
    zones = tuple(_zone(z) for z in value["zones"])
    machines = tuple(_machine(mc) for mc in value.get("machines") or [])
    return m.WorkshopMap(value["width"], value["height"], zones, machines)


def _build(doc: Document) -> m.Course:
    d = doc.data
    rule = d["pass"]
    return m.Course(
        id=d["id"],
        version=str(d["version"]),
        title=m.Text(**d["title"]),
        summary=_text(d.get("summary")) or m.EMPTY_TEXT,
        area=d["area"],
        standards=tuple(d["standards"]),
        minutes=d["minutes"],
        pass_rule=m.PassRule(float(rule["min_score"]), rule.get("critical_fails", True)),
        certification_days=d["certification_days"],
        objectives=tuple(m.Text(**t) for t in d.get("objectives") or []),
        ppe=tuple(m.Text(**t) for t in d.get("ppe") or []),
        variables=_frozen(d.get("variables")),
        hidden=MappingProxyType({k: tuple(v) for k, v in (d.get("hidden") or {}).items()}),
        start=d["start"],
        states=MappingProxyType({sid: _state(doc, sid, s) for sid, s in d["states"].items()}),
        procedure=tuple(
            m.ProcedureStep(
                action=s["action"],
                rule=m.Text(**s["rule"]),
                after=tuple(s.get("after") or ()),
                severity=m.MistakeSeverity(s.get("severity", "serious")),
                standard=s.get("standard"),
                when=parse_condition(s["when"]) if "when" in s else None,
                pos=doc.pos(("procedure", i)),
            )
            for i, s in enumerate(d.get("procedure") or [])
        ),
        random_events=tuple(
            m.RandomEvent(
                id=e["id"],
                probability=float(e["probability"]),
                states=tuple(e["states"]),
                text=m.Text(**e["text"]),
                actions=_actions(doc, e["actions"], ("random_events", i, "actions")),
                set=_frozen(e.get("set")),
                ignored=_mistake(e.get("ignored")),
                appears_at=e.get("appears_at"),
                key=e.get("key", True),
                pos=doc.pos(("random_events", i)),
            )
            for i, e in enumerate(d.get("random_events") or [])
        ),
        inventory=tuple(
            m.InventoryItem(parse_condition(item["when"]), m.Text(**item["label"])) for item in d.get("inventory") or []
        ),
        map=_map(d.get("map")),
        source=doc.file,
        content_hash=doc.sha256,
        variable_pos=MappingProxyType({name: doc.key_pos(("variables", name)) for name in d.get("variables") or {}}),
    )
