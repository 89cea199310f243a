"""What every screen of the app shares: key hints (the footer) in the current language, the typed app, and blocking
work (the database, grading) run in Textual thread workers."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerFailed, WorkerState

from trainer.errors import TrainerError

if TYPE_CHECKING:
    from trainer.tui.app import TrainerApp

R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True)
class Failed:
    """What a worker's work raised that its screen expects (a database error...): handed to the screen, not raised."""

    error: Exception


@dataclass(frozen=True)
class _Then(Generic[T]):
    done: Callable[[T], object]
    failed: Callable[[Any], object] | None


class ThreadWork(DOMNode):
    """Blocking work in a thread worker, the Textual way: `in_thread` starts it and returns, so the handler that asked
    for it returns too and the screen's message queue keeps moving (a handler that awaited the thread held every message
    behind it); the worker's completion, a message on this screen's queue, drives the next step on the UI thread.

    One worker per group: a newer one cancels the older (exclusive), and a screen's workers are cancelled when it is
    removed; the result of a cancelled worker is dropped. A thread cannot be stopped: the work itself still ends, so
    work that writes must not be started twice (the player runs its writes one at a time)."""

    _pending_work: dict[Worker[Any], _Then[Any]]  # made on first use (pending_work): no __init__ to cooperate with

    def in_thread(
        self,
        work: Callable[[], T],
        done: Callable[[T], object],
        *,
        group: str,
        failed: Callable[[Any], object] | None = None,
        expected: tuple[type[Exception], ...] = (TrainerError,),
    ) -> Worker[T | Failed]:
        """Run `work` in a thread worker of `group`, then `done(result)` on the UI thread (awaited if it returns an
        awaitable). An `expected` exception goes to `failed(error)` instead; any other ends the app, as an exception in
        a handler does."""

        def guarded() -> T | Failed:
            try:
                return work()
            except expected as exc:
                if failed is None:
                    raise
                return Failed(exc)

        worker = self.run_worker(guarded, name=group, group=group, thread=True, exclusive=True)
        self.pending_work[worker] = _Then(done, failed)
        return worker

    async def wait_in_thread(self, work: Callable[[], T], *, group: str) -> T:
        """Run `work` in a thread worker of `group` and wait for it here: only for a handler that must hold the keys
        typed after it until it is done (the sign-in: the lookup decides which field they belong in). The worker's
        completion does not come through this screen's queue, so waiting for it here does not block it."""
        worker = self.run_worker(work, name=group, group=group, thread=True, exclusive=True, exit_on_error=False)
        try:
            return await worker.wait()
        except WorkerFailed as failed:
            raise failed.error from None

    @property
    def pending_work(self) -> dict[Worker[Any], _Then[Any]]:
        """What to do when each worker started by `in_thread` ends."""
        if not hasattr(self, "_pending_work"):
            self._pending_work = {}
        return self._pending_work

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        then = self.pending_work.pop(event.worker, None)
        if then is None or event.state is not WorkerState.SUCCESS:
            return
        result = event.worker.result
        outcome = then.failed(result.error) if isinstance(result, Failed) and then.failed else then.done(result)
        if inspect.isawaitable(outcome):
            await outcome


# ThreadWork comes after the Screen class: Textual takes a class's CSS type names (Screen { ... } in app.tcss) from its
# first DOMNode base only.
class TrainerScreen(Screen[R], ThreadWork):
    if TYPE_CHECKING:  # for the type checker only: every screen of ours runs in a TrainerApp

        @property
        def app(self) -> TrainerApp: ...  # type: ignore[override]

    def on_screen_resume(self) -> None:
        self.app.localize_bindings(self)


class TrainerModal(ModalScreen[R], ThreadWork):
    if TYPE_CHECKING:

        @property
        def app(self) -> TrainerApp: ...  # type: ignore[override]

    def on_screen_resume(self) -> None:
        self.app.localize_bindings(self)
