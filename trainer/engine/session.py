"""A course being played: the one place where the rules of a course are applied.

Deterministic by construction: the clock is injected and random events come from a generator seeded per session, so
the course, the seed and the timed inputs (actions, timeouts, resumes, aborts) reproduce a session event for event.
That is what replay, resume, scoring and the debrief rely on.

Timers: a state's timer runs from the moment the state was entered, or, in a session started with
`timers_after_shown` (the terminal app), from the moment the app reports the scene on screen in full (`shown()`, stored
as a `shown` event, so replay agrees); a state's `reading_s` is added to its timer either way. `tick()` (called by the app a few times a second,
and before each action) emits the timeout stamped at the exact deadline, not at the moment it was noticed, so a replay
gives the same times. After a resume the current state's timer starts again in full: the trainee is not punished for
the time the terminal was closed, and the gap is recorded in the `resumed` event. Timers that lead back round fire at
most MAX_TIMEOUTS_IN_A_ROW times while nobody acts; then the timer stops until the next action, hint or resume (so a day's
wait over a 1 s timer is not 86,400 timeouts).

Pause: `pause()` stops the course clock, so every timer and the elapsed time stand still, until `unpause()`; both are
stored (`paused`, `unpaused`), the `unpaused` event carries the same time as its `paused` event (paused time is not
session time) and the real length of the pause in its data. Choices and hints are refused while paused. A resume after
a kill during a pause ends the pause at the moment it began (the `resumed` event says `paused: true`): the resume
screen is the trainee's "ready" step, and the state's timer starts again in full as after any resume.

Menu: while a state is shown, each action keeps its number (`menu()`), so numbers never move under the trainee's
fingers (pressing `1 1 2 2` in a hub state once took an action the trainee never read). An action chosen there keeps
its place, greyed, while the state is shown (pressing its number again does nothing); the place of an action that
stops being offered without being chosen is free, and an action newly offered takes the lowest free place, else the
next number. The menu starts afresh each time a state is entered; replay rebuilds it with everything else.

Time: the clock returns integer milliseconds and every time the engine computes (event times, deadlines) is an integer
number of milliseconds, so replaying the stored times gives back exactly the stored times (see trainer/engine/clock.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from trainer.course.conditions import Value
from trainer.course.limits import MAX_TIMEOUTS_IN_A_ROW, quote
from trainer.course.model import Action, Course, Mistake, MistakeSeverity, Outcome, RandomEvent, State
from trainer.engine.clock import Clock, ManualClock, monotonic_ms, timer_ms
from trainer.engine.events import INPUT_KINDS, Event, EventKind
from trainer.engine.modes import Mode, draw_hidden, rules_of
from trainer.errors import TrainerError


class EngineError(Exception):
    """A caller asked the engine for something the course does not allow (a programming or script error)."""


class ActionNotAvailable(EngineError):
    def __init__(self, action_id: str, state: str, available: Sequence[str]):
        self.action_id = action_id
        self.state = state
        offered = ", ".join(available) or "none"
        super().__init__(f"action {quote(action_id)} is not available in state {state!r} (available: {offered})")


class SessionOver(EngineError):
    def __init__(self) -> None:
        super().__init__("the session has already ended")


class ReplayMismatch(TrainerError):
    """Stored events that the course and seed do not reproduce: a different course version, or tampering.

    Not an EngineError: the caller did nothing wrong, the stored record differs from what the course gives. The message
    names the session (when known) and the first event that differs, on one line.
    """

    def __init__(self, seq: int, reason: str, session: str | None = None):
        self.seq = seq
        self.reason = reason
        self.session = session
        where = f"session {session[:8]}: " if session else ""
        super().__init__(f"{where}event {seq}: replay differs: {reason}")

    def of_session(self, session_id: str) -> ReplayMismatch:
        """The same mismatch, naming the session it was found in."""
        return ReplayMismatch(self.seq, self.reason, session_id)


@dataclass(frozen=True)
class Offer:
    """An action the trainee can take now; `event` is set when it answers an active random event."""

    action: Action
    event: RandomEvent | None = None


@dataclass(frozen=True)
class Snapshot:
    """Everything that changes while a session is played. Cheap to keep, so a failed save can be undone."""

    state: str
    variables: Mapping[str, Value]
    entered_ms: int
    seq: int
    last_ms: int
    active_events: tuple[str, ...] = ()
    fired_events: frozenset[str] = frozenset()
    ignored_reported: frozenset[str] = frozenset()
    outcome: Outcome | None = None
    ended: bool = False
    rng_state: Any = None
    history: tuple[str, ...] = field(default=())  # action ids taken, in order
    timeouts_in_a_row: int = 0  # since the last trainee input; the timer stops at MAX_TIMEOUTS_IN_A_ROW
    paused: bool = False  # the course clock stands at last_ms until unpaused
    awaiting_shown: bool = False  # the state's timer waits for the app to report its scene shown
    menu: tuple[tuple[str, str | None] | None, ...] = ()  # places of (action id, event id); None: a free place
    menu_chosen: frozenset[tuple[str, str | None]] = frozenset()  # chosen since the state was entered


@dataclass(frozen=True)
class MenuItem:
    """A place in the menu of the state shown; `offer` is None for an action chosen there and no longer offered."""

    number: int  # 1-based
    action: Action
    event: RandomEvent | None
    offer: Offer | None


class _Draws(random.Random):
    """The session's random generator, counting every draw (all of Random's methods draw through `random` or
    `getrandbits`), so a snapshot taken when nothing was drawn since the last one shares that one's state instead of
    copying it: a Mersenne Twister state is 625 words, and `course test` keeps a snapshot per situation
    (docs/performance.md, "Figures behind the code")."""

    draws = 0

    def random(self) -> float:
        self.draws += 1
        return super().random()

    def getrandbits(self, k: int) -> int:
        self.draws += 1
        return super().getrandbits(k)

    def seed(self, *args: Any, **kwargs: Any) -> None:
        self.draws += 1
        super().seed(*args, **kwargs)

    def setstate(self, state: Any) -> None:
        self.draws += 1
        super().setstate(state)


class Session:
    """Plays one course for one trainee. Methods return the events they caused, already numbered and timed."""

    def __init__(
        self,
        course: Course,
        seed: int,
        *,
        clock: Clock = monotonic_ms,
        lang: str = "zh",
        offset_ms: int = 0,
        timers_after_shown: bool = False,
        mode: Mode | None = None,
    ):
        self.course = course
        self.seed = seed
        self.lang = lang
        # None: the rules before modes (tools that explore or simulate a course play so; see trainer/engine/modes.py).
        self.mode = mode
        self.hidden = draw_hidden(course, seed) if mode is not None else {}
        self.timers_after_shown = timers_after_shown
        self._paused_at = 0  # the clock's reading when the pause began (live play: how long the pause lasted)
        self._clock = clock
        self._origin = clock()
        self._offset_ms = offset_ms
        self._rng = _Draws(seed)
        self._rng_state: tuple[int, Any] = (-1, None)  # (draw count, state) of the last snapshot or restore
        self._snap = Snapshot(
            state=course.start,
            variables=MappingProxyType({**course.variables, **self.hidden}),
            entered_ms=0,
            seq=0,
            last_ms=0,
        )
        self._events = {e.id: e for e in course.random_events}
        # Whether a random event fires; the explorer replaces it to force every event on, then off.
        self.roll: Callable[[RandomEvent], bool] = self._roll

    def _roll(self, ev: RandomEvent) -> bool:
        # The draw is made even for an event an exam guarantees, so the draws of a seed are the same in both modes.
        drawn = self._rng.random() < ev.probability
        return drawn or (self.mode is Mode.EXAM and ev.key)

    # --- reading -------------------------------------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self.course.states[self._snap.state]

    @property
    def variables(self) -> Mapping[str, Value]:
        return self._snap.variables

    @property
    def ended(self) -> bool:
        return self._snap.ended

    @property
    def outcome(self) -> Outcome | None:
        return self._snap.outcome

    @property
    def seq(self) -> int:
        return self._snap.seq

    @property
    def history(self) -> tuple[str, ...]:
        return self._snap.history

    def active_events(self) -> list[RandomEvent]:
        return [self._events[e] for e in self._snap.active_events]

    @property
    def paused(self) -> bool:
        return self._snap.paused

    @property
    def awaiting_shown(self) -> bool:
        """The state's timer waits for the app to report the scene shown (`shown()`)."""
        return self._snap.awaiting_shown

    def now_ms(self) -> int:
        if self._snap.paused:
            return self._snap.last_ms  # the course clock stands still while paused
        elapsed = self._clock() - self._origin
        if not isinstance(elapsed, int):
            # A float-seconds clock (time.monotonic) would store times that replay cannot reproduce: refuse it loudly.
            raise TypeError(f"the engine's clock must return integer milliseconds, not {type(elapsed).__name__}")
        return max(self._offset_ms + elapsed, self._snap.last_ms)

    def available(self) -> list[Offer]:
        if self._snap.ended:
            return []
        env = self._snap.variables
        offers = [Offer(a, ev) for ev in self.active_events() for a in ev.actions if a.when is None or a.when(env)]
        offers += [Offer(a) for a in self.state.actions if a.when is None or a.when(env)]
        return offers

    def offered_now(self) -> tuple[tuple[str, str | None], ...]:
        """The (action id, event id) of each offer, in the order available() gives them."""
        return tuple((o.action.id, o.event.id if o.event else None) for o in self.available())

    def extend_menu(self) -> None:
        """What is newly offered takes the next places of the menu (none move: see the module docstring). Called after
        every input; the instructor's preview calls it after changing a variable."""
        snap = self._snap
        offered = self.offered_now()
        places = [k if k is not None and (k in offered or k in snap.menu_chosen) else None for k in snap.menu]
        for key in offered:
            if key not in places:
                free = next((i for i, k in enumerate(places) if k is None), None)
                if free is None:
                    places.append(key)
                else:
                    places[free] = key
        while places and places[-1] is None:
            places.pop()
        if tuple(places) != snap.menu:
            self._snap = replace(snap, menu=tuple(places))

    def menu(self) -> list[MenuItem]:
        """The actions of the state shown, each in the place it took when first offered (see the module docstring)."""
        offers = {(o.action.id, o.event.id if o.event else None): o for o in self.available()}
        items = []
        for number, key in enumerate(self._snap.menu, start=1):
            if key is None:
                continue
            offer = offers.get(key)
            if offer is not None:
                items.append(MenuItem(number, offer.action, offer.event, offer))
                continue
            action_id, event_id = key
            event = self._events.get(event_id) if event_id else None
            actions = event.actions if event else self.state.actions
            action = next((a for a in actions if a.id == action_id), None)
            if action is not None:
                items.append(MenuItem(number, action, event, None))
        return items

    def deadline_ms(self) -> int | None:
        timer = self.state.timer
        snap = self._snap
        if timer is None or snap.ended or snap.awaiting_shown or snap.timeouts_in_a_row >= MAX_TIMEOUTS_IN_A_ROW:
            return None
        reading = timer_ms(self.state.reading_s) if self.state.reading_s else 0
        return snap.entered_ms + reading + timer_ms(timer.seconds)

    def time_left_ms(self) -> int | None:
        """Milliseconds until the current state's timer runs out, or None when the state has no timer."""
        deadline = self.deadline_ms()
        return None if deadline is None else max(0, deadline - self.now_ms())

    def snapshot(self) -> Snapshot:
        draws, state = self._rng_state
        if draws != self._rng.draws:  # drawn since: copy the new state (shared by later snapshots until the next draw)
            state = self._rng.getstate()
            self._rng_state = (self._rng.draws, state)
        return replace(self._snap, rng_state=state)

    def restore(self, snap: Snapshot) -> None:
        """Undo to an earlier snapshot, e.g. when the events could not be saved and the trainee will retry."""
        self._snap = snap
        draws, state = self._rng_state
        if draws != self._rng.draws or state is not snap.rng_state:  # else the generator already stands there
            self._rng.setstate(snap.rng_state)
            self._rng_state = (self._rng.draws, snap.rng_state)

    # --- inputs --------------------------------------------------------------------------------------------------
    def start(self) -> list[Event]:
        if self._snap.seq:
            raise EngineError("the session has already started")
        out = _Emitter(self, 0)
        out.emit(
            EventKind.STARTED,
            data={
                "course": self.course.id,
                "version": self.course.version,
                "content_hash": self.course.content_hash,
                "seed": self.seed,
                "lang": self.lang,
                **({"timers": "shown"} if self.timers_after_shown else {}),
                **({"mode": str(self.mode)} if self.mode is not None else {}),
                **({"hidden": dict(self.hidden)} if self.hidden else {}),
            },
        )
        self._enter(out, self.course.start, previous=None)
        return out.finish()

    def tick(self) -> list[Event]:
        """Fire the current state's timer if it has run out. Safe to call as often as you like."""
        events: list[Event] = []
        while not self._snap.ended and not self._snap.paused:
            deadline = self.deadline_ms()
            if deadline is None or self.now_ms() < deadline:
                break
            timer = self.state.timer
            assert timer is not None
            out = _Emitter(self, deadline)
            data: dict[str, Any] = {"goto": timer.goto, "seconds": timer.seconds}
            if timer.set:
                data["set"] = dict(timer.set)
            out.emit(EventKind.TIMED_OUT, data=data)
            self._snap = replace(self._snap, timeouts_in_a_row=self._snap.timeouts_in_a_row + 1)
            self._set(timer.set)
            if timer.mistake:
                out.mistake(timer.mistake, "timer", self._snap.state)
            self._enter(out, timer.goto, previous=self._snap.state)
            self._fail_on_critical(out, timer.mistake)
            events += out.finish()
        return events

    def choose(self, action_id: str) -> list[Event]:
        """Take an action. If the state's timer ran out first, only the timeout happens and its events are returned."""
        if self._snap.ended:
            raise SessionOver()
        self._not_paused()
        timed_out = self.tick()
        if timed_out:
            return timed_out
        offers = self.available()
        offer = next((o for o in offers if o.action.id == action_id), None)
        if offer is None:
            raise ActionNotAvailable(action_id, self._snap.state, [o.action.id for o in offers])
        action, answered = offer.action, offer.event
        out = _Emitter(self, self.now_ms())
        data: dict[str, Any] = {"goto": action.goto or self._snap.state, "set": dict(action.set)}
        if answered:
            data["event"] = answered.id
        if action.step:
            data["step"] = action.step
        out.emit(EventKind.CHOSE, action=action.id, data=data)
        self._set(action.set)
        self._snap = replace(
            self._snap,
            history=(*self._snap.history, action.id),
            menu_chosen=self._snap.menu_chosen | {(action.id, answered.id if answered else None)},
        )
        self._acted(out.t_ms)
        if action.mistake:
            out.mistake(action.mistake, "action", action.id)
        active = list(self._snap.active_events)
        ignored: list[Mistake] = []
        if answered:
            active.remove(answered.id)
        else:
            for ev in self.active_events():
                if ev.ignored and ev.id not in self._snap.ignored_reported:
                    out.mistake(ev.ignored, "ignored", ev.id)
                    ignored.append(ev.ignored)
                    self._snap = replace(self._snap, ignored_reported=self._snap.ignored_reported | {ev.id})
        self._snap = replace(self._snap, active_events=tuple(active))
        for mistake in ignored:
            # Ignoring a critical event (the person walked into the danger zone) ends it here, wherever the action led.
            self._fail_on_critical(out, mistake)
        if action.goto and action.goto != self._snap.state and not self._snap.ended:
            self._enter(out, action.goto, previous=self._snap.state)
        self._fail_on_critical(out, action.mistake)
        return out.finish()

    def abort(self, reason: str = "trainee") -> list[Event]:
        if self._snap.ended:
            raise SessionOver()
        out = _Emitter(self, self.now_ms())
        out.emit(EventKind.ABORTED, data={"outcome": str(Outcome.ABORTED), "reason": reason})
        self._snap = replace(self._snap, ended=True, outcome=Outcome.ABORTED)
        return out.finish()

    def hint(self) -> list[Event]:
        """The trainee asks for the current state's hint (shown by the caller); the request is recorded."""
        if self._snap.ended:
            raise SessionOver()
        self._not_paused()
        timed_out = self.tick()
        if timed_out:
            return timed_out
        if self.mode is Mode.EXAM:
            raise EngineError("an exam gives no hints")
        if self.state.hint is None:
            raise EngineError(f"state {self._snap.state!r} has no hint")
        out = _Emitter(self, self.now_ms())
        out.emit(EventKind.HINT)
        self._acted(out.t_ms)
        return out.finish()

    def resume(self, gap_ms: int = 0) -> list[Event]:
        """Mark the session as resumed; the current state's timer starts again in full. A pause still open (the
        terminal went away while paused) ends here, at the time it began: `paused: true` in the event says so."""
        if self._snap.ended:
            raise SessionOver()
        now = self.now_ms()
        was_paused = self._snap.paused
        out = _Emitter(self, now)
        out.emit(EventKind.RESUMED, data={"gap_ms": max(0, int(gap_ms)), **({"paused": True} if was_paused else {})})
        if was_paused:
            self._restart_clock(now)
        self._snap = replace(
            self._snap, entered_ms=now, timeouts_in_a_row=0, paused=False, awaiting_shown=self._timer_waits()
        )
        return out.finish()

    def pause(self) -> list[Event]:
        """Stop the course clock (a timer that ran out before is fired first). Nothing happens if already paused."""
        if self._snap.ended:
            raise SessionOver()
        if self._snap.paused:
            return []
        events = self.tick()
        if self._snap.ended:
            return events
        out = _Emitter(self, self.now_ms())
        out.emit(EventKind.PAUSED)
        self._paused_at = self._clock()
        self._snap = replace(self._snap, paused=True)
        return events + out.finish()

    def unpause(self, paused_ms: int | None = None) -> list[Event]:
        """Start the course clock again where it stopped. `paused_ms` (how long the pause lasted, for the record) is
        measured on the clock unless given (replay gives the stored value)."""
        if self._snap.ended:
            raise SessionOver()
        if not self._snap.paused:
            return []
        lasted = self._clock() - self._paused_at if paused_ms is None else paused_ms
        now = self._snap.last_ms
        out = _Emitter(self, now)
        out.emit(EventKind.UNPAUSED, data={"paused_ms": max(0, int(lasted))})
        self._restart_clock(now)
        self._snap = replace(self._snap, paused=False)
        return out.finish()

    def shown(self) -> list[Event]:
        """The app has the current scene on screen in full: a timer waiting for that starts now. Nothing to record
        (and nothing returned) otherwise, so the app may call this after every paint."""
        if self._snap.ended or self._snap.paused or not self._snap.awaiting_shown:
            return []
        out = _Emitter(self, self.now_ms())
        out.emit(EventKind.SHOWN)
        self._snap = replace(self._snap, awaiting_shown=False, entered_ms=out.t_ms)
        return out.finish()

    # --- rules ---------------------------------------------------------------------------------------------------
    def _not_paused(self) -> None:
        if self._snap.paused:
            raise EngineError("the session is paused")

    def _restart_clock(self, at_ms: int) -> None:
        """The course clock goes on from `at_ms`, counting from the clock's reading now."""
        self._origin = self._clock()
        self._offset_ms = at_ms

    def _timer_waits(self) -> bool:
        return self.timers_after_shown and self.state.timer is not None and not self._snap.ended

    def _acted(self, t_ms: int) -> None:
        """The trainee did something: timeouts in a row count from zero again, and a timer they stopped restarts now."""
        if self._snap.timeouts_in_a_row >= MAX_TIMEOUTS_IN_A_ROW:
            self._snap = replace(self._snap, timeouts_in_a_row=0, entered_ms=t_ms)
        elif self._snap.timeouts_in_a_row:
            self._snap = replace(self._snap, timeouts_in_a_row=0)

    def _set(self, values: Mapping[str, Value]) -> None:
        if values:
            self._snap = replace(self._snap, variables=MappingProxyType({**self._snap.variables, **values}))

    def _enter(self, out: _Emitter, state_id: str, previous: str | None) -> None:
        state = self.course.states[state_id]
        still_active = tuple(e for e in self._snap.active_events if state_id in self._events[e].states)
        self._snap = replace(
            self._snap,
            state=state_id,
            entered_ms=out.t_ms,
            active_events=still_active,
            menu=(),
            menu_chosen=frozenset(),
            awaiting_shown=self.timers_after_shown and state.timer is not None,
        )
        out.emit(EventKind.VIEWED, data={"from": previous})
        if state.hazard:
            out.emit(EventKind.HAZARD, data={"category": state.hazard.category})
        if state.outcome is not None:
            self._end(out, state.outcome, reason="state")
            return
        for ev in self.course.random_events:
            if state_id not in ev.states or ev.id in self._snap.fired_events:
                continue
            # One draw per candidate, always, so the sequence of draws depends only on the path taken.
            if self.roll(ev):
                self._snap = replace(
                    self._snap,
                    fired_events=self._snap.fired_events | {ev.id},
                    active_events=(*self._snap.active_events, ev.id),
                )
                self._set(ev.set)
                out.emit(EventKind.RANDOM_EVENT, data={"event": ev.id, "set": dict(ev.set)})

    def _end(self, out: _Emitter, outcome: Outcome, reason: str, **extra: Any) -> None:
        kind = {
            Outcome.COMPLETED: EventKind.COMPLETED,
            Outcome.INCIDENT: EventKind.FAILED,
            Outcome.ABORTED: EventKind.ABORTED,
        }
        out.emit(kind[outcome], data={"outcome": str(outcome), "reason": reason, **extra})
        self._snap = replace(self._snap, ended=True, outcome=outcome, active_events=())

    def _fail_on_critical(self, out: _Emitter, mistake: Mistake | None) -> None:
        if (
            mistake
            and mistake.severity is MistakeSeverity.CRITICAL
            and not self._snap.ended
            and self.course.pass_rule.critical_fails
        ):
            self._end(out, Outcome.INCIDENT, reason="critical", code=mistake.code)


