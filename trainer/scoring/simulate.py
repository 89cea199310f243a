"""Simulated trainees: documented profiles that play any course through the real engine, with a scripted clock.

Each profile is a small set of tendencies applied to one policy that works on every course:

1. answer an active random event (or, if violating, answer it wrongly; otherwise it goes ignored);
2. take the next step of the expert procedure when it is offered (or, forgetting, skip it: a forgotten step may be
   remembered later and done out of order, which is how corrections arise);
3. otherwise head for a state where the next step is offered, or for the completed ending, along actions that are not
   declared mistakes (a breadth-first search over the course's states);
4. at any point, with the profile's chances: take an offered mistake action, wander to a random action, give up.

Two habits make mistakes repeat within a session, as they do with real trainees:

- a trainee who forgot a step goes on as if it were done: when the next step is not offered but an action that looks
  the same is (the course's variant for doing it without its prerequisite, e.g. squeezing an extinguisher whose pin is
  still in), they take that one;
- a mistake they made this session, offered again (the attempt changed nothing, or the same shortcut comes up again), is
  made again with the profile's `persist` chance: retrying a failed check, pressing the handle harder, the shortcut
  that "worked" last time. The loop ends when they notice what they forgot, when the state's timer runs out, or when
  going round in circles makes them try something else.

Thinking time before each action is drawn from the profile; a state's timer runs out when it is longer. Everything is
drawn from one generator per session seeded from (seed, index), so a run is reproducible.
"""

from __future__ import annotations

import random
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from trainer.course.conditions import Value
from trainer.course.model import Action, Course, MistakeSeverity, Outcome
from trainer.engine.clock import ManualClock
from trainer.engine.events import Event
from trainer.engine.session import Offer, Session

RETRY_THOUGHT = 0.25  # share of the usual thinking time taken to do again at once what was just done
MAX_DECISIONS = 200  # a simulated trainee who has not finished by then gives up (aborted, reason "limit")
_NAMESPACE = uuid.UUID("6f1d7c1e-2a57-4d1c-9a0e-4f7b0c3d9e21")


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    think: tuple[float, float]  # seconds before each action: uniform between these, then times a lognormal factor
    skip: float  # chance of forgetting the procedure step that is due when it is offered (times `critical` for critical steps)
    notice: float  # chance, at each decision, of remembering the forgotten steps (and doing them late)
    violate: float  # chance, at each decision where one is offered, of taking a declared-mistake action
    critical: float  # weight of critical mistakes against minor and serious ones, when violating or forgetting
    answer: float  # chance of answering an active random event correctly at once
    wander: float  # chance of taking any offered action at random
    give_up: float  # chance, at each decision, of aborting the session
    persist: float  # chance, when a mistake they made this session is offered again, of making it again


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "expert",
            "Knows the procedure: follows it in order, quickly and calmly; a rare lapse, quickly put right.",
            think=(2.0, 6.0),
            skip=0.02,
            notice=0.7,
            violate=0.01,
            critical=0.05,
            answer=0.97,
            wander=0.0,
            give_up=0.0,
            persist=0.0,
        ),
        Profile(
            "careful-novice",
            "Means well but is new: slow, forgets steps now and then and usually notices and goes back; seldom cuts corners.",
            think=(5.0, 18.0),
            skip=0.12,
            notice=0.45,
            violate=0.04,
            critical=0.1,
            answer=0.8,
            wander=0.03,
            give_up=0.002,
            persist=0.5,
        ),
        Profile(
            "hurried",
            "Knows the job but is pushed for time: fast, skips checks and verifications, rarely goes back.",
            think=(1.0, 4.0),
            skip=0.3,
            notice=0.08,
            violate=0.15,
            critical=0.15,
            answer=0.6,
            wander=0.02,
            give_up=0.0,
            persist=0.75,
        ),
        Profile(
            "violator",
            "Over-confident: takes the shortcuts on purpose, including dangerous ones, and does not correct them.",
            think=(1.0, 5.0),
            skip=0.35,
            notice=0.03,
            violate=0.45,
            critical=0.6,
            answer=0.35,
            wander=0.02,
            give_up=0.0,
            persist=0.8,
        ),
        Profile(
            "confused",
            "Does not understand the situation: slow, hesitant (timers run out), picks actions almost at random, may give up.",
            think=(6.0, 30.0),
            skip=0.25,
            notice=0.25,
            violate=0.12,
            critical=0.3,
            answer=0.4,
            wander=0.4,
            give_up=0.01,
            persist=0.7,
        ),
    )
}
# The mix of profiles among simulated trainees (weights); experts and novices are the common case.
DEFAULT_MIX: dict[str, float] = {
    "expert": 0.2,
    "careful-novice": 0.3,
    "hurried": 0.25,
    "violator": 0.1,
    "confused": 0.15,
}


