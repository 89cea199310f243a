"""Options shared by commands: --force for every command that writes a file (--out, --html, --report, backups: see
trainer/outfile.py), --tz for every command that turns times into dates (see trainer/sitetime.py)."""

from __future__ import annotations

import argparse


def add_force(p: argparse.ArgumentParser, what: str = "the output file") -> None:
    """--force: replace `what` if it exists (without it, an existing file is refused and left as it is)."""
    p.add_argument(
        "--force",
        action="store_true",
        help=f"replace {what} if it exists (it keeps its permissions); without it an existing file is left alone",
    )


def add_tz(p: argparse.ArgumentParser) -> None:
    """--tz: the time zone this command turns times into dates in, instead of the database's (trainer/sitetime.py)."""
    p.add_argument(
        "--tz",
        metavar="ZONE",
        help="count days in this IANA time zone (e.g. Asia/Shanghai) instead of the database's setting timezone",
    )