class _Emitter:
    """Numbers and times the events of one input, all stamped with the same moment."""

    def __init__(self, session: Session, t_ms: int):
        self.session = session
        self.t_ms = max(t_ms, session._snap.last_ms)
        self.events: list[Event] = []

    def emit(self, kind: EventKind, action: str | None = None, data: Mapping[str, Any] | None = None) -> None:
        snap = self.session._snap
        seq = snap.seq + 1
        self.events.append(Event(seq, self.t_ms, kind, snap.state, action, MappingProxyType(dict(data or {}))))
        self.session._snap = replace(snap, seq=seq, last_ms=self.t_ms)

    def mistake(self, mistake: Mistake, source: str, ref: str) -> None:
        data = {
            "code": mistake.code,
            "severity": str(mistake.severity),
            "hazard": mistake.hazard,
            "source": source,
            "ref": ref,
        }
        if mistake.step:
            data["step"] = mistake.step
        self.emit(EventKind.MISTAKE, data=data)

    def finish(self) -> list[Event]:
        self.session.extend_menu()
        return self.events


def replay(
    course: Course, events: Sequence[Event], *, clock: Clock = monotonic_ms, session_id: str | None = None
) -> Session:
    """Rebuild a session from its stored events by feeding its inputs through the engine again.

    Each input is fed at its stored time, in integer milliseconds, so the events made again carry exactly the stored
    times. Raises ReplayMismatch at the first event the course and seed do not reproduce, naming `session_id` when
    given. The returned session continues on `clock`, from the time of the last event.
    """
    try:
        return _replay(course, events, clock)
    except ReplayMismatch as exc:
        raise exc.of_session(session_id) if session_id else exc from None


