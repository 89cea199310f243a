"""Every use of Textual's private or undocumented API, in one place.

Textual has no public way to relabel a node's key hints in another language, to read several stylesheets in one parse,
to render the screen as text, to hand keys to the app the way a terminal does, or to time a frame. Each of those is
here, so that a Textual upgrade is checked (tests/ui/test_compat.py exercises every function) and fixed in one file.
pyproject.toml bounds textual to the major version these were written against.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from textual import events
from textual.app import App
from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode
from textual.keys import _character_to_key


def relabel_bindings(node: DOMNode, describe: Callable[[Binding], str | None]) -> None:
    """Give `node`'s key hints new descriptions: `describe(binding)` returns one, or None to keep the binding's own.

    Textual's footer reads the node's bindings (`_bindings`), which may share lists with other instances, so the node
    gets a fresh map instead of changed bindings."""
    fresh = BindingsMap()
    for key, bindings in node._bindings.key_to_bindings.items():
        fresh.key_to_bindings[key] = [
            b if (text := describe(b)) is None else replace(b, description=text) for b in bindings
        ]
    node._bindings = fresh
    node.app.refresh_bindings()


def read_stylesheets(app: App[Any], paths: Iterable[Path]) -> None:
    """Read the stylesheets at `paths` not yet read, then parse all of them again once (Textual would parse everything
    again for each screen that brings its own)."""
    new = [path for path in dict.fromkeys(paths) if not app.stylesheet.has_source(str(path))]
    if new:
        for path in new:
            app.stylesheet.read(path)
        app.stylesheet.reparse()
        app.stylesheet.update(app)


def screen_text(app: App[Any]) -> str:
    """Every character on the screen, as a terminal would show it (the render Textual's screenshots use)."""
    console = Console(
        width=app.size.width, height=app.size.height, file=io.StringIO(), record=True, legacy_windows=False
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def send_keys(app: App[Any], keys: Iterable[str]) -> None:
    """Hand keys to the app as its terminal driver does (all queued at once, as a badge reader or tmux types), rather
    than as Pilot.press does (waiting for the app to go idle after each)."""
    driver = app._driver
    assert driver is not None, "the app is not running"
    for key in keys:
        char = {"enter": "\r", "tab": "\t", "shift+tab": None}.get(key, key if len(key) == 1 else None)
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)  # "-" arrives as the key "minus", " " as "space": as a terminal names them
        event = events.Key(key, char)
        event.set_sender(app)
        driver.send_message(event)


def on_frame(app: App[Any], seen: Callable[[Any, Any], None]) -> None:
    """Call `seen(screen, renderable)` for each frame the app hands its terminal driver (benchmarks time frames)."""
    display = app._display

    def timed(screen: Any, renderable: Any) -> None:
        seen(screen, renderable)  # when the frame is handed over, before the driver writes it
        display(screen, renderable)

    app._display = timed  # type: ignore[method-assign]
