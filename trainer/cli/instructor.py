"""`trainer instructor`: the password-guarded instructor mode of the terminal app, and its password."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from trainer.cli import command
from trainer.errors import ExitCode, TrainerError
from trainer.tui.i18n import t


def register(sub: Any) -> None:
    p = command(sub, "instructor", instructor)
    isub = p.add_subparsers(title="instructor commands", metavar="COMMAND")
    sp = command(isub, "set-password", set_password, uses=("db", "lang"))
    sp.add_argument("--stdin", action="store_true", help="read the new password from standard input (for scripts)")


def _read_password(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise TrainerError("no password given") from None


def _ask_new_password(lang: str) -> str:
    """At the terminal: ask until the new password is long enough and typed the same twice (Ctrl+C gives up)."""
    from trainer.security import MIN_LENGTH

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

    At a terminal it asks again until the password is long enough and typed the same twice; with --stdin a password
    that is too short is refused (exit 1).
    """
    from trainer.cli.unscored import open_store
    from trainer.security import SETTING, hash_password

    lang = args.lang or "en"  # an administrator's command, in English unless asked (the app, and its prompt, in zh)
    first = _read_password("", True) if args.stdin else _ask_new_password(lang)
    stored = hash_password(first)
    with open_store(args) as store:
        store.set_setting(SETTING, stored)
    print(t("password.set", lang))
    return ExitCode.OK


def instructor(args: argparse.Namespace) -> int:
    """Start the terminal app in instructor mode: preview any course, open any trainee's session.

    Asks for the instructor password first (set it with `trainer instructor set-password`).
    """
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.security import SETTING, check_password

    with open_store(args) as store:
        stored = store.get_setting(SETTING)
        if stored is None:
            raise TrainerError("no instructor password is set; run `trainer instructor set-password` first")
        prompt = t("password.ask", args.lang or "zh")
        if not check_password(_read_password(prompt, not sys.stdin.isatty()), stored):
            raise TrainerError("wrong instructor password")
        library = load_library(args.courses)
        from trainer.tui.app import TrainerApp

        TrainerApp(library, store, lang=args.lang or "zh", instructor=True).run()
    return ExitCode.OK
