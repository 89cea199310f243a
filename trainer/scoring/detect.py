"""Every deviation from the course in a session's events, as Mistake records the debrief can explain.

Two sources: mistakes the course declares (an action, a timeout, an ignored random event), recorded by the engine as
`mistake` events; and deviations from the expert procedure (a step skipped, or done before a step it must follow),
found here even where no action was declared a mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trainer.course.model import Course, MistakeSeverity, Outcome, Text
from trainer.engine.events import Event, EventKind


@dataclass(frozen=True)
class DetectedMistake:
    id: str  # stable within the session: what labels refer to
    code: str
    severity: MistakeSeverity  # as declared by the course (or the procedure step)
    source: str  # action, timer, ignored, skipped, order
    state: str
    seq: int  # the event it is attached to (for skipped steps: the session's last event)
    t_ms: int
    rule: Text
    standard: str | None
    hazard: str | None
    ref: str  # action id, event id or procedure step


def declared_rule(course: Course, source: str, ref: str, state: str, code: str) -> tuple[Text, str | None]:
    if source == "ignored":
        ev = next((e for e in course.random_events if e.id == ref), None)
        mistake = ev.ignored if ev else None
    elif source == "timer":
        timer = course.states[ref].timer if ref in course.states else None
        mistake = timer.mistake if timer else None
    else:
        candidates = [a for _, a in course.all_actions() if a.id == ref and a.mistake and a.mistake.code == code]
        mistake = candidates[0].mistake if candidates else None
    if mistake is None:
        return Text(en=code, zh=code), None
    return mistake.rule, mistake.standard


def detect(course: Course, events: Sequence[Event]) -> list[DetectedMistake]:
    found: list[DetectedMistake] = []
    chosen_at: dict[str, int] = {}  # action id -> seq of its first choice
    for e in events:
        if e.kind is EventKind.CHOSE and e.action and e.action not in chosen_at:
            chosen_at[e.action] = e.seq
        if e.kind is EventKind.MISTAKE:
            source, ref, code = str(e.data.get("source")), str(e.data.get("ref")), str(e.data.get("code"))
            rule, standard = declared_rule(course, source, ref, e.state, code)
            found.append(
                DetectedMistake(
                    id=f"m{e.seq}",
                    code=code,
                    severity=MistakeSeverity(str(e.data.get("severity"))),
                    source=source,
                    state=e.state,
                    seq=e.seq,
                    t_ms=e.t_ms,
                    rule=rule,
                    standard=standard,
                    hazard=e.data.get("hazard"),
                    ref=ref,
                )
            )
    by_seq = {e.seq: e for e in events}
    completed = any(e.kind is EventKind.COMPLETED for e in events)
    last = events[-1] if events else None
    dependants = {s.action: [t.action for t in course.procedure if s.action in t.after] for s in course.procedure}
    # A declared mistake that stands for a step (its `step`) already counts that step's deviation.
    covered = {e.data.get("step") for e in events if e.kind is EventKind.MISTAKE and e.data.get("step")}
    for step in course.procedure:
        if step.action in covered:
            continue
        done = chosen_at.get(step.action)
        if done is None:
            later_done = [chosen_at[d] for d in dependants[step.action] if d in chosen_at]
            if (completed or later_done) and last is not None:
                at = by_seq[min(later_done)] if later_done else last
                found.append(
                    _procedure_mistake(step, "skipped", f"SKIPPED_{step.action.upper().replace('-', '_')}", at)
                )
            continue
        late = [b for b in step.after if b in chosen_at and chosen_at[b] > done]
        if late:
            found.append(
                _procedure_mistake(step, "order", f"ORDER_{step.action.upper().replace('-', '_')}", by_seq[done])
            )
    return sorted(found, key=lambda m: (m.seq, m.id))


def _procedure_mistake(step, source: str, code: str, at: Event) -> DetectedMistake:
    return DetectedMistake(
        id=f"{source}:{step.action}",
        code=code,
        severity=step.severity,
        source=source,
        state=at.state,
        seq=at.seq,
        t_ms=at.t_ms,
        rule=step.rule,
        standard=step.standard,
        hazard=None,
        ref=step.action,
    )


def outcome_of(events: Sequence[Event]) -> Outcome | None:
    for e in reversed(events):
        if e.kind in (EventKind.COMPLETED, EventKind.FAILED, EventKind.ABORTED):
            return Outcome(str(e.data.get("outcome", "aborted")))
    return None


def expected_step(course: Course, events: Sequence[Event], before_seq: int):
    """The procedure step the expert would have taken next at event `before_seq`: the first step not yet done whose
    prerequisites are all done. None when the course has no procedure or every step was done."""
    done = {e.action for e in events if e.kind is EventKind.CHOSE and e.seq < before_seq}
    for step in course.procedure:
        if step.action not in done and all(b in done for b in step.after):
            return step
    return None


def action_label(course: Course, action_id: str) -> Text:
    for _, action in course.all_actions():
        if action.id == action_id:
            return action.label
    return Text(zh=action_id, en=action_id)
