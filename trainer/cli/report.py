"""`trainer report ...`: reports for instructors and HR, as rich tables in the terminal (and one HTML page).

The numbers come from trainer/reports/course_report.py, trainee_report.py and due.py; this module only draws them.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from trainer.cli.common import command, plain
from trainer.cli.outputs import add_force, add_period, add_tz, compliance_matrix
from trainer.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from rich.console import JustifyMethod

SEVERITY_STYLE = {"minor": "yellow", "serious": "dark_orange", "critical": "bold red"}
STATUS_STYLE = {
    "valid": "green",
    "expiring": "yellow",
    "expired": "red",
    "never": "red",
    "not_started": "bright_black",
    "in_progress": "cyan",
    "never_started": "magenta",
    "not_required": "bright_black",
    "unknown": "bright_black",
}


def register(sub: Any) -> None:
    group = command(sub, "report", _group_help)
    rsub = group.add_subparsers(title="report commands", metavar="COMMAND")

    p = command(rsub, "course", course)
    p.add_argument("course", metavar="COURSE", help="course id (or course file)")
    add_period(p)
    p.add_argument("--html", metavar="FILE", help="also write the report as one self-contained HTML page")
    add_force(p, "the --html file")
    add_tz(p)

    p = command(rsub, "trainee", trainee)
    p.add_argument("badge", metavar="BADGE", help="the trainee's badge id")
    add_tz(p)

    p = command(rsub, "due", due)
    p.add_argument(
        "--within", type=_days, default=30, metavar="DAYS", help="certifications ending within DAYS (default 30)"
    )
    p.add_argument("--department", metavar="NAME", help="only this department")
    p.add_argument("--course", metavar="COURSE_ID", help="only this course")
    add_tz(p)

    p = command(rsub, "compliance", compliance)
    p.add_argument("--department", metavar="NAME", help="only this department")
    p.add_argument("--plant", metavar="NAME", help="only this plant")
    p.add_argument("--course", metavar="COURSE_ID", help="only this required course")


def _group_help(args: argparse.Namespace) -> int:
    """Reports for instructors and HR: a course, a trainee, certifications due, compliance (see trainer report --help)."""
    raise UsageError("choose a report: course, trainee, due or compliance (see trainer report --help)")


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
    from trainer.reports import course_report
    from trainer.reports.period import Period, check_order
    from trainer.sitetime import site_zone

    check_order(args.since, args.until)
    if args.html:
        outfile.check(args.html, "report", force=args.force)
    course_id, loaded = _course(args.course, args.courses)
    with open_store(args) as store:
        period = Period(args.since, args.until, site_zone(store, args.tz))
        report = course_report.load(store, course_id, loaded, period=period)
        if loaded is None and not store.sessions(course_id=course_id):
            raise UsageError(f"no course {course_id!r} in the library and no session of it in the database")
    print_course(_console(), report, _lang(args))
    if args.html:
        from trainer.reports.html_report import write_html

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

    from trainer.reports import display
    from trainer.reports.attempts import SEVERITIES

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
    print_changes(console, r.changes, badge=True, zone=r.zone)
    if not r.attempts:
        console.print("No attempts in this period.")
        return
    if r.analysed != r.attempts:
        console.print(
            f"[dim]Mistakes and times below: the {r.analysed} of {r.attempts} attempts played on the loaded version.[/dim]"
        )

    mistakes = Table(title="Most common mistakes", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("mistake", "left"),
        ("severity", "left"),
        ("times", "right"),
        ("of attempts", "right"),
    )
    for col, justify in columns:
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
    trend_columns: tuple[tuple[str, JustifyMethod], ...] = (
        (r.trend_unit, "left"),
        ("attempts", "right"),
        ("passed", "right"),
        ("pass rate", "right"),
    )
    for col, justify in trend_columns:
        trend.add_column(col, justify=justify)
    trend.add_column("", no_wrap=True)
    for b in r.trend:
        bar = "█" * round(b.pass_rate * 20)
        trend.add_row(b.label, str(b.attempts), str(b.passed), display.percent(b.pass_rate), f"[green]{bar}[/green]")
    console.print(trend)


def print_changes(console: Any, changes: Any, *, badge: bool, zone: Any) -> None:
    """The voids, relabels and rescorings with another model of the report's sessions: who, when, why (the audit
    trail); attempts listed elsewhere in the report carry a ✎ before their date. Two lines each, not a table:
    what changed can be long, and a table would fold it to a few letters a line in 80 columns."""
    from trainer.sitetime import wall

    if not changes:
        return
    console.print("[bold]Changed by an instructor[/bold] (audit trail)")
    for c in changes:
        started = wall(c.started_at, zone).strftime("%Y-%m-%d %H:%M")
        whose = f"{_esc(c.badge)}, " if badge else ""
        why = _esc(c.reason) if c.reason else "[dim]no reason given[/dim]"
        console.print(f"  {c.session_id[:8]} ({whose}started {started}): {_esc(c.what)}", soft_wrap=True)
        console.print(
            f"    by {_esc(c.who)} on {wall(c.at, zone).strftime('%Y-%m-%d %H:%M')}; why: {why}", soft_wrap=True
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
    from trainer.reports import trainee_report
    from trainer.sitetime import site_zone, today

    library = load_library(args.courses)
    with open_store(args, library=library) as store:
        zone = site_zone(store, args.tz)
        report = trainee_report.load(store, args.badge, library, today=today(zone), zone=zone)
    print_trainee(_console(), report, _lang(args))
    return ExitCode.OK


def print_trainee(console: Any, r: Any, lang: str) -> None:
    from rich import box
    from rich.table import Table

    from trainer.reports import display
    from trainer.reports.attempts import SEVERITIES
    from trainer.sitetime import wall

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
        status = c.status
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
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("date", "left"),
        ("course", "left"),
        ("time", "right"),
        ("score", "right"),
        ("result", "left"),
        ("mistakes", "right"),
        ("session", "left"),
    )
    for col, justify in columns:
        attempts.add_column(col, justify=justify, no_wrap=True, min_width=8 if col == "session" else None)
    changed = {c.session_id for c in r.changes}
    for a in r.attempts:
        counts = "/".join(_count(a.count(s)) for s in SEVERITIES)
        # failed: completed below the pass mark; an incident or an abort says so itself (a narrow column: one word)
        word = a.outcome if a.result == "failed" and a.outcome != "completed" else a.result
        result = "[green]passed[/green]" if a.passed else f"[red]{_esc(word)}[/red]"
        if a.record.mode != "exam":  # a practice score passes no one: say which attempts were practice
            result = "[cyan]practice[/cyan]"
        attempts.add_row(
            # the mark first: cells too wide for the terminal are cut at their end
            ("✎ " if a.record.id in changed else "") + wall(a.started_at, r.zone).strftime("%Y-%m-%d %H:%M"),
            f"{_esc(a.record.course_id)} {_esc(a.record.course_version)}",
            display.duration(a.duration),
            display.score(a.score),
            result,
            counts,
            a.record.id[:8],
        )
    console.print(attempts if r.attempts else "No attempts yet.")
    print_changes(console, r.changes, badge=False, zone=r.zone)


def _count(n: int | None) -> str:
    return "?" if n is None else str(n)


def _status_words(status: str) -> str:
    return {"never": "never passed", "not_started": "not started"}.get(status, status)


# --- due ----------------------------------------------------------------------------------------------------------


def due(args: argparse.Namespace) -> int:
    """Who must train or retrain soon: certifications ending within --within days (default 30), those already expired,
    and required courses never passed whose first deadline is within those days or past (docs/hr.md).

    Soonest first, for HR to schedule. A certification is valid for the course's certification_days after the day of
    the last pass, up to and including the last day (see docs/reports.md). For a course never passed, "valid until" is
    its first deadline.
    """
    from datetime import timedelta

    from rich import box
    from rich.table import Table

    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.reports import due as due_mod
    from trainer.sitetime import site_zone, today

    library = load_library(args.courses)
    with open_store(args, library=library) as store:
        zone = site_zone(store, args.tz)
        day = today(zone)
        rows = due_mod.load(
            store, library, today=day, within=args.within, department=args.department, course_id=args.course, zone=zone
        )
    console = _console()
    table = Table(
        title=f"Certifications ending by {day + timedelta(days=args.within)} or already expired, and required "
        f"courses due (today {day})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    columns: tuple[tuple[str, JustifyMethod, bool], ...] = (
        ("badge", "left", False),
        ("name", "left", True),
        ("department", "left", True),
        ("course", "left", True),
        ("valid until", "left", False),
        ("days", "right", False),
        ("status", "left", False),
    )
    for col, justify, wrap in columns:
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


# --- compliance -------------------------------------------------------------------------------------------------------

COMPLIANCE_WORDS = {
    "en": {
        "title": "Compliance on {today}: {trainees} trainee(s), {courses} required course(s)",
        "summary": "By department and plant",
        "none": "No requirements are loaded: trainer requirements load FILE (see docs/hr.md).",
        "nobody": "No trainee matches.",
        "overdue": "overdue",
        "group": "by",
        "name": "which",
        "held": "held",
    },
    "zh": {
        "title": "合规情况（{today}）：{trainees} 人，{courses} 门必修课程",
        "summary": "按部门和厂区汇总",
        "none": "尚未加载培训要求：trainer requirements load FILE（见 docs/hr.md）。",
        "nobody": "没有符合条件的学员。",
        "overdue": "逾期",
        "group": "分组",
        "name": "名称",
        "held": "持证",
    },
}


PERSON_HEADERS = {"en": ("badge", "name", "department"), "zh": ("工号", "姓名", "部门")}
# A cell's words in the terminal, where columns are narrow; the sheets say them whole (compliance.WORDS).
SHORT = {
    "valid": {"en": "valid", "zh": "有效"},
    "expiring": {"en": "{days}d left", "zh": "剩{days}天"},
    "expired": {"en": "expired", "zh": "已过期"},
    "in_progress": {"en": "in prog.", "zh": "培训中"},
    "never_started": {"en": "not started", "zh": "未开始"},
    "not_required": {"en": "-", "zh": "-"},
    "unknown": {"en": "?", "zh": "?"},
}

SUMMARY_HEADERS = {
    **SHORT,
    "expiring": {"en": "expiring", "zh": "即将到期"},
    "never_started": {"en": "not st.", "zh": "未开始"},
}


# The summary's groups in the terminal (the sheets say them whole: compliance.SCOPE_WORDS).
SHORT_SCOPE = {
    "department": {"en": "dept.", "zh": "部门"},
    "plant": {"en": "plant", "zh": "厂区"},
    "total": {"en": "total", "zh": "合计"},
}


def _short(status: Any, lang: str) -> str:
    return SHORT[status.cell.value][lang].format(days=status.days_left)


def compliance(args: argparse.Namespace) -> int:
    """The compliance matrix: every trainee against every required course, as of today, then counts and percentages
    per department and plant, and the total.

    Each cell: valid, expiring (days left), expired, in progress (attempted, never passed), never started, or not
    required. Who must hold what comes from `trainer requirements load`; validity from the courses (docs/hr.md).
    """
    from rich import box
    from rich.table import Table

    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.reports import compliance as compliance_mod

    lang = _lang(args)
    words = COMPLIANCE_WORDS[lang]
    library = load_library(args.courses)
    with open_store(args, library=library) as store:
        if not store.requirements():
            raise UsageError(words["none"])
        matrix = compliance_matrix(store, library, args)
    console = _console()
    console.print(
        f"[bold]{words['title'].format(today=matrix.today, trainees=len(matrix.rows), courses=len(matrix.courses))}[/bold]"
    )
    # The courses by number, named in a legend: a course id as a column header would take the width of the cells.
    for n, c in enumerate(matrix.courses, start=1):
        console.print(f"  {n} = {_esc(c)}  {_esc(matrix.titles[c][lang])}")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for title in (*(PERSON_HEADERS[lang]), *(str(n) for n in range(1, len(matrix.courses) + 1))):
        table.add_column(title, overflow="fold")
    table.add_column(words["overdue"], justify="right")
    for row in matrix.rows:
        t = row.trainee
        cells = []
        for status in row.cells:
            style = "bold red" if status.overdue else STATUS_STYLE.get(status.cell.value, "white")
            cells.append(f"[{style}]{_esc(_short(status, lang))}[/]")
        table.add_row(_esc(t.badge), _esc(t.name), _esc(t.department), *cells, str(row.overdue))
    console.print(table if matrix.rows else words["nobody"])
    sums = Table(
        title=words["summary"], title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True
    )
    sums.add_column(words["group"], no_wrap=True)  # department / plant / total, never broken mid-word
    sums.add_column(words["name"], overflow="fold", min_width=6)
    for cell in compliance_mod.COUNTED[:-1]:
        header = SUMMARY_HEADERS[cell][lang]
        sums.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    for key in ("held", "overdue"):
        sums.add_column(words[key], justify="right", no_wrap=True, min_width=len(words[key]))
    for tally in matrix.tallies():
        scope = SHORT_SCOPE[tally.scope][lang]
        group = tally.group or (compliance_mod.NO_PLANT[lang] if tally.scope == "plant" else "")
        rate = "" if tally.rate is None else f"{100 * tally.rate:.0f}%"
        sums.add_row(
            _esc(scope),
            _esc(group),
            *(str(tally.counts.get(c, 0)) for c in compliance_mod.COUNTED[:-1]),
            f"{tally.compliant}/{tally.required} {rate}".strip(),
            str(tally.overdue),
            style="bold" if tally.scope == "total" else None,
        )
    console.print(sums)
    return ExitCode.OK
