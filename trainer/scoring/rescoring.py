"""Rescoring stored sessions: `trainer score`, and any finished session found without a score (cli/unscored.py).

Sessions are read, detected and graded in batches (one bulk read and one model call each) and their new scores stored
in few transactions; with many sessions, forked worker processes grade the batches while this process stores the
scores. Every earlier score stays in the history.

A session's mistakes and their features depend on its events and its course content, not on the model: they are kept
with its first scoring (Store.stored_features), and a rescoring reads those instead of the events. A session without
them, or whose stored features were made under another feature set (features.FEATURE_SET) or course content, or no
longer match their hash, is detected from its events as before; its new features are stored with its new score
(except over a row that no longer matches its hash: that one is evidence, `trainer sessions verify` reports it). The
grading is the same either way (Grader.score_detected), so are the scores and the graded lists. The store is anything with the few methods of ScoringStore (the
domain core does not import the database layer); trainer.store.store.Store is the one used.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from trainer.errors import TrainerError
from trainer.gcpause import paused_gc

if TYPE_CHECKING:
    from trainer.course.library import Library
    from trainer.course.model import Course
    from trainer.scoring.grade import Grader
    from trainer.scoring.rubric import SessionScore


class FinishedRecord(Protocol):
    """What rescoring reads of a stored session (trainer.store.records.FinishedSession)."""

    @property
    def id(self) -> str: ...
    @property
    def course_id(self) -> str: ...
    @property
    def course_version(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def score(self) -> float | None: ...
    @property
    def passed(self) -> bool | None: ...


class ScoringStore(Protocol):
    """What rescoring needs of the store."""

    def finished_sessions(self, *, since: datetime | None = ..., newest_first: bool = ...) -> Sequence[Any]: ...
    def event_rows_of(self, ids: Sequence[str]) -> Any: ...
    def stored_features(self, session_ids: Sequence[str], feature_set: str) -> Any: ...
    def add_scores(
        self,
        scores: Sequence[Mapping[str, Any]],
        *,
        act: Any = ...,
        action: str = ...,
        detail: Mapping[str, Any] | None = ...,
        per_session: bool = ...,
    ) -> None: ...
    def forget_connections(self, *, close: bool = ...) -> None: ...


BATCH = 5000  # sessions read and graded together, one model call (each call has a fixed cost: docs/performance.md)
FINISHED = ("completed", "failed", "aborted")
ROUNDS = 4  # batches per worker process, at least
WRITE_EVERY = 20_000  # scorings stored per transaction, at most a batch more
PARALLEL_FROM = 2000  # sessions: fewer are scored in this process (starting workers would cost more than it saves)


@dataclass
class Rescored:
    done: int = 0
    from_events: int = 0  # sessions whose events were read and detected (no stored features applied)
    changed: int = 0  # scores that differ from the current one
    flipped: int = 0  # pass/fail verdicts that differ
    flagged: int = 0  # grades flagged for an instructor's review
    missing: dict[str, int] = field(default_factory=dict)  # "course version" -> sessions left as they are
    results: list[tuple[FinishedRecord, SessionScore]] = field(
        default_factory=list
    )  # kept only when asked (one session)


# One session's new scoring, as a worker process sends it back: score, passed, grades flagged, the row for add_scores
# (with the features to store, when they were detected from the events), whether its events were read.
Graded = tuple[float, bool, int, dict[str, Any], bool]


def default_jobs() -> int:
    """One worker process per CPU this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def rescore_all(
    store: ScoringStore,
    library: Library,
    grader: Grader,
    *,
    since: datetime | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    jobs: int | None = None,
    trail: Trail | None = None,
) -> Rescored:
    """What `trainer score --all` does: list the finished sessions (started since `since`) and rescore() them."""
    with paused_gc():  # 100 000 records: the collector's passes over them would cost as much as reading them
        return rescore(
            store,
            library,
            grader,
            store.finished_sessions(since=since, newest_first=False),
            dry_run=dry_run,
            progress=progress,
            jobs=jobs,
            trail=trail,
        )


