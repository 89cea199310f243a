"""`trainer db ...`: the database's settings, and a consistent backup while terminals keep writing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from trainer.cli import command
from trainer.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    group = command(sub, "db", _group_help)
    dsub = group.add_subparsers(title="db commands", metavar="COMMAND")
    p = command(dsub, "info", info)
    p.add_argument("--db", metavar="URL")
    p = command(dsub, "backup", backup)
    p.add_argument("target", type=Path, metavar="FILE", help="where to write the backup (a complete Trainer database)")
    p.add_argument("--db", metavar="URL")


def _group_help(args: argparse.Namespace) -> int:
    """Database information and backups (see trainer db --help)."""
    raise UsageError("choose a db command: info, backup (see trainer db --help)")


def info(args: argparse.Namespace) -> int:
    """Show which database is used and its durability settings."""
    from trainer.store.store import Store

    with Store.open(args.db) as store:
        print(f"database: {store.describe()}")
        for key, value in store.diagnostics().items():
            print(f"{key}: {value}")
    return ExitCode.OK


def backup(args: argparse.Namespace) -> int:
    """Write a consistent copy of the database to FILE, safe while terminals are playing (SQLite backup API)."""
    from trainer.store.store import Store

    with Store.open(args.db) as store:
        written = store.backup(args.target)
    print(f"backup written: {written}")
    return ExitCode.OK
