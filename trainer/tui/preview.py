"""An instructor's preview of a course: the real engine, nothing stored, and free jumps between states."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType

from trainer.course.conditions import Value
from trainer.course.model import Course
from trainer.engine.clock import Clock, monotonic_ms
from trainer.engine.events import Event
from trainer.engine.modes import Mode
from trainer.engine.session import Session
from trainer.store.records import StoredEvent


class PreviewSession:
    """Looks like a DurableSession to the player screen, but keeps its events in memory only."""

    id = "preview"
    score = None
    mode = Mode.PRACTICE  # hints and feedback as in practice; nothing certifies, as nothing is stored

    def __init__(self, course: Course, *, seed: int = 0, lang: str = "zh", clock: Clock = monotonic_ms):
        self.engine = Session(course, seed, clock=clock, lang=lang)
        self.stored: list[StoredEvent] = []
        self._keep(self.engine.start)

    def _keep(self, step: Callable[[], list[Event]]) -> list[StoredEvent]:
        now = datetime.now(UTC)
        kept = [StoredEvent("preview", e, now, "", "") for e in step()]
        self.stored += kept
        return kept

    def choose(self, action_id: str, on_ending: Callable[[list[Event]], None] | None = None) -> list[StoredEvent]:
        return self._keep(lambda: self.engine.choose(action_id))

    def tick(self, on_ending: Callable[[list[Event]], None] | None = None) -> list[StoredEvent]:
        return self._keep(self.engine.tick)

    def pause(self) -> list[StoredEvent]:
        return self._keep(self.engine.pause)

    def unpause(self) -> list[StoredEvent]:
        return self._keep(self.engine.unpause)

    def shown(self) -> list[StoredEvent]:
        return self._keep(self.engine.shown)

    def abort(self, reason: str = "instructor") -> list[StoredEvent]:
        return self._keep(lambda: self.engine.abort(reason))

    def hint(self) -> list[StoredEvent]:
        return self._keep(self.engine.hint)

    def heartbeat(self) -> None:
        pass  # nothing is stored, so no other terminal could take this session over

    def release(self) -> None:
        pass

    def jump(self, state_id: str) -> bool:
        """Put the trainee in `state_id` now, with the variables of the shortest way there from the start (the old
        ones could contradict the state: locks hung in a state before the isolation). False when no way leads there;
        the course's starting variables are used then. The instructor may still change them in the inspector."""
        reached = variables_on_the_way(self.engine.course, state_id)
        snap = self.engine.snapshot()
        now = self.engine.now_ms()
        variables = reached if reached is not None else self.engine.course.variables
        self.engine.restore(
            replace(
                snap,
                state=state_id,
                variables=MappingProxyType(dict(variables)),
                entered_ms=now,
                active_events=(),
                ended=False,
                outcome=None,
                menu=(),
            )
        )
        self.engine.extend_menu()
        return reached is not None

    def set_variable(self, name: str, value: Value) -> None:
        snap = self.engine.snapshot()
        self.engine.restore(replace(snap, variables=MappingProxyType({**snap.variables, name: value})))
        self.engine.extend_menu()


def variables_on_the_way(course: Course, target: str, *, limit: int = 5000) -> Mapping[str, Value] | None:
    """The variables on arriving in `target` by the fewest actions from the start (breadth first over the real engine,
    its clock stopped so no timer runs out), or None if no way is found within `limit` situations."""
    engine = Session(course, 0, clock=lambda: 0)
    engine.start()
    if engine.state.id == target:
        return engine.variables
    queue = deque([engine.snapshot()])
    seen = {(queue[0].state, tuple(sorted(queue[0].variables.items())))}
    while queue and len(seen) < limit:
        snap = queue.popleft()
        engine.restore(snap)
        for offer in engine.available():
            engine.restore(snap)
            engine.choose(offer.action.id)
            if engine.state.id == target:
                return engine.variables
            after = engine.snapshot()
            key = (after.state, tuple(sorted(after.variables.items())))
            if not after.ended and key not in seen:
                seen.add(key)
                queue.append(after)
    return None
