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

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, TypedDict

from trainer.course.conditions import Condition, Value
from trainer.course.graph import edges
from trainer.course.model import Course, MistakeSeverity, Outcome, ProcedureStep, Text
from trainer.engine.events import Event, EventKind
from trainer.engine.modes import Mode, rules_of, start_variables

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
    # The root mistake (its id) this one is a consequence of: a step left undone because an earlier missing step made it
    # impossible or meaningless (docs/scoring.md, "Root causes fold"). None: a mistake of its own.
    under: str | None = None


def declared_rule(course: Course, source: str, ref: str, state: str, code: str) -> tuple[Text, str | None]:
    rules = _plan(course).rules
    key = (source, ref, code)
    found = rules.get(key)
    if found is None:
        found = rules[key] = _declared_rule(course, source, ref, code)
    return found


def _declared_rule(course: Course, source: str, ref: str, code: str) -> tuple[Text, str | None]:
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


@dataclass(frozen=True)
class _Plan:
    """What detection needs from a course, worked out once per course object (detect runs for every stored session)."""

    step_pos: Mapping[str, int]  # procedure step action -> its index
    # each procedure step with its action, condition, prerequisites and the steps that must follow it
    steps: tuple[tuple[ProcedureStep, str, Condition | None, tuple[str, ...], tuple[str, ...]], ...]
    timers: frozenset[str]  # states with a timer
    requires: Mapping[str, frozenset[str]]  # procedure step action -> every step it follows, directly or not (after:)
    offered_in: Mapping[str, frozenset[str]]  # action id -> the states that offer it
    reach: Mapping[str, frozenset[str]]  # state -> the states reachable from it (itself included), conditions ignored
    rules: dict[tuple[str, str, str], tuple[Text, str | None]]  # declared_rule's answers so far


_plans: dict[int, tuple[Course, _Plan]] = {}


def _plan(course: Course) -> _Plan:
    got = _plans.get(id(course))
    if got is not None and got[0] is course:
        return got[1]
    steps = course.procedure
    followers = {s.action: tuple(t.action for t in steps if s.action in t.after) for s in steps}
    direct = {s.action: s.after for s in steps}
    requires: dict[str, frozenset[str]] = {}
    for s in steps:
        seen: set[str] = set()
        todo = list(s.after)
        while todo:
            before = todo.pop()
            if before not in seen:
                seen.add(before)
                todo += direct.get(before, ())
        requires[s.action] = frozenset(seen)
    offered: dict[str, set[str]] = {}
    for sid, state in course.states.items():
        for a in state.actions:
            offered.setdefault(a.id, set()).add(sid)
    for ev in course.random_events:
        for a in ev.actions:
            offered.setdefault(a.id, set()).update(ev.states)
    successors: dict[str, set[str]] = {}
    for edge in edges(course):
        successors.setdefault(edge.source, set()).add(edge.target)
    reach: dict[str, frozenset[str]] = {}
    for sid in course.states:
        seen_states, todo_states = {sid}, [sid]
        while todo_states:
            for nxt in successors.get(todo_states.pop(), ()):
                if nxt not in seen_states:
                    seen_states.add(nxt)
                    todo_states.append(nxt)
        reach[sid] = frozenset(seen_states)
    plan = _Plan(
        step_pos={s.action: i for i, s in enumerate(steps)},
        steps=tuple((s, s.action, s.when, s.after, followers[s.action]) for s in steps),
        timers=frozenset(sid for sid, s in course.states.items() if s.timer is not None),
        requires=requires,
        offered_in={a: frozenset(v) for a, v in offered.items()},
        reach=reach,
        rules={},
    )
    if len(_plans) >= 256:  # courses live as long as their library: a handful per process
        _plans.clear()
    _plans[id(course)] = (course, plan)
    return plan


# An event as a plain tuple (seq, t_ms, kind, state, action, data): what detection reads. Bulk readers (trainer score
# --all reads millions of events) hand these over without building an Event for each; rows_of makes them from Events.
EventRow = tuple[int, int, EventKind, str, str | None, Mapping[str, Any]]


def rows_of(events: Iterable[Event]) -> list[EventRow]:
    return [(e.seq, e.t_ms, e.kind, e.state, e.action, e.data) for e in events]