@dataclass(frozen=True)
class Trail:
    """How a rescoring is recorded in the audit trail (Store.add_scores)."""

    action: str  # trainer.store.audit.SCORE_MODEL or SCORE_RESCORE
    act: Any  # trainer.store.audit.Act: the reason given
    detail: dict[str, Any]  # added to each row's detail: the model asked for
    per_session: bool = True  # one row per session (else one per transaction, counting them)


def rescore(
    store: ScoringStore,
    library: Library,
    grader: Grader,
    records: Sequence[FinishedRecord],
    *,
    dry_run: bool = False,
    keep: bool = False,
    progress: Callable[[int, int], None] | None = None,
    jobs: int | None = None,
    trail: Trail | None = None,
) -> Rescored:
    """Score `records` (finished sessions) with `grader` in batches: one bulk read and one model call per batch (at most
    BATCH sessions), one transaction per WRITE_EVERY scorings. Each new score is added to the history and becomes the
    session's score (unless dry_run).

    With many sessions, `jobs` worker processes (default: one per CPU) read, detect and grade the batches while this
    process stores their scores: the same functions on the same batches, so the same scores as with jobs=1. Workers are
    forked (Linux), so they share the loaded courses and model; elsewhere, or with `keep` (the SessionScores are kept
    for the caller), everything runs in this process. With `trail`, each new score is recorded in the audit trail in
    the transaction that stores it.
    """
    with paused_gc():
        return _rescore(store, library, grader, records, dry_run, keep, progress, jobs, trail)


