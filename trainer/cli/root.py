"""`trainer` with no command."""

from __future__ import annotations

import argparse

from trainer.errors import ExitCode


def start(args: argparse.Namespace) -> int:
    """Start the trainee's app on the bundled courses (and any --courses folders)."""
    from rich.console import Console

    from trainer.cli.course import print_course_table
    from trainer.course.library import load_library

    console = Console()
    library = load_library(args.courses)
    console.print("[bold]Trainer[/bold]: safety training in the terminal.\n")
    print_course_table(console, library, args.lang or "zh")
    console.print(
        "\nThe trainee's terminal app is coming; today you can check and inspect courses:\n"
        "  trainer course check courses/*.yaml   check a course file\n"
        "  trainer course graph COURSE           draw a course's state machine\n"
        "  trainer --help                        every command"
    )
    return ExitCode.ERROR if library.problems else ExitCode.OK
