"""`trainer score`: rescore stored sessions with the current model; earlier scores stay in the history."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from trainer.cli import command
from trainer.cli.gcpause import paused_gc
from trainer.errors import ExitCode, TrainerError, UsageError

if TYPE_CHECKING:
    from trainer.scoring.rubric import SessionScore

BATCH = 5000  # sessions read and graded together, one model call (the model's own cost per call: ~8 ms)
FINISHED = ("completed", "failed", "aborted")
ROUNDS = 4  # batches per worker process, at least
WRITE_EVERY = 20_000  # scorings stored per transaction, at most a batch more
PARALLEL_FROM = 2000  # sessions: fewer are scored in this process (starting workers would cost more than it saves)


def register(sub: Any) -> None:
    p = command(sub, "score", score, uses=("db", "courses"))
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--session", metavar="ID", help="one session (id or a unique prefix)")
    which.add_argument("--all", action="store_true", help="every finished session (with --since: started since then)")
    p.add_argument("--since", metavar="DATE", help="with --all: only sessions started on or after DATE")
    p.add_argument("--model", metavar="PATH", help="a model file, or 'rubric' (default: the current model)")
    p.add_argument("--dry-run", action="store_true", help="show what would change, store nothing")
    p.add_argument("--reason", default="", metavar="TEXT", help="why (kept in the audit trail with each new score)")
    p.add_argument(
        "--jobs", type=int, metavar="N", help="worker processes for --all (default: one per CPU; 1: no workers)"
    )


@dataclass
class Rescored:
    done: int = 0
    changed: int = 0  # scores that differ from the current one
    flipped: int = 0  # pass/fail verdicts that differ
    flagged: int = 0  # grades flagged for an instructor's review
    missing: dict[str, int] = field(default_factory=dict)  # "course version" -> sessions left as they are
    results: list[tuple[Any, SessionScore]] = field(default_factory=list)  # kept only when asked (one session)


# One session's new scoring, as a worker process sends it back: score, passed, grades flagged, the row for add_scores.
Graded = tuple[float, bool, int, dict[str, Any]]


def default_jobs() -> int:
    """One worker process per CPU this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def rescore_all(
    store: Any,
    library: Any,
    grader: Any,
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
    store: Any,
    library: Any,
    grader: Any,
    records: Sequence[Any],
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
    store: Any,
    library: Any,
    grader: Any,
    records: Sequence[Any],
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
            for (r, _), (score, passed, flagged, row) in zip(batch, results, strict=True):
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
    store: Any, grader: Any, batch: Sequence[tuple[Any, Any]], keep: list[tuple[Any, SessionScore]] | None = None
) -> list[Graded]:
    """Read, detect and grade one batch: what a worker process does (or this process, without workers)."""
    with paused_gc():
        return _graded(store, grader, batch, keep)  # its events and mistakes are freed before the collector is back


def _graded(
    store: Any, grader: Any, batch: Sequence[tuple[Any, Any]], keep: list[tuple[Any, SessionScore]] | None
) -> list[Graded]:
    from trainer.scoring.grade import score_row

    events = dict(store.event_rows_of([r.id for r, _ in batch]))
    results = grader.score_rows([(course, events[r.id]) for r, course in batch])
    if keep is not None:
        keep += [(r, result) for (r, _), result in zip(batch, results, strict=True)]
    return [
        (
            result.score,
            result.passed,
            sum(d.review for d in result.deductions + result.cleared),
            score_row(r.id, result, as_json=True),
        )
        for (r, _), result in zip(batch, results, strict=True)
    ]


# What the workers work on, set before they are forked (so they inherit it instead of receiving it pickled).
_work: tuple[Any, Any, Sequence[Sequence[tuple[Any, Any]]]] | None = None


def _in_workers(
    store: Any, grader: Any, batches: Sequence[Sequence[tuple[Any, Any]]], jobs: int
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


def score(args: argparse.Namespace) -> int:
    """Rescore finished sessions with the current model (or --model), keeping every earlier score in the history.

    Each session's course must be loaded at the exact version it was played on; sessions whose course is missing are
    listed and left as they are. Prints how many scores and pass/fail verdicts changed and how many grades are
    flagged for an instructor's review.
    """
    from rich.console import Console
    from rich.live import Live

    from trainer.cli.sessions import _since
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.scoring.grade import Grader
    from trainer.sitetime import site_zone

    if args.since and not args.all:
        raise UsageError("--since goes with --all")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs takes a number of worker processes, 1 or more")
    from trainer.store import audit

    grader = Grader.current(args.model, strict=True)
    library = load_library(args.courses)
    # Every stored rescoring is in the audit trail. One with a model other than the current one (--model) has a row
    # per session, which `sessions show` and the reports show with who asked for it and why; one with the current
    # model (routine, after installing a new one) a row per transaction that counts its sessions.
    trail = Trail(
        audit.SCORE_MODEL if args.model else audit.SCORE_RESCORE,
        audit.Act(args.reason),
        {"model": args.model, "grader": grader.name} if args.model else {"grader": grader.name},
        per_session=bool(args.model),
    )
    console = Console()
    with open_store(args, library=library, repair=not args.dry_run) as store:
        record = None
        if args.session:
            record = store.session(args.session)
            if str(record.status) not in FINISHED:
                raise UsageError(f"session {record.id[:8]} is {record.status}; only finished sessions are scored")
        # Refreshed by hand after each batch: no refresh thread, which the worker processes must not be forked with.
        with Live(f"scoring with {grader.name}", console=console, auto_refresh=False, transient=True) as live:

            def progress(n: int, total: int) -> None:
                live.update(f"scoring with {grader.name}: {n}/{total}", refresh=True)

            if record is not None:
                done = rescore(
                    store,
                    library,
                    grader,
                    [record],
                    dry_run=args.dry_run,
                    keep=True,
                    progress=progress,
                    trail=trail,
                )
            else:
                since = _since(args.since, site_zone(store)) if args.since else None
                done = rescore_all(
                    store,
                    library,
                    grader,
                    since=since,
                    dry_run=args.dry_run,
                    progress=progress,
                    jobs=args.jobs,
                    trail=trail,
                )
    for r, result in done.results:
        note = f"; {result.note}" if result.note else ""
        old = "none" if r.score is None else f"{r.score:g} ({'passed' if r.passed else 'failed'})"
        console.print(
            f"session {r.id}: {old} -> {result.score:g} ({'passed' if result.passed else 'failed'}: {result.reason}), "
            f"graded by {result.scorer}{note}",
            highlight=False,
        )
    verb = "would be rescored" if args.dry_run else "rescored"
    console.print(
        f"{done.done} session(s) {verb} with {grader.name}: {done.changed} score(s) changed, {done.flipped} pass/fail "
        f"verdict(s) changed, {done.flagged} grade(s) flagged for review"
        + (" (nothing stored)" if args.dry_run else ""),
        highlight=False,
    )
    for key, n in sorted(done.missing.items()):
        console.print(f"[yellow]{n} session(s) of {key} left as they are: that course version is not loaded[/yellow]")
    return ExitCode.ERROR if args.session and done.missing else ExitCode.OK
