"""`trainer trainees`: who may act under a badge. PINs for the training room (trainer/pins.py, docs/operations.md)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from trainer.cli import command, plain
from trainer.errors import ExitCode, TrainerError, UsageError


def register(sub: Any) -> None:
    group = command(sub, "trainees", _group_help)
    tsub = group.add_subparsers(title="trainees commands", metavar="COMMAND")

    p = command(tsub, "pins", pins, uses=("db",))
    p.add_argument("state", nargs="?", choices=("on", "off"), help="turn PINs on or off (default: say which)")

    p = command(tsub, "set-pin", set_pin, uses=("db",))
    p.add_argument("badge", metavar="BADGE")
    p.add_argument("--clear", action="store_true", help="forget the PIN: the trainee chooses a new one at sign-in")


def _group_help(args: argparse.Namespace) -> int:
    """Trainee PINs: turn them on or off for the site, set or clear one trainee's (see trainer trainees --help)."""
    raise UsageError("choose a trainees command: pins, set-pin (see trainer trainees --help)")


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
