"""A button whose width follows its label."""

from __future__ import annotations

from textual.widgets import Button


class LabelButton(Button):
    """Textual's Button, laid out again when its label changes.

    Textual's `label` reactive repaints the button but keeps the width it was given at its first layout. The screens
    set their labels again in the trainee's language (the debrief once its worker has read the session, any screen when
    F2 switches the language), so a label longer than the one laid out was cut: the English debrief showed "Back to"
    for "Back to courses", or not, depending on whether some other change laid the screen out again (a snapshot test
    failed one run in five). Screens also give each button its label when composing it, so that the first layout fits.
    """

    def watch_label(self) -> None:
        self.refresh(layout=True)