# What was true at one event, enough to give a mistake attached there its context. _walk makes one at every procedure
# step taken and every input, and most are never used: a plain tuple, read by the named indexes below, because a
# NamedTuple costs noticeably more to make (docs/performance.md, "Mistake detection").
_Moment = tuple[int, int, str, int, int, tuple[tuple[str, Value], ...]]
_SEQ: Final = 0
_T_MS: Final = 1
_STATE: Final = 2
_ENTERED_MS: Final = 3  # when that state was entered
_DONE: Final = 4  # procedure steps taken before it (each counted the first time)
_VARIABLES: Final = 5


_Met = tuple[EventRow, _Moment]  # an event detection keeps, with its moment


class _Walk(NamedTuple):
    """What one pass over a session's events gathers (_walk): the raw material of every mistake record."""

    variables: dict[str, Value]  # the course variables at the end
    chosen_at: dict[str, int]  # action id, or the step an action performs (`step:`) -> the seq of its first choice
    moments: dict[int, _Moment]  # at choices that perform a procedure step, at the other inputs, at the last event
    declared: list[_Met]  # mistake events
    timeouts: list[_Met]  # timeouts the course did not declare a mistake
    hints: list[_Met]
    hazards: list[int]  # seqs of hazard states entered and of an incident
    views: list[tuple[int, str]]  # (seq, state) of every state entered, in order


class _Record(TypedDict):
    """A mistake's own fields (DetectedMistake's first ones), before its context is added (_mistakes)."""

    code: str
    severity: MistakeSeverity
    source: str
    state: str
    t_ms: int
    rule: Text
    standard: str | None
    hazard: str | None
    ref: str


class _Placed(_Record):
    id: str
    seq: int


class MistakeFields(_Placed, total=False):
    """Every field of DetectedMistake, as new_mistake takes them: those without a default (_Placed's) are required."""

    course: str
    step_index: int
    progress: float
    seconds_in_state: float
    corrected: bool
    correction_s: float | None
    repeat: int
    mistakes_before: int
    hazard_followed: bool
    timer_running: bool
    variables: tuple[tuple[str, Value], ...]
    outcome: str | None
    under: str | None


class _Draft(NamedTuple):
    """A mistake found, waiting for its context (_mistakes)."""

    seq: int
    id: str
    record: _Record
    at: _Moment
    step: str | None  # the procedure step it stands for
    fixed_seq: int | None  # the event that put it right


_CHOSE, _VIEWED, _RANDOM, _TIMED_OUT, _HINT, _MISTAKE = (
    EventKind.CHOSE,
    EventKind.VIEWED,
    EventKind.RANDOM_EVENT,
    EventKind.TIMED_OUT,
    EventKind.HINT,
    EventKind.MISTAKE,
)
_HAZARDS = (EventKind.HAZARD, EventKind.FAILED)
_SEVERITIES = {s.value: s for s in MistakeSeverity}
_ENDINGS = (EventKind.COMPLETED, EventKind.FAILED, EventKind.ABORTED)


def detect(course: Course, events: Sequence[Event]) -> list[DetectedMistake]:
    """Every mistake in a session's events, in the order made (see the module's docstring and docs/scoring.md)."""
    return detect_rows(course, rows_of(events))


def detect_rows(course: Course, events: Sequence[EventRow]) -> list[DetectedMistake]:
    """detect() on events as EventRow tuples, in three stages: one pass over the events gathers what happened (_walk);
    each kind of mistake is drafted from it; the drafts, in the order made, get their context (_mistakes)."""
    plan = _plan(course)
    walk = _walk(course, plan, events)
    outcome = outcome_of_rows(events)
    # A hint costs nothing in practice (exam refuses hints; sessions before modes paid for them, and still do).
    free_hints = bool(events) and rules_of(events[0][5]) is Mode.PRACTICE
    drafts = _declared_drafts(course, events, walk.declared) if walk.declared else []
    if walk.hints and not free_hints:
        drafts += _hint_drafts(walk.hints)
    if walk.timeouts:
        drafts += _timeout_drafts(course, events, walk.timeouts)
    if course.procedure and events:
        drafts += _procedure_drafts(plan, events, walk, completed=outcome is Outcome.COMPLETED)
    if not drafts:
        return []
    drafts.sort(key=lambda d: (d.seq, d.id))
    return _mistakes(course, plan, events, walk, drafts, outcome)


