"""`trainer trainees`: who the trainees are and who may act under a badge: HR's roster (import, edit, merge, list;
docs/hr.md) and PINs for the training room (trainer/pins.py, docs/operations.md)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from trainer.cli.common import command, plain
from trainer.errors import ExitCode, TrainerError, UsageError


def register(sub: Any) -> None:
    group = command(sub, "trainees", _group_help)
    tsub = group.add_subparsers(title="trainees commands", metavar="COMMAND")

    p = command(tsub, "pins", pins, uses=("db",))
    p.add_argument("state", nargs="?", choices=("on", "off"), help="turn PINs on or off (default: say which)")

    p = command(tsub, "set-pin", set_pin, uses=("db",))
    p.add_argument("badge", metavar="BADGE")
    p.add_argument("--clear", action="store_true", help="forget the PIN: the trainee chooses a new one at sign-in")

    p = command(tsub, "import", import_roster, uses=("db",))
    p.add_argument("file", metavar="FILE", help="the roster: .csv (UTF-8 or GB18030) or .xlsx (its first sheet)")
    p.add_argument("--dry-run", action="store_true", help="check the file and say what would change; store nothing")
    p.add_argument("--reason", default="", metavar="TEXT", help="why (kept in the audit trail)")

    p = command(tsub, "edit", edit, uses=("db",))
    p.add_argument("badge", metavar="BADGE")
    p.add_argument("--name", metavar="NAME")
    p.add_argument("--department", metavar="NAME")
    p.add_argument("--role", metavar="NAME", help='the role ("" clears it)')
    p.add_argument("--plant", metavar="NAME", help='the plant ("" clears it)')
    p.add_argument("--hire-date", metavar="YYYY-MM-DD", help='the hire date ("" clears it)')
    p.add_argument("--reason", default="", metavar="TEXT", help="why (kept in the audit trail)")

    p = command(tsub, "merge", merge, uses=("db",))
    p.add_argument("old", metavar="OLD", help="the duplicate badge")
    p.add_argument("new", metavar="NEW", help="the badge to keep")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why (kept in the audit trail)")

    p = command(tsub, "list", list_trainees, uses=("db",))
    p.add_argument("--merged", action="store_true", help="also the badges merged into others")


def _group_help(args: argparse.Namespace) -> int:
    """Trainees: HR's roster (import, edit, merge, list) and PINs (see trainer trainees --help)."""
    raise UsageError(
        "choose a trainees command: import, edit, merge, list, pins, set-pin (see trainer trainees --help)"
    )


def pins(args: argparse.Namespace) -> int:
    """Ask trainees for a PIN at sign-in (on) or not (off, the default); without a state, say which it is.

    With PINs on, a trainee chooses a 4-8 digit PIN at their first sign-in (typed twice), or an instructor sets one with
    `trainer trainees set-pin BADGE`; signing in, and so starting or resuming a session, needs it.
    """
    from trainer.cli.unscored import open_store
    from trainer.pins import SETTING

    with open_store(args) as store:
        if args.state is not None:
            store.set_setting(SETTING, args.state)
        state = store.get_setting(SETTING) or "off"
    if state == "on":
        print("trainee PINs are on: signing in asks for the trainee's PIN (chosen at the first sign-in)")
    else:
        print("trainee PINs are off: a badge number signs in; resuming a session asks for the trainee's name")
    return ExitCode.OK


def set_pin(args: argparse.Namespace) -> int:
    """Set a trainee's PIN (4-8 digits), or forget it with --clear.

    Reads the PIN from standard input when it is not a terminal (one line), else asks for it twice without showing it.
    Stored only as a salted scrypt hash; a new PIN also forgets the wrong guesses made against the old one.
    """
    from trainer.cli.unscored import open_store
    from trainer.pins import hash_pin

    with open_store(args) as store:
        trainee = store.get_trainee(args.badge)
        if trainee is None:
            raise TrainerError(f"no trainee with badge {plain(args.badge.strip())}; they sign in once first")
        if args.clear:
            had = store.clear_pin(trainee.badge)
            print(
                f"PIN of {plain(trainee.badge)} cleared; they choose a new one at their next sign-in"
                if had
                else f"{plain(trainee.badge)} had no PIN; nothing was changed"
            )
            return ExitCode.OK
        pin = _read_pin(f"New PIN for {plain(trainee.badge)} ({plain(trainee.name)}): ")
        store.set_pin(trainee.badge, hash_pin(pin), by=f"instructor {getpass.getuser()}")
    print(f"PIN of {plain(trainee.badge)} set")
    return ExitCode.OK


def _read_pin(prompt: str) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    try:
        first = getpass.getpass(prompt)
        if getpass.getpass("Repeat it: ") != first:
            raise TrainerError("the two PINs differ; nothing was changed")
    except EOFError:
        raise TrainerError("no PIN given; nothing was changed") from None
    return first


