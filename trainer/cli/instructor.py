"""`trainer instructor`: the password-guarded instructor mode of the terminal app, and its password.

Every sign-in is checked through the store (Store.instructor_sign_in): after failures in a row it makes the next
attempt wait, and it records each attempt in the audit trail (trainer/store/audit.py).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from trainer.cli.common import command
from trainer.errors import ExitCode, TrainerError, UsageError
from trainer.tui.i18n import t


def register(sub: Any) -> None:
    p = command(sub, "instructor", instructor)
    isub = p.add_subparsers(title="instructor commands", metavar="COMMAND")
    sp = command(isub, "set-password", set_password, uses=("db", "lang"))
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


def _ask_new_password(lang: str) -> str:
    """At the terminal: ask until the new password is long enough and typed the same twice (Ctrl+C gives up)."""
    from trainer.instructor_password import MIN_LENGTH

    while True:
        first = _read_password(t("password.new", lang), False)
        if len(first) < MIN_LENGTH:
            print(t("password.too_short", lang, length=MIN_LENGTH), file=sys.stderr)
            continue
        if _read_password(t("password.repeat", lang), False) == first:
            return first
        print(t("password.differ", lang), file=sys.stderr)


def set_password(args: argparse.Namespace) -> int:
    """Set the instructor password (stored as a salted scrypt hash in the database).

    At a terminal it asks again until the new password is long enough and typed the same twice; with --stdin a
    password that is too short is refused (exit 1). The first password needs nothing. Replacing it needs the current one (asked first; with --stdin the first line is
    the current password and the second the new one); a wrong current password counts as a failed sign-in (the same
    growing wait). An instructor who forgot it can use --reset --reason TEXT: the reset is recorded in the audit trail
    with the OS user, host and terminal. Every change is recorded (`trainer audit list`).
    """
    from trainer.cli.unscored import open_store
    from trainer.instructor_password import SETTING, check_password, hash_password, refusal
    from trainer.store.audit import Act

    lang = args.lang or "en"  # an administrator's command, in English unless asked (the app, and its prompt, in zh)
    if args.reset and not args.reason.strip():
        raise UsageError("--reset needs --reason TEXT: say why the password is replaced without the current one")
    with open_store(args) as store:
        replacing = store.get_setting(SETTING) is not None
        current = None
        if replacing and not args.reset:
            current = _read_password(t("password.current", lang), args.stdin)
        new = _read_password("", True) if args.stdin else _ask_new_password(lang)
        stored = hash_password(new)
        old = None if current is None else (lambda stored_hash: check_password(current, stored_hash))
        done = store.set_instructor_password(
            SETTING, stored, old=old, reset=args.reset and replacing, act=Act(args.reason)
        )
    if not done.ok:
        raise TrainerError(f"{refusal(done, 'wrong current instructor password')}; nothing was changed")
    print(t("password.reset" if args.reset and replacing else "password.set", lang))
    return ExitCode.OK


def instructor(args: argparse.Namespace) -> int:
    """Start the terminal app in instructor mode: preview any course, open any trainee's session.

    Asks for the instructor password first (set it with `trainer instructor set-password`): in the app's sign-in
    screen, or from standard input when it is not a terminal. After 3 wrong passwords in a row each next attempt must
    wait (1 s, doubling up to 60 s); every attempt is recorded in the audit trail.
    """
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.instructor_password import SETTING, check_password, refusal

    with open_store(args) as store:
        if store.get_setting(SETTING) is None:
            raise TrainerError("no instructor password is set; run `trainer instructor set-password` first")
        interactive = sys.stdin.isatty()
        if not interactive:
            password = _read_password(t("password.ask", args.lang or "zh"), True)
            done = store.instructor_sign_in(SETTING, lambda stored: check_password(password, stored))
            if not done.ok:
                raise TrainerError(refusal(done))
        library = load_library(args.courses)
        from trainer.tui.app import TrainerApp

        TrainerApp(library, store, lang=args.lang or "zh", instructor=True, sign_in=interactive).run()
    return ExitCode.OK
