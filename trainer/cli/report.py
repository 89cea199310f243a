"""`trainer report ...`: reports for instructors and HR, as rich tables in the terminal (and one HTML page).

The numbers come from trainer/export/course_report.py, trainee_report.py and due.py; this module only draws them.
"""

from __future__ import annotations

import argparse
from typing import Any

from trainer.cli import command, plain
from trainer.cli.outputs import add_force
from trainer.errors import ExitCode, UsageError

SEVERITY_STYLE = {"minor": "yellow", "serious": "dark_orange", "critical": "bold red"}
STATUS_STYLE = {"valid": "green", "expiring": "yellow", "expired": "red", "never": "bright_black"}


def register(sub: Any) -> None:
    group = command(sub, "report", _group_help)
    rsub = group.add_subparsers(title="report commands", metavar="COMMAND")

    p = command(rsub, "course", course)
    p.add_argument("course", metavar="COURSE", help="course id (or course file)")
    p.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="attempts started on or after this local day")
    p.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help="attempts started on or before this local day")
    p.add_argument("--html", metavar="FILE", help="also write the report as one self-contained HTML page")
    add_force(p, "the --html file")

    p = command(rsub, "trainee", trainee)
    p.add_argument("badge", metavar="BADGE", help="the trainee's badge id")

    p = command(rsub, "due", due)
    p.add_argument(
        "--within", type=_days, default=30, metavar="DAYS", help="certifications ending within DAYS (default 30)"
    )
    p.add_argument("--department", metavar="NAME", help="only this department")
    p.add_argument("--course", metavar="COURSE_ID", help="only this course")


def _group_help(args: argparse.Namespace) -> int:
    """Reports for instructors and HR: a course, a trainee, certifications due (see trainer report --help)."""
    raise UsageError("choose a report: course, trainee or due (see trainer report --help)")


def _day(text: str) -> Any:
    from trainer.export.period import parse_day

    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of days, 0 or more")
    return value


def _lang(args: argparse.Namespace) -> str:
    return args.lang or "en"


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


# --- course ---------------------------------------------------------------------------------------------------------


def course(args: argparse.Namespace) -> int:
    """How a class does on one course: attempts, pass rate, scores, common mistakes, where they happen, time per state.

    Mistakes, the heat map and times come from the attempts played on the course version in the library (another
    version's events cannot be read against it). --html FILE also writes the report, with charts, as one HTML page.
    """
    from trainer import outfile
    from trainer.cli.unscored import open_store
    from trainer.export import course_report
    from trainer.export.period import Period

    period = Period(args.since, args.until)
    if args.html:
        outfile.check(args.html, "report", force=args.force)
    course_id, loaded = _course(args.course, args.courses)
    with open_store(args) as store:
        report = course_report.load(store, course_id, loaded, period=period)
        if loaded is None and not store.sessions(course_id=course_id):
            raise UsageError(f"no course {course_id!r} in the library and no session of it in the database")
    print_course(_console(), report, _lang(args))
    if args.html:
        from trainer.export.html_report import write_html

        path = write_html(report, args.html, lang=_lang(args), force=args.force)
        _console().print(f"wrote {path}", style="dim")
    return ExitCode.OK


def _course(ref: str, extra: list[str]) -> tuple[str, Any]:
    """(course id, the loaded course or None) from an id in the library or a course file."""
    from pathlib import Path

    from trainer.course.library import load_library
    from trainer.course.loader import load_course

    if ref.endswith((".yaml", ".yml")) or Path(ref).is_file():
        loaded = load_course(Path(ref))
        return loaded.id, loaded
    return ref, load_library(extra).get(ref)