def _walk(course: Course, plan: _Plan, events: Sequence[EventRow]) -> _Walk:
    """Stage 1: one pass over the events (the loop every stored session goes through: kept flat on purpose)."""
    step_pos = plan.step_pos
    variables: dict[str, Value] = start_variables(course, events)  # with the hidden faults drawn for the session
    snapshot: tuple[tuple[str, Value], ...] | None = tuple(variables.items())  # None: variables changed since
    entered_ms = 0
    n_done = 0
    chosen_at: dict[str, int] = {}
    moments: dict[int, _Moment] = {}
    declared: list[_Met] = []
    timeouts: list[_Met] = []
    hazards: list[int] = []
    hints: list[_Met] = []
    views: list[tuple[int, str]] = []
    last = events[-1] if events else None

    pending_timeout: _Met | None = None
    for e in events:
        seq, t_ms, kind, state, action, data = e
        if pending_timeout is not None and kind is not _MISTAKE:
            timeouts.append(pending_timeout)  # a timeout with no declared mistake right after it
            pending_timeout = None
        if kind is _CHOSE:
            # An action counts for its own id and for the procedure step it performs under another id (`step:`).
            step = data.get("step")
            if action in step_pos or step in step_pos:
                if snapshot is None:  # the moment of the decision, before its effects
                    snapshot = tuple(variables.items())
                moments[seq] = (seq, t_ms, state, entered_ms, n_done, snapshot)
                if action is not None and str(action) not in chosen_at:
                    chosen_at[str(action)] = seq
                    n_done += action in step_pos
                if step is not None and step != action and str(step) not in chosen_at:
                    chosen_at[str(step)] = seq
                    n_done += step in step_pos
            else:
                if e is last:
                    if snapshot is None:
                        snapshot = tuple(variables.items())
                    moments[seq] = (seq, t_ms, state, entered_ms, n_done, snapshot)
                if action is not None:
                    chosen_at.setdefault(str(action), seq)
                if step is not None and step != action:
                    chosen_at.setdefault(str(step), seq)
            changes = data.get("set")
            if changes:
                variables.update(changes)
                snapshot = None
        elif kind is _VIEWED:
            entered_ms = t_ms
            views.append((seq, state))
        elif kind is _RANDOM:
            changes = data.get("set")
            if changes:
                variables.update(changes)
                snapshot = None
        elif kind is _TIMED_OUT or kind is _HINT or kind is _MISTAKE:
            if snapshot is None:
                snapshot = tuple(variables.items())
            at = (seq, t_ms, state, entered_ms, n_done, snapshot)
            if kind is _MISTAKE:
                if pending_timeout is not None:  # a declared timer mistake: the timeout itself is not counted again
                    was = pending_timeout[1]
                    at = (seq, was[_T_MS], was[_STATE], was[_ENTERED_MS], was[_DONE], snapshot)
                    pending_timeout = None
                declared.append((e, at))
            elif kind is _HINT:
                hints.append((e, at))
                moments[seq] = at
            else:
                pending_timeout = (e, at)
                moments[seq] = at
                changes = data.get("set")
                if changes:
                    variables.update(changes)
                    snapshot = None
        elif kind in _HAZARDS:
            hazards.append(seq)
    if pending_timeout is not None:
        timeouts.append(pending_timeout)
    if last is not None and last[0] not in moments:
        if snapshot is None:
            snapshot = tuple(variables.items())
        moments[last[0]] = (last[0], last[1], last[3], entered_ms, n_done, snapshot)
    return _Walk(variables, chosen_at, moments, declared, timeouts, hints, hazards, views)


def _declared_drafts(course: Course, events: Sequence[EventRow], declared: list[_Met]) -> list[_Draft]:
    """Stage 2a: the mistakes the course declares, as the engine recorded them."""
    drafts = []
    for e, at in declared:
        seq, t_ms, _, state, _, data = e
        source, ref, code = str(data.get("source")), str(data.get("ref")), str(data.get("code"))
        severity = str(data.get("severity"))
        rule, standard = declared_rule(course, source, ref, state, code)
        step = data.get("step")
        record: _Record = {
            "code": code,
            "severity": _SEVERITIES.get(severity) or MistakeSeverity(severity),
            "source": source,
            "state": state,
            "t_ms": t_ms,
            "rule": rule,
            "standard": standard,
            "hazard": data.get("hazard"),
            "ref": ref,
        }
        drafts.append(_Draft(seq, f"m{seq}", record, at, step, _declared_correction(events, seq, source, ref, step)))
    return drafts


