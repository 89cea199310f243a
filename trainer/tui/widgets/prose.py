"""Course text (scene, feedback, deductions, briefing): a Static whose lines break by the Chinese rule (linebreak.py).

Textual would break a Chinese sentence wherever the width runs out, starting lines with `。` or `，`. Prose keeps the
text it is given and shows it cut into lines for its own width, again whenever that width changes; each line then
fits, so Textual's own wrapping has nothing left to do.
"""

from __future__ import annotations

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static

from trainer.tui.linebreak import wrap


class Prose(Static):
    def __init__(self, content: Text | str = "", **kwargs) -> None:
        super().__init__(**kwargs)
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
        super().update(wrap(self.source, width) if width > 0 else self.source, layout=layout)

    def on_resize(self) -> None:
        self.rewrap()
