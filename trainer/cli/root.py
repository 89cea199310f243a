"""`trainer` with no command: the trainee's terminal app."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from trainer.errors import ExitCode, TrainerError

if TYPE_CHECKING:
    from trainer.course.library import Library
    from trainer.store.store import Store


def start(args: argparse.Namespace) -> int:
    """Start the trainee's app on the bundled courses (and any --courses folders) and the embedded database."""
    from trainer.tui.app import TrainerApp

    said: list[str] = []  # what opening the database has to say: printed once the app has left the terminal

    def open_all() -> tuple[Library, Store]:
        from trainer.cli.unscored import open_store
        from trainer.course.library import load_library

        library = load_library(args.courses)
        if not library.courses:
            raise TrainerError("no course could be loaded; run `trainer course check` on your course folders")
        return library, open_store(args, library=library, say=said.append)

    app = TrainerApp(opener=open_all, lang=args.lang or "zh")
    try:
        app.run()
    finally:
        if (store := app.opened_store()) is not None:
            store.close()
        for line in said:
            print(line, file=sys.stderr)
    if app.start_error is not None:
        raise app.start_error
    return ExitCode.OK
