"""`trainer score`: rescore stored sessions with the current model; earlier scores stay in the history."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trainer.cli import command
from trainer.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from trainer.scoring.rubric import SessionScore

BATCH = 1000  # sessions graded per model call and saved per transaction
FINISHED = ("completed", "failed", "aborted")


def register(sub: Any) -> None:
    p = command(sub, "score", score)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--session", metavar="ID", help="one session (id or a unique prefix)")
    which.add_argument("--all", action="store_true", help="every finished session (with --since: started since then)")
    p.add_argument("--since", metavar="DATE", help="with --all: only sessions started on or after DATE")
    p.add_argument("--model", metavar="PATH", help="a model file, or 'rubric' (default: the current model)")
    p.add_argument("--dry-run", action="store_true", help="show what would change, store nothing")
    p.add_argument("--db", metavar="URL")
    p.add_argument("--courses", action="append", default=[], metavar="DIR", help="an extra course folder")


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


@dataclass
class Rescored:
    done: int = 0
    changed: int = 0  # scores that differ from the current one
    flipped: int = 0  # pass/fail verdicts that differ
    flagged: int = 0  # grades flagged for an instructor's review
    missing: dict[str, int] = field(default_factory=dict)  # "course version" -> sessions left as they are
    results: list[tuple[Any, SessionScore]] = field(default_factory=list)  # kept only when asked (one session)


def rescore(
    store: Any,
    library: Any,
    grader: Any,
    records: Sequence[Any],
    *,
    dry_run: bool = False,
    keep: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Rescored:
    """Score `records` (finished sessions) with `grader` in batches: one bulk read, one model call and one transaction
    per BATCH sessions. Each new score is added to the history and becomes the session's score (unless dry_run)."""
    from trainer.scoring.grade import score_row

    out = Rescored()
    playable = []
    for r in records:
        course = library.get(r.course_id)
        if course is None or course.content_hash != r.content_hash:
            key = f"{r.course_id} {r.course_version}"
            out.missing[key] = out.missing.get(key, 0) + 1
        else:
            playable.append((r, course))
    for batch in _batches(playable, BATCH):
        events = dict(store.events_of([r.id for r, _ in batch]))
        results = grader.score_many([(course, events[r.id]) for r, course in batch])
        rows = []
        for (r, _), result in zip(batch, results, strict=True):
            out.changed += r.score is None or abs(r.score - result.score) > 1e-9
            out.flipped += r.passed is not None and r.passed != result.passed
            out.flagged += sum(d.review for d in result.deductions + result.cleared)
            rows.append(score_row(r.id, result))
            if keep:
                out.results.append((r, result))
        if not dry_run:
            store.add_scores(rows)
        out.done += len(batch)
        if progress:
            progress(out.done, len(playable))
    return out


def score(args: argparse.Namespace) -> int:
    """Rescore finished sessions with the current model (or --model), keeping every earlier score in the history.

    Each session's course must be loaded at the exact version it was played on; sessions whose course is missing are
    listed and left as they are. Prints how many scores and pass/fail verdicts changed and how many grades are
    flagged for an instructor's review.
    """
    from rich.console import Console

    from trainer.cli.sessions import _since
    from trainer.course.library import load_library
    from trainer.scoring.grade import Grader
    from trainer.store.store import Store

    if args.since and not args.all:
        raise UsageError("--since goes with --all")
    grader = Grader.current(args.model, strict=True)
    library = load_library(args.courses)
    console = Console()
    with Store.open(args.db) as store:
        if args.session:
            records = [store.session(args.session)]
            if str(records[0].status) not in FINISHED:
                raise UsageError(
                    f"session {records[0].id[:8]} is {records[0].status}; only finished sessions are scored"
                )
        else:
            since = _since(args.since) if args.since else None
            records = [r for r in store.sessions(since=since) if str(r.status) in FINISHED]
        with console.status(f"scoring {len(records)} session(s) with {grader.name}") as status:
            done = rescore(
                store,
                library,
                grader,
                records,
                dry_run=args.dry_run,
                keep=bool(args.session),
                progress=lambda n, total: status.update(f"scoring with {grader.name}: {n}/{total}"),
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
