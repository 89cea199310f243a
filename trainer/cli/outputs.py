"""Options shared by commands: --force for every command that writes a file (--out, --html, --report, backups: see
trainer/outfile.py), --since/--until and --tz for every command that turns times into dates (see trainer/sitetime.py)."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any


def add_force(p: argparse.ArgumentParser, what: str = "the output file") -> None:
    """--force: replace `what` if it exists (without it, an existing file is refused and left as it is)."""
    p.add_argument(
        "--force",
        action="store_true",
        help=f"replace {what} if it exists (it keeps its permissions); without it an existing file is left alone",
    )


def site_day(text: str) -> date:
    """A YYYY-MM-DD argument: a day of the site's calendar (trainer/sitetime.py), or argparse's one-line error."""
    from trainer.sitetime import parse_day

    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_period(p: argparse.ArgumentParser) -> None:
    """--since/--until: the attempts a report or a sheet counts, by the day they started in the site's time zone."""
    for flag, side in (("--since", "on or after"), ("--until", "on or before")):
        p.add_argument(
            flag,
            type=site_day,
            metavar="YYYY-MM-DD",
            help=f"attempts started {side} this day (in the site's time zone)",
        )


def add_tz(p: argparse.ArgumentParser) -> None:
    """--tz: the time zone this command turns times into dates in, instead of the database's (trainer/sitetime.py)."""
    p.add_argument(
        "--tz",
        metavar="ZONE",
        help="count days in this IANA time zone (e.g. Asia/Shanghai) instead of the database's setting timezone",
    )


def compliance_matrix(store: Any, library: Any, args: argparse.Namespace) -> Any:
    """The compliance matrix as of the site's today, with the --department, --course and --plant filters (those the
    command has), in the --tz zone if given: what `report compliance`, the workbook's Compliance sheets and `export
    overdue` all show."""
    from trainer.reports import compliance
    from trainer.sitetime import site_zone

    return compliance.load(
        store,
        library,
        zone=site_zone(store, getattr(args, "tz", None)),
        department=args.department,
        plant=getattr(args, "plant", None),
        course_id=args.course,
    )