@dataclass(frozen=True)
class Simulated:
    session: str
    trainee: str
    profile: str
    seed: int
    course: Course
    events: list[Event]


class _Map:
    """The course's states as a graph of non-mistake moves, for finding the way to a step or to the ending."""

    def __init__(self, course: Course):
        self.course = course
        self.edges: dict[str, list[tuple[str, str]]] = {}  # state -> [(action id, goto)]
        for sid, state in course.states.items():
            self.edges[sid] = [(a.id, a.goto) for a in state.actions if a.goto and a.mistake is None]
        self.offered_in: dict[str, set[str]] = {}  # action id -> states offering it
        for sid, state in course.states.items():
            for a in state.actions:
                self.offered_in.setdefault(a.id, set()).add(sid)
        self.completed = {sid for sid, s in course.states.items() if s.outcome is Outcome.COMPLETED}
        self._cache: dict[tuple[str, frozenset[str]], dict[str, int]] = {}

    def distances(self, targets: frozenset[str]) -> dict[str, int]:
        """Moves from each state to the nearest target state (reverse breadth-first search)."""
        key = ("", targets)
        if key not in self._cache:
            reverse: dict[str, list[str]] = {}
            for sid, edges in self.edges.items():
                for _, goto in edges:
                    reverse.setdefault(goto, []).append(sid)
            dist = dict.fromkeys(targets, 0)
            queue = deque(targets)
            while queue:
                s = queue.popleft()
                for prev in reverse.get(s, ()):
                    if prev not in dist:
                        dist[prev] = dist[s] + 1
                        queue.append(prev)
            self._cache[key] = dist
        return self._cache[key]


