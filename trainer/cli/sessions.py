"""`trainer sessions ...`: list, show, verify and void stored sessions."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, tzinfo
from typing import Any

from trainer.cli.common import command, plain, since_moment
from trainer.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    group = command(sub, "sessions", _group_help)
    ssub = group.add_subparsers(title="sessions commands", metavar="COMMAND")

    p = command(ssub, "list", list_sessions, uses=("db",))
    p.add_argument("--trainee", metavar="BADGE")
    p.add_argument("--course", metavar="COURSE_ID")
    p.add_argument("--since", metavar="DATE", help="sessions started at or after DATE (the site's time zone)")
    p.add_argument("--status", choices=["in_progress", "interrupted", "completed", "failed", "aborted", "voided"])

    p = command(ssub, "show", show)
    p.add_argument("session", metavar="ID", help="session id or a unique prefix of it")

    p = command(ssub, "verify", verify, uses=("db", "courses"))
    p.add_argument("session", nargs="?", metavar="ID", help="one session (default: all)")
    p.add_argument("--repair", action="store_true", help="score the finished sessions found without a score")

    p = command(ssub, "void", void, uses=("db",))
    p.add_argument("session", metavar="ID")
    p.add_argument("--reason", required=True, help="why the session is set aside (kept with it and in the audit trail)")
    p.add_argument(
        "--by", default="instructor", help="who voids it (default: instructor; your OS user is recorded too)"
    )


def _group_help(args: argparse.Namespace) -> int:
    """List, show, verify and void stored sessions (see trainer sessions --help)."""
    raise UsageError("choose a sessions command: list, show, verify, void (see trainer sessions --help)")


def _fmt_time(value: datetime | None, zone: tzinfo) -> str:
    """A stored moment as the site's wall time (the database's time zone, trainer/sitetime.py)."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def list_sessions(args: argparse.Namespace) -> int:
    """List sessions, newest first, with trainee, course, status, outcome and score."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from trainer.cli.unscored import open_store
    from trainer.sitetime import site_zone
    from trainer.store.records import SessionStatus

    with open_store(args) as store:
        zone = site_zone(store)
        rows = store.sessions(
            badge=args.trainee,
            course_id=args.course,
            since=since_moment(args.since, zone) if args.since else None,
            status=SessionStatus(args.status) if args.status else None,
        )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("id", "badge", "course", "started", "status", "outcome", "score", "events"):
        # The course folds onto a second line rather than vanish when 80 columns are not enough for every column.
        table.add_column(col, no_wrap=col != "course", overflow="fold", min_width=8 if col == "course" else None)
    for r in rows:
        score = "" if r.score is None else f"{r.score:g}{' ✔' if r.passed else ' ✖'}"
        table.add_row(
            r.id[:8],
            plain(r.badge),
            plain(f"{r.course_id} {r.course_version}"),
            _fmt_time(r.started_at, zone),
            str(r.status),
            r.outcome or "",
            score,
            str(r.event_count),
        )
    Console().print(table)
    return ExitCode.OK


def show(args: argparse.Namespace) -> int:
    """Show one session as a timeline: time, state, action, what happened, mistakes; then the score and deductions.

    The stored events are always shown. When the session's course version is loaded its events are replayed first:
    if the course does not give them back (tampering), one error line names the event and the exit code is 1."""
    from rich.console import Console
    from rich.table import Table

    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.engine.clock import ManualClock
    from trainer.engine.events import EventKind
    from trainer.engine.session import replay
    from trainer.scoring.judgement import read
    from trainer.sitetime import site_zone

    with open_store(args) as store:
        zone = site_zone(store)
        record = store.session(args.session)
        stored = store.events(record.id)
        trainee = store.get_trainee(record.badge)
        history = store.scores(record.id)
        trail = store.audit_trail(session=record.id)
    console = Console()
    who = plain(f"{trainee.name} ({trainee.badge}, {trainee.department})" if trainee else record.badge)
    console.print(f"[bold]Session {record.id}[/bold]  {who}")
    console.print(
        f"{record.course_id} {record.course_version}  {record.mode}  seed {record.seed}  "
        f"started {_fmt_time(record.started_at, zone)}  status {record.status}"
        + (f" (void: {plain(record.void_reason)})" if record.void_reason else ""),
        highlight=False,
    )
    hidden = stored[0].event.data.get("hidden") if stored else None
    if hidden:  # the hidden faults drawn for this session (trainer/engine/modes.py)
        faults = ", ".join(f"{plain(str(k))}={plain(json.dumps(v))}" for k, v in sorted(hidden.items()))
        console.print(f"hidden faults: {faults}", highlight=False)
    print_trail(console, trail, zone)
    table = Table(title_justify="left")
    for col in ("#", "time", "state", "action", "event", "detail"):
        table.add_column(col, overflow="fold")
    severity_style = {"minor": "yellow", "serious": "dark_orange", "critical": "bold red"}
    # A mistake's severity is its grade in the latest scoring (the one judgement every view shows), not the declared one.
    graded = {j.mistake: j for j in read(history[-1].details)} if history else {}
    for s in stored:
        e = s.event
        mm, ss = divmod(e.t_ms // 1000, 60)
        detail = ""
        style = None
        if e.kind is EventKind.MISTAKE:
            j = graded.get(f"m{e.seq}")
            grade = j.severity if j is not None else "not graded yet"
            detail = f"{e.data.get('code')} ({grade})"
            style = severity_style.get(grade)
        elif e.kind is EventKind.RANDOM_EVENT:
            detail = str(e.data.get("event"))
        elif e.kind is EventKind.HAZARD:
            detail = f"hazard: {e.data.get('category')}"
        elif e.kind in (EventKind.COMPLETED, EventKind.FAILED, EventKind.ABORTED):
            detail = f"{e.data.get('outcome')} ({e.data.get('reason')})"
        cells = (
            e.state,
            e.action or "",
            str(e.kind),
            detail,
        )  # as stored: a tampered event must not act on the terminal
        table.add_row(str(e.seq), f"{mm:02d}:{ss:02d}", *map(plain, cells), style=style)
    console.print(table)
    course = load_library(args.courses).get(record.course_id)
    if course is None or course.content_hash != record.content_hash:
        console.print(
            "[dim]The exact course version of this session is not loaded; deductions cannot be explained.[/dim]"
        )
        return ExitCode.OK
    events = [s.event for s in stored]
    # The events above are shown as stored whatever happens; if the course does not give them back, say so on one
    # line and stop there: deductions explained from a record the course does not reproduce would mislead.
    if events:  # a session interrupted before its first event was saved has nothing to replay
        replay(course, events, clock=ManualClock(), session_id=record.id)
    print_score(console, course, history, events, args.lang or "en", zone)
    return ExitCode.OK


def print_trail(console: Any, trail: list[Any], zone: tzinfo) -> None:
    """The session's audit rows (voids, relabels, rescorings): when, who (OS user, host, terminal), what, why."""
    from trainer.reports.changes import describe

    for row in trail:
        why = f": {plain(row.reason)}" if row.reason else " (no reason given)"
        console.print(
            f"[yellow]{_fmt_time(row.at, zone)}  {plain(describe(row.action, row.detail))}  by {plain(row.who)}{why}[/yellow]",
            highlight=False,
        )


