"""The training room: `trainer serve` on loopback, the page in headless Chromium, and the sign-in screen drawn in it.

Chromium is driven through its DevTools protocol (a websocket, with aiohttp, which textual-serve brings): the page's
terminal is drawn on a canvas, so the test reads what the app sent to the page over its websocket, checks that the page
shows the terminal, types a badge, and keeps a screenshot (in the folder TRAINER_TEST_ARTIFACTS names, .ci/run's
test-artifacts/; else in the test's tmp_path, so that parallel and concurrent runs never share a file). Skipped only when
/usr/bin/chromium is missing and TRAINER_REQUIRE_BROWSER is unset (.ci/run installs Debian's chromium and sets it).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from roomproc import serving, tab_processes

ARTIFACTS = "TRAINER_TEST_ARTIFACTS"
CHROMIUM = "/usr/bin/chromium"
REQUIRE = "TRAINER_REQUIRE_BROWSER"
SIGN_IN = "Scan your badge"

if not Path(CHROMIUM).exists() and not os.environ.get(REQUIRE):
    pytest.skip(f"{CHROMIUM} is missing and {REQUIRE} is unset (.ci/run installs chromium)", allow_module_level=True)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    with serving(tmp_path) as (port, proc):
        yield f"http://127.0.0.1:{port}/", proc


class DevTools:
    """Just enough of the Chrome DevTools protocol: commands, and the websocket frames the page receives."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.frames: list[str] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        mine = self.next_id
        await self.ws.send_json({"id": mine, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json()
            if message.get("id") == mine:
                assert "error" not in message, message
                return message.get("result", {})
            self._event(message)

    def _event(self, message: dict[str, Any]) -> None:
        if message.get("method") == "Network.webSocketFrameReceived":
            response = message["params"]["response"]
            data = response["payloadData"]
            if response["opcode"] == 2:  # binary frame: base64
                data = base64.b64decode(data).decode("utf-8", "replace")
            self.frames.append(data)

    def seen(self) -> str:
        return "".join(self.frames)

    async def wait_for(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} never reached the page; it received {len(self.frames)} frames")
            with contextlib.suppress(TimeoutError):
                self._event(await asyncio.wait_for(self.ws.receive_json(), min(left, 0.5)))

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def type_text(self, text: str) -> None:
        await self.call("Input.insertText", text=text)

    async def press_enter(self) -> None:
        key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13}
        await self.call("Input.dispatchKeyEvent", type="keyDown", text="\r", **key)
        await self.call("Input.dispatchKeyEvent", type="keyUp", **key)


async def browse(url: str, profile: Path, shot: Path, serve_pid: int) -> dict[str, Any]:
    import aiohttp

    chromium = subprocess.Popen(
        [
            shutil.which("chromium") or CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1000,700",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert chromium.poll() is None, f"chromium exited with {chromium.returncode}"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            await asyncio.sleep(0.05)
        devtools_port = int(port_file.read_text().splitlines()[0])
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{devtools_port}/json/list") as listing:
                targets = json.loads(await listing.text())
            page = next(t for t in targets if t["type"] == "page")
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                tab = DevTools(ws)
                await tab.call("Network.enable")
                await tab.call("Page.enable")
                await tab.call("Page.navigate", url=url)
                await tab.wait_for(SIGN_IN)
                await asyncio.sleep(1.0)  # let xterm.js draw what arrived
                body = await tab.evaluate("document.body.className")
                shown = await tab.call("Page.captureScreenshot", format="png")
                shot.write_bytes(base64.b64decode(shown["data"]))

                # a second tab is a second trainee: its own `trainer` process
                await tab.call("Target.createTarget", url=url)
                deadline = time.monotonic() + 30
                while len(tab_processes(serve_pid)) < 2 and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                processes = len(tab_processes(serve_pid))

                # the keyboard reaches the app: a new badge is asked for a name
                await tab.call(
                    "Input.dispatchMouseEvent", type="mousePressed", x=500, y=150, button="left", clickCount=1
                )
                await tab.call(
                    "Input.dispatchMouseEvent", type="mouseReleased", x=500, y=150, button="left", clickCount=1
                )
                await tab.type_text("E42")
                await tab.press_enter()
                await tab.wait_for("First time here")
                return {"body": body, "processes": processes}
    finally:
        chromium.terminate()
        try:
            chromium.wait(timeout=20)
        except subprocess.TimeoutExpired:
            chromium.kill()
            chromium.wait()


def test_the_browser_shows_the_sign_in_screen(served: tuple[str, subprocess.Popen[str]], tmp_path: Path) -> None:
    url, proc = served
    with urllib.request.urlopen(url, timeout=30) as page:
        html = page.read().decode("utf-8")
    assert "fonts.googleapis.com" not in html  # a plant network without internet must not wait for Google
    # no address from the request in the page: the browser builds the websocket's from the address it opened
    assert "url('/static/fonts/RobotoMono" in html and 'data-session-websocket-url=""' in html
    kept = Path(os.environ.get(ARTIFACTS) or tmp_path)
    kept.mkdir(parents=True, exist_ok=True)
    shot = kept / "serve-sign-in.png"
    shot.unlink(missing_ok=True)
    seen = asyncio.run(asyncio.wait_for(browse(url, tmp_path / "chromium", shot, proc.pid), timeout=120))
    print(f"screenshot of the sign-in screen in the browser: {shot}")
    assert "-first-byte" in seen["body"]  # the page swapped its intro for the terminal
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000
    assert seen["processes"] == 2  # one `trainer` per tab


def test_serve_refuses_a_port_in_use_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "trainer", "serve", "--port", str(port), "--db", f"sqlite:///{tmp_path / 't.db'}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in run.stderr and "Traceback" not in run.stderr
