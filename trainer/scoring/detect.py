"""Every deviation from the course in a session's events, as Mistake records the debrief can explain and a model can grade.

Three sources:

- mistakes the course declares (an action, a timer running out, an ignored random event), recorded by the engine as
  `mistake` events;
- deviations from the expert procedure (a step skipped, or done before a step it must follow), found here even where no
  action was declared a mistake; a declared mistake with a `step` already stands for that step's deviation;
- timeouts the course did not declare a mistake: the trainee let a state's timer run out (hesitation).

Hazard exposure, repetition and correction are not records of their own (one slip is counted once): each record carries
them as context, with the rest of what an instructor looks at when grading it (see `DetectedMistake` and docs/scoring.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trainer.course.conditions import Value
from trainer.course.model import Course, MistakeSeverity, Outcome, ProcedureStep, Text
from trainer.engine.events import Event, EventKind

# Declared severity of a timeout the course did not declare a mistake (documented in docs/scoring.md).
TIMEOUT_SEVERITY = MistakeSeverity.MINOR
HINT_SEVERITY = MistakeSeverity.MINOR  # asking for a hint is a lapse, not a danger; the model may grade it otherwise
_INPUTS = (EventKind.CHOSE, EventKind.TIMED_OUT, EventKind.RESUMED, EventKind.ABORTED)


@dataclass(frozen=True)
class DetectedMistake:
    id: str  # stable within the session: what labels refer to
    code: str
    severity: MistakeSeverity  # as declared by the course (or the procedure step, or TIMEOUT_SEVERITY)
    source: str  # action, timer, ignored, skipped, order, timeout
    state: str
    seq: int  # the event it is attached to (for skipped steps: the first dependant's choice, or the last event)
    t_ms: int
    rule: Text
    standard: str | None
    hazard: str | None
    ref: str  # action id, event id, state id (timers) or procedure step
    # --- context: what an instructor weighs when grading it ---------------------------------------------------------
    course: str = ""
    step_index: int = -1  # index in the procedure of the step it stands for (or the step expected then); -1: none
    progress: float = 0.0  # fraction of the procedure's steps done before it
    seconds_in_state: float = 0.0  # since the state it happened in was entered
    corrected: bool = False  # the trainee put it right later in the session
    correction_s: float | None = None  # seconds from the mistake to the correction
    repeat: int = 1  # 1 for the first time this code happens in the session, 2 for the second, ...
    mistakes_before: int = 0  # mistakes of any kind earlier in the session
    hazard_followed: bool = (
        False  # a hazard state was entered, or an incident happened, after it (before any correction)
    )
    timer_running: bool = False  # the state it happened in had a timer
    variables: tuple[tuple[str, Value], ...] = ()  # the course variables when it happened (after the action)
    outcome: str | None = None  # how the session ended (completed, incident, aborted), None while running


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


@dataclass
class _Moment:
    """What was true at one event: enough to give a mistake attached there its context."""

    seq: int
    t_ms: int
    state: str
    entered_ms: int
    done: int  # procedure steps done so far
    variables: tuple[tuple[str, Value], ...]


def detect(course: Course, events: Sequence[Event]) -> list[DetectedMistake]:
    steps = course.procedure
    step_pos = {s.action: i for i, s in enumerate(steps)}
    variables: dict[str, Value] = dict(course.variables)
    entered_ms = 0
    done_steps: set[str] = set()
    chosen_at: dict[str, int] = {}  # action id -> seq of its first choice
    t_of: dict[int, int] = {}
    moments: dict[int, _Moment] = {}
    declared: list[tuple[Event, _Moment]] = []  # mistake events and undeclared timeouts, with their moment
    timeouts: list[tuple[Event, _Moment]] = []
    hazards: list[int] = []  # seqs of hazard states entered and of an incident
    hints: list[tuple[Event, _Moment]] = []

    def moment(e: Event) -> _Moment:
        return _Moment(e.seq, e.t_ms, e.state, entered_ms, len(done_steps), tuple(variables.items()))

    pending_timeout: tuple[Event, _Moment] | None = None
    for e in events:
        t_of[e.seq] = e.t_ms
        kind = e.kind
        if pending_timeout is not None and kind is not EventKind.MISTAKE:
            timeouts.append(pending_timeout)  # a timeout with no declared mistake right after it
            pending_timeout = None
        if kind is EventKind.CHOSE:
            before = moment(e)  # the moment of the decision, before its effects
            # An action counts for its own id and for the procedure step it performs under another id (`step:`).
            for performed in {e.action, e.data.get("step")} - {None}:
                chosen_at.setdefault(str(performed), e.seq)
                if performed in step_pos:
                    done_steps.add(str(performed))
            variables.update(e.data.get("set") or {})
            moments[e.seq] = before
        elif kind is EventKind.VIEWED:
            entered_ms = e.t_ms
        elif kind is EventKind.RANDOM_EVENT:
            variables.update(e.data.get("set") or {})
        elif kind in (EventKind.HAZARD, EventKind.FAILED):
            hazards.append(e.seq)
        elif kind is EventKind.TIMED_OUT:
            pending_timeout = (e, moment(e))
            moments[e.seq] = pending_timeout[1]
            variables.update(e.data.get("set") or {})
        elif kind is EventKind.HINT:
            hints.append((e, moment(e)))
            moments[e.seq] = hints[-1][1]
        elif kind is EventKind.MISTAKE:
            at = moment(e)
            if pending_timeout is not None:  # a declared timer mistake: the timeout itself is not counted again
                at = _Moment(**{**vars(pending_timeout[1]), "seq": e.seq, "variables": at.variables})
                pending_timeout = None
            declared.append((e, at))
    if pending_timeout is not None:
        timeouts.append(pending_timeout)
    last = events[-1] if events else None
    if last is not None and last.seq not in moments:
        moments[last.seq] = moment(last)
    outcome = outcome_of(events)

    drafts: list[tuple[DetectedMistake, _Moment, str | None, int | None]] = []  # record, moment, step, correction seq
    for e, at in declared:
        source, ref, code = str(e.data.get("source")), str(e.data.get("ref")), str(e.data.get("code"))
        rule, standard = declared_rule(course, source, ref, e.state, code)
        step = e.data.get("step")
        m = DetectedMistake(
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
        drafts.append((m, at, step, _declared_correction(events, e, source, ref, step, chosen_at)))
    for e, at in hints:
        m = DetectedMistake(
            id=f"h{e.seq}",
            code="HINT_USED",
            severity=HINT_SEVERITY,
            source="hint",
            state=e.state,
            seq=e.seq,
            t_ms=e.t_ms,
            rule=Text(zh="按作业程序独立完成，不依赖提示", en="Work through the procedure without needing a hint"),
            standard=None,
            hazard=None,
            ref=e.state,
        )
        drafts.append((m, at, None, None))
    for e, at in timeouts:
        state = course.states.get(e.state)
        seconds = e.data.get("seconds", state.timer.seconds if state and state.timer else 0)
        m = DetectedMistake(
            id=f"t{e.seq}",
            code=f"TIMEOUT_{_upper(e.state)}",
            severity=TIMEOUT_SEVERITY,
            source="timeout",
            state=e.state,
            seq=e.seq,
            t_ms=e.t_ms,
            rule=Text(
                zh=f"在规定时间（{seconds:g}秒）内作出反应，不要犹豫",
                en=f"Act within the time the situation allows ({seconds:g} s)",
            ),
            standard=None,
            hazard=state.hazard.category if state and state.hazard else None,
            ref=e.state,
        )
        drafts.append((m, at, None, _next_clean_choice(events, e.seq)))

    by_seq = {e.seq: e for e in events}
    completed = outcome is Outcome.COMPLETED
    dependants = {s.action: [t.action for t in steps if s.action in t.after] for s in steps}
    covered = {e.data.get("step") for e, _ in declared if e.data.get("step")}
    for step in steps:
        if step.action in covered:
            continue
        if step.when is not None and not step.when(variables):
            continue  # not required in the situation the session ended in (e.g. the fire outgrew the extinguisher)
        done = chosen_at.get(step.action)
        if done is None:
            later_done = [chosen_at[d] for d in dependants[step.action] if d in chosen_at]
            if (completed or later_done) and last is not None:
                at = by_seq[min(later_done)] if later_done else last
                m = _procedure_mistake(step, "skipped", f"SKIPPED_{_upper(step.action)}", at)
                drafts.append((m, moments[at.seq], step.action, None))
            continue
        # A prerequisite whose deviation a declared mistake already counts is not held against this step too.
        late = [chosen_at[b] for b in step.after if b in chosen_at and chosen_at[b] > done and b not in covered]
        if late:
            m = _procedure_mistake(step, "order", f"ORDER_{_upper(step.action)}", by_seq[done])
            drafts.append((m, moments[done], step.action, max(late)))

    drafts.sort(key=lambda d: (d[0].seq, d[0].id))
    counts: dict[str, int] = {}
    found: list[DetectedMistake] = []
    timers = {sid for sid, s in course.states.items() if s.timer is not None}
    for i, (m, at, step, fixed_seq) in enumerate(drafts):
        counts[m.code] = counts.get(m.code, 0) + 1
        until = fixed_seq if fixed_seq is not None else (last.seq + 1 if last else 0)
        followed = any(m.seq < seq <= until for seq in hazards)
        step_index = step_pos.get(step, -1) if step else _expected_index(course, at.done, chosen_at, at.seq)
        found.append(
            DetectedMistake(
                **{
                    **vars(m),
                    "course": course.id,
                    "step_index": step_index,
                    "progress": at.done / len(steps) if steps else 0.0,
                    "seconds_in_state": max(0, at.t_ms - at.entered_ms) / 1000,
                    "corrected": fixed_seq is not None,
                    "correction_s": None if fixed_seq is None else max(0, t_of[fixed_seq] - m.t_ms) / 1000,
                    "repeat": counts[m.code],
                    "mistakes_before": i,
                    "hazard_followed": followed,
                    "timer_running": at.state in timers,
                    "variables": at.variables,
                    "outcome": None if outcome is None else str(outcome),
                }
            )
        )
    return found


def _upper(name: str) -> str:
    return name.upper().replace("-", "_")


def _expected_index(course: Course, done_count: int, chosen_at: Mapping[str, int], before_seq: int) -> int:
    done = {a for a, seq in chosen_at.items() if seq < before_seq}
    for i, step in enumerate(course.procedure):
        if step.action not in done and all(b in done for b in step.after):
            return i
    return -1


def _declared_correction(
    events: Sequence[Event], mistake: Event, source: str, ref: str, step: str | None, chosen_at: Mapping[str, int]
) -> int | None:
    """The seq of the event that put a declared mistake right, or None.

    A mistake standing for a procedure step is put right when that step is taken afterwards; an ignored random event when
    it is answered afterwards; a timer mistake (hesitation) by the next choice that is not itself a mistake.
    """
    if step:
        for e in events:
            if e.seq > mistake.seq and e.kind is EventKind.CHOSE and e.action == step:
                return e.seq
        return None
    if source == "ignored":
        for e in events:
            if e.seq > mistake.seq and e.kind is EventKind.CHOSE and e.data.get("event") == ref:
                return e.seq
        return None
    if source == "timer":
        return _next_clean_choice(events, mistake.seq)
    return None


def _next_clean_choice(events: Sequence[Event], after_seq: int) -> int | None:
    """The next choice after `after_seq`, if that input caused no mistake and did not end in an incident."""
    it = (e for e in events if e.seq > after_seq)
    for e in it:
        if e.kind is EventKind.CHOSE:
            for f in it:
                if f.kind in _INPUTS:
                    break
                if f.kind in (EventKind.MISTAKE, EventKind.FAILED):
                    return None
            return e.seq
        if e.kind in _INPUTS:
            return None
    return None


def _procedure_mistake(step: ProcedureStep, source: str, code: str, at: Event) -> DetectedMistake:
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
