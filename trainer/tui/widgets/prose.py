"""Course text (scene, feedback, deductions, briefing): a Static whose lines break by the Chinese rule (linebreak.py).

Textual would break a Chinese sentence wherever the width runs out, starting lines with `。` or `，`. Prose keeps the
text it is given and shows it cut into lines for its own width, again whenever that width changes; each line then
fits, so Textual's own wrapping has nothing left to do. A paragraph's wrapped lines hang under its text (linebreak.wrap).
"""

from __future__ import annotations

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static

from trainer.tui.linebreak import wrap


class Prose(Static):
    def __init__(self, content: Text | str = "", *, hang: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hang = hang  # where a paragraph with no indent of its own goes on when it wraps (linebreak.wrap)
        self.source: Text = Text()
        self.wrapped_for = -1
        self.update(content)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        self.source = content if isinstance(content, Text) else Text(str(content))
        self.wrapped_for = -1
        self.rewrap(layout=layout)

    def rewrap(self, *, layout: bool = True) -> None:
        width = self.content_size.width if self.is_mounted else 0
        if width == self.wrapped_for and width > 0:
            return
        self.wrapped_for = width
        if width <= 0:
            super().update(self.source, layout=layout)
            return
        super().update(wrap(self.source, width, self.hang), layout=layout)

    def on_resize(self) -> None:
        before = self.wrapped_for
        self.rewrap()
        if self.wrapped_for != before:
            # Rewrapped while the screen is laid out: the height asked for now is not taken in this pass, and the
            # widget kept the height of its text as first laid out (blank lines under a debrief's deductions).
            self.call_after_refresh(self.refresh, layout=True)
