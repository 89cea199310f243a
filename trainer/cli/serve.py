"""`trainer serve`: the trainee's app in web browsers, for a training room (textual-serve).

Every browser tab that opens the page starts its own `trainer` process (the same app as in a terminal, with the same
database, course folders and language), so each tab is one trainee's session on the shared database. Closing a tab ends
its process the way Ctrl+Q does: a session in the middle is released and can be resumed from any tab. Only the room's
own page may open a tab, and only so many at once (trainer/room.py).
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import sys
from typing import Any

from trainer.cli.common import command
from trainer.errors import ExitCode, TrainerError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def register(sub: Any) -> None:
    p = command(sub, "serve", serve)
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this machine only; 0.0.0.0: every network interface)",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the address the training PCs open, e.g. http://trainer-room:8000 (default: whatever address each browser"
        " used, if it is an IP address, localhost or this machine's name)",
    )
    p.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="URL",
        help="another address the room's page may be opened from, e.g. a reverse proxy's https://training.plant.example"
        " (repeatable)",
    )
    p.add_argument(
        "--max-sessions",
        type=int,
        metavar="N",
        help="the most browser tabs at once, each a 60-90 MB process (default: the free memory at start / 100 MB)",
    )


def tab_command(courses: list[str], lang: str | None) -> str:
    """The shell command each browser tab runs: this Python's `trainer`, with the same course folders and language.

    `exec`: the shell becomes the app, so the process the server waits for (and kills if it must) is the app itself.
    """
    argv = [sys.executable, "-m", "trainer"]
    for folder in courses:
        argv += ["--courses", os.path.abspath(folder)]
    if lang:
        argv += ["--lang", lang]
    return "exec " + shlex.join(argv)


def serve(args: argparse.Namespace) -> int:
    """Serve the trainee's app to web browsers: one URL for the whole training room, one trainee per browser tab.

    Listens on 127.0.0.1 (this machine only) unless --host says otherwise; for the PCs of a training room use
    --host 0.0.0.0 and open http://THIS-MACHINE:PORT/ in each browser (see docs/operations.md, "Training room").
    The database and course folders are checked before anything is served. Stop with Ctrl+C.
    """
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.room import RoomServer, doors

    room = doors(args.host, args.public_url, args.allow_origin, args.max_sessions)  # a bad option: one line, first
    courses: list[str] = args.courses
    db: str | None = args.db
    lang: str | None = args.lang
    library = load_library(courses)
    if not library.courses:
        raise TrainerError("no course could be loaded; run `trainer course check` on your course folders")
    # Fails here, in one line, rather than in every browser tab; creates or upgrades it, and scores any finished
    # session left without a score.
    with open_store(args, library=library) as store:
        where = store.describe()
    if db is not None:
        # The tabs inherit the environment: the URL (and any password in it) stays out of the process list.
        os.environ["TRAINER_DB"] = db
    _check_port(args.host, args.port)

    server = RoomServer(tab_command(courses, lang), host=args.host, port=args.port, doors=room)
    shown = socket.gethostname() if args.host in ("0.0.0.0", "::", "") else args.host
    print(
        f"Trainer training room: open {room.public_url or f'http://{shown}:{args.port}'}/ in a browser, one tab per"
        f" trainee, at most {room.max_sessions} at once"
    )
    print(f"database: {where}")
    sys.stdout.flush()
    server.serve()
    return ExitCode.OK


def _check_port(host: str, port: int) -> None:
    """A port already taken is one line now, not a traceback from inside the web server."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise TrainerError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port or --host"
            ) from exc
