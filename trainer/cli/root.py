"""`trainer` with no command: the trainee's terminal app."""

from __future__ import annotations

import argparse

from trainer.errors import ExitCode, TrainerError


def start(args: argparse.Namespace) -> int:
    """Start the trainee's app on the bundled courses (and any --courses folders) and the embedded database."""
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library

    library = load_library(args.courses)
    if not library.courses:
        raise TrainerError("no course could be loaded; run `trainer course check` on your course folders")
    store = open_store(args, library=library)
    try:
        from trainer.tui.app import TrainerApp

        TrainerApp(library, store, lang=args.lang or "zh").run()
    finally:
        store.close()
    return ExitCode.OK
