"""The course's state machine as a Mermaid or DOT graph, with mistake and critical edges marked."""

from __future__ import annotations

from dataclasses import dataclass

from trainer.course.model import Course, Mistake, MistakeSeverity, Outcome


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    kind: str  # "normal", "mistake", "critical", "timer", "event"


def edges(course: Course) -> list[Edge]:
    out: list[Edge] = []

    def kind_of(mistake: Mistake | None, default: str) -> str:
        if mistake is None:
            return default
        return "critical" if mistake.severity is MistakeSeverity.CRITICAL else "mistake"

    for state in course.states.values():
        for a in state.actions:
            out.append(Edge(state.id, a.goto or state.id, a.id, kind_of(a.mistake, "normal")))
        if state.timer:
            out.append(
                Edge(
                    state.id, state.timer.goto, f"after {state.timer.seconds:g}s", kind_of(state.timer.mistake, "timer")
                )
            )
    for event in course.random_events:
        for sid in event.states:
            for a in event.actions:
                out.append(Edge(sid, a.goto or sid, f"{event.id}: {a.id}", kind_of(a.mistake, "event")))
    return out


def _node_id(state_id: str) -> str:
    return "s_" + state_id.replace("-", "_")


def to_mermaid(course: Course) -> str:
    lines = ["flowchart TD", f"  %% {course.id} {course.version}"]
    for s in course.states.values():
        title = s.id.replace('"', "'")
        if s.outcome is Outcome.COMPLETED:
            lines.append(f'  {_node_id(s.id)}(["{title} ✔"])')
        elif s.outcome is not None:
            lines.append(f'  {_node_id(s.id)}{{{{"{title} ✖ {s.outcome}"}}}}')
        else:
            lines.append(f'  {_node_id(s.id)}["{title}"]')
    styles: list[str] = []
    for i, e in enumerate(edges(course)):
        arrow = "-.->" if e.kind in ("timer", "event") else "-->"
        lines.append(f'  {_node_id(e.source)} {arrow}|"{e.label}"| {_node_id(e.target)}')
        if e.kind == "critical":
            styles.append(f"  linkStyle {i} stroke:#d00,stroke-width:3px")
        elif e.kind == "mistake":
            styles.append(f"  linkStyle {i} stroke:#e80,stroke-width:2px")
    lines.append(f"  style {_node_id(course.start)} stroke-width:3px")
    return "\n".join(lines + styles) + "\n"


def to_dot(course: Course) -> str:
    lines = [f'digraph "{course.id}" {{', "  rankdir=TB;", "  node [shape=box];"]
    for s in course.states.values():
        attrs = []
        if s.outcome is Outcome.COMPLETED:
            attrs.append("shape=doubleoctagon, color=green")
        elif s.outcome is not None:
            attrs.append("shape=octagon, color=red")
        if s.id == course.start:
            attrs.append("penwidth=3")
        lines.append(f'  "{s.id}"' + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    style = {
        "normal": "",
        "timer": ", style=dashed",
        "event": ", style=dotted",
        "mistake": ", color=orange, penwidth=2",
        "critical": ", color=red, penwidth=3",
    }
    for e in edges(course):
        lines.append(f'  "{e.source}" -> "{e.target}" [label="{e.label}"{style[e.kind]}];')
    lines.append("}")
    return "\n".join(lines) + "\n"
