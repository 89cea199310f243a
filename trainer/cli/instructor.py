"""`trainer instructor`: the password-guarded instructor mode of the terminal app, and its password.

Every sign-in is checked through the store (Store.instructor_sign_in): after failures in a row it makes the next
attempt wait, and it records each attempt in the audit trail (trainer/store/audit.py).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from trainer.cli import command
from trainer.errors import ExitCode, TrainerError, UsageError


def register(sub: Any) -> None:
    p = command(sub, "instructor", instructor)
    isub = p.add_subparsers(title="instructor commands", metavar="COMMAND")
    sp = command(isub, "set-password", set_password, uses=("db",))
    sp.add_argument(
        "--stdin",
        action="store_true",
        help="read the passwords from standard input, one a line: the current one first (unless none is set or "
        "with --reset), then the new one (for scripts)",
    )
    sp.add_argument(
        "--reset",
        action="store_true",
        help="replace a forgotten password without the current one (needs --reason; recorded with your OS user)",
    )
    sp.add_argument("--reason", default="", metavar="TEXT", help="why (required with --reset; kept in the audit trail)")


def _read_password(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise TrainerError("no password given on standard input")
        return line.rstrip("\r\n")
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise TrainerError("no password given") from None


def set_password(args: argparse.Namespace) -> int:
    """Set the instructor password (stored as a salted scrypt hash in the database).

    The first password needs nothing. Replacing it needs the current one (asked first; with --stdin the first line is
    the current password and the second the new one); a wrong current password counts as a failed sign-in (the same
    growing wait). An instructor who forgot it can use --reset --reason TEXT: the reset is recorded in the audit trail
    with the OS user, host and terminal. Every change is recorded (`trainer audit list`).
    """
    from trainer.cli.unscored import open_store
    from trainer.security import SETTING, check_password, hash_password, refusal
    from trainer.store.audit import Act

    if args.reset and not args.reason.strip():
        raise UsageError("--reset needs --reason TEXT: say why the password is replaced without the current one")
    with open_store(args) as store:
        replacing = store.get_setting(SETTING) is not None
        current = None
        if replacing and not args.reset:
            current = _read_password("Current instructor password: ", args.stdin)
        new = _read_password("New instructor password: ", args.stdin)
        if not args.stdin and getpass.getpass("Repeat it: ") != new:
            raise TrainerError("the two passwords differ; nothing was changed")
        stored = hash_password(new)
        old = None if current is None else (lambda stored_hash: check_password(current, stored_hash))
        done = store.set_instructor_password(
            SETTING, stored, old=old, reset=args.reset and replacing, act=Act(args.reason)
        )
    if not done.ok:
        raise TrainerError(f"{refusal(done, 'wrong current instructor password')}; nothing was changed")
    print(
        "instructor password reset (recorded in the audit trail)"
        if args.reset and replacing
        else "instructor password set"
    )
    return ExitCode.OK


def instructor(args: argparse.Namespace) -> int:
    """Start the terminal app in instructor mode: preview any course, open any trainee's session.

    Asks for the instructor password first (set it with `trainer instructor set-password`): in the app's sign-in
    screen, or from standard input when it is not a terminal. After 3 wrong passwords in a row each next attempt must
    wait (1 s, doubling up to 60 s); every attempt is recorded in the audit trail.
    """
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.security import SETTING, check_password, refusal

    with open_store(args) as store:
        if store.get_setting(SETTING) is None:
            raise TrainerError("no instructor password is set; run `trainer instructor set-password` first")
        interactive = sys.stdin.isatty()
        if not interactive:
            password = _read_password("Instructor password: ", True)
            done = store.instructor_sign_in(SETTING, lambda stored: check_password(password, stored))
            if not done.ok:
                raise TrainerError(refusal(done))
        library = load_library(args.courses)
        from trainer.tui.app import TrainerApp

        TrainerApp(library, store, lang=args.lang or "zh", instructor=True, sign_in=interactive).run()
    return ExitCode.OK
