"""`trainer db ...`: the database's settings, schema upgrades, and a consistent backup while terminals keep writing."""

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
    p = command(dsub, "upgrade", upgrade)
    p.add_argument("--db", metavar="URL")
    p = command(dsub, "backup", backup)
    p.add_argument(
        "target",
        type=Path,
        metavar="FILE",
        help="where to write the backup (SQLite: a complete Trainer database; PostgreSQL: a pg_dump archive)",
    )
    p.add_argument("--db", metavar="URL")


def _group_help(args: argparse.Namespace) -> int:
    """Database information, upgrades and backups (see trainer db --help)."""
    raise UsageError("choose a db command: info, upgrade, backup (see trainer db --help)")


def info(args: argparse.Namespace) -> int:
    """Show which database is used, its schema version and its durability settings."""
    from trainer.store import schema
    from trainer.store.store import Store

    with Store.open(args.db) as store:
        print(f"database: {store.describe()}")
        print(f"schema_version: {schema.SCHEMA_VERSION}")
        for key, value in store.diagnostics().items():
            print(f"{key}: {value}")
    return ExitCode.OK


def upgrade(args: argparse.Namespace) -> int:
    """Bring the database's schema to this Trainer's version and say from which version it came.

    Opening a database upgrades it too (the first terminal started after an update does it); this command does it on
    purpose, once, right after installing a new Trainer, and prints what changed. It runs in one transaction: all or
    nothing. Safe to run again: a current database is left as it is.
    """
    from trainer.cli.unscored import open_store
    from trainer.store import migrations

    latest = migrations.latest_version()
    with open_store(args) as store:
        found = store.upgraded_from
        where = store.describe()
    if found is None:
        print(f"{where}: schema version {latest}, already current; nothing to do")
    elif found == 0:
        print(f"{where}: was empty; created at schema version {latest}")
    else:
        print(f"{where}: upgraded from schema version {found} to {latest}")
        for step in migrations.STEPS:
            if step.to_version > found:
                print(f"  {step.to_version}: {step.description}")
    return ExitCode.OK


def backup(args: argparse.Namespace) -> int:
    """Write a consistent copy of the database to FILE, safe while terminals are playing.

    SQLite: a complete database file (SQLite's backup API); open it with --db FILE. PostgreSQL: an archive of Trainer's
    schema made by pg_dump (custom format; needs pg_dump installed), restored with pg_restore (see docs/operations.md).
    """
    from trainer.store.store import Store

    with Store.open(args.db) as store:
        written = store.backup(args.target)
    print(f"backup written: {written}")
    return ExitCode.OK
