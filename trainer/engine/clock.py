"""Engine time: whole milliseconds, end to end.

Event times are stored as integer milliseconds and a resumed session is rebuilt by replaying them, so the engine must
read back exactly what it wrote. A clock in float seconds cannot promise that: 1.001 s times 1000 is
1000.9999999999999, which int() makes 1000, one lower than the 1001 stored (about 0.6% of millisecond values do this),
and the replay no longer matches. So every clock the engine reads returns integer milliseconds, and decimal seconds
(a course's timer, a play script's delay) are turned into milliseconds in one place, exactly, by `ms_from_seconds`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

Clock = Callable[[], int]  # milliseconds from a monotonic source; only differences are used


def monotonic_ms() -> int:
    """The default clock: the monotonic clock in whole milliseconds (integer nanoseconds, floored; no float on the way)."""
    return time.monotonic_ns() // 1_000_000


class ManualClock:
    """A clock that moves only when told: replay, the explorer, the simulator, scripted play and tests."""

    def __init__(self, ms: int = 0) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, ms: int) -> None:
        self.ms += ms


def ms_from_seconds(seconds: str | int | float | Decimal) -> int:
    """Decimal seconds as whole milliseconds, exactly: "1.0011" -> 1001.

    A string is read as written; a float (a number from YAML) as the shortest decimal that gives it back, i.e. as the
    author typed it. Digits beyond the millisecond are rounded to the nearest millisecond, halves up ("1.0015" -> 1002).
    Exact fractions, not float arithmetic and not decimal arithmetic with its 28-digit context, so a value with 300
    digits is still converted exactly (the limits on such values are checked where they are read). Raises ValueError
    for something that is not a finite number.
    """
    if isinstance(seconds, float):
        if not math.isfinite(seconds):
            raise ValueError(f"{seconds!r} seconds is not a finite time")
        exact = Fraction(repr(seconds))
    elif isinstance(seconds, Decimal):
        if not seconds.is_finite():
            raise ValueError(f"{seconds} seconds is not a finite time")
        exact = Fraction(seconds)
    else:
        exact = Fraction(seconds)  # int, or a decimal string (raises ValueError when it is not one)
    return math.floor(exact * 1000 + Fraction(1, 2))


@lru_cache(maxsize=4096)
def timer_ms(seconds: float) -> int:
    """A course timer's length in milliseconds: the engine's one conversion for every deadline (cached: it is asked
    for on every tick)."""
    return ms_from_seconds(seconds)
