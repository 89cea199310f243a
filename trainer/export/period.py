"""Days for reports and score sheets: "today", and a --since/--until period of whole local days.

The plant works in local time (Chongqing, UTC+8) and the certification rule counts local days, so a date typed by HR
(2026-11-01) means that local day, from midnight to midnight, in the time zone of the machine running the export.

`today()` is the one place that reads TRAINER_TODAY: a fixed YYYY-MM-DD for tests and for reproducing a past report; in
normal use leave it unset and today is the machine's date.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property

from trainer.errors import UsageError

TODAY_ENV = "TRAINER_TODAY"


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date; ValueError with a message a user can act on otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r}: give a date as YYYY-MM-DD, e.g. 2026-11-01") from None


def today() -> date:
    """The machine's date, or TRAINER_TODAY (YYYY-MM-DD) when set: for tests, never needed in production."""
    fixed = os.environ.get(TODAY_ENV, "").strip()
    if not fixed:
        return date.today()
    try:
        return parse_day(fixed)
    except ValueError as exc:
        raise UsageError(f"{TODAY_ENV} {exc}; or unset it to use the machine's date") from None


def local_midnight(day: date) -> datetime:
    """The timezone-aware start of a local day."""
    return datetime.combine(day, time()).astimezone()


def local_day(when: datetime) -> date:
    """The local day of a timezone-aware moment (what the certification rule counts in)."""
    return when.astimezone().date()


def local_naive(when: datetime) -> datetime:
    """A timezone-aware moment as naive local time, the only kind a spreadsheet cell holds (to the second).

    From the timestamp: the same wall time as when.astimezone() (both ask the system's local time rules), in a quarter
    of the time; a score sheet converts one per attempt."""
    return datetime.fromtimestamp(when.timestamp() // 1)


@dataclass(frozen=True)
class Period:
    """Sessions started on or after `since` and on or before `until` (both whole local days, both optional)."""

    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise UsageError(f"--since {self.since} is after --until {self.until}; swap them")

    @cached_property  # contains() asks for both once per session: a sheet asks 100 000 times
    def start(self) -> datetime | None:
        """The first moment in the period (aware), or None for no lower bound."""
        return local_midnight(self.since) if self.since else None

    @cached_property
    def end(self) -> datetime | None:
        """The first moment after the period (aware, exclusive), or None for no upper bound."""
        return local_midnight(self.until + timedelta(days=1)) if self.until else None

    def contains(self, when: datetime) -> bool:
        start, end = self.start, self.end
        return (start is None or when >= start) and (end is None or when < end)

    def describe(self) -> str:
        if self.since and self.until:
            return f"{self.since} to {self.until}"
        if self.since:
            return f"since {self.since}"
        if self.until:
            return f"until {self.until}"
        return "all dates"


ALL_DATES = Period()  # no bounds: the default period of every report
