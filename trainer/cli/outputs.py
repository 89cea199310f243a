"""The --force option of every command that writes a file (--out, --html, --report, backups): see trainer/outfile.py."""

from __future__ import annotations

import argparse


def add_force(p: argparse.ArgumentParser, what: str = "the output file") -> None:
    """--force: replace `what` if it exists (without it, an existing file is refused and left as it is)."""
    p.add_argument(
        "--force",
        action="store_true",
        help=f"replace {what} if it exists (it keeps its permissions); without it an existing file is left alone",
    )
