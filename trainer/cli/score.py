"""`trainer score`: rescore stored sessions with the current model; earlier scores stay in the history."""

from __future__ import annotations

import argparse
from typing import Any

from trainer.cli.common import command
from trainer.errors import ExitCode, UsageError


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


def score(args: argparse.Namespace) -> int:
    """Rescore finished sessions with the current model (or --model), keeping every earlier score in the history.

    Each session's course must be loaded at the exact version it was played on; sessions whose course is missing are
    listed and left as they are. Prints how many scores and pass/fail verdicts changed and how many grades are
    flagged for an instructor's review.
    """
    from rich.console import Console
    from rich.live import Live

    from trainer.cli.common import since_moment
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.scoring.grade import Grader
    from trainer.scoring.rescoring import FINISHED, Trail, rescore, rescore_all
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
                since = since_moment(args.since, site_zone(store)) if args.since else None
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
