"""What every command module shares: declaring a subcommand (`command`), the common options (--db, --courses, --lang)
and `plain` for stored text on a console. The command modules import this, never the package: trainer/cli/__init__.py
imports them (by name, only the group on the command line), and an import back would make a circle."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from trainer.errors import UsageError

if TYPE_CHECKING:  # datetime is imported by the commands that take --since only: `trainer --help` never pays it
    from datetime import datetime, tzinfo

Handler = Callable[[argparse.Namespace], int]


# The options every command may take, before or after its name: `trainer --db X sessions list` and
# `trainer sessions list --db X` are the same command. Each is declared once, here.
COMMON_OPTIONS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "courses": (
        ("--courses",),
        {
            "action": "append",
            "metavar": "DIR",
            "help": "an instructor's course folder, in addition to the bundled courses (repeatable; also TRAINER_COURSES)",
        },
    ),
    "db": (
        ("--db",),
        {
            "metavar": "URL",
            "help": "database URL or file (default: a SQLite file in your data folder; also TRAINER_DB)",
        },
    ),
    "lang": (("--lang",), {"choices": ("zh", "en"), "help": "language of the texts shown (zh or en)"}),
}
ALL_COMMON = tuple(COMMON_OPTIONS)


def command(
    sub: Any, name: str, handler: Handler, *, uses: Sequence[str] = ALL_COMMON, **kwargs: Any
) -> argparse.ArgumentParser:
    """Add a subcommand whose help and description come from the handler's docstring.

    `uses`: the common options (--db, --courses, --lang) this command reads. The others are still accepted on its line
    (a group's subcommands may need them) but refused after parsing, so no option is ever silently ignored.
    """
    import inspect

    doc = inspect.cleandoc(handler.__doc__ or "")  # without the docstring's indentation
    parser = sub.add_parser(
        name,
        help=first_sentence(doc) or None,
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,
    )
    add_common(parser, uses)
    parser.set_defaults(handler=handler, common_uses=frozenset(uses), command_prog=parser.prog)
    return parser


def first_sentence(doc: str) -> str:
    """The docstring's first sentence on one line: a group's --help lists each subcommand with it (a docstring's first
    line alone stops wherever the source was wrapped)."""
    paragraph = " ".join(doc.split("\n\n", 1)[0].split())
    end = paragraph.find(". ")
    return paragraph if end < 0 else paragraph[: end + 1]


def add_common(parser: argparse.ArgumentParser, uses: Sequence[str] = ALL_COMMON) -> None:
    """Declare the common options on `parser`, with no default so that they never overwrite a value given earlier."""
    for key, (flags, options) in COMMON_OPTIONS.items():
        shown = options if key in uses else {**options, "help": argparse.SUPPRESS}
        parser.add_argument(*flags, dest=key, default=argparse.SUPPRESS, **shown)


def settle_common(args: argparse.Namespace) -> argparse.Namespace:
    """Refuse a common option the chosen command does not read; give the others their empty values."""
    uses = getattr(args, "common_uses", frozenset(ALL_COMMON))
    for key in ALL_COMMON:
        if key in vars(args) and key not in uses:
            flag = COMMON_OPTIONS[key][0][0]
            raise UsageError(f"{flag} does not apply to `{args.command_prog}`; leave it out")
    args.courses = list(getattr(args, "courses", None) or [])
    args.db = getattr(args, "db", None)
    args.lang = getattr(args, "lang", None)
    return args


def plain(text: object) -> str:
    """Stored text (a name, a badge, a title) for a rich console: shown as the characters it is made of.

    Control and bidi characters become visible escapes (trainer.text.shown) and rich's markup brackets are escaped, so a
    name can neither act on the terminal nor restyle the table it sits in.
    """
    from rich.markup import escape

    from trainer.text import shown

    return escape(shown(str(text)))


def since_moment(text: str, zone: tzinfo) -> datetime:
    """--since DATE[THH:MM]: a moment; without an offset, the site's wall time (its time zone, trainer/sitetime.py)."""
    from datetime import datetime

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {text!r}: give a date like 2026-11-01 or 2026-11-01T08:00") from None
    return value if value.tzinfo else value.replace(tzinfo=zone)
