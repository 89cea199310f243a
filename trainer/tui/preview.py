"""An instructor's preview of a course: the real engine, nothing stored, and free jumps between states."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType

from trainer.course.conditions import Value
from trainer.course.model import Course
from trainer.engine.events import Event
from trainer.engine.session import Clock, Session, monotonic_ms
from trainer.store.records import StoredEvent


class PreviewSession:
    """Looks like a DurableSession to the player screen, but keeps its events in memory only."""

    id = "preview"
    score = None

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

    def release(self) -> None:
        pass

    def jump(self, state_id: str) -> None:
        """Put the trainee in `state_id` now, keeping the variables (the instructor sets them in the inspector)."""
        snap = self.engine.snapshot()
        now = self.engine.now_ms()
        self.engine.restore(
            replace(snap, state=state_id, entered_ms=now, active_events=(), ended=False, outcome=None, menu=())
        )
        self.engine.extend_menu()

    def set_variable(self, name: str, value: Value) -> None:
        snap = self.engine.snapshot()
        self.engine.restore(replace(snap, variables=MappingProxyType({**snap.variables, name: value})))
        self.engine.extend_menu()
