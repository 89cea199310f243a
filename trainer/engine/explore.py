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
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from trainer.course.model import Course
from trainer.engine.clock import ManualClock
from trainer.engine.modes import Mode
from trainer.engine.session import EngineError, Session, Snapshot

MAX_SITUATIONS = 50_000
MAX_STEPS = 1_000


@dataclass
class Coverage:
    states: set[str] = field(default_factory=set)
    actions: set[tuple[str, str]] = field(default_factory=set)  # (owner, action id); owner is a state or event:<id>
    timers: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Finding:
    kind: str  # "engine error", "trap", "timer cannot fire", "uncovered", "limit"
    message: str
    failing: bool


@dataclass
class Report:
    course: Course
    coverage: Coverage = field(default_factory=Coverage)
    findings: list[Finding] = field(default_factory=list)
    situations: int = 0
    playthroughs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(f.failing for f in self.findings)

    def state_coverage(self) -> tuple[int, int]:
        return len(self.coverage.states), len(self.course.states)

    def action_coverage(self) -> tuple[int, int]:
        total = {(owner, a.id) for owner, a in self.course.all_actions()}
        return len(self.coverage.actions & total), len(total)


def _key(snap: Snapshot) -> Hashable:
    return (
        snap.state,
        tuple(sorted(snap.variables.items())),
        snap.active_events,
        snap.fired_events,
        snap.ignored_reported,
        snap.ended,
    )


def _record_choice(session: Session, action_id: str, report: Report) -> None:
    for offer in session.available():
        if offer.action.id == action_id:
            owner = f"event:{offer.event.id}" if offer.event else session.state.id
            report.coverage.actions.add((owner, action_id))
            return


def _explore(course: Course, force: bool, report: Report) -> None:
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
    seen: dict[Hashable, int] = {}
    nodes: list[Snapshot] = []
    for start in starts:
        if _key(start) not in seen:
            seen[_key(start)] = len(nodes)
            nodes.append(start)
    edges: list[set[int]] = [set() for _ in nodes]
    ended: set[int] = set()
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
                    )
                )
        moves: list[str | None] = [o.action.id for o in offers]
        if session.deadline_ms() is not None:
            moves.append(None)  # wait for the timer
        if not moves:
            report.findings.append(
                Finding(
                    "trap",
                    f"state {snap.state!r} with {dict(snap.variables)}: no action is offered and no timer runs",
                    True,
                )
            )
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
                report.findings.append(Finding("engine error", f"state {snap.state!r}, {what}: {exc}", True))
                continue
            after = session.snapshot()
            key = _key(after)
            if key not in seen:
                if len(nodes) >= MAX_SITUATIONS:
                    truncated = True
                    continue
                seen[key] = len(nodes)
                nodes.append(after)
                edges.append(set())
                queue.append(seen[key])
            edges[idx].add(seen[key])
    report.situations += len(nodes)
    if truncated:
        report.findings.append(
            Finding("limit", f"stopped after {MAX_SITUATIONS} situations; the course has more", False)
        )
        return
    reverse: list[set[int]] = [set() for _ in nodes]
    for src, targets in enumerate(edges):
        for t in targets:
            reverse[t].add(src)
    can_end = set(ended)
    todo = list(ended)
    while todo:
        for src in reverse[todo.pop()]:
            if src not in can_end:
                can_end.add(src)
                todo.append(src)
    trapped = sorted({nodes[i].state for i in range(len(nodes)) if i not in can_end})
    for state in trapped:
        report.findings.append(
            Finding("trap", f"from state {state!r} (with some variable values) no ending can be reached", True)
        )


def hidden_combinations(course: Course) -> list[dict[str, object]]:
    """Every combination of start values of the course's hidden faults (one empty one for a course without)."""
    names = list(course.hidden)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(course.hidden[n] for n in names))]


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
                report.findings.append(
                    Finding("trap", f"random playthrough {seed}: stuck in {session.state.id!r}", True)
                )
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


def explore_course(course: Course, *, random_runs: int = 100, seed: int = 0) -> Report:
    report = Report(course)
    for force in (True, False):
        _explore(course, force, report)
    seeds = random.Random(seed)
    for _ in range(random_runs):
        _playthrough(course, seeds.randrange(2**31), report)
    report.findings = list(dict.fromkeys(report.findings))  # one line per problem, however many situations show it
    for state in course.states.values():
        if state.timer and state.id not in report.coverage.timers:
            report.findings.append(
                Finding("timer cannot fire", f"the timer of state {state.id!r} never ran out in any exploration", True)
            )
    for sid in course.states:
        if sid not in report.coverage.states:
            report.findings.append(Finding("uncovered", f"state {sid!r} was never reached", False))
    for owner, action in course.all_actions():
        if (owner, action.id) not in report.coverage.actions:
            report.findings.append(Finding("uncovered", f"action {action.id!r} of {owner} was never available", False))
    return report
