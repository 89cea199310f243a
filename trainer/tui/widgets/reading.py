"""A long text to read on a small terminal: it scrolls by keyboard and says when there is more below or above.

At 80x24 the briefing's PPE and pass rule, and the debrief's later deductions and replay, lie below the fold. A
VerticalScroll scrolls with ↑↓ PgUp/PgDn Home/End only while it has the focus, and its scrollbar alone is easy to miss,
so the screens focus this pane first and it writes in its bottom edge which way there is more and which keys to press.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll

if TYPE_CHECKING:
    from trainer.tui.app import TrainerApp


class ReadingPane(VerticalScroll):
    DEFAULT_CSS = """
    ReadingPane {
        border-bottom: solid $secondary 50%;
        border-subtitle-align: right;
        border-subtitle-color: $text-accent;
        scrollbar-gutter: stable;
    }
    ReadingPane:focus {
        border-bottom: solid $accent;
    }
    """

    if TYPE_CHECKING:  # for the type checker only: it is shown in a TrainerApp

        @property
        def app(self) -> TrainerApp: ...  # type: ignore[override]

    def on_mount(self) -> None:
        # Watched rather than overridden: Widget's own watchers of these move the scrollbar and repaint.
        self.watch(self, "scroll_y", self.show_more, init=False)
        self.watch(self, "virtual_size", self.show_more, init=False)

    def on_resize(self) -> None:
        self.show_more()

    def show_more(self, *_: object) -> None:
        """The bottom edge says where the rest is: below, above, or (all of it shown) nothing."""
        below = self.scroll_y < self.max_scroll_y
        above = self.scroll_y > 0
        key = "reading.more_below" if below else "reading.more_above" if above else ""
        self.border_subtitle = self.app.tr(key) if key else ""
