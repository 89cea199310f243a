"""`trainer export ...`: hand stored sessions to other systems (xAPI statements to a file or an LRS).

Each export format is one subcommand registered in register() below: `xapi`, and `scores` (the HR score sheet).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trainer.cli.common import command
from trainer.cli.outputs import add_force, add_period, add_tz, compliance_matrix
from trainer.errors import ExitCode, TrainerError, UsageError
from trainer.gcpause import paused_gc

PASSWORD_ENV = "TRAINER_LRS_PASSWORD"
CONFLICTS_SHOWN = 20  # conflicting ids listed on stderr; --conflicts FILE takes them all


def register(sub: Any) -> None:
    group = command(sub, "export", _group_help)
    esub = group.add_subparsers(title="export commands", metavar="COMMAND")
    _register_xapi(esub)
    _register_scores(esub)
    _register_overdue(esub)


def _group_help(args: argparse.Namespace) -> int:
    """Export stored sessions for other systems (see trainer export --help)."""
    raise UsageError("choose an export command, e.g. trainer export xapi (see trainer export --help)")


def _add_period_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--since",
        type=_when,
        metavar="DATE",
        help="sessions started at or after DATE (2026-11-01 or 2026-11-01T08:00, UTC)",
    )
    p.add_argument(
        "--until",
        type=_when_until,
        metavar="DATE",
        help="sessions started before DATE; a date alone includes that whole day (UTC)",
    )


def _register_xapi(esub: Any) -> None:
    p = command(esub, "xapi", xapi, uses=("db", "courses"))
    _add_period_options(p)
    p.add_argument(
        "--out",
        metavar="FILE",
        help="write the statements to FILE: a JSON array, or JSON Lines if FILE ends in .jsonl; - for stdout",
    )
    add_force(p, "the --out file")
    p.add_argument(
        "--lrs",
        metavar="URL",
        help="post the statements to this LRS's xAPI endpoint, e.g. https://lrs.example.org/xAPI",
    )
    p.add_argument("--lrs-user", metavar="USER", help="the LRS user (HTTP Basic authentication)")
    p.add_argument("--lrs-password", metavar="PASSWORD", help=f"the LRS password (better: set {PASSWORD_ENV})")
    p.add_argument(
        "--home-page",
        metavar="URL",
        help="the site's URL, homePage of the trainees' accounts (default: `trainer db set site.url`; "
        "--lrs refuses to post without one of them)",
    )
    p.add_argument(
        "--activity-base", metavar="IRI", help="IRI the course ids are appended to (default: HOME_PAGE/courses/)"
    )
    p.add_argument(
        "--no-names", action="store_true", help="leave trainees' real names out of the statements (badge ids only)"
    )
    p.add_argument(
        "--conflicts",
        metavar="FILE",
        help="write the ids the LRS holds with other content to FILE, one a line (they are listed on stderr anyway)",
    )
    p.add_argument("--batch-size", type=_positive, default=50, metavar="N", help="statements per POST (default 50)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (default 30)")


def xapi(args: argparse.Namespace) -> int:
    """Export stored sessions as xAPI 1.0.3 statements, to a file (--out) and/or a Learning Record Store (--lrs).

    One statement per event (plus the attempt's score, suspension and end), in Trainer's cmi5-aligned profile; ids
    follow the content, so exporting again gives the same statements. Posting remembers, per LRS and site, which
    statements the LRS holds (in the database's settings): a rerun sends only what is new, and a rescored session's new
    score goes in with the old one voided. The LRS's credentials are checked on every run. Exit 1 if the LRS holds some
    id with other content (the ids are listed). Sessions voided in Trainer are left out (and voided in the LRS if they
    were posted); sessions still in progress are exported as far as they go. See docs/xapi.md.
    """
    from trainer import outfile
    from trainer.cli.unscored import open_store
    from trainer.export import lrs as lrs_mod
    from trainer.export import xapi as xapi_mod
    from trainer.store.records import SessionStatus

    if not args.out and not args.lrs:
        raise UsageError("say where the statements go: --out FILE, --lrs URL, or both")
    if args.out and args.out != "-":
        outfile.check(args.out, "statements", force=args.force, make_folder=True)
    if args.conflicts and not args.lrs:
        raise UsageError("--conflicts FILE lists what an LRS refused: it needs --lrs")
    if args.since and args.until and args.since >= args.until:
        raise UsageError("--since must be before --until")
    client = None
    if args.lrs:
        if not args.lrs_user:
            raise UsageError("--lrs needs --lrs-user (and --lrs-password or TRAINER_LRS_PASSWORD)")
        password = args.lrs_password if args.lrs_password is not None else os.environ.get(PASSWORD_ENV)
        if password is None:
            raise UsageError(f"--lrs needs a password: --lrs-password or the environment variable {PASSWORD_ENV}")
        client = lrs_mod.LRSClient(args.lrs, args.lrs_user, password, timeout=args.timeout)

    with open_store(args) as store:
        profile = _profile(args, store)
        if client is not None:
            client.check()  # wrong credentials fail the run even when nothing is new
        library = _library(args.courses)
        records = [r for r in store.sessions(since=args.since) if args.until is None or r.started_at < args.until]
        records.reverse()  # oldest first: the order an LRS should receive them in
        trainees: dict[str, Any] = {}
        outgoing: list[lrs_mod.Outgoing] = []
        live = [r for r in records if r.status is not SessionStatus.VOIDED]
        graded = store.graded_lists([r.id for r in live])
        for record in records:
            if record.badge not in trainees:
                trainees[record.badge] = store.get_trainee(record.badge)
            actor = xapi_mod.actor_of(record.badge, trainees[record.badge], profile)
            if record.status is SessionStatus.VOIDED:  # no statements: whatever was posted of it gets voided
                outgoing.append(lrs_mod.Outgoing(record.id, (), actor, record.event_count))
                continue
            made = xapi_mod.slotted(
                record,
                trainees[record.badge],
                store.events(record.id),
                profile=profile,
                course=library.get(record.course_id),
                graded=graded.get(record.id),
            )
            outgoing.append(lrs_mod.Outgoing(record.id, made, actor, record.event_count))
        every = [s.statement for out in outgoing for s in out.statements]
        if args.out:
            _write(args.out, every, force=args.force)
            if args.out != "-":
                print(f"wrote {len(every)} statement(s) of {len(live)} session(s) to {args.out}", file=sys.stderr)
        if client is None:
            return ExitCode.OK
        ledger = lrs_mod.StoreLedger(store, client.endpoint, profile.home_page)
        report = lrs_mod.send(client, outgoing, ledger, batch_size=args.batch_size)
        print(report.summary(client.endpoint), file=sys.stderr)
    if report.conflict_ids:
        raise _conflicts(report.conflict_ids, args.conflicts, client.endpoint)
    return ExitCode.OK


def _profile(args: argparse.Namespace, store: Any) -> Any:
    """The site's identity and IRIs from the options and the database's settings (trainer.site)."""
    from trainer import site
    from trainer.export.xapi import Profile

    if args.home_page:
        home_page = site.check_url(args.home_page, "--home-page")
    else:
        stored = store.get_setting(site.SITE_URL)
        home_page = site.check_url(stored, f"setting {site.SITE_URL}") if stored else site.PLACEHOLDER_URL
    if home_page == site.PLACEHOLDER_URL and args.lrs and not args.home_page:
        raise UsageError(
            f"this site has no URL of its own (setting {site.SITE_URL}), so every plant's badge B1001 would be one "
            f"person in the LRS; set it once with `trainer db set {site.SITE_URL} https://...` "
            "(or give --home-page URL)"
        )
    activity_base = site.check_url(args.activity_base, "--activity-base") + "/" if args.activity_base else ""
    iri = store.get_setting(site.XAPI_IRI)
    return Profile(
        home_page=home_page,
        activity_base=activity_base,
        iri=site.check_url(iri, f"setting {site.XAPI_IRI}") if iri else "",
        site_name=store.get_setting(site.SITE_NAME),
        names=not args.no_names,
    )


def _conflicts(ids: list[str], path: str | None, endpoint: str) -> TrainerError:
    """The error for ids the LRS holds with other content (all of them written to FILE with --conflicts): someone has to
    look at them, so the run fails (exit 1) instead of passing them over."""
    from trainer.export.lrs import LRSError

    if path:
        from trainer import outfile

        def fill(tmp: Path) -> None:
            tmp.write_text("".join(i + "\n" for i in ids), encoding="utf-8")

        outfile.write(path, fill, "conflicting ids", force=True, make_folder=True)
    more = len(ids) - CONFLICTS_SHOWN
    shown = ", ".join(ids[:CONFLICTS_SHOWN]) + (f" and {more} more" if more > 0 else "")
    where = f"; all of them are listed in {path}" if path else "; --conflicts FILE lists them all in a file"
    return LRSError(
        f"{endpoint}: the LRS holds {len(ids)} statement id(s) with other content (kept as it has them): {shown}{where};"
        " see docs/xapi.md, Conflicts"
    )


# --- scores ---------------------------------------------------------------------------------------------------------------

SCORE_FORMATS = ("xlsx", "csv")
PROGRESS_THRESHOLD = 2000  # sessions or rows; smaller exports finish before a bar would help


def _register_scores(esub: Any) -> None:
    p = command(esub, "scores", scores)
    p.add_argument(
        "--format", choices=SCORE_FORMATS, help="xlsx (three sheets) or csv (the first sheet); default: from --out"
    )
    p.add_argument(
        "--out", required=True, metavar="FILE", help="the file to write (a new file is readable by you only)"
    )
    add_force(p, "the --out file")
    add_period(p)
    p.add_argument("--department", metavar="NAME", help="only trainees of this department (as registered)")
    p.add_argument("--course", metavar="COURSE_ID", help="only this course")
    p.add_argument(
        "--bilingual",
        action="store_true",
        help="headers in Chinese and English, --lang's first (e.g. 工号 / badge)",
    )
    add_tz(p)


def scores(args: argparse.Namespace) -> int:
    """Write the score sheet for HR: one row per trainee and course, with the certification status.

    XLSX has an About sheet (when, as of which day, filters, time zone, Trainer version, scorer, course versions) and three
    tables: trainees (one row per trainee and course), attempts (every attempt with its mistakes) and departments
    (trained, passed, valid, expiring, expired, per plant and department). CSV holds the first table, UTF-8 with a BOM,
    shown by Excel, WPS and LibreOffice as the XLSX shows it. Certification status is as of today (the site's), from
    every pass on record; --since/--until pick the attempts counted, in the site's time zone (--tz: another). Once
    requirements are loaded (docs/hr.md), two more sheets: Compliance (every trainee against every required course) and
    its summary per department and plant.
    See docs/reports.md for every column.
    """
    from trainer import outfile
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.reports import scores as scores_mod
    from trainer.reports.period import Period, check_order
    from trainer.sitetime import site_zone, today

    fmt = args.format or Path(args.out).suffix.lower().lstrip(".")
    if fmt not in SCORE_FORMATS:
        raise UsageError(f"--out {args.out}: say --format xlsx or --format csv (or end the file name in .xlsx or .csv)")
    lang = args.lang or "en"
    check_order(args.since, args.until)
    target = outfile.check(args.out, "score sheet", force=args.force)
    library = load_library(args.courses)
    bar = _ProgressBar()
    with paused_gc():  # 100 000 attempts: see paused_gc
        try:
            with open_store(args, library=library) as store:
                zone = site_zone(store, args.tz)
                period = Period(args.since, args.until, zone)
                chosen = {
                    "today": today(zone),
                    "period": period,
                    "department": args.department,
                    "course_id": args.course,
                }
                if fmt == "xlsx":
                    from trainer.export.xlsx import write_xlsx

                    extra = _compliance_sheets(store, library, args, lang)
                    scan = scores_mod.Scan(store, library, zone=zone, **chosen)
                    sheet = write_xlsx(
                        scan,
                        target,
                        lang=lang,
                        progress=bar.stage("writing attempts"),
                        force=args.force,
                        bilingual=args.bilingual,
                        extra=extra,
                    )
                else:
                    from trainer.export.csvsheet import write_csv

                    sheet = scores_mod.build(store, library, zone=zone, with_attempts=False, **chosen)
                    write_csv(sheet, target, lang=lang, force=args.force, bilingual=args.bilingual)
        finally:
            bar.close()
        attempts = sum(p.count for p in sheet.pairs)
        print(
            f"wrote {len(sheet.pairs)} trainee-course row(s) from {attempts} attempt(s) ({period.describe()}) to {target}",
            file=sys.stderr,
        )
    return ExitCode.OK


def _compliance_sheets(store: Any, library: Any, args: argparse.Namespace, lang: str) -> list[Any]:
    """The Compliance sheet and its summary, when requirements are loaded (as of today; --department and --course
    apply, the period does not: compliance is about now)."""
    if not store.requirements():
        return []
    matrix = compliance_matrix(store, library, args)
    return [matrix.table(lang), matrix.summary_table(lang)]


def _register_overdue(esub: Any) -> None:
    p = command(esub, "overdue", overdue)
    p.add_argument("--format", choices=SCORE_FORMATS, help="xlsx or csv; default: from --out")
    p.add_argument(
        "--out", required=True, metavar="FILE", help="the file to write (a new file is readable by you only)"
    )
    add_force(p, "the --out file")
    p.add_argument("--department", metavar="NAME", help="only this department")
    p.add_argument("--plant", metavar="NAME", help="only this plant")
    p.add_argument("--course", metavar="COURSE_ID", help="only this required course")


def overdue(args: argparse.Namespace) -> int:
    """Write the people HR must chase: each trainee and required course that is overdue as of today.

    Overdue: the certification expired, or the course was never passed (never started, or attempted and not passed)
    and its first deadline is past. One row each, longest overdue first: badge, name, department, role, plant, hire
    date, course, status, due since, days overdue. See docs/hr.md.
    """
    from trainer import outfile
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library

    fmt = args.format or Path(args.out).suffix.lower().lstrip(".")
    if fmt not in SCORE_FORMATS:
        raise UsageError(f"--out {args.out}: say --format xlsx or --format csv (or end the file name in .xlsx or .csv)")
    lang = args.lang or "en"
    target = outfile.check(args.out, "overdue list", force=args.force)
    library = load_library(args.courses)
    with open_store(args, library=library) as store:
        if not store.requirements():
            raise UsageError("no requirements are loaded: trainer requirements load FILE (see docs/hr.md)")
        matrix = compliance_matrix(store, library, args)
    table = matrix.overdue_table(lang)
    if fmt == "xlsx":
        from trainer.export.xlsx import write_tables

        write_tables([table], target, force=args.force)
    else:
        from trainer.export.csvsheet import write_table

        write_table(table, target, force=args.force)
    people = len({row[0] for row in table.rows})
    print(
        f"wrote {len(table.rows)} overdue course(s) of {people} trainee(s) (as of {matrix.today}) to {target}",
        file=sys.stderr,
    )
    return ExitCode.OK


class _ProgressBar:
    """A rich progress bar on stderr for long exports: only when stderr is a terminal and the work is large."""

    def __init__(self) -> None:
        self._enabled = sys.stderr.isatty()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def stage(self, label: str) -> Any:
        def update(done: int, total: int) -> None:
            if not self._enabled or total < PROGRESS_THRESHOLD:
                return
            if self._progress is None:
                from rich.console import Console
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

                self._progress = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    console=Console(stderr=True),
                    transient=True,
                )
                self._progress.start()
            if label not in self._tasks:
                self._tasks[label] = self._progress.add_task(label, total=total)
            self._progress.update(self._tasks[label], completed=done, total=total)

        return update

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


# --- helpers ------------------------------------------------------------------------------------------------------------


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give a date like 2026-11-01 or 2026-11-01T08:00") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _when_until(text: str) -> datetime:
    value = _when(text)
    if "T" not in text and " " not in text.strip():  # a date alone: up to the end of that day
        value += timedelta(days=1)
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of at least 1")
    return value


def _library(extra: Sequence[str]) -> dict[str, Any]:
    """Course id -> Course from the course library, for names and mastery scores: a nicety, so an unreadable library
    gives statements named by ids rather than no export."""
    from trainer.course.library import load_library

    try:
        return dict(load_library(extra).courses)
    except (OSError, TrainerError):
        return {}


def _write(out: str, statements: list[dict[str, Any]], *, force: bool) -> None:
    """A JSON array (JSON Lines for *.jsonl) on stdout (-) or in a file (trainer.outfile: whole or not at all, private)."""
    lines = out.endswith(".jsonl")
    if lines:
        text = "".join(json.dumps(s, ensure_ascii=False, separators=(",", ":")) + "\n" for s in statements)
    else:
        text = json.dumps(statements, ensure_ascii=False, indent=2) + "\n"
    if out == "-":
        sys.stdout.write(text)
        return
    from trainer import outfile

    def fill(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    outfile.write(out, fill, "statements", force=force, private=True, make_folder=True)