def _replay(course: Course, events: Sequence[Event], clock: Clock) -> Session:
    if not events or events[0].kind is not EventKind.STARTED:
        raise ReplayMismatch(1, "the first event is not 'started'")
    first = events[0]
    try:
        seed, lang = int(first.data["seed"]), str(first.data.get("lang", "zh"))
    except (KeyError, TypeError, ValueError):
        raise ReplayMismatch(1, "the 'started' event has no valid seed") from None
    try:
        mode = rules_of(first.data)
    except ValueError:
        raise ReplayMismatch(1, f"the 'started' event names no known mode: {_short(first.data.get('mode'))}") from None
    manual = ManualClock()
    session = Session(
        course, seed, clock=manual, lang=lang, timers_after_shown=first.data.get("timers") == "shown", mode=mode
    )
    produced = session.start()
    checked = _compare(events, produced, 0)
    for stored in events:
        if stored.kind in INPUT_KINDS and stored.seq > len(produced):
            if not isinstance(stored.t_ms, int) or stored.t_ms < 0:
                raise ReplayMismatch(stored.seq, f"its time {stored.t_ms!r} is not a whole number of milliseconds")
            manual.ms = stored.t_ms
            produced += _apply_input(session, stored)
            # Compared as we go, so the error names the first event that differs, not a later input it derailed.
            checked = _compare(events, produced, checked)
        elif stored.seq > len(produced):
            raise ReplayMismatch(stored.seq, f"{stored.kind} is not explained by any input")
    if len(produced) != len(events):
        raise ReplayMismatch(min(len(produced), len(events)) + 1, "the number of events differs")
    # Continue on the real clock from where the stored session stopped.
    session._clock = clock
    session._origin = clock()
    session._offset_ms = session._snap.last_ms
    return session


