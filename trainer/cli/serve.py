"""`trainer serve`: the trainee's app in web browsers, for a training room (textual-serve).

Every browser tab that opens the page starts its own `trainer` process (the same app as in a terminal, with the same
database, course folders and language), so each tab is one trainee's session on the shared database. Closing a tab ends
its process the way Ctrl+Q does: a session in the middle is released and can be resumed from any tab.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import socket
import sys
from typing import Any

from trainer.cli import command
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


def tab_command(courses: list[str], lang: str | None) -> str:
    """The shell command each browser tab runs: this Python's `trainer`, with the same course folders and language."""
    argv = [sys.executable, "-m", "trainer"]
    for folder in courses:
        argv += ["--courses", os.path.abspath(folder)]
    if lang:
        argv += ["--lang", lang]
    return shlex.join(argv)


def local_font(page: str, static_url: str) -> str:
    """The page with its font served by this server instead of Google's.

    textual-serve's page links a stylesheet on fonts.googleapis.com. A plant network without internet access would hold
    the page until that request times out (a firewall that drops packets makes that long), so the link is replaced by
    the same font from textual-serve's own static folder.
    """
    face = (
        "<style>@font-face { font-family: 'Roboto Mono'; font-weight: 100 900; "
        f"src: url('{static_url}fonts/RobotoMono-VariableFont_wght.ttf') format('truetype'); }}</style>"
    )
    return _GOOGLE_FONTS.sub(lambda _: face, page, count=1)


_GOOGLE_FONTS = re.compile(r"<link\b[^>]*fonts\.googleapis\.com[^>]*>", re.S)


def serve(args: argparse.Namespace) -> int:
    """Serve the trainee's app to web browsers: one URL for the whole training room, one trainee per browser tab.

    Listens on 127.0.0.1 (this machine only) unless --host says otherwise; for the PCs of a training room use
    --host 0.0.0.0 and open http://THIS-MACHINE:PORT/ in each browser (see docs/operations.md, "Training room").
    The database and course folders are checked before anything is served. Stop with Ctrl+C.
    """
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library

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

    from textual_serve.server import Server

    class RoomServer(Server):
        async def handle_index(self, request: Any) -> Any:
            # The page's websocket must lead back to the address this browser used (with --host 0.0.0.0 that is the
            # machine's LAN address or name, which only the browser's request tells).
            self.public_url = f"{request.scheme}://{request.host}"
            response = await super().handle_index(request)
            response.text = local_font(response.text, f"{self.public_url}/static/")
            return response

    server = RoomServer(tab_command(courses, lang), host=args.host, port=args.port, title="Trainer")
    shown = socket.gethostname() if args.host in ("0.0.0.0", "::", "") else args.host
    print(f"Trainer training room: open http://{shown}:{args.port}/ in a browser, one tab per trainee")
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
