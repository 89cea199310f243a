"""An engine session bound to the store: the events of each input are committed before they are handed back.

The terminal app and `trainer play` both drive courses through this, so "acknowledged" always means "on disk". If a
save fails, the engine is rolled back to where it was, so the trainee keeps their place and can simply try again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from trainer.course.model import Course
from trainer.engine.clock import Clock, monotonic_ms
from trainer.engine.events import TERMINAL_KINDS, Event
from trainer.engine.modes import DEFAULT_MODE, Mode
from trainer.engine.session import ReplayMismatch, Session, replay
from trainer.errors import TrainerError
from trainer.scoring.detect import detect, outcome_of
from trainer.scoring.grade import Grader, score_row
from trainer.scoring.rubric import SessionScore, score_session
from trainer.store.records import SessionRecord, StoredEvent
from trainer.store.store import Store


class ResumeError(TrainerError):
    pass


class DurableSession:
    def __init__(self, store: Store, record: SessionRecord, engine: Session, stored: list[StoredEvent]):
        self.store = store
        self.record = record
        self.engine = engine
        self.stored = stored
        self.score: SessionScore | None = None

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def mode(self) -> Mode:
        """What the session counts as: its row's mode (a session begun before modes is an exam)."""
        return Mode(self.record.mode)

    @classmethod
    def begin(
        cls,
        store: Store,
        course: Course,
        badge: str,
        *,
        seed: int,
        lang: str = "zh",
        clock: Clock = monotonic_ms,
        timers_after_shown: bool = False,
        mode: Mode | None = None,
    ) -> DurableSession:
        """Start a session. `timers_after_shown` (the terminal app): a timer starts when the app reports the scene
        shown (see Session.shown), not when the state is entered. `mode`: practice or exam (only an exam certifies);
        None plays by the rules before modes and counts as an exam, as sessions recorded then do (the app and `trainer
        play` always name a mode; tools and tests that replay old behaviour leave it out)."""
        record = store.create_session(
            badge, course.id, course.version, course.content_hash, seed, lang, mode=str(mode or DEFAULT_MODE)
        )
        engine = Session(course, seed, clock=clock, lang=lang, timers_after_shown=timers_after_shown, mode=mode)
        durable = cls(store, record, engine, [])
        durable._commit(engine.start, rollback=False)
        return durable

    @classmethod
    def resume(cls, store: Store, course: Course, session_id: str, *, clock: Clock = monotonic_ms) -> DurableSession:
        record = store.session(session_id)
        if record.content_hash != course.content_hash:
            raise ResumeError(
                f"session {record.id[:8]} was played on {record.course_id} {record.course_version} "
                f"(content {record.content_hash[:12]}), but the course file now loaded differs "
                f"({course.version}, content {course.content_hash[:12]}); it cannot be resumed on another version"
            )
        record = store.claim(record.id)
        stored = store.events(record.id)
        if not stored:  # interrupted before its first event was saved: start it now
            # The mode the session was begun with is its row's; a session begun by the rules before modes is stored
            # as an exam and restarts as one.
            engine = Session(course, record.seed, clock=clock, lang=record.lang, mode=Mode(record.mode))
            durable = cls(store, record, engine, [])
            durable._commit(durable.engine.start, rollback=False)
            return durable
        try:
            engine = replay(course, [s.event for s in stored], clock=clock, session_id=record.id)
        except ReplayMismatch:
            store.release(record.id)  # not resumable here: leave it to an instructor (void) at once, not on our exit
            raise
        durable = cls(store, record, engine, stored)
        gap_ms = (datetime.now(UTC) - stored[-1].utc) // timedelta(milliseconds=1)
        durable._commit(lambda: engine.resume(gap_ms))
        return durable

    def _commit(
        self,
        step: Callable[[], list[Event]],
        rollback: bool = True,
        on_ending: Callable[[list[Event]], None] | None = None,
    ) -> list[StoredEvent]:
        before = self.engine.snapshot()
        events = step()
        if not events:
            return []
        if on_ending is not None and any(e.kind in TERMINAL_KINDS for e in events):
            # The caller may show the ending while it is graded and stored; the score is only known once stored.
            on_ending(events)
        try:
            # The session's ending and its score are stored in one transaction: graded first (the events are known before
            # they are stored), so no kill between two writes can leave a finished session without a score.
            score, features = self._grade(events) if any(e.kind in TERMINAL_KINDS for e in events) else (None, None)
            row = None if score is None else score_row(self.record.id, score)
            if row is not None and features is not None:  # kept with the first scoring: rescoring reads these
                row["features"] = features
            saved = self.store.append(self.record.id, events, score=row)
        except Exception:
            if rollback:
                self.engine.restore(before)
            raise
        self.stored += saved
        if score is not None:
            self.score = score
        return saved

    def _grade(self, new: list[Event]) -> tuple[SessionScore | None, dict[str, str] | None]:
        """Score the session that `new` (its last events, not yet stored) finishes, with the installed model (the rubric
        if there is none), and the features the score was computed from (stored with it: see Store.stored_features);
        no score only if even the rubric fails, and then the ending is stored without a score rather than lost: the
        next Trainer command scores it or `trainer sessions verify` reports it."""
        events = [s.event for s in self.stored] + new
        course = self.engine.course
        try:
            return Grader.current().score_kept(course, events)
        except Exception as exc:  # a broken model must never lose a finished session: the rubric scores it
            try:
                rubric = score_session(course, detect(course, events), outcome_of(events))
            except Exception:
                return None, None
            return replace(rubric, note=f"model not used: {exc}"), None

    def choose(self, action_id: str, on_ending: Callable[[list[Event]], None] | None = None) -> list[StoredEvent]:
        """Take an action; `on_ending` is called with the events (before they are graded and stored) if it ends the
        session, so an app can show the ending at once."""
        return self._commit(lambda: self.engine.choose(action_id), on_ending=on_ending)

    def tick(self, on_ending: Callable[[list[Event]], None] | None = None) -> list[StoredEvent]:
        return self._commit(self.engine.tick, on_ending=on_ending)

    def pause(self) -> list[StoredEvent]:
        return self._commit(self.engine.pause)

    def unpause(self) -> list[StoredEvent]:
        return self._commit(self.engine.unpause)

    def shown(self) -> list[StoredEvent]:
        return self._commit(self.engine.shown)

    def hint(self) -> list[StoredEvent]:
        return self._commit(self.engine.hint)

    def heartbeat(self) -> None:
        """Tell terminals on other machines that this session is still being played (the trainee is reading)."""
        self.store.heartbeat(self.record.id)

    def release(self) -> None:
        """The trainee left mid-way: mark the session interrupted now, so it can be resumed anywhere."""
        if not self.engine.ended:
            self.store.release(self.record.id)

    def abort(self, reason: str = "trainee") -> list[StoredEvent]:
        return self._commit(lambda: self.engine.abort(reason))