def print_course(console: Any, r: Any, lang: str) -> None:
    from rich import box
    from rich.table import Table

    from trainer.export import display
    from trainer.export.attempts import SEVERITIES

    version = f"version {r.version}" if r.version else "not in the library"
    console.print(f"[bold]{_esc(r.title.get(lang))}[/bold]  {_esc(r.course_id)} ({version}), {r.period.describe()}")
    summary = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("attempts", "passed", "pass rate", "mean score", "median score"):
        summary.add_column(col, justify="right")
    summary.add_row(
        str(r.attempts),
        str(r.passed),
        display.percent(r.pass_rate),
        display.score(r.mean_score),
        display.score(r.median_score),
    )
    console.print(summary)
    print_changes(console, r.changes, badge=True)
    if not r.attempts:
        console.print("No attempts in this period.")
        return
    if r.analysed != r.attempts:
        console.print(
            f"[dim]Mistakes and times below: the {r.analysed} of {r.attempts} attempts played on the loaded version.[/dim]"
        )

    mistakes = Table(title="Most common mistakes", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col, justify in (("mistake", "left"), ("severity", "left"), ("times", "right"), ("of attempts", "right")):
        mistakes.add_column(col, justify=justify, no_wrap=True)
    mistakes.add_column("rule", overflow="fold")
    for m in r.mistakes[:15]:
        share = m.attempts / r.analysed if r.analysed else None
        mistakes.add_row(
            _esc(m.code),
            str(m.severity),
            str(m.count),
            display.percent(share),
            _esc(m.rule.get(lang)),
            style=SEVERITY_STYLE[m.severity],
        )
    console.print(mistakes if r.mistakes else "No mistakes were made.")

    if r.states:
        peak = max((n for s in r.states for n in s.mistakes), default=0)
        heat = Table(
            title="Where mistakes happen (heat map) and median time per state",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        heat.add_column("state", no_wrap=True)
        for sev in SEVERITIES:
            heat.add_column(str(sev), justify="right")
        heat.add_column("attempts in it", justify="right")
        heat.add_column("median time", justify="right")
        for s in r.states:
            cells = [_heat_cell(n, peak, str(sev)) for n, sev in zip(s.mistakes, SEVERITIES, strict=True)]
            heat.add_row(_esc(s.state), *cells, str(s.visited), display.duration_ms(s.median_ms))
        console.print(heat)

    trend = Table(title=f"Pass rate by {r.trend_unit}", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col, justify in ((r.trend_unit, "left"), ("attempts", "right"), ("passed", "right"), ("pass rate", "right")):
        trend.add_column(col, justify=justify)
    trend.add_column("", no_wrap=True)
    for b in r.trend:
        bar = "█" * round(b.pass_rate * 20)
        trend.add_row(b.label, str(b.attempts), str(b.passed), display.percent(b.pass_rate), f"[green]{bar}[/green]")
    console.print(trend)


def print_changes(console: Any, changes: Any, *, badge: bool) -> None:
    """The voids, relabels and rescorings with another model of the report's sessions: who, when, why (the audit
    trail); attempts listed elsewhere in the report carry a ✎ before their date. Two lines each, not a table:
    what changed can be long, and a table would fold it to a few letters a line in 80 columns."""
    from trainer.export.period import local_naive

    if not changes:
        return
    console.print("[bold]Changed by an instructor[/bold] (audit trail)")
    for c in changes:
        started = local_naive(c.started_at).strftime("%Y-%m-%d %H:%M")
        whose = f"{_esc(c.badge)}, " if badge else ""
        why = _esc(c.reason) if c.reason else "[dim]no reason given[/dim]"
        console.print(f"  {c.session_id[:8]} ({whose}started {started}): {_esc(c.what)}", soft_wrap=True)
        console.print(
            f"    by {_esc(c.who)} on {local_naive(c.at).strftime('%Y-%m-%d %H:%M')}; why: {why}", soft_wrap=True
        )
    console.print()


def _heat_cell(n: int, peak: int, severity: str) -> Any:
    """A count on a background that darkens with it: the terminal's heat map."""
    from rich.text import Text

    if not n:
        return Text("·", style="bright_black")
    shades = {
        "minor": ("#5c4a00", "#b38f00", "#ffd23f"),
        "serious": ("#5c2a00", "#a34a00", "#ff7b00"),
        "critical": ("#4d0000", "#990000", "#ff1f1f"),
    }
    level = min(2, int(3 * n / (peak + 1)))
    return Text(f" {n} ", style=f"bold white on {shades[severity][level]}")


def _esc(text: str) -> str:
    return plain(text)


# --- trainee ------------------------------------------------------------------------------------------------------


def trainee(args: argparse.Namespace) -> int:
    """One trainee: every attempt (newest first), the trend of their scores, and the certification of each course."""
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.export import trainee_report
    from trainer.export.period import today

    library = load_library(args.courses)
    with open_store(args, library=library) as store:
        report = trainee_report.load(store, args.badge, library, today=today())
    print_trainee(_console(), report, _lang(args))
    return ExitCode.OK


def print_trainee(console: Any, r: Any, lang: str) -> None:
    from rich import box
    from rich.table import Table

    from trainer.export import display
    from trainer.export.attempts import SEVERITIES
    from trainer.export.period import local_naive

    t = r.trainee
    console.print(f"[bold]{_esc(t.name)}[/bold]  badge {_esc(t.badge)}, {_esc(t.department)}  (today {r.today})")
    certs = Table(title="Certification by course", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    certs.add_column("course", no_wrap=True, overflow="ellipsis", max_width=24)
    certs.add_column("status", no_wrap=True)
    certs.add_column("valid until", no_wrap=True)
    certs.add_column("attempts", justify="right")
    certs.add_column("best", justify="right")
    certs.add_column("trend", no_wrap=True)
    for c in r.courses:
        status = str(c.cert.status) if c.cert else "unknown"
        until = str(c.cert.valid_until) if c.cert and c.cert.valid_until else ""
        certs.add_row(
            _esc(c.course_id),
            f"[{STATUS_STYLE.get(status, 'white')}]{_status_words(status)}[/]",
            until,
            str(len(c.attempts)),
            display.score(c.best),
            f"{display.sparkline(c.scores[-8:])} {display.change(c.change) if c.change is not None else ''}".strip(),
        )
    console.print(certs)
    attempts = Table(
        title="Attempts, newest first",
        title_justify="left",
        caption="mistakes: " + "/".join(str(s) for s in SEVERITIES),
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for col, justify in (
        ("date", "left"),
        ("course", "left"),
        ("time", "right"),
        ("score", "right"),
        ("result", "left"),
        ("mistakes", "right"),
        ("session", "left"),
    ):
        attempts.add_column(col, justify=justify, no_wrap=True, min_width=8 if col == "session" else None)
    changed = {c.session_id for c in r.changes}
    for a in r.attempts:
        counts = "/".join(_count(a.count(s)) for s in SEVERITIES)
        result = "[green]passed[/green]" if a.passed else f"[red]{_esc(a.outcome)}[/red]"
        if a.record.mode != "exam":  # a practice score passes no one: say which attempts were practice
            result = "[cyan]practice[/cyan]"
        attempts.add_row(
            # the mark first: cells too wide for the terminal are cut at their end
            ("✎ " if a.record.id in changed else "") + local_naive(a.started_at).strftime("%Y-%m-%d %H:%M"),
            f"{_esc(a.record.course_id)} {_esc(a.record.course_version)}",
            display.duration(a.duration),
            display.score(a.score),
            result,
            counts,
            a.record.id[:8],
        )
    console.print(attempts if r.attempts else "No attempts yet.")
    print_changes(console, r.changes, badge=False)


def _count(n: int | None) -> str:
    return "?" if n is None else str(n)


def _status_words(status: str) -> str:
    return {"never": "never passed"}.get(status, status)


# --- due ----------------------------------------------------------------------------------------------------------


def due(args: argparse.Namespace) -> int:
    """Who must retrain soon: certifications ending within --within days (default 30), and those already expired.

    Soonest first, for HR to schedule. A certification is valid for the course's certification_days after the day of
    the last pass, up to and including the last day (see docs/reports.md).
    """
    from datetime import timedelta

    from rich import box
    from rich.table import Table

    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.export import due as due_mod
    from trainer.export.period import today

    library = load_library(args.courses)
    day = today()
    with open_store(args, library=library) as store:
        rows = due_mod.load(
            store, library, today=day, within=args.within, department=args.department, course_id=args.course
        )
    console = _console()
    table = Table(
        title=f"Certifications ending by {day + timedelta(days=args.within)} or already expired (today {day})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for col, justify, wrap in (
        ("badge", "left", False),
        ("name", "left", True),
        ("department", "left", True),
        ("course", "left", True),
        ("valid until", "left", False),
        ("days", "right", False),
        ("status", "left", False),
    ):
        table.add_column(col, justify=justify, no_wrap=not wrap, overflow="fold")
    for d in rows:
        status = str(d.status)
        table.add_row(
            _esc(d.trainee.badge),
            _esc(d.trainee.name),
            _esc(d.trainee.department),
            _esc(d.course_id),
            str(d.valid_until),
            str(d.days_left),
            f"[{STATUS_STYLE.get(status, 'white')}]{_status_words(status)}[/]",
        )
    console.print(table if rows else f"Nobody's certification ends within {args.within} days (today {day}).")
    return ExitCode.OK
