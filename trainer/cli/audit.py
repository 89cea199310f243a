"""`trainer audit list`: the audit trail (who changed which record, when and why; instructor sign-ins)."""

from __future__ import annotations

import argparse
from typing import Any

from trainer.cli.common import command, plain
from trainer.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    from trainer.store.actions import ACTIONS  # not store.audit: --help and course check stay free of SQLAlchemy

    group = command(sub, "audit", _group_help, uses=("db",))
    asub = group.add_subparsers(title="audit commands", metavar="COMMAND")
    p = command(asub, "list", list_trail, uses=("db",))
    p.add_argument(
        "--since",
        metavar="DATE",
        help="only rows on or after DATE (2026-11-01 or 2026-11-01T08:00, the site's time zone)",
    )
    p.add_argument("--action", choices=ACTIONS, metavar="ACTION", help=f"only this action: {', '.join(ACTIONS)}")
    p.add_argument("--session", metavar="ID", help="only rows about this session (id or a unique prefix)")


def _group_help(args: argparse.Namespace) -> int:
    """The audit trail of record changes and instructor sign-ins (see trainer audit --help)."""
    raise UsageError("choose an audit command: list (see trainer audit --help)")


def list_trail(args: argparse.Namespace) -> int:
    """List the audit trail, oldest first: when, who (OS user@host and terminal), what, which session, why.

    Every void, relabel, label import, rescoring, repair of a missing score and restore is there, written in the same
    transaction as the change; so is every instructor sign-in (succeeded, failed, refused during the wait) and password
    change or reset.
    """
    from rich.console import Console

    from trainer.cli.common import since_moment
    from trainer.cli.unscored import open_store
    from trainer.reports.changes import describe
    from trainer.sitetime import site_zone

    with open_store(args) as store:
        zone = site_zone(store)  # --since and the times shown: the site's wall time
        since = since_moment(args.since, zone) if args.since else None
        rows = store.audit_trail(since=since, action=args.action, session=args.session)
    console = Console(highlight=False, soft_wrap=True)  # one line per row, whole, for grep
    for r in rows:
        session = f"  session {r.session_id}" if r.session_id else ""
        why = f"  why: {plain(r.reason)}" if r.reason else ""
        console.print(
            f"{r.at.astimezone(zone).strftime('%Y-%m-%d %H:%M:%S')}  {r.action}{session}  by {plain(r.who)}: {plain(describe(r.action, r.detail))}{why}"
        )
    if not rows:
        console.print("The audit trail holds no such rows.")
    return ExitCode.OK