class _Trainee:
    def __init__(self, course: Course, profile: Profile, rng: random.Random, graph: _Map):
        self.course = course
        self.p = profile
        self.rng = rng
        self.graph = graph
        self.forgotten: set[str] = set()
        self.severity = {s.action: s.severity for s in course.procedure}
        self.visits: dict[tuple[str, tuple[tuple[str, Value], ...]], int] = {}  # (state, variables): times there
        # what each procedure step's action looks like to the trainee, and what it must follow
        labels = {a.id: a.label for _, a in course.all_actions()}
        self.looks = {s.action: labels.get(s.action) for s in course.procedure}
        self.after = {s.action: frozenset(s.after) for s in course.procedure}
        self.made: set[str] = set()  # codes of the mistake actions taken this session

    def due_steps(self, done: set[str]) -> list[str]:
        assumed = done | self.forgotten
        return [
            s.action for s in self.course.procedure if s.action not in assumed and all(b in assumed for b in s.after)
        ]

    def decide(self, session: Session) -> str | None:
        """The next action id, or None to give up."""
        rng, p = self.rng, self.p
        offers = session.available()
        if not offers:
            return None
        if rng.random() < p.give_up:
            return None
        key = (session.state.id, tuple(sorted(session.variables.items())))
        self.visits[key] = self.visits.get(key, 0) + 1
        if self.visits[key] > 4 or rng.random() < p.wander:  # going round in circles, or not thinking
            return rng.choice(offers).action.id
        if self.forgotten and rng.random() < p.notice:
            self.forgotten.clear()
        answers = [o for o in offers if o.event is not None]
        if answers:
            good = [o for o in answers if o.action.mistake is None]
            bad = [o for o in answers if o.action.mistake is not None]
            r = rng.random()
            if good and r < p.answer:
                return rng.choice(good).action.id
            if bad and r < p.answer + (1 - p.answer) * p.violate * 2:
                return self._pick_mistake(bad).id
        safe = [o for o in offers if o.action.mistake is None and o.event is None]
        wrong = [o for o in offers if o.action.mistake is not None and o.event is None]
        if not safe and not wrong:  # only answers to a random event are offered: answer it somehow
            return rng.choice(offers).action.id
        again = [o for o in wrong if o.action.mistake is not None and o.action.mistake.code in self.made]
        if again and rng.random() < p.persist:  # the habit: do it again (drawn only when it can happen)
            pick = self._pick_mistake(again)
            if not _critical(pick) or rng.random() < p.critical:
                return pick.id
        if wrong and rng.random() < p.violate:
            pick = self._pick_mistake(wrong)
            if not _critical(pick) or rng.random() < p.critical:
                return pick.id
        done = set(session.history)
        due = self.due_steps(done)
        safe_ids = {o.action.id for o in safe}
        for step in due:
            lookalike = self._lookalike(step, safe_ids, wrong)
            if lookalike is not None:
                return lookalike
            if step in safe_ids:
                # steps whose omission is critical (isolation, locks) are forgotten less: `critical` scales the chance
                skip = p.skip * (p.critical if self.severity[step] is MistakeSeverity.CRITICAL else 1.0)
                if rng.random() < skip:
                    self.forgotten.add(step)
                    return self.decide_again(session, safe, wrong, done)
                return step
        return self.decide_again(session, safe, wrong, done)

    def decide_again(self, session: Session, safe: list[Offer], wrong: list[Offer], done: set[str]) -> str:
        due = self.due_steps(done)
        safe_ids = {o.action.id for o in safe}
        for step in due:
            if step in safe_ids:
                return step
            lookalike = self._lookalike(step, safe_ids, wrong)
            if lookalike is not None:
                return lookalike
        here = session.state.id
        targets = frozenset(s for step in due for s in self.graph.offered_in.get(step, ()))
        moves = [(a, g) for a, g in self.graph.edges.get(here, ()) if a in safe_ids]
        for goal in (targets, frozenset(self.graph.completed)):
            if not goal or here in goal:
                continue
            dist = self.graph.distances(goal)
            reachable = [(dist[g], a) for a, g in moves if g in dist]
            if reachable:
                best = min(d for d, _ in reachable)
                return self.rng.choice([a for d, a in reachable if d == best])
        # Nothing leads on without a declared mistake: remember what was forgotten, then do something useful.
        if self.forgotten:
            self.forgotten.clear()
            for step in self.due_steps(done):
                if step in safe_ids:
                    return step
        untried = [o for o in safe if o.action.id not in done and (o.action.set or o.action.goto)]
        if untried:
            return self.rng.choice(untried).action.id
        if safe and (not wrong or self.rng.random() < 0.5):
            return self.rng.choice(safe).action.id
        return self._pick_mistake(wrong).id if wrong else self.rng.choice(safe).action.id

    def took(self, action: Action | None) -> None:
        """Remember a mistake action taken (the `persist` habit)."""
        if action is not None and action.mistake is not None:
            self.made.add(action.mistake.code)

    def _lookalike(self, step: str, safe_ids: set[str], wrong: Sequence[Offer]) -> str | None:
        """Believing a forgotten prerequisite of `step` done, the trainee takes the offered action that looks like
        `step` (the course's variant for doing it without that prerequisite), if `step` itself is not offered."""
        if step in safe_ids or not self.forgotten & self.after[step]:
            return None
        look = self.looks[step]
        return next((o.action.id for o in wrong if o.action.label == look), None)

    def _pick_mistake(self, wrong: Sequence[Offer]) -> Action:
        """One of the offered mistake actions, the less grave ones more likely."""
        weights = [
            0.3 if o.action.mistake and o.action.mistake.severity is MistakeSeverity.CRITICAL else 1.0 for o in wrong
        ]
        return self.rng.choices(list(wrong), weights=weights)[0].action

    def think_ms(self, again: bool = False) -> int:
        """A pause before acting, to the tenth of a second, in whole milliseconds (the engine's unit, so a simulated
        session is stored and replayed with the very same times). Doing again what was just done, where nothing has
        changed (squeezing the handle once more), takes a quarter of the thought."""
        low, high = self.p.think
        seconds = self.rng.uniform(low, high) * self.rng.lognormvariate(0, 0.35) * (RETRY_THOUGHT if again else 1.0)
        return round(seconds * 10) * 100


