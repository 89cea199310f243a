"""The keys a screen offers, as one line of text: what Textual's Footer shows, without its widgets.

The Footer mounts a widget per key and brings a large stylesheet. The sign-in screen is the app's first frame, so it
shows its keys as this line (in its bottom border) instead. It reads the same bindings as the Footer, so localized
descriptions and the command palette's key appear the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.screen import Screen

KEY_STYLE = "bold $footer-key-foreground"


def key_hints(screen: Screen, lead: Sequence[tuple[str, str]] = ()) -> tuple[tuple[str, str], ...]:
    """(key as shown, description) for each key the screen offers now, in the Footer's order, the command palette's
    last. `lead`: (key, description) pairs shown first, for keys a focused widget handles itself (Enter in an Input)."""
    app = screen.app
    items = list(lead)
    active = screen.active_bindings
    seen: set[str] = set()
    for _, binding, enabled, _ in active.values():
        if binding.show and enabled and binding.action not in seen:
            seen.add(binding.action)
            items.append((app.get_key_display(binding), binding.description))
    palette = active.get(app.COMMAND_PALETTE_BINDING) if app.ENABLE_COMMAND_PALETTE else None
    if palette is not None:
        items.append((app.get_key_display(palette.binding), palette.binding.description))
    return tuple(items)


def key_line(hints: Sequence[tuple[str, str]]) -> Content:
    parts: list[tuple[str, str] | str] = []
    for key, description in hints:
        parts += [(f" {key} ", KEY_STYLE), description, " "]
    return Content.assemble(*parts)