def _rescore(
    store: ScoringStore,
    library: Library,
    grader: Grader,
    records: Sequence[FinishedRecord],
    dry_run: bool,
    keep: bool,
    progress: Callable[[int, int], None] | None,
    jobs: int | None,
    trail: Trail | None = None,
) -> Rescored:
    out = Rescored()
    recorded: dict[str, Any] = (
        {}
        if trail is None
        else {"act": trail.act, "action": trail.action, "detail": trail.detail, "per_session": trail.per_session}
    )
    playable = []
    for r in records:
        course = library.get(r.course_id)
        if course is None or course.content_hash != r.content_hash:
            key = f"{r.course_id} {r.course_version}"
            out.missing[key] = out.missing.get(key, 0) + 1
        else:
            playable.append((r, course))
    jobs = default_jobs() if jobs is None else max(1, jobs)
    parallel = (
        jobs > 1
        and not keep
        and len(playable) >= PARALLEL_FROM
        and sys.platform == "linux"
        and not getattr(store, "in_memory", False)
    )
    if parallel:
        # Every worker gets as many batches, of about the same size, and at least ROUNDS of them; the last round is cut
        # in quarters. Scores are stored as batches come back: the last ones, stored once every worker is done, are few.
        rounds = max(ROUNDS, -(-len(playable) // (jobs * BATCH)))
        size = -(-len(playable) // (jobs * rounds))
        last_round = max(0, len(playable) - jobs * size)  # where the sessions of the last round start
        batches = [playable[first : min(first + size, last_round)] for first in range(0, last_round, size)]
        batches += [
            playable[first : first + -(-size // 4)] for first in range(last_round, len(playable), -(-size // 4))
        ]
        graded: Generator[list[Graded], None, None] = _in_workers(store, grader, batches, jobs)
    else:
        batches = [playable[first : first + BATCH] for first in range(0, len(playable), BATCH)]
        graded = (_grade_batch(store, grader, batch, out.results if keep else None) for batch in batches)
    # Scores are stored WRITE_EVERY at a time (a transaction's cost is mostly the pages it changes, shared by more rows),
    # and those of the last round's batches one batch at a time, so that little is left to store once all are graded.
    one_by_one = len(batches) - (4 * jobs if parallel else 1)
    rows: list[dict[str, Any]] = []
    with closing(graded):  # on an error here, the workers stop at once
        for index, (batch, results) in enumerate(zip(batches, graded, strict=True)):
            for (r, _), (score, passed, flagged, row, from_events) in zip(batch, results, strict=True):
                out.from_events += from_events
                out.changed += r.score is None or abs(r.score - score) > 1e-9
                out.flipped += r.passed is not None and r.passed != passed
                out.flagged += flagged
                rows.append(row)
            if len(rows) >= WRITE_EVERY or index >= one_by_one:
                if not dry_run:
                    store.add_scores(rows, **recorded)
                rows = []
            out.done += len(batch)
            if progress:
                progress(out.done, len(playable))
    return out


def _grade_batch(
    store: ScoringStore,
    grader: Grader,
    batch: Sequence[tuple[FinishedRecord, Course]],
    keep: list[tuple[FinishedRecord, SessionScore]] | None = None,
) -> list[Graded]:
    """Read, detect and grade one batch: what a worker process does (or this process, without workers)."""
    with paused_gc():
        return _graded(store, grader, batch, keep)  # its events and mistakes are freed before the collector is back


def _graded(
    store: ScoringStore,
    grader: Grader,
    batch: Sequence[tuple[FinishedRecord, Course]],
    keep: list[tuple[FinishedRecord, SessionScore]] | None,
) -> list[Graded]:
    from trainer.scoring.features import FEATURE_SET, for_store, from_stored
    from trainer.scoring.grade import Detected, detected, score_row

    # The features stored with the sessions' first scorings, where they apply; `keep` (one session, or the repairs of
    # unscored ones: they have none) reads the events, so that the scores handed back name each mistake's rule.
    kept = store.stored_features([r.id for r, _ in batch], FEATURE_SET) if keep is None else None
    sessions: list[Detected | None] = []
    for r, course in batch:
        got = kept.found.get(r.id) if kept is not None else None
        read = None
        if got is not None and got[0] == course.content_hash:
            # a text not as this Trainer stores it under this feature set is detected again, and replaced
            with suppress(ValueError, KeyError, TypeError, IndexError):
                read = (course, *from_stored(got[1]))
        sessions.append(read)
    todo = [r.id for (r, _), read in zip(batch, sessions, strict=True) if read is None]
    events = dict(store.event_rows_of(todo)) if todo else {}
    # Features detected now from the events are stored with the new score, by session id; but not over a row that no
    # longer matches its hash (evidence for `sessions verify`), nor with `keep` (the stored rows were not read).
    fresh: dict[str, dict[str, str]] = {}
    for i, (r, course) in enumerate(batch):
        if sessions[i] is None:
            mistakes, outcome, _ = detected(course, events[r.id])
            sessions[i] = (course, mistakes, outcome, None)
            if kept is not None and r.id not in kept.altered:
                fresh[r.id] = for_store(course, mistakes, outcome)
    results = grader.score_detected([s for s in sessions if s is not None])
    if keep is not None:
        keep += [(r, result) for (r, _), result in zip(batch, results, strict=True)]
    out: list[Graded] = []
    for (r, _), result in zip(batch, results, strict=True):
        row = score_row(r.id, result, as_json=True)
        features = fresh.get(r.id)
        if features is not None:
            row["features"] = features
        out.append(
            (
                result.score,
                result.passed,
                sum(d.review for d in result.deductions + result.cleared),
                row,
                r.id in events,
            )
        )
    return out


# What the workers work on, set before they are forked (so they inherit it instead of receiving it pickled).
_work: tuple[ScoringStore, Grader, Sequence[Sequence[tuple[FinishedRecord, Course]]]] | None = None


def _in_workers(
    store: ScoringStore, grader: Grader, batches: Sequence[Sequence[tuple[FinishedRecord, Course]]], jobs: int
) -> Generator[list[Graded], None, None]:
    """Each batch graded in one of `jobs` forked worker processes, in the order of the batches."""
    global _work
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    store.forget_connections()  # the workers open their own
    _work = (store, grader, batches)
    gc.freeze()  # what is loaded now is never collected: neither walked by the collector nor copied into the workers
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(batches)), mp_context=multiprocessing.get_context("fork"), initializer=_worker_start
    )
    try:
        yield from pool.map(_work_on, range(len(batches)))
    except BrokenProcessPool as exc:
        raise TrainerError(f"a scoring worker process stopped unexpectedly ({exc}); try again with --jobs 1") from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _work = None
        gc.unfreeze()


def _worker_start() -> None:
    assert _work is not None
    _work[0].forget_connections(close=False)  # never use or close the parent's connections


def _work_on(index: int) -> list[Graded]:
    assert _work is not None
    store, grader, batches = _work
    return _grade_batch(store, grader, batches[index])
