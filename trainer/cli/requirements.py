"""`trainer requirements`: which courses each department and/or role must hold (HR's file, docs/hr.md)."""

from __future__ import annotations

import argparse
from typing import Any

from trainer.cli.common import command, plain
from trainer.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    group = command(sub, "requirements", _group_help, uses=("db",))
    rsub = group.add_subparsers(title="requirements commands", metavar="COMMAND")
    p = command(rsub, "load", load, uses=("db", "courses"))
    p.add_argument("file", metavar="FILE", help="the requirements, a CSV file (see docs/hr.md)")
    p.add_argument("--reason", default="", metavar="TEXT", help="why (kept in the audit trail)")
    command(rsub, "show", show, uses=("db",))


def _group_help(args: argparse.Namespace) -> int:
    """Required courses: load HR's file, show what is loaded (see trainer requirements --help)."""
    raise UsageError("choose a requirements command: load, show (see trainer requirements --help)")


def load(args: argparse.Namespace) -> int:
    """Load the required courses from HR's CSV file, replacing those loaded before.

    One row per course and department and/or role: course, department, role, first deadline days (or 课程, 部门,
    岗位, 首次期限天数). An empty (or *) department or role means any; empty days mean 30. A newcomer must first pass
    within those days of their hire date; a requirement new to the file gives everyone already hired those days from
    today. Every problem is reported as FILE:LINE and nothing is stored; the load is audited and entered in the ledger.
    """
    from trainer import hr
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.sitetime import site_zone, today
    from trainer.store.audit import Act

    library = load_library(args.courses)
    wanted = hr.read_requirements(args.file, known_courses=sorted(library.courses))
    with open_store(args, library=library) as store:
        moved = store.set_requirements(
            wanted, today=today(site_zone(store)), act=Act(args.reason), source=str(args.file)
        )
    print(
        f"{args.file}: {len(wanted)} requirement(s) loaded: {len(moved['added'])} added, "
        f"{len(moved['removed'])} removed, {len(moved['changed'])} changed"
    )
    return ExitCode.OK


def show(args: argparse.Namespace) -> int:
    """Show the required courses as loaded: course, department, role, first deadline days, since when."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from trainer.cli.unscored import open_store

    with open_store(args) as store:
        found = store.requirements()
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("course", "department", "role", "first deadline (days)", "since"):
        table.add_column(col, overflow="fold")
    for r in found:
        table.add_row(
            plain(r.course_id), plain(r.department or "any"), plain(r.role or "any"), str(r.first_days), str(r.since)
        )
    Console(highlight=False).print(table if found else "No requirements loaded: trainer requirements load FILE")
    return ExitCode.OK
