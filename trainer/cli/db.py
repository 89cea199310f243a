"""`trainer db ...`: the database's settings, schema upgrades, a consistent backup while terminals keep writing, and
copying or merging whole databases (SQLite <-> PostgreSQL)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from trainer.cli.common import command
from trainer.cli.outputs import add_force
from trainer.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    group = command(sub, "db", _group_help, uses=("db",))
    dsub = group.add_subparsers(title="db commands", metavar="COMMAND")
    command(dsub, "info", info, uses=("db",))
    command(dsub, "upgrade", upgrade, uses=("db",))
    p = command(dsub, "set", set_setting, uses=("db",))
    p.add_argument("key", metavar="KEY", help="one of: " + ", ".join(_settable()))
    p.add_argument("value", metavar="VALUE", nargs="?", help="the new value (leave out to show the current one)")
    p.add_argument("--reason", default="", metavar="TEXT", help="why (kept in the audit trail)")
    p = command(dsub, "backup", backup, uses=("db",))
    p.add_argument(
        "target",
        type=Path,
        metavar="FILE",
        help="where to write the backup (SQLite: a complete Trainer database; PostgreSQL: a pg_dump archive)",
    )
    add_force(p, "FILE (and remove a stale FILE-wal, FILE-shm beside it)")
    p = command(dsub, "restore", restore, uses=("db",))
    p.add_argument("source", type=Path, metavar="FILE", help="a backup written by `trainer db backup` (SQLite)")
    add_force(p, "a database that holds sessions (or a backup whose chains fail)")
    p.add_argument("--reason", default="", metavar="TEXT", help="why (kept in the restored database's audit trail)")
    p = command(dsub, "copy", copy, uses=())
    p.add_argument(
        "--from", dest="source", required=True, metavar="URL", help="the database to copy (opened read-only)"
    )
    p.add_argument("--to", dest="target", required=True, metavar="URL", help="the database to copy into")
    p.add_argument(
        "--merge",
        action="store_true",
        help="add the records to a database that holds other plants' (needs --plant)",
    )
    p.add_argument("--plant", metavar="NAME", help="the plant the copied trainees belong to (with --merge)")


def _group_help(args: argparse.Namespace) -> int:
    """Database information, upgrades, backups and restores (see trainer db --help)."""
    raise UsageError("choose a db command: info, upgrade, set, backup, restore, copy (see trainer db --help)")


def _settable() -> list[str]:
    from trainer.site import SETTABLE

    return list(SETTABLE)


def set_setting(args: argparse.Namespace) -> int:
    """Set one of the site's settings (or show it, without VALUE).

    timezone     the IANA time zone (e.g. Asia/Shanghai) in which dates, --since/--until periods and certification
                 expiry are counted, whatever the zone of the machine running a command; a new database gets its
                 creator's zone.
    site.url     the site's URL: the homePage of every trainee's xAPI account, i.e. their identity in an LRS shared by
                 several plants (badge B1001 at two plants is two people only if their sites' URLs differ).
                 `trainer export xapi --lrs` refuses to post until it is set (or --home-page is given).
    site.name    the site's name, written into every xAPI statement (a context extension).
    xapi.iri     the IRI of the site's xAPI extensions and profile verb (default: site.url/xapi); plants that report
                 together give the same one. See docs/xapi.md.

    Every change is kept in the audit trail (who, old and new value, --reason).
    """
    from trainer.cli.unscored import open_store
    from trainer.site import SETTABLE
    from trainer.store import audit

    setting = SETTABLE.get(args.key)
    if setting is None:
        raise UsageError(f"{args.key!r} is not a setting; choose one of: {', '.join(SETTABLE)}")
    with open_store(args) as store:
        if args.value is None:
            current = store.get_setting(setting.key)
            print(f"{setting.key} = {current}" if current is not None else f"{setting.key} is not set")
            return ExitCode.OK
        value = setting.check(setting.key, args.value)
        before = store.change_setting(setting.key, value, act=audit.Act(args.reason))
    was = "" if before is None or before == value else f" (was {before})"
    print(f"{setting.key} = {value}{was}")
    return ExitCode.OK


def info(args: argparse.Namespace) -> int:
    """Show which database is used, its schema version, its time zone and its durability settings."""
    from trainer import sitetime
    from trainer.store import schema
    from trainer.store.store import Store

    with Store.open(args.db) as store:
        print(f"database: {store.describe()}")
        print(f"schema_version: {schema.SCHEMA_VERSION}")
        print(f"{sitetime.SETTING}: {sitetime.zone_name(sitetime.site_zone(store))}")
        for key, value in store.diagnostics().items():
            print(f"{key}: {value}")
        from trainer.site import SETTABLE

        for key in SETTABLE:
            if key != sitetime.SETTING:  # shown above, with the machine's zone when none is set
                print(f"{key}: {store.get_setting(key) or '(not set)'}")
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
    """Write a consistent copy of the database to FILE, safe while terminals are playing, and check it.

    SQLite: one self-contained database file (SQLite's backup API, rollback journal), which must pass SQLite's integrity
    check and the hash-chain verification of every session before it is put in place; open it with --db FILE or bring
    it back with `trainer db restore FILE`. PostgreSQL: an archive of Trainer's schema made by pg_dump (custom format;
    needs pg_dump installed), read back with pg_restore --list, restored with pg_restore (see docs/operations.md).
    An existing FILE is replaced only with --force. Exit 1 if a session's chain fails (the copy is kept: the database
    has the same problem; see trainer sessions verify).
    """
    from trainer.store.store import Store

    with Store.open(args.db) as store:
        done = store.backup(args.target, force=args.force)
    for p in done.problems:
        print(f"session {p.session_id}: event {p.seq}: {p.reason}")
    if done.sessions is None:
        print(f"backup written: {done.path} ({done.how})")
    elif done.problems:
        print(
            f"backup written: {done.path} ({_sessions(done.sessions)}; {len(done.problems)} fail chain verification, "
            "in the database too: see trainer sessions verify)"
        )
        return ExitCode.ERROR
    else:
        print(f"backup written: {done.path} ({_sessions(done.sessions)}, {done.how})")
    return ExitCode.OK


def restore(args: argparse.Namespace) -> int:
    """Put a backup (FILE, from `trainer db backup`) in place of the database; stop every terminal first.

    SQLite: FILE must be a Trainer database that passes SQLite's integrity check and the hash-chain verification of every
    session; it is copied beside the database and renamed over it, so the database is never half written. A database
    that holds sessions is replaced only with --force, and not while a program has it open. PostgreSQL: use pg_restore
    (see docs/operations.md). The restore is recorded in the restored database's audit trail (who, from which file,
    how many sessions it replaced, --reason).
    """
    from sqlalchemy.engine import make_url

    from trainer.store import audit, dialect
    from trainer.store import backup as backup_mod
    from trainer.store.opening import resolve
    from trainer.store.store import Store

    url = make_url(resolve(args.db)[0])
    source = args.source.expanduser().absolute()
    if dialect.is_postgresql(url):
        shown = url.render_as_string(hide_password=True)
        raise UsageError(
            f"{shown}: restore a PostgreSQL backup with pg_restore: stop the terminals, then "
            f"pg_restore --clean --if-exists --no-owner --dbname=URL {source} (see docs/operations.md)"
        )
    database = dialect.sqlite_file(url)
    if database is None:
        raise UsageError(f"{url.render_as_string(hide_password=True)}: restore needs an SQLite database file as --db")
    checked, replaced = backup_mod.restore_sqlite(source, database, force=args.force)
    # After the rename: the backup may be of an older schema, which opening brings to this one (with the trail).
    with Store.open(database) as store:
        detail = {"source": str(source), "sessions": checked.sessions, "replaced_sessions": replaced}
        store.record(audit.DB_RESTORE, act=audit.Act(args.reason), detail=detail)
    for p in checked.problems:
        print(f"session {p.session_id}: event {p.seq}: {p.reason}")
    was = f"; it replaced {_sessions(replaced)}" if replaced else ""
    verified = (
        f"{len(checked.problems)} fail chain verification (restored with --force)"
        if checked.problems
        else "chains verified"
    )
    print(f"restored {source} to {database}: {_sessions(checked.sessions or 0)}, {verified}{was}")
    return ExitCode.OK


def _sessions(n: int) -> str:
    return f"{n} session" if n == 1 else f"{n} sessions"


def copy(args: argparse.Namespace) -> int:
    """Copy every record of one database into another (SQLite <-> PostgreSQL), resumably, and prove the copy.

    Copies trainees, sessions, events, labels, scorings, PINs, settings, the audit trail and the ledger in batches,
    with a progress bar. The source is opened read-only and never changed; terminals may keep playing on it: run the
    command again to bring over what arrived since (a run continues where an interrupted one stopped and copies nothing
    twice). A target that holds other records is refused; --merge --plant NAME adds a plant's database to a shared one
    (each trainee tagged with the plant, a badge another plant already uses renamed BADGE@NAME, the ledger chained on).
    Then the target is verified as `trainer sessions verify` does, every session must have the same heads as on the
    source, and every table the same rows: each difference is one line naming the session, and the exit code is 1.
    See docs/operations.md for moving a plant to PostgreSQL.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from trainer.cli.common import plain
    from trainer.store import copy as copy_mod
    from trainer.text import shown

    if args.merge and not args.plant:
        raise UsageError("--merge needs --plant NAME: the plant the copied trainees belong to")
    if args.plant and not args.merge:
        raise UsageError("--plant goes with --merge (a plain copy keeps the records as they are)")
    err = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description:<13}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    tasks: dict[str, object] = {}

    def started(totals: copy_mod.Totals) -> None:
        for name in ("trainees", "sessions", "events", "scores", "labels", "audit", "ledger"):
            tasks[name] = bar.add_task(name, total=totals.rows.get(name, 0))

    def advance(table: str, n: int) -> None:
        if table in tasks and n:
            bar.advance(tasks[table], n)  # type: ignore[arg-type]

    with bar:
        done = copy_mod.copy(args.source, args.target, plant=args.plant, progress=advance, started=started)
    out = Console(highlight=False, soft_wrap=True)
    what = f"merged as plant {plain(done.plant)}" if done.plant else "copied"
    out.print(
        f"{plain(done.source)} -> {plain(done.target)}: {what} in {done.seconds:.1f} s, verified in "
        f"{done.verify_seconds:.1f} s"
    )
    out.print(f"{'table':<14}{'source':>12}{'target':>12}{'this run':>12}")
    for t in done.tables:
        out.print(f"{t.table:<14}{t.source:>12}{t.target:>12}{t.copied:>12}")
    if done.rebadged:
        pairs = ", ".join(f"{plain(a)} -> {plain(b)}" for a, b in done.rebadged[:5])
        more = f" and {len(done.rebadged) - 5} more" if len(done.rebadged) > 5 else ""
        out.print(f"badges used by another plant, kept apart: {pairs}{more}")
    v = done.verification
    if not v.authenticated:
        print(
            f"trainer: warning: the record is keyed with site key {v.keying.partition(' ')[2]}, which TRAINER_SITE_KEY_FILE "
            "does not name: the target's structure was checked, its authenticity cannot be",
            file=sys.stderr,
        )
    out.print(f"ledger: {v.ledger_entries} entries, last {v.ledger_head[:16] or 'none'} ({v.keying})")
    if done.differences:
        for line in done.differences:
            print(f"trainer: error: {shown(line)}", file=sys.stderr)
        out.print(
            f"verification failed: {len(done.differences)} difference(s) between the source and the target; do not "
            "switch to the target (run the copy again, or see trainer sessions verify --db TARGET)"
        )
        return ExitCode.ERROR
    out.print(
        f"verified: {v.checked} session(s) on the target, every chain intact, the same heads as the source, "
        "every table's rows there"
    )
    return ExitCode.OK