def _hint_drafts(hints: list[_Met]) -> list[_Draft]:
    """Stage 2b: the hints asked for (where they cost something)."""
    drafts = []
    for e, at in hints:
        seq, t_ms, _, state, _, _ = e
        record: _Record = {
            "code": "HINT_USED",
            "severity": HINT_SEVERITY,
            "source": "hint",
            "state": state,
            "t_ms": t_ms,
            "rule": _HINT_RULE,
            "standard": None,
            "hazard": None,
            "ref": state,
        }
        drafts.append(_Draft(seq, f"h{seq}", record, at, None, None))
    return drafts


def _timeout_drafts(course: Course, events: Sequence[EventRow], timeouts: list[_Met]) -> list[_Draft]:
    """Stage 2c: the timeouts the course did not declare a mistake (hesitation)."""
    drafts = []
    for e, at in timeouts:
        seq, t_ms, _, state_id, _, data = e
        state = course.states.get(state_id)
        seconds = data.get("seconds", state.timer.seconds if state and state.timer else 0)
        record: _Record = {
            "code": f"TIMEOUT_{_upper(state_id)}",
            "severity": TIMEOUT_SEVERITY,
            "source": "timeout",
            "state": state_id,
            "t_ms": t_ms,
            "rule": Text(
                zh=f"在规定时间（{seconds:g}秒）内作出反应，不要犹豫",
                en=f"Act within the time the situation allows ({seconds:g} s)",
            ),
            "standard": None,
            "hazard": state.hazard.category if state and state.hazard else None,
            "ref": state_id,
        }
        drafts.append(_Draft(seq, f"t{seq}", record, at, None, _next_clean_choice(events, seq)))
    return drafts


def _procedure_drafts(plan: _Plan, events: Sequence[EventRow], walk: _Walk, *, completed: bool) -> list[_Draft]:
    """Stage 2d: deviations from the expert procedure that no declared mistake stands for: a step skipped (the session
    was completed without it, or a step that follows it was taken) or taken before a step it must follow."""
    drafts: list[_Draft] = []
    chosen_at, moments, last = walk.chosen_at, walk.moments, events[-1]
    by_seq: dict[int, EventRow] | None = None  # made when first needed: most sessions need it for no step
    covered = {e[5].get("step") for e, _ in walk.declared if e[5].get("step")} if walk.declared else set()
    for step, action, when, after, dependants in plan.steps:
        if action in covered:
            continue
        if when is not None and not when(walk.variables):
            continue  # not required in the situation the session ended in (e.g. the fire outgrew the extinguisher)
        done = chosen_at.get(action)
        if done is None:
            later_done = [chosen_at[d] for d in dependants if d in chosen_at] if dependants else None
            if completed or later_done:
                if later_done:
                    by_seq = by_seq or {e[0]: e for e in events}
                    at_event = by_seq[min(later_done)]
                else:
                    at_event = last
                record = _procedure_record(step, "skipped", f"SKIPPED_{_upper(action)}", at_event)
                drafts.append(_Draft(at_event[0], f"skipped:{action}", record, moments[at_event[0]], action, None))
            continue
        # A prerequisite whose deviation a declared mistake already counts is not held against this step too.
        latest = None
        for b in after:
            at_b = chosen_at.get(b)
            if at_b is not None and at_b > done and b not in covered and (latest is None or at_b > latest):
                latest = at_b
        if latest is not None:
            by_seq = by_seq or {e[0]: e for e in events}
            record = _procedure_record(step, "order", f"ORDER_{_upper(action)}", by_seq[done])
            drafts.append(_Draft(done, f"order:{action}", record, moments[done], action, latest))
    return drafts


def _procedure_record(step: ProcedureStep, source: str, code: str, at: EventRow) -> _Record:
    return {
        "code": code,
        "severity": step.severity,
        "source": source,
        "state": at[3],
        "t_ms": at[1],
        "rule": step.rule,
        "standard": step.standard,
        "hazard": None,
        "ref": step.action,
    }


