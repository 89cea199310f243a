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

from trainer.cli import command
from trainer.cli.gcpause import paused_gc
from trainer.cli.outputs import add_force, add_tz
from trainer.errors import ExitCode, TrainerError, UsageError

DEFAULT_HOME_PAGE = "https://trainer.local"
SITE_URL_SETTING = "site.url"
PASSWORD_ENV = "TRAINER_LRS_PASSWORD"


def register(sub: Any) -> None:
    group = command(sub, "export", _group_help)
    esub = group.add_subparsers(title="export commands", metavar="COMMAND")
    _register_xapi(esub)
    _register_scores(esub)


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
        help=f"the site's URL, homePage of the trainees' accounts (default: setting {SITE_URL_SETTING}, else {DEFAULT_HOME_PAGE})",
    )
    p.add_argument(
        "--activity-base", metavar="IRI", help="IRI the course ids are appended to (default: HOME_PAGE/courses/)"
    )
    p.add_argument("--batch-size", type=_positive, default=50, metavar="N", help="statements per POST (default 50)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (default 30)")


def xapi(args: argparse.Namespace) -> int:
    """Export stored sessions as xAPI 1.0.3 statements, to a file (--out) and/or a Learning Record Store (--lrs).

    One statement per event, with ids fixed by the session and event, so exporting again gives the same statements.
    Posting remembers, per LRS, what it has accepted (in the database's settings): a rerun sends only what is new.
    Voided sessions are left out; sessions still in progress are exported as far as they go. See docs/xapi.md.
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
        home_page = args.home_page or store.get_setting(SITE_URL_SETTING) or DEFAULT_HOME_PAGE
        _check_url(home_page, "--home-page" if args.home_page else f"setting {SITE_URL_SETTING}")
        activity_base = args.activity_base or home_page.rstrip("/") + "/courses/"
        _check_url(activity_base, "--activity-base")
        titles = _course_titles(args.courses)
        records = [
            r
            for r in store.sessions(since=args.since)
            if r.status is not SessionStatus.VOIDED and (args.until is None or r.started_at < args.until)
        ]
        records.reverse()  # oldest first: the order an LRS should receive them in
        trainees: dict[str, Any] = {}
        per_session: list[tuple[str, list[dict[str, Any]]]] = []
        graded = store.graded_lists([r.id for r in records])
        for record in records:
            if record.badge not in trainees:
                trainees[record.badge] = store.get_trainee(record.badge)
            made = xapi_mod.statements(
                record,
                trainees[record.badge],
                store.events(record.id),
                home_page=home_page,
                activity_base=activity_base,
                course_titles=titles,
                graded=graded.get(record.id),
            )
            per_session.append((record.id, made))
        total = sum(len(s) for _, s in per_session)
        if args.out:
            _write(args.out, [s for _, made in per_session for s in made], force=args.force)
            if args.out != "-":
                print(f"wrote {total} statement(s) of {len(per_session)} session(s) to {args.out}", file=sys.stderr)
        if client is not None:
            ledger = lrs_mod.SettingsLedger(store, client.endpoint)
            report = lrs_mod.send(client, per_session, ledger, batch_size=args.batch_size)
            print(report.summary(client.endpoint), file=sys.stderr)
    return ExitCode.OK


# --- scores ---------------------------------------------------------------------------------------------------------------

SCORE_FORMATS = ("xlsx", "csv")
PROGRESS_THRESHOLD = 2000  # sessions or rows; smaller exports finish before a bar would help


def _day(text: str) -> Any:
    from trainer.sitetime import parse_day

    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _register_scores(esub: Any) -> None:
    p = command(esub, "scores", scores)
    p.add_argument(
        "--format", choices=SCORE_FORMATS, help="xlsx (three sheets) or csv (the first sheet); default: from --out"
    )
    p.add_argument(
        "--out", required=True, metavar="FILE", help="the file to write (a new file is readable by you only)"
    )
    add_force(p, "the --out file")
    p.add_argument(
        "--since",
        type=_day,
        metavar="YYYY-MM-DD",
        help="attempts started on or after this day (in the site's time zone)",
    )
    p.add_argument(
        "--until",
        type=_day,
        metavar="YYYY-MM-DD",
        help="attempts started on or before this day (in the site's time zone)",
    )
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
    every pass on record; --since/--until pick the attempts counted, in the site's time zone (--tz: another).
    See docs/reports.md for every column.
    """
    from trainer import outfile
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.export import scores as scores_mod
    from trainer.export.period import Period, check_order
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
                sheet = scores_mod.build(
                    store,
                    library,
                    today=today(zone),
                    period=period,
                    department=args.department,
                    course_id=args.course,
                    with_attempts=fmt == "xlsx",
                    progress=bar.stage("reading sessions"),
                )
            if fmt == "xlsx":
                from trainer.export.xlsx import write_xlsx

                write_xlsx(
                    sheet,
                    target,
                    lang=lang,
                    progress=bar.stage("writing rows"),
                    force=args.force,
                    bilingual=args.bilingual,
                )
            else:
                from trainer.export.csvsheet import write_csv

                write_csv(sheet, target, lang=lang, force=args.force, bilingual=args.bilingual)
        finally:
            bar.close()
        attempts = sum(len(p.attempts) for p in sheet.pairs)
        print(
            f"wrote {len(sheet.pairs)} trainee-course row(s) from {attempts} attempt(s) ({period.describe()}) to {target}",
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


def _check_url(value: str, what: str) -> None:
    if not value.startswith(("http://", "https://")) or any(c.isspace() for c in value):
        raise UsageError(f"{what} {value!r}: give an http(s) URL such as {DEFAULT_HOME_PAGE}")


def _course_titles(extra: Sequence[str]) -> dict[str, dict[str, str | None]]:
    """Course id -> {'zh': ..., 'en': ...} from the course library; titles are a nicety, so unreadable courses are skipped."""
    from trainer.course.library import load_library

    try:
        library = load_library(extra)
    except (OSError, TrainerError):
        return {}
    return {cid: {"zh": c.title.zh, "en": c.title.en} for cid, c in library.courses.items()}


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
