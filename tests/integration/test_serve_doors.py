"""The training room's doors, tried as an attacker on the plant network would: `trainer serve` in a subprocess, aiohttp's
client for the page and the websocket.

Before: a websocket from any Origin started a `trainer` process, as many as were asked for; the page's websocket URL
was the request's Host header; /static/ listed its files.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cliproc import trainer
from roomproc import free_port, serving, tab_processes

PROXY = "https://training.plant.example"


async def no_tabs_within(proc: Any, seconds: float) -> bool:
    """No `trainer` process below the server for `seconds` (a refused socket must not have started one)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if tab_processes(proc.pid):
            return False
        await asyncio.sleep(0.1)
    return True


async def refused(http: aiohttp.ClientSession, url: str, **headers: str) -> int:
    """The HTTP status of a websocket handshake that the server refuses (fails the test if it accepts)."""
    try:
        async with http.ws_connect(url, headers=headers):
            pass
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status
    raise AssertionError(f"the websocket with {headers} was accepted")


async def first_bytes(ws: aiohttp.ClientWebSocketResponse) -> bytes:
    """The app's first output: the tab's process runs."""
    while True:
        message = await asyncio.wait_for(ws.receive(), 30)
        if message.type == aiohttp.WSMsgType.BINARY and len(message.data) > 10:
            return message.data
        assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), message


def test_other_sites_pages_cannot_open_the_room(tmp_path: Path) -> None:
    port = free_port()
    public = f"http://trainer-room.example:{port}"
    with serving(tmp_path, "--public-url", public, "--allow-origin", PROXY, port=port) as (port, proc):

        async def attack() -> None:
            ws = f"http://127.0.0.1:{port}/ws"
            async with aiohttp.ClientSession() as http:
                # a page on another site, seen from a training PC
                assert await refused(http, ws, Origin="http://evil.example") == 403
                assert await refused(http, ws, Origin=f"http://evil.example:{port}") == 403
                # a program, or a page that hides its origin
                assert await refused(http, ws) == 403
                assert await refused(http, ws, Origin="null") == 403
                # DNS rebinding: another site's name resolved to this server; Origin and Host agree, the name is not ours
                rebound = {"Origin": f"http://evil.example:{port}", "Host": f"evil.example:{port}"}
                assert await refused(http, ws, **rebound) == 403
                assert await no_tabs_within(proc, 1.5)

                # the page names the configured address, whatever Host the request carried
                async with http.get(f"http://127.0.0.1:{port}/", headers={"Host": "127.0.0.1:1"}) as page:
                    html = await page.text()
                assert page.status == 200
                assert f'data-session-websocket-url="ws://trainer-room.example:{port}/ws"' in html
                assert "127.0.0.1:1" not in html
                async with http.get(f"http://127.0.0.1:{port}/", headers={"Host": "evil.example"}) as page:
                    assert page.status == 403 and "evil.example" not in await page.text()

                # no directory listings
                for folder in ("/static/", "/static/js/", "/static/fonts"):
                    async with http.get(f"http://127.0.0.1:{port}{folder}") as listing:
                        text = await listing.text()
                        assert listing.status in (403, 404) and "textual.js" not in text and "Index of" not in text
                async with http.get(f"http://127.0.0.1:{port}/static/js/textual.js") as script:
                    assert script.status == 200  # the files themselves are still served

        asyncio.run(asyncio.wait_for(attack(), 90))


def test_a_full_room_refuses_the_next_tab_until_one_closes(tmp_path: Path) -> None:
    with serving(tmp_path, "--max-sessions", "1", "--allow-origin", PROXY) as (port, proc):

        async def fill() -> None:
            own = f"http://127.0.0.1:{port}"
            ws = f"{own}/ws?width=80&height=24"
            async with aiohttp.ClientSession() as http:
                # the page holds no address taken from the request: the browser makes the websocket's from its own
                async with http.get(f"{own}/", headers={"Host": "127.0.0.1:1"}) as page:
                    html = await page.text()
                assert "127.0.0.1:1" not in html and 'data-session-websocket-url=""' in html
                assert "location.host" in html

                async with http.ws_connect(ws, headers={"Origin": own}) as first:  # the room's own page: a tab
                    await first_bytes(first)
                    assert len(tab_processes(proc.pid)) == 1

                    # the next tab: refused before any process, and the page says why in both languages
                    assert await refused(http, ws, Origin=own) == 503
                    assert len(tab_processes(proc.pid)) == 1
                    async with http.get(f"{own}/") as page:
                        text = await page.text()
                    assert page.status == 503
                    assert "The training room is full" in text and "实训室已满" in text
                    assert "data-session-websocket-url" not in text

                # the first tab closed: its place is free again once its process has ended
                deadline = time.monotonic() + 30
                while True:
                    async with http.get(f"{own}/") as page:
                        if page.status == 200:
                            break
                    assert time.monotonic() < deadline, "the closed tab's place was never freed"
                    await asyncio.sleep(0.2)
                assert not tab_processes(proc.pid)
                async with http.ws_connect(ws, headers={"Origin": PROXY}) as again:  # a configured origin
                    await first_bytes(again)

        asyncio.run(asyncio.wait_for(fill(), 120))


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--public-url", "ftp://room", "--public-url 'ftp://room'"),
        ("--public-url", "http://room:8000/trainer", "scheme and host and maybe port only"),
        ("--allow-origin", "not a url", "--allow-origin 'not a url'"),
        ("--max-sessions", "0", "--max-sessions 0: give at least 1"),
    ],
)
def test_bad_room_options_are_one_line(tmp_path: Path, option: str, value: str, says: str) -> None:
    run = trainer("serve", option, value, db=f"sqlite:///{tmp_path / 't.db'}", timeout=60)
    assert run.returncode == 1 and run.stderr.count("\n") == 1, run.stderr
    assert says in run.stderr and "Traceback" not in run.stderr


def test_the_default_cap_follows_the_free_memory(tmp_path: Path) -> None:
    from trainer.room import default_max_sessions

    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       8000000 kB\nMemAvailable:   2048000 kB\n")
    assert default_max_sessions(meminfo) == 20  # 2000 MB free / 100 MB a tab
    meminfo.write_text("MemAvailable:   50000 kB\n")
    assert default_max_sessions(meminfo) == 1  # never none


def test_the_room_answers_to_ip_addresses_and_its_own_names() -> None:
    from trainer.room import doors

    room = doors("0.0.0.0", "http://Trainer-Room:8000", ["https://training.plant.example"], 3)
    assert room.max_sessions == 3
    for host in ("192.168.10.5:8000", "[::1]:8000", "localhost:8000", "trainer-room:8000", "training.plant.example"):
        assert room.host_allowed(host), host
    for host in ("evil.example:8000", "", "trainer-room.evil.example"):
        assert not room.host_allowed(host), host
    assert room.origin_allowed("http://192.168.10.5:8000", "http", "192.168.10.5:8000")
    assert room.origin_allowed("http://trainer-room:8000", "http", "10.0.0.1:8000")  # the configured address
    assert not room.origin_allowed("http://192.168.10.5:8001", "http", "192.168.10.5:8000")  # another port
    assert not room.origin_allowed("https://192.168.10.5:8000", "http", "192.168.10.5:8000")  # another scheme