def _mistakes(
    course: Course,
    plan: _Plan,
    events: Sequence[EventRow],
    walk: _Walk,
    drafts: list[_Draft],
    outcome: Outcome | None,
) -> list[DetectedMistake]:
    """Stage 3: each draft, in the order made, with its context: what an instructor weighs when grading it."""
    last = events[-1] if events else None
    under = _folds(plan, drafts, walk.views, last[3] if last else "") if course.procedure else {}
    t_of: dict[int, int] | None = None  # made when first needed
    counts: dict[str, int] = {}
    found: list[DetectedMistake] = []
    timers, step_pos, chosen_at, hazards = plan.timers, plan.step_pos, walk.chosen_at, walk.hazards
    n_steps = len(course.procedure)
    end = last[0] + 1 if last else 0
    outcome_text = None if outcome is None else str(outcome)
    for i, (seq, mistake_id, record, at, step_id, fixed_seq) in enumerate(drafts):
        code = record["code"]
        counts[code] = repeat = counts.get(code, 0) + 1
        if fixed_seq is None:
            until, correction_s = end, None
        else:
            t_of = t_of or {e[0]: e[1] for e in events}
            until, correction_s = fixed_seq, max(0, t_of[fixed_seq] - record["t_ms"]) / 1000
        followed = False
        for h in hazards:
            if seq < h <= until:
                followed = True
                break
        fields: MistakeFields = {
            **record,
            "id": mistake_id,
            "seq": seq,
            "course": course.id,
            "step_index": step_pos.get(step_id, -1) if step_id else _expected_index(course, chosen_at, at[_SEQ]),
            "progress": at[_DONE] / n_steps if n_steps else 0.0,
            "seconds_in_state": max(0, at[_T_MS] - at[_ENTERED_MS]) / 1000,
            "corrected": fixed_seq is not None,
            "correction_s": correction_s,
            "repeat": repeat,
            "mistakes_before": i,
            "hazard_followed": followed,
            "timer_running": at[_STATE] in timers,
            "variables": at[_VARIABLES],
            "outcome": outcome_text,
            "under": under.get(mistake_id),
        }
        found.append(new_mistake(fields))
    return found


def _folds(plan: _Plan, drafts: Sequence[_Draft], views: Sequence[tuple[int, str]], end_state: str) -> dict[str, str]:
    """Which skipped steps are consequences of a root mistake (skipped id -> root id): see docs/scoring.md.

    A skipped step is a consequence of
    - a skipped step it follows, directly or not, by `after:` (or a declared mistake standing for that step, never put
      right): doing it without its prerequisite would be meaningless;
    - a declared mistake standing for a step (`step:`) never put right, or a timer running out, that took the trainee
      from a state where the step could still be reached to one where it no longer can (the course's graph): it became
      impossible.
    Consequences of consequences belong to the first root.
    """
    steps_of: dict[str, str] = {}  # step never taken -> the id of the first mistake standing for it
    movers: list[tuple[int, str, str]] = []  # (seq, id, state) of the mistakes that can make a step impossible
    for seq, mistake_id, record, _, step_id, fixed in drafts:
        source = record["source"]
        if step_id is not None and fixed is None and source != "order":
            steps_of.setdefault(step_id, mistake_id)
        if (step_id is not None and fixed is None and source not in ("skipped", "order")) or source == "timer":
            movers.append((seq, mistake_id, record["state"]))
    if not movers and len(steps_of) < 2:
        return {}
    order = {d.id: i for i, d in enumerate(drafts)}
    reach = plan.reach
    under: dict[str, str] = {}
    for _, mistake_id, record, _, step_id, _ in drafts:
        if record["source"] != "skipped" or step_id is None:
            continue
        earlier = [steps_of[b] for b in plan.requires.get(step_id, ()) if b in steps_of and steps_of[b] != mistake_id]
        root = min(earlier, key=order.__getitem__) if earlier else None
        offered = plan.offered_in.get(step_id, frozenset())
        for seq, mover, state in movers if root is None else ():
            after = next((s for v, s in views if v > seq), end_state)
            if offered & reach.get(state, frozenset()) and not offered & reach.get(after, frozenset()):
                root = mover
                break
        if root is not None:
            under[mistake_id] = root
    for mistake_id in under:  # a chain (a step after a step after the root) folds into its first root
        root, seen = under[mistake_id], {mistake_id}
        while root in under and root not in seen:
            seen.add(root)
            root = under[root]
        under[mistake_id] = root
    return {k: v for k, v in under.items() if k != v}