# --- the roster (docs/hr.md) -------------------------------------------------------------------------------------------


def import_roster(args: argparse.Namespace) -> int:
    """Create and update trainees from HR's roster: badge, name, department, role, plant, hire date.

    The first row names the columns, in English or Chinese (badge/工号, name/姓名, department/部门, role/岗位,
    plant/厂区, hire date/入职日期); other columns are left out. Every row is checked first: any problem is reported as
    FILE:LINE and nothing is stored. Then, in one transaction, each trainee new or changed is saved, with a row in the
    audit trail (old -> new) and an entry in the ledger. Trainees not on the roster are left as they are. From the first
    import on, the sign-in screen takes only badges on the roster (their department comes from it; nobody types one).
    """
    from trainer import hr
    from trainer.cli.unscored import open_store
    from trainer.store.audit import Act

    roster = hr.read_roster(args.file)
    with open_store(args, repair=not args.dry_run) as store:
        if args.dry_run:
            known = {t.badge: t for t in store.trainees(merged=True)}
            new = sum(entry.badge not in known for _, entry in roster.entries)
            print(f"{args.file}: {len(roster.entries)} trainee(s) listed, {new} new; nothing was stored (--dry-run)")
            return ExitCode.OK
        outcome = store.import_trainees(roster.entries, act=Act(args.reason), source=str(args.file))
        store.set_setting(hr.ROSTER_SETTING, "on")
    counts = {k: sum(v == k for v in outcome.values()) for k in ("new", "changed", "same")}
    print(
        f"{args.file}: {counts['new']} new, {counts['changed']} changed, {counts['same']} unchanged trainee(s); "
        "sign-in now takes only badges on the roster"
    )
    if roster.ignored:
        print(f"columns left out: {plain(', '.join(roster.ignored))}")
    return ExitCode.OK


def edit(args: argparse.Namespace) -> int:
    """Correct a trainee's name, department, role, plant or hire date (audited, and entered in the ledger)."""
    from trainer import hr, people
    from trainer.cli.unscored import open_store
    from trainer.store.audit import Act

    changes: dict[str, Any] = {}
    try:
        if args.name is not None:
            changes["name"] = people.name(args.name)
        if args.department is not None:
            changes["department"] = people.department(args.department)
        for key in ("role", "plant"):
            value = getattr(args, key)
            if value is not None:
                changes[key] = hr.optional_text(value, key)
        if args.hire_date is not None:
            changes["hire_date"] = hr.parse_date(args.hire_date)
    except (people.TraineeFieldError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if not changes:
        raise UsageError("say what to change: --name, --department, --role, --plant or --hire-date")
    with open_store(args) as store:
        before = store.get_trainee(args.badge)
        trainee = store.edit_trainee(args.badge.strip(), changes, act=Act(args.reason))
    same = before == trainee
    print(f"{plain(trainee.badge)}: " + ("nothing changed" if same else _describe(trainee)))
    return ExitCode.OK


def merge(args: argparse.Namespace) -> int:
    """Merge a duplicate badge OLD into NEW: OLD's sessions count as NEW's from now on, and OLD signs in as NEW.

    The history is kept as recorded: each session keeps the badge it was started under (its hash chain binds it, and
    `trainer sessions verify` still holds), and OLD's record stays, marked as merged. Reports, certifications and the
    compliance matrix read OLD's sessions as NEW's. Audited with the reason, and entered in the ledger.
    """
    from trainer.cli.unscored import open_store
    from trainer.store.audit import Act

    with open_store(args) as store:
        count = store.merge_trainees(args.old.strip(), args.new.strip(), act=Act(args.reason))
    print(
        f"{plain(args.old.strip())} merged into {plain(args.new.strip())}: its {count} session(s) now count as theirs"
    )
    return ExitCode.OK


def list_trainees(args: argparse.Namespace) -> int:
    """List the trainees: badge, name, department, role, plant, hire date."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from trainer.cli.unscored import open_store

    with open_store(args) as store:
        trainees = store.trainees(merged=args.merged)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in (
        "badge",
        "name",
        "department",
        "role",
        "plant",
        "hire date",
        *(("merged into",) if args.merged else ()),
    ):
        table.add_column(col, overflow="fold")
    for t in trainees:
        extra = (plain(t.merged_into or ""),) if args.merged else ()
        table.add_row(
            plain(t.badge),
            plain(t.name),
            plain(t.department),
            plain(t.role or ""),
            plain(t.plant or ""),
            str(t.hire_date or ""),
            *extra,
        )
    Console(highlight=False).print(table if trainees else "No trainees yet.")
    return ExitCode.OK


def _describe(t: Any) -> str:
    parts = [t.name, t.department, t.role, t.plant, None if t.hire_date is None else f"hired {t.hire_date}"]
    return plain(", ".join(p for p in parts if p))
