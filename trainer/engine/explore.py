"""`trainer course test`: play a course automatically through the real engine.

Exhaustive part: a breadth-first search over every distinct situation (state, variables, random events) reachable by
the trainee's actions and by timers, run twice: once with every random event forced to happen and once with none, so
that both the answers to an event and the path without it are covered. Random part: seeded playthroughs that pick
actions (or wait for the timer) at random, as a careless trainee would.
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from trainer.course.conditions import Value
from trainer.course.diagnostics import Pos
from trainer.course.model import Course
from trainer.engine.clock import ManualClock
from trainer.engine.modes import Mode
from trainer.engine.session import EngineError, Session, Snapshot

MAX_SITUATIONS = 50_000
MAX_STEPS = 1_000
EXAMPLE_VARIABLES = 6  # ... and at most this many of the variables read from there on (the changed ones first)
EXAMPLE_STEPS = 12  # a trap's example path shows at most this many of its last actions


@dataclass
class Coverage:
    states: set[str] = field(default_factory=set)
    actions: set[tuple[str, str]] = field(default_factory=set)  # (owner, action id); owner is a state or event:<id>
    timers: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Finding:
    kind: str  # "engine error", "trap", "timer cannot fire", "uncovered", "limit", "ambiguous"
    message: str
    failing: bool
    pos: Pos | None = None  # where in the course file, when the finding belongs to one place


@dataclass
class Report:
    course: Course
    coverage: Coverage = field(default_factory=Coverage)
    findings: list[Finding] = field(default_factory=list)
    situations: int = 0
    playthroughs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    # state -> (how many trapped situations, the smallest example's rank, its message): one finding per state
    traps: dict[str, tuple[int, tuple[int, int], str]] = field(default_factory=dict)
    limited: bool = False

    @property
    def failed(self) -> bool:
        return any(f.failing for f in self.findings)

    def state_coverage(self) -> tuple[int, int]:
        return len(self.coverage.states), len(self.course.states)

    def action_coverage(self) -> tuple[int, int]:
        total = {(owner, a.id) for owner, a in self.course.all_actions()}
        return len(self.coverage.actions & total), len(total)

    def trap(self, state: str, rank: tuple[int, int], message: str, count: int = 1) -> None:
        """Keep, for `state`, the most trapped situations one exploration found and the example of lowest `rank`."""
        seen, best, text = self.traps.get(state, (0, rank, message))
        if rank < best:
            best, text = rank, message
        self.traps[state] = (max(seen, count), best, text)


def live_variables(course: Course) -> dict[str, tuple[str, ...]]:
    """State -> the variables that can still be read there: by a `when` of an action offered in the state (its own or
    a random event's that can be active there), or in a state reachable from it before an action or timer sets them.

    Dead-variable reduction: two situations that differ only in variables that can no longer be read behave the same
    from then on (a `set` only writes fixed values, so no value flows from one variable into another), so the
    explorer counts them as one. A hub flag that no action reads after the hub no longer multiplies every situation
    after it. Variables read only by scene text, the map, the inventory or the procedure do not change what the
    trainee can do, so they do not split situations either.
    """
    states = course.states
    reads: dict[str, set[str]] = {sid: set() for sid in states}
    moves: dict[str, list[tuple[str, frozenset[str]]]] = {sid: [] for sid in states}
    for sid, state in states.items():
        for a in state.actions:
            reads[sid] |= a.when.variables if a.when else set()
            moves[sid].append((a.goto or sid, frozenset(a.set)))
        if state.timer:
            moves[sid].append((state.timer.goto, frozenset(state.timer.set)))
    for event in course.random_events:
        for sid in event.states:
            if sid not in states:
                continue
            for a in event.actions:
                reads[sid] |= a.when.variables if a.when else set()
                moves[sid].append((a.goto or sid, frozenset(a.set)))
    live = reads
    changed = True
    while changed:  # backward data flow to a fixed point: live(s) = reads(s) + live(t) - set on the way, over moves
        changed = False
        for sid, out in moves.items():
            for target, written in out:
                extra = live.get(target, set()) - written - live[sid]
                if extra:
                    live[sid] |= extra
                    changed = True
    known = set(course.variables)
    return {sid: tuple(sorted(names & known)) for sid, names in live.items()}


def _record_choice(session: Session, action_id: str, report: Report) -> None:
    for offer in session.available():
        if offer.action.id == action_id:
            owner = f"event:{offer.event.id}" if offer.event else session.state.id
            report.coverage.actions.add((owner, action_id))
            return


def _explore(course: Course, force: bool, report: Report, live: dict[str, tuple[str, ...]], limit: int) -> None:
    clock = ManualClock()
    session = Session(course, seed=0, clock=clock)
    # Forced on: every event that can happen, a key event whatever its probability (an exam makes it happen).
    session.roll = lambda ev: (ev.probability > 0 or ev.key) if force else (ev.probability >= 1)
    session.start()
    # One start per combination of the hidden faults' values: every session starts from one of them.
    starts = [
        replace(session.snapshot(), variables=MappingProxyType({**course.variables, **combination}))
        for combination in hidden_combinations(course)
    ]

    def key(snap: Snapshot) -> Hashable:
        values = snap.variables
        return (
            snap.state,
            tuple([values[name] for name in live[snap.state]]),
            snap.active_events,
            snap.fired_events,
            snap.ignored_reported,
            snap.ended,
        )

    seen: dict[Hashable, int] = {}
    nodes: list[Snapshot] = []
    for start in starts:
        if key(start) not in seen:
            seen[key(start)] = len(nodes)
            nodes.append(start)
    edges: list[list[int]] = [[] for _ in nodes]
    ended: set[int] = set()
    stuck: set[int] = set()
    queue = deque(range(len(nodes)))
    truncated = False
    while queue:
        idx = queue.popleft()
        snap = nodes[idx]
        session.restore(snap)
        report.coverage.states.add(snap.state)
        if snap.ended:
            ended.add(idx)
            continue
        offers = session.available()
        for lang in ("zh", "en"):
            labels = [o.action.label.get(lang) for o in offers]
            twice = sorted({label for label in labels if labels.count(label) > 1})
            if twice:
                report.findings.append(
                    Finding(
                        "ambiguous",
                        f"state {snap.state!r}: the {lang} label {twice[0]!r} is offered twice at once",
                        True,
                        course.states[snap.state].pos,
                    )
                )
        moves: list[str | None] = [o.action.id for o in offers]
        if session.deadline_ms() is not None:
            moves.append(None)  # wait for the timer
        if not moves:
            stuck.add(idx)
            continue
        for move in moves:
            session.restore(snap)
            try:
                if move is None:
                    deadline = session.deadline_ms()
                    assert deadline is not None
                    clock.ms = deadline
                    session.tick()
                    report.coverage.timers.add(snap.state)
                else:
                    clock.ms = snap.last_ms
                    _record_choice(session, move, report)
                    session.choose(move)
            except (EngineError, KeyError, TypeError, ValueError) as exc:
                what = "waiting for the timer" if move is None else f"action {move!r}"
                report.findings.append(
                    Finding("engine error", f"state {snap.state!r}, {what}: {exc}", True, course.states[snap.state].pos)
                )
                continue
            after = session.snapshot()
            k = key(after)
            target = seen.get(k)
            if target is None:
                if len(nodes) >= limit:
                    truncated = True
                    continue
                target = seen[k] = len(nodes)
                nodes.append(after)
                edges.append([])
                queue.append(target)
            edges[idx].append(target)
    report.situations += len(nodes)
    if truncated:
        # A situation with nothing to do is a trap however far the search went; "no way to an ending" needs it all.
        _report_traps(course, report, nodes, stuck, stuck, live)
        if not report.limited:
            report.limited = True
            report.findings.append(_limit_finding(course, nodes, live, limit))
        return
    reverse: list[list[int]] = [[] for _ in nodes]
    for src, targets in enumerate(edges):
        for t in targets:
            reverse[t].append(src)
    can_end = set(ended)
    todo = list(ended)
    while todo:
        for src in reverse[todo.pop()]:
            if src not in can_end:
                can_end.add(src)
                todo.append(src)
    trapped = [i for i in range(len(nodes)) if i not in can_end]
    _report_traps(course, report, nodes, trapped, stuck, live)


def _report_traps(
    course: Course,
    report: Report,
    nodes: list[Snapshot],
    trapped: Iterable[int],
    stuck: set[int],
    live: dict[str, tuple[str, ...]],
) -> None:
    """One finding per state (not one per trapped situation: 2,306 lines once): how many situations trap the trainee
    there and the smallest example, the one with the fewest variables changed from the start, reached first."""
    by_state: dict[str, list[int]] = {}
    for i in trapped:
        by_state.setdefault(nodes[i].state, []).append(i)
    for state, found in by_state.items():

        def changed(i: int, state: str = state) -> list[str]:
            values = nodes[i].variables
            return [name for name in live[state] if values[name] != course.variables[name]]

        best = min(found, key=lambda i: (len(changed(i)), i))
        snap = nodes[best]
        # The variables that can still matter here (read from here on), the changed ones first.
        names = sorted(live[state], key=lambda name: name not in changed(best))
        shown = ", ".join(f"{name} = {_value(snap.variables[name])}" for name in names[:EXAMPLE_VARIABLES])
        if len(names) > EXAMPLE_VARIABLES:
            shown += f" and {len(names) - EXAMPLE_VARIABLES} more"
        variables = f"with {shown}" if shown else "whatever the variables"
        events = f", event {', '.join(snap.active_events)} active" if snap.active_events else ""
        steps = list(snap.history)
        path = ", ".join(steps[-EXAMPLE_STEPS:]) or "(the start)"
        if len(steps) > EXAMPLE_STEPS:
            path = f"…{len(steps) - EXAMPLE_STEPS} more, " + path
        why = "no action is offered and no timer runs" if best in stuck else "no ending can be reached from here"
        message = f"state {state!r} traps the trainee: {why}; e.g. {variables}{events}, after: {path}"
        report.trap(state, (len(changed(best)), len(steps)), message, count=len(found))


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def _limit_finding(course: Course, nodes: list[Snapshot], live: dict[str, tuple[str, ...]], limit: int) -> Finding:
    """The limit was reached: name the variables that multiply the situations most, with where they are declared.

    A variable's weight is how many of the situations found would merge if it could no longer be read (situations
    that differ only in it)."""
    base = [(n.state, tuple(n.variables[v] for v in live[n.state]), n.active_events, n.fired_events) for n in nodes]
    weights: list[tuple[int, str]] = []
    for name in course.variables:
        merged = {
            (s, tuple(x for v, x in zip(live[s], values, strict=True) if v != name), a, f) for s, values, a, f in base
        }
        if len(merged) < len(base):
            weights.append((len(base) - len(merged), name))
    weights.sort(key=lambda w: (-w[0], w[1]))
    top = weights[:3]
    where = course.source or course.id

    def at(name: str) -> str:
        pos = course.variable_pos.get(name)
        return f"{where}:{pos.line}:{pos.col}" if pos else where

    blame = "; ".join(f"{name!r} ({at(name)}) splits {count} of them" for count, name in top)
    advice = (
        f"; the variables that multiply them most: {blame}. Set such a variable back to its start value once "
        "nothing reads it (e.g. a hub flag when leaving the hub), or merge flags that always change together "
        "(docs/authoring.md, 'When course test runs out of situations'); or raise --max-situations"
        if top
        else "; raise --max-situations"
    )
    pos = course.variable_pos.get(top[0][1]) if top else None
    return Finding("limit", f"stopped after {limit} situations; the course has more{advice}", False, pos)


def _playthrough(course: Course, seed: int, report: Report) -> None:
    rng = random.Random(seed)
    clock = ManualClock()
    # Practice: the hidden faults are drawn from the seed as in a real session (an exam would force every key event).
    session = Session(course, seed=seed, clock=clock, mode=Mode.PRACTICE)
    try:
        session.start()
        for _ in range(MAX_STEPS):
            if session.ended:
                break
            offers = session.available()
            wait = session.deadline_ms() is not None  # a timer stopped after many timeouts in a row cannot fire
            pick = rng.randrange(len(offers) + (1 if wait else 0)) if offers or wait else None
            if pick is None:
                message = (
                    f"state {session.state.id!r} traps the trainee: no action is offered and no timer runs; "
                    f"e.g. in random playthrough {seed}, after: {', '.join(session.history[-EXAMPLE_STEPS:])}"
                )
                report.trap(session.state.id, (MAX_STEPS, MAX_STEPS), message, count=0)  # counts are of situations
                return
            clock.advance(_think_ms(rng))
            if pick == len(offers):
                deadline = session.deadline_ms()
                assert deadline is not None
                clock.ms = max(clock.ms, deadline)
                report.coverage.timers.add(session.state.id)
                session.tick()
            else:
                _record_choice(session, offers[pick].action.id, report)
                session.choose(offers[pick].action.id)
            report.coverage.states.add(session.state.id)
    except (EngineError, KeyError, TypeError, ValueError) as exc:
        report.findings.append(Finding("engine error", f"random playthrough {seed}: {exc}", True))
        return
    report.playthroughs += 1
    outcome = str(session.outcome) if session.ended else "unfinished"
    report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1


def _think_ms(rng: random.Random) -> int:
    """A careless trainee's pause, 0.5 to 8 s, drawn as before and kept in whole milliseconds, the engine's unit (the
    same random numbers are drawn, so a seed still picks the same actions)."""
    return round(rng.uniform(0.5, 8.0) * 1000)


def explore_course(
    course: Course, *, random_runs: int = 100, seed: int = 0, max_situations: int = MAX_SITUATIONS
) -> Report:
    report = Report(course)
    live = live_variables(course)
    for force in (True, False):
        _explore(course, force, report, live, max_situations)
    seeds = random.Random(seed)
    for _ in range(random_runs):
        _playthrough(course, seeds.randrange(2**31), report)
    for sid, (count, _, message) in report.traps.items():
        more = f" ({count} such situations in all)" if count > 1 else ""
        report.findings.append(Finding("trap", message + more, True, course.states[sid].pos))
    report.findings = list(dict.fromkeys(report.findings))  # one line per problem, however many situations show it
    for state in course.states.values():
        if state.timer and state.id not in report.coverage.timers:
            report.findings.append(
                Finding(
                    "timer cannot fire",
                    f"the timer of state {state.id!r} never ran out in any exploration",
                    True,
                    state.timer.pos,
                )
            )
    for sid in course.states:
        if sid not in report.coverage.states:
            report.findings.append(
                Finding("uncovered", f"state {sid!r} was never reached", False, course.states[sid].pos)
            )
    for owner, action in course.all_actions():
        if (owner, action.id) not in report.coverage.actions:
            report.findings.append(
                Finding("uncovered", f"action {action.id!r} of {owner} was never available", False, action.pos)
            )
    return report


def hidden_combinations(course: Course) -> list[dict[str, Value]]:
    """Every combination of start values of the course's hidden faults (one empty one for a course without)."""
    names = list(course.hidden)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(course.hidden[n] for n in names))]