def _fields_match() -> bool:
    """MistakeFields names every field of DetectedMistake and requires exactly those without a default, and no
    field's default is a factory: what new_mistake relies on, checked once at import rather than at every call."""
    fields = dataclasses.fields(DetectedMistake)
    return (
        set(MistakeFields.__annotations__) == {f.name for f in fields}
        and MistakeFields.__required_keys__ == {f.name for f in fields if f.default is dataclasses.MISSING}
        and all(f.default_factory is dataclasses.MISSING for f in fields)
    )


if not _fields_match():  # pragma: no cover - a field added to one and not the other
    raise TypeError("MistakeFields no longer matches DetectedMistake's fields: new_mistake would build broken objects")


def new_mistake(fields: MistakeFields) -> DetectedMistake:
    """DetectedMistake(**fields) without the frozen dataclass's __init__, which sets each of the 24 fields through
    object.__setattr__, several times slower (docs/performance.md, "Mistake detection"). The object is the same
    (pickle and copy rebuild dataclasses this way too), and still frozen.

    The guard that __init__ would give is static: `fields` is a MistakeFields, so mypy (in CI) refuses a call with an
    unknown field, a field of the wrong type or a required one missing; a field left out shows its default (a class
    attribute: _fields_match checks there is one)."""
    m = object.__new__(DetectedMistake)
    m.__dict__.update(fields)
    return m


_HINT_RULE = Text(zh="按作业程序独立完成，不依赖提示", en="Work through the procedure without needing a hint")


def _upper(name: str) -> str:
    return name.upper().replace("-", "_")


def _expected_index(course: Course, chosen_at: Mapping[str, int], before_seq: int) -> int:
    done = {a for a, seq in chosen_at.items() if seq < before_seq}
    for i, step in enumerate(course.procedure):
        if step.action not in done and all(b in done for b in step.after):
            return i
    return -1


def _declared_correction(
    events: Sequence[EventRow], after_seq: int, source: str, ref: str, step: str | None
) -> int | None:
    """The seq of the event that put a declared mistake (at `after_seq`) right, or None.

    A mistake standing for a procedure step is put right when that step is taken afterwards; an ignored random event when
    it is answered afterwards; a timer mistake (hesitation) by the next choice that is not itself a mistake.
    """
    if step:
        for seq, _, kind, _, action, _ in events:
            if seq > after_seq and kind is _CHOSE and action == step:
                return seq
        return None
    if source == "ignored":
        for seq, _, kind, _, _, data in events:
            if seq > after_seq and kind is _CHOSE and data.get("event") == ref:
                return seq
        return None
    if source == "timer":
        return _next_clean_choice(events, after_seq)
    return None


def _next_clean_choice(events: Sequence[EventRow], after_seq: int) -> int | None:
    """The next choice after `after_seq`, if that input caused no mistake and did not end in an incident."""
    it = (e for e in events if e[0] > after_seq)
    for e in it:
        if e[2] is _CHOSE:
            for f in it:
                if f[2] in _INPUTS:
                    break
                if f[2] is _MISTAKE or f[2] is EventKind.FAILED:
                    return None
            return e[0]
        if e[2] in _INPUTS:
            return None
    return None


def outcome_of(events: Sequence[Event]) -> Outcome | None:
    for e in reversed(events):
        if e.kind in _ENDINGS:
            return Outcome(str(e.data.get("outcome", "aborted")))
    return None


def outcome_of_rows(events: Sequence[EventRow]) -> Outcome | None:
    """outcome_of() on EventRow tuples."""
    for e in reversed(events):
        if e[2] in _ENDINGS:
            text = str(e[5].get("outcome", "aborted"))
            return _OUTCOMES.get(text) or Outcome(text)  # (the call raises for an unknown outcome)
    return None


_OUTCOMES = {o.value: o for o in Outcome}


def expected_step(course: Course, events: Sequence[Event], before_seq: int) -> ProcedureStep | None:
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