def print_score(console: Any, course: Any, history: list[Any], events: list[Any], lang: str, zone: tzinfo) -> None:
    """The session's current score (the last one stored, else graded now) and its graded list, as the debrief shows it:
    every deduction with its rule, why it got its grade (declared severity, the facts, what the model weighed and its
    confidence), whether it is flagged for review, the right way, and the consequences folded under it."""
    from trainer.scoring.judgement import explained, explanation, read

    if history:
        last = history[-1]
        judged = read(last.details)
        score, passed, reason, scorer, note = last.score, last.passed, last.reason, last.scorer, ""
        when = f", {_fmt_time(last.scored_at, zone)}" + (
            f"; {len(history) - 1} earlier scoring(s)" if len(history) > 1 else ""
        )
    else:
        from trainer.scoring.grade import Grader, details

        result = Grader.current().score(course, events)
        judged = read(details(result))
        score, passed, reason, scorer, note = result.score, result.passed, result.reason, result.scorer, result.note
        when = ", not stored"
    verdict = "[green]passed ✔[/green]" if passed else "[red]failed ✖[/red]"
    console.print(f"Score {score:g}  {verdict}  ({reason})  [dim]graded by {scorer}{when}[/dim]")
    if note:
        console.print(f"[dim]{note}[/dim]", highlight=False)
    flagged = 0
    right = "正确做法" if lang == "zh" else "the right way"
    for row in explained(course, events, judged):
        j = row.judged
        std = f" [{row.standard}]" if row.standard else ""
        confidence = f"  {100 * j.confidence:.0f}%" if scorer != "rubric" else ""
        review = "  REVIEW" if j.review else ""
        flagged += bool(j.review)
        at = f" at event {j.seq}" if j.seq is not None else ""
        lines = [
            f"  -{j.points:g}  {j.code} ({j.severity}){confidence}{review}{at}: {row.rule.get(lang)}{std}",
            f"        {explanation(j, lang, scorer=scorer)}",
        ]
        if row.instead is not None:
            lines.append(f"        -> {right}: {row.instead.get(lang)}")
        if row.consequences:  # listed under their root, without points (docs/scoring.md, "Root causes fold")
            lines.append(f"        {explanation(row.consequences[0].judged, lang, scorer=scorer)}")
        for c in row.consequences:
            lines.append(f"          0  {c.judged.code}: {c.rule.get(lang)}")
        for line in lines:
            console.print(plain(line), highlight=False, markup=False)
    if flagged:
        console.print(
            f"[yellow]{flagged} grade(s) flagged for review[/yellow] (the model's confidence is below its threshold): "
            "an instructor can grade them with `trainer label --session ID`"
        )


