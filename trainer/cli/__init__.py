"""The `trainer` command line. Subcommands live in one module per group; heavy imports stay inside the commands."""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from trainer import __version__
from trainer.errors import ExitCode, TrainerError

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: usage error: {message} (see {self.prog} --help)\n")
        raise SystemExit(ExitCode.USAGE)


def command(sub: Any, name: str, handler: Handler, **kwargs: Any) -> argparse.ArgumentParser:
    """Add a subcommand whose help and description come from the handler's docstring."""
    doc = inspect.cleandoc(handler.__doc__ or "")  # without the docstring's indentation
    parser = sub.add_parser(
        name,
        help=doc.splitlines()[0] if doc else None,
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,
    )
    parser.set_defaults(handler=handler)
    return parser


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--courses",
        action="append",
        default=[],
        metavar="DIR",
        help="an instructor's course folder, in addition to the bundled courses (repeatable; also TRAINER_COURSES)",
    )
    parser.add_argument(
        "--db", metavar="URL", help="database URL (default: a SQLite file in your data folder; also TRAINER_DB)"
    )
    parser.add_argument("--lang", choices=("zh", "en"), help="language of the trainee's texts (default: zh)")


def build_parser() -> argparse.ArgumentParser:
    from trainer.cli import course, root

    parser = _Parser(
        prog="trainer",
        description="Trainer: safety training and assessment in the terminal. With no command, starts the trainee's app.",
    )
    parser.add_argument("--version", action="version", version=f"trainer {__version__}")
    add_common(parser)
    parser.set_defaults(handler=root.start)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    course.register(sub)
    _register_optional(sub)
    return parser


def _register_optional(sub: Any) -> None:
    """Command groups that later modules add; each registers itself if present."""
    import importlib

    for name in (
        "play",
        "sessions",
        "export",
        "instructor",
        "db",
        "report",
        "simulate",
        "model",
        "label",
        "score",
        "serve",
    ):
        try:
            module = importlib.import_module(f"trainer.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"trainer.cli.{name}":
                raise
            continue
        module.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
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