def _compare(stored: Sequence[Event], made: Sequence[Event], start: int) -> int:
    """Raise ReplayMismatch at the first of stored[start:] that differs from what the engine made; return how far
    both lists were compared."""
    end = min(len(stored), len(made))
    for s, m in zip(stored[start:end], made[start:end], strict=True):
        if s.canonical() != m.canonical():
            raise ReplayMismatch(s.seq, _difference(s, m))
    return end


def _difference(stored: Event, made: Event) -> str:
    """What differs, field by field, in a few words (a tampered field can hold anything: each value is shortened)."""
    a, b = stored.canonical(), made.canonical()
    fields = [key for key in ("kind", "state", "action", "t_ms", "data", "seq") if a[key] != b[key]]
    parts = [f"{key} {_short(a[key])}, the course gives {_short(b[key])}" for key in fields]
    return f"stored {stored.kind} in {_short(stored.state)} has " + "; ".join(parts)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)  # repr: never a line break, whatever was stored
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _apply_input(session: Session, stored: Event) -> list[Event]:
    try:
        if stored.kind is EventKind.CHOSE:
            made = session.tick()
            return made or session.choose(str(stored.action))
        if stored.kind is EventKind.TIMED_OUT:
            return session.tick()
        if stored.kind is EventKind.RESUMED:
            return session.tick() or session.resume(_int_data(stored, "gap_ms"))
        if stored.kind is EventKind.HINT:
            return session.hint()
        if stored.kind is EventKind.PAUSED:
            return session.pause()
        if stored.kind is EventKind.UNPAUSED:
            return session.unpause(_int_data(stored, "paused_ms"))
        if stored.kind is EventKind.SHOWN:
            return session.tick() or session.shown()
        return session.tick() or session.abort(str(stored.data.get("reason", "trainee")))
    except EngineError as exc:
        raise ReplayMismatch(stored.seq, str(exc)) from exc


def _int_data(stored: Event, key: str) -> int:
    try:
        return int(stored.data.get(key, 0))
    except (TypeError, ValueError):
        raise ReplayMismatch(stored.seq, f"{key} {stored.data.get(key)!r} is not a number") from None
