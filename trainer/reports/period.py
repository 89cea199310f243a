"""A --since/--until period of whole days of the site (trainer/sitetime.py: the database's time zone).

A date typed by HR (2026-11-01) means that day at the plant, from midnight to midnight in the site's zone, whatever the
zone of the machine running the export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import cached_property

from trainer.errors import UsageError
from trainer.sitetime import midnight


def check_order(since: date | None, until: date | None) -> None:
    """UsageError when --since is after --until (a command says so before it opens the database)."""
    if since and until and since > until:
        raise UsageError(f"--since {since} is after --until {until}; swap them")


@dataclass(frozen=True)
class Period:
    """Sessions started on or after `since` and on or before `until` (both whole days of `zone`, both optional)."""

    since: date | None = None
    until: date | None = None
    zone: tzinfo | None = None  # the site's zone; needed as soon as there is a bound

    def __post_init__(self) -> None:
        check_order(self.since, self.until)
        if (self.since or self.until) and self.zone is None:
            raise ValueError("a period with dates needs the site's time zone (sitetime.site_zone)")

    @cached_property  # contains() asks for both once per session: a sheet asks 100 000 times
    def start(self) -> datetime | None:
        """The first moment in the period (aware), or None for no lower bound."""
        return midnight(self.since, self.zone) if self.since and self.zone else None

    @cached_property
    def end(self) -> datetime | None:
        """The first moment after the period (aware, exclusive), or None for no upper bound."""
        return midnight(self.until + timedelta(days=1), self.zone) if self.until and self.zone else None

    def contains(self, when: datetime) -> bool:
        start, end = self.start, self.end
        return (start is None or when >= start) and (end is None or when < end)

    def describe(self, lang: str = "en") -> str:
        zh = lang == "zh"
        if self.since and self.until:
            return f"{self.since} 至 {self.until}" if zh else f"{self.since} to {self.until}"
        if self.since:
            return f"{self.since} 起" if zh else f"since {self.since}"
        if self.until:
            return f"截至 {self.until}" if zh else f"until {self.until}"
        return "全部日期" if zh else "all dates"


ALL_DATES = Period()  # no bounds: the default period of every report