def verify(args: argparse.Namespace) -> int:
    """Check the whole record of one session or all against its hashes, and that every finished session has its score.

    Names each finding with its session (or trainee, or the ledger) and the event seq or field: events edited, deleted,
    inserted or reordered; a session row whose badge, course, seed or start no longer matches its chain, or whose
    status, outcome, end, score or verdict does not match its events and scorings; a scoring edited or removed; a
    session or trainee deleted whole or renamed (the ledger). Also any finished session without a score (an older
    Trainer killed between storing its ending and its score). --repair scores those with the current model (their
    course version must be loaded: --courses, TRAINER_COURSES); any other command that opens the database does it too.
    Exit 1 when any finding is made or a session is left without a score.
    """
    from trainer.cli.unscored import score_unscored
    from trainer.sitekey import ENV_VAR
    from trainer.store.store import Store
    from trainer.text import shown

    with Store.open(args.db) as store:
        if args.session:
            record = store.session(args.session)
            found = store.verification(record.id)
            unscored = [r for r in store.unscored_sessions() if r.id == record.id]
        else:
            found = store.verification()
            unscored = store.unscored_sessions()
        repair = None
        if args.repair and unscored:
            repair = score_unscored(store, args.courses, found=unscored, via="verify --repair")
    problems = found.problems
    if not found.authenticated:
        print(
            f"trainer: warning: this database's hashes are keyed with site key {found.keying.partition(' ')[2]}, which "
            f"{ENV_VAR} does not name: its structure was checked, its authenticity cannot be",
            file=sys.stderr,
        )
    for p in problems:
        print(shown(p.line()))  # a finding quotes stored text (a badge, a name): it must not act on the terminal
    left = unscored if repair is None else list(repair.left)
    for r, result in repair.scored if repair else ():
        verdict = "passed" if result.passed else "failed"
        print(f"session {r.id}: {r.status} without a score: scored {result.score:g} ({verdict}) by {result.scorer}")
    for r in left:
        print(f"session {r.id}: {r.status} without a score ({r.course_id} {r.course_version})")
    if found.legacy:
        print(
            f"{found.legacy} session(s) not covered (recorded before version 4): their events are chained and the "
            "ledger knows them, their trainee, course, status and scores are not checked"
        )
    print(f"ledger: {found.ledger_entries} entries, last {found.ledger_head[:16] or 'none'} ({found.keying})")
    sessions_failed = len({p.session_id for p in problems if p.session_id})
    summary = f"{found.checked} session(s) checked, {sessions_failed} failed verification"
    others = len([p for p in problems if not p.session_id])
    if others:
        summary += f", {others} other finding(s)"
    if repair is not None:
        summary += f", {len(unscored)} finished without a score: {len(repair.scored)} scored, {len(left)} left"
    else:
        summary += f", {len(unscored)} finished without a score"
    print(summary)
    if repair is not None and (warning := repair.warning()):
        print(f"trainer: warning: {warning}", file=sys.stderr)
    elif left and not args.repair:
        print("score them with `trainer sessions verify --repair`", file=sys.stderr)
    return ExitCode.ERROR if problems or left else ExitCode.OK


def void(args: argparse.Namespace) -> int:
    """Set an interrupted session aside (an instructor's decision), keeping the reason with it."""
    from trainer.cli.unscored import open_store

    with open_store(args) as store:
        record = store.session(args.session)
        store.void(record.id, args.reason, args.by)  # with its audit row: the OS user, host, terminal
    print(f"session {record.id} voided: {args.reason}")
    return ExitCode.OK
