"""How report numbers read, the same in the terminal, the HTML page and the app: one place for the formats."""

from __future__ import annotations

from datetime import timedelta

BLOCKS = "▁▂▃▄▅▆▇█"


def score(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}".removesuffix(".0")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def duration_ms(ms: float | None) -> str:
    """m:ss (h:mm:ss from an hour on)."""
    if ms is None:
        return "–"
    seconds = round(ms / 1000)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def duration(value: timedelta | None) -> str:
    return "–" if value is None else duration_ms(value.total_seconds() * 1000)


def sparkline(values: list[float] | tuple[float, ...], low: float = 0.0, high: float = 100.0) -> str:
    """Scores as block characters, lowest ▁ to highest █, on a fixed 0-100 scale so two lines compare."""
    span = (high - low) or 1
    return "".join(BLOCKS[min(len(BLOCKS) - 1, max(0, int((v - low) / span * len(BLOCKS))))] for v in values)


def change(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0f}"
