"""How the trainee screens show a mistake's severity and a time: one look, read by the player and the debrief."""

from __future__ import annotations

from trainer.course.model import MistakeSeverity

SEVERITY_LOOK = {
    MistakeSeverity.MINOR: ("▲", "bold yellow"),
    MistakeSeverity.SERIOUS: ("▲▲", "bold dark_orange"),
    MistakeSeverity.CRITICAL: ("✖", "bold white on red"),
}


def clock_text(ms: int) -> str:
    """Elapsed course time as the trainee reads it on the player's clock: mm:ss."""
    minutes, seconds = divmod(ms // 1000, 60)
    return f"{minutes:02d}:{seconds:02d}"
