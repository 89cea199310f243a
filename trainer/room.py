"""The training room's web server (`trainer serve`): textual-serve's, with the doors a plant network needs.

textual-serve alone starts a `trainer` process for any websocket, from any web page, as many as are asked for, writes
the request's Host header into the page, and lists its static folder. Here:

- a websocket is accepted only from the room's own page: its Origin must be the address the page was served from (or
  one of the configured ones), and that address must be one this server answers to (an IP address, localhost, this
  machine's names, or a configured one), so a page on another site, even one whose DNS name points at this server
  (DNS rebinding), gets 403 before any process starts;
- at most `max_sessions` tabs run at once (each is a process: docs/operations.md, Size); when the room is full, the
  page says so in both languages and no process starts; a closed tab frees its place;
- the page holds no address taken from the request: its websocket and static URLs come from the configured public URL,
  or are made by the browser from the address it opened;
- no directory listing under /static/.

Built by subclassing textual-serve's Server (its `_make_app` is the documented place to shape the aiohttp app).
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import logging
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from trainer.errors import TrainerError

log = logging.getLogger("textual-serve")

# What one tab costs on the server (a `trainer` process: docs/operations.md, Size), with room: the default cap keeps the
# room's tabs within the memory that is free when the server starts.
MB_PER_SESSION = 100
FALLBACK_MAX_SESSIONS = 8  # when the machine's memory cannot be read
TAB_EXIT_S = 15  # a closed tab's process has this long to release its session and end before it is killed

FULL_PAGE = """<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><title>Trainer</title>
<style>body {{ background: #0c181f; color: #eee; font: 18px/1.6 "Roboto Mono", menlo, monospace; margin: 10vh 10vw; }}
button {{ padding: 12px 28px; font: inherit; background: #5e0ba7; color: #fff; border: none; cursor: pointer; }}</style>
</head><body>
<p>实训室已满：{count} 个页面正在使用，已达到上限。请关闭不再使用的页面，或稍后再试。</p>
<p>The training room is full: {count} tabs are in use, the most it takes. Close a tab you no longer use, or try again
in a moment.</p>
<button type="button" onclick="location.reload()">重试 Try again</button>
</body></html>
"""
FULL_TEXT = "实训室已满，请稍后再试。The training room is full; try again in a moment.\n"
FOREIGN_ORIGIN_TEXT = "只接受本实训室页面的连接。Only this training room's own page may connect.\n"
FOREIGN_HOST_TEXT = (
    "此地址不属于本实训室服务器；请使用教员公布的地址。"
    "This server does not answer to that address; open the address your instructor gave "
    "(an instructor can add it with `trainer serve --public-url` or `--allow-origin`).\n"
)

# The browser, not the request, names the server: the page's websocket goes back to the address the browser opened.
_WEBSOCKET_FROM_LOCATION = """<script>
(function () {
  var terminal = document.getElementById("terminal");
  if (terminal && !terminal.dataset.sessionWebsocketUrl) {
    terminal.dataset.sessionWebsocketUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  }
})();
</script>
"""
_CLOSED_MESSAGE = re.compile(r'<div class="message">Session ended\.</div>(\s*)<button([^>]*)>Restart</button>')
_GOOGLE_FONTS = re.compile(r"<link\b[^>]*fonts\.googleapis\.com[^>]*>", re.S)


class RoomSetupError(TrainerError):
    pass


@dataclass(frozen=True)
class Doors:
    """Who may open the room: the addresses its page may be served from and the most tabs at once."""

    public_url: str | None  # scheme://host[:port], no path; None: the page's URLs are relative to where it was opened
    origins: frozenset[str]  # configured origins (normalised) accepted besides the page's own
    names: frozenset[str]  # host names (lower case) this server answers to, besides IP addresses
    max_sessions: int

    def host_allowed(self, host_header: str | None) -> bool:
        """Whether a request's Host names this server: any IP address, or one of its names.

        A browser only sends a name it resolved; a name outside this list reaching us is another site's name pointed at
        this server (DNS rebinding), and its pages could otherwise pass the same-origin check below.
        """
        name = _host_name(host_header or "")
        if not name:
            return False
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return name in self.names
        return True

    def origin_allowed(self, origin: str | None, scheme: str, host_header: str | None) -> bool:
        """A websocket's Origin is the page's own address (as this request reached us) or a configured one."""
        if not origin:
            return False  # every browser sends one; a program that sends none is not the room's page
        seen = normal_origin(origin)
        if seen is None:
            return False
        if seen in self.origins:
            return True
        own = normal_origin(f"{scheme}://{host_header}") if host_header else None
        return own is not None and seen == own and self.host_allowed(host_header)


def normal_origin(url: str) -> str | None:
    """scheme://host[:port] in lower case, the default port left out (as browsers write an Origin); None if not one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _host_name(host_header: str) -> str:
    """The name or address in a Host header, without port or IPv6 brackets, lower case."""
    text = host_header.strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else ""
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def checked_url(url: str, option: str) -> str:
    """An origin-shaped URL given on the command line (http or https, a host, maybe a port, no path), normalised."""
    parts = urlsplit(url.strip())
    origin = normal_origin(url)
    if origin is None or parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise RoomSetupError(
            f"{option} {url!r}: give the address as a browser opens it, scheme and host and maybe port only, "
            "e.g. http://trainer-room:8000"
        )
    return origin


def default_max_sessions(meminfo: Path = Path("/proc/meminfo")) -> int:
    """The memory free now, in tabs of MB_PER_SESSION, at least one.

    Linux says what is available (MemAvailable: free plus reclaimable caches); elsewhere half the physical memory is
    taken as available; if neither can be read, FALLBACK_MAX_SESSIONS.
    """
    available = None
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    if available is None:
        try:
            available = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
        except (AttributeError, ValueError, OSError):
            return FALLBACK_MAX_SESSIONS
    return max(1, available // (MB_PER_SESSION * 1024 * 1024))


def doors(host: str, public_url: str | None, allow_origins: list[str], max_sessions: int | None) -> Doors:
    """The room's doors from the command line; a bad URL or count is one line."""
    public = checked_url(public_url, "--public-url") if public_url else None
    origins = {checked_url(url, "--allow-origin") for url in allow_origins}
    if public:
        origins.add(public)
    names = {"localhost", socket.gethostname().lower(), socket.getfqdn().lower()}
    names |= {_host_name(urlsplit(url).netloc) for url in origins}
    if host not in ("", "0.0.0.0", "::"):
        names.add(host.lower())
    if max_sessions is not None and max_sessions < 1:
        raise RoomSetupError(f"--max-sessions {max_sessions}: give at least 1")
    return Doors(
        public_url=public,
        origins=frozenset(origins),
        names=frozenset(n for n in names if n),
        max_sessions=max_sessions if max_sessions is not None else default_max_sessions(),
    )


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


class RoomServer(Server):
    """textual-serve's server behind the room's doors (see the module's docstring)."""

    def __init__(self, command: str, *, host: str, port: int, doors: Doors) -> None:
        super().__init__(command, host=host, port=port, title="Trainer", public_url=doors.public_url)
        self.doors = doors
        self.open_sessions = 0  # websockets holding a place (their process starting, running or stopping)

    async def _make_app(self) -> web.Application:
        """textual-serve's routes, minus downloads (the app delivers no files), with the Host check in front of all
        and no directory listing."""
        app = web.Application(middlewares=[self._known_host])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.static("/static", self.statics_path, show_index=False, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    @web.middleware
    async def _known_host(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not self.doors.host_allowed(request.headers.get("Host")):
            log.warning("refused a request for a host this server does not answer to")
            raise web.HTTPForbidden(text=FOREIGN_HOST_TEXT)  # says nothing of the Host it was sent
        return await handler(request)

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: `trainer serve` has already said where the room is (textual-serve would print its logo)."""

    async def handle_index(self, request: web.Request) -> web.Response:
        if self.open_sessions >= self.doors.max_sessions:
            return web.Response(
                status=503,
                text=FULL_PAGE.format(count=html.escape(str(self.open_sessions))),
                content_type="text/html",
                headers={"Retry-After": "30"},
            )
        base = self.doors.public_url or ""
        websocket = ""
        if base:
            websocket = ("wss" if base.startswith("https:") else "ws") + base[base.index(":") :] + "/ws"
        context = {
            "font_size": max(6, min(64, _to_int(request.query.get("fontsize", "16"), 16))),
            "app_websocket_url": websocket,
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        page = local_font(response.text or "", f"{base}/static/")
        page = _CLOSED_MESSAGE.sub(
            r'<div class="message">本次连接已结束。Session ended.</div>\1<button\2>重新开始 Restart</button>',
            page,
            count=1,
        )
        response.text = page.replace("</body>", _WEBSOCKET_FROM_LOCATION + "</body>", 1)
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """Refused (403) unless from the room's own page; refused (503) when the room is full; else a tab's process."""
        if not self.doors.origin_allowed(request.headers.get("Origin"), request.scheme, request.headers.get("Host")):
            log.warning("refused a websocket from another site's page")
            raise web.HTTPForbidden(text=FOREIGN_ORIGIN_TEXT)
        if self.open_sessions >= self.doors.max_sessions:
            log.warning("refused a websocket: the room is full (%d)", self.open_sessions)
            raise web.HTTPServiceUnavailable(text=FULL_TEXT, headers={"Retry-After": "30"})
        # Counted before the first await: the check above and this count cannot be split by another request.
        self.open_sessions += 1
        try:
            return await self._run_tab(request)
        finally:
            self.open_sessions -= 1  # the tab's process has ended

    async def _run_tab(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handle_websocket, plus: its process is waited for (killed if it outstays TAB_EXIT_S).

        textual-serve stops reading when the process closes its output and never waits for it; a place would be
        freed while the process still held its memory, and one that ignored the quit would live on unseen.
        """
        websocket = web.WebSocketResponse(heartbeat=15)
        width = max(20, min(1000, _to_int(request.query.get("width", "80"), 80)))
        height = max(10, min(500, _to_int(request.query.get("height", "24"), 24)))
        app_service: AppService | None = None

        async def close() -> None:  # AppService awaits it and wants nothing back (close() says whether it closed)
            await websocket.close()

        try:
            await websocket.prepare(request)
            app_service = AppService(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await app_service.start(width, height)
            await self._process_messages(websocket, app_service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:
            log.exception(error)
        finally:
            if app_service is not None:
                await app_service.stop()
                await _ended(app_service)
        return websocket


async def _ended(app_service: AppService) -> None:
    """Wait for a tab's process to end after it was told to quit; kill it if it has not within TAB_EXIT_S.

    A session it was playing is then owned by a dead process: interrupted, resumable (docs/operations.md).
    """
    process = getattr(app_service, "_process", None)  # textual-serve keeps the tab's process here, unwaited
    if process is None:
        return
    try:
        await asyncio.wait_for(process.wait(), TAB_EXIT_S)
    except TimeoutError:
        log.warning("a tab's process did not quit within %d s; killed", TAB_EXIT_S)
        process.kill()
        await process.wait()


def _to_int(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default