def _critical(action: Action) -> bool:
    return action.mistake is not None and action.mistake.severity is MistakeSeverity.CRITICAL


def play(course: Course, profile: Profile, seed: int, *, graph: _Map | None = None) -> list[Event]:
    """One session of `profile` on `course`, seeded: its events, as the engine emitted them."""
    rng = random.Random(seed)
    clock = ManualClock()
    session = Session(course, seed, clock=clock, lang="zh")
    trainee = _Trainee(course, profile, rng, graph or _Map(course))
    events = session.start()
    last: tuple[str, str] | None = None  # (state, action) of the last choice
    for _ in range(MAX_DECISIONS):
        if session.ended:
            break
        action = trainee.decide(session)
        if action is None:
            clock.advance(trainee.think_ms())
            events += session.tick()
            if not session.ended:
                events += session.abort("trainee")
            break
        here = session.state.id
        clock.advance(trainee.think_ms(again=last == (here, action)))
        timed_out = session.tick()
        if timed_out:
            events += timed_out
            last = None
            continue
        taken = session.state.action(action)
        events += session.choose(action)
        trainee.took(taken)
        last = (here, action)
    if not session.ended:
        events += session.abort("limit")
    return events


def simulate(
    courses: Sequence[Course],
    n: int,
    seed: int,
    *,
    mix: dict[str, float] | None = None,
    sessions_per_trainee: tuple[int, int] = (1, 6),
) -> Iterator[Simulated]:
    """`n` sessions spread over `courses` in turn, played by simulated trainees of the profiles in `mix`.

    Each trainee keeps one profile and plays a few sessions (so a trainee's sessions can be kept together when a model
    is cross-validated). Reproducible: the same arguments give the same sessions, event for event.
    """
    if not courses:
        return
    mix = mix or DEFAULT_MIX
    unknown = sorted(set(mix) - set(PROFILES))
    if unknown:
        raise ValueError(f"unknown profile(s): {', '.join(unknown)}; choose from {', '.join(PROFILES)}")
    names = list(mix)
    weights = [mix[k] for k in names]
    rng = random.Random(seed)
    graphs = {c.id: _Map(c) for c in courses}
    trainee_no, left = 0, 0
    profile = PROFILES[names[0]]
    for i in range(n):
        if left == 0:
            trainee_no += 1
            left = rng.randint(*sessions_per_trainee)
            profile = PROFILES[rng.choices(names, weights=weights)[0]]
        left -= 1
        course = courses[i % len(courses)]
        session_seed = rng.getrandbits(32)
        events = play(course, profile, session_seed, graph=graphs[course.id])
        yield Simulated(
            session=str(uuid.uuid5(_NAMESPACE, f"{seed}:{i}")),
            trainee=f"sim-{seed}-{trainee_no:05d}",
            profile=profile.name,
            seed=session_seed,
            course=course,
            events=events,
        )
