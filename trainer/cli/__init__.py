"""The `trainer` command line. Subcommands live in one module per group; heavy imports stay inside the commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from trainer import __version__
from trainer.cli.common import ALL_COMMON, COMMON_OPTIONS, add_common, settle_common
from trainer.errors import ExitCode, TrainerError


class _SubCommands(argparse._SubParsersAction):
    """Subcommands whose common options add to those given before the command name instead of replacing them.

    argparse parses a subcommand into a fresh namespace and copies it over the parent's: an option's default there would
    overwrite the value given before the command. The common options have no default (SUPPRESS), so a value given
    before survives; a value given after wins, and course folders given on both sides are all used.
    """

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: Any = None
    ) -> None:
        before = getattr(namespace, "courses", None)
        super().__call__(parser, namespace, values, option_string)
        after = getattr(namespace, "courses", None)
        if before and after is not None and after is not before:
            namespace.courses = [*before, *after]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _SubCommands)

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: usage error: {message} (see {self.prog} --help)\n")
        raise SystemExit(ExitCode.USAGE)


# Every command group: trainer/cli/NAME.py registers it, and this is the line `trainer --help` lists for it. Only the
# module of the group on the command line is imported (`trainer --help` and `trainer course check` import no other);
# tests/unit/test_cli_help.py checks each line against the module's own.
GROUPS = {
    "course": "Check, list, draw and test courses (see trainer course --help).",
    "play": "Play a course without the terminal app, from a script of action ids.",
    "sessions": "List, show, verify and void stored sessions (see trainer sessions --help).",
    "export": "Export stored sessions for other systems (see trainer export --help).",
    "instructor": "Start the terminal app in instructor mode: preview any course, open any trainee's session.",
    "db": "Database information, upgrades, backups and restores (see trainer db --help).",
    "report": "Reports for instructors and HR: a course, a trainee, certifications due, compliance (see trainer report --help).",
    "simulate": "Simulated trainees of documented profiles play courses through the real engine.",
    "model": "Train, evaluate and inspect the model that grades mistakes (see trainer model --help).",
    "label": "Walk through a session's mistakes and grade each (none, minor, serious, critical); the labels are stored.",
    "score": "Rescore finished sessions with the current model (or --model), keeping every earlier score in the history.",
    "serve": "Serve the trainee's app to web browsers: one URL for the whole training room, one trainee per browser tab.",
    "audit": "The audit trail of record changes and instructor sign-ins (see trainer audit --help).",
    "trainees": "Trainees: HR's roster (import, edit, merge, list) and PINs (see trainer trainees --help).",
    "requirements": "Required courses: load HR's file, show what is loaded (see trainer requirements --help).",
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given the `argv` about to be parsed, only the group it names is built for real (the
    others are stand-ins that show their line in `trainer --help`), so a command starts without importing the rest."""
    import importlib

    from trainer.cli import root

    parser = _Parser(
        prog="trainer",
        description="Trainer: safety training and assessment in the terminal. With no command, starts the trainee's app.",
    )
    parser.add_argument("--version", action="version", version=f"trainer {__version__}")
    add_common(parser)
    parser.set_defaults(handler=root.start, common_uses=frozenset(ALL_COMMON), command_prog="trainer")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    chosen = None if argv is None else chosen_group(argv)
    for name, summary in GROUPS.items():
        if argv is None or name == chosen:
            importlib.import_module(f"trainer.cli.{name}").register(sub)
        else:
            sub.add_parser(name, help=summary)
    return parser


def chosen_group(argv: Sequence[str]) -> str | None:
    """The command group `argv` names: its first word that is neither an option nor a common option's value."""
    takes_value = {flags[0] for flags, options in COMMON_OPTIONS.values() if options.get("action") != "store_true"}
    words = iter(argv)
    for word in words:
        if word in takes_value:
            next(words, None)
        elif word == "--":
            return next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        code = args.handler(settle_common(args))
    except TrainerError as exc:
        print(f"trainer: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("trainer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return int(ExitCode.OK)
    return int(code)


def run() -> NoReturn:
    sys.exit(main())
