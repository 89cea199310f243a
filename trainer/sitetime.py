"""The site's time zone: the one place where stored moments become the days, periods and expiry dates people read.

The store keeps every moment in UTC. A plant counts days in its own zone (an attempt at 07:30 in Chongqing on 2026-11-01
is on 2026-11-01, although it is 23:30 on 2026-10-31 in UTC), so each day, period and expiry date is computed in the
zone stored in the database (setting `timezone`, an IANA name such as Asia/Shanghai; `trainer db set timezone`), never
in the zone of whatever machine runs the export: the same database gives the same sheet on a UTC server and on a
laptop in Shanghai. A new database gets the creating machine's zone; `--tz ZONE` overrides it for one command.

Stdlib only (zoneinfo): the certification rule, the exports, the CLI and the app all import it.

`today()` is the one place that reads TRAINER_TODAY: a fixed YYYY-MM-DD for tests and for reproducing a past report; in
normal use leave it unset and today is the site's date.
"""

from __future__ import annotations

import difflib
import os
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from trainer.errors import UsageError

SETTING = "timezone"
TODAY_ENV = "TRAINER_TODAY"
_ZONEINFO_DIRS = ("/usr/share/zoneinfo/", "/usr/lib/zoneinfo/", "/usr/share/lib/zoneinfo/", "/etc/zoneinfo/")


class Settings(Protocol):
    def get_setting(self, key: str) -> str | None: ...


def zone(name: str, where: str = "time zone") -> ZoneInfo:
    """The zone named `name` (an IANA name: Asia/Shanghai, UTC); UsageError naming `where` and close names otherwise."""
    text = name.strip()
    try:
        if text and not text.startswith(("/", ".")) and ".." not in text:
            return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    known = available_timezones()
    close = difflib.get_close_matches(text, known, n=3) or [k for k in sorted(known) if k.lower() == text.lower()]
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UsageError(f"{where} {name!r} is not a time zone: {hint}give an IANA name such as Asia/Shanghai or UTC")


def machine_zone() -> str:
    """The IANA name of this machine's zone (TZ, else /etc/localtime, else /etc/timezone), or a fixed offset (Etc/GMT-8)
    when it has none: the default a new database is given."""
    env = os.environ.get("TZ", "").removeprefix(":").strip()
    if env:
        return _named(env) or _fixed_offset()  # a POSIX rule such as CST-8 has no IANA name: keep its offset
    try:
        target = os.path.realpath("/etc/localtime")
        for base in _ZONEINFO_DIRS:
            if target.startswith(base) and (found := _named(target.removeprefix(base))):
                return found
    except OSError:
        pass
    try:
        if found := _named(Path("/etc/timezone").read_text(encoding="utf-8").strip()):
            return found
    except OSError:
        pass
    return _fixed_offset()


def _named(name: str) -> str | None:
    name = name.removeprefix("posix/").removeprefix("right/")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return "UTC" if name in ("Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "UCT", "Etc/UCT") else name


def _fixed_offset() -> str:
    offset = datetime.now().astimezone().utcoffset()
    hours, rest = divmod(int(offset.total_seconds()) if offset else 0, 3600)
    if rest or not hours:
        return "UTC"  # a half-hour zone without a name cannot be told apart: UTC, which `db set timezone` can fix
    return f"Etc/GMT{-hours:+d}"  # POSIX signs: Etc/GMT-8 is UTC+8


def site_zone(store: Settings, tz: str | None = None) -> ZoneInfo:
    """The zone a command computes dates in: `tz` (its --tz option) if given, else the database's setting, else (a
    database from before the setting, not yet upgraded) the machine's."""
    if tz:
        return zone(tz, "--tz")
    stored = store.get_setting(SETTING)
    if stored is None:
        return zone(machine_zone())
    return zone(stored, f"the database's setting {SETTING} (fix it with `trainer db set {SETTING} ZONE`):")


def zone_name(z: tzinfo) -> str:
    return getattr(z, "key", None) or str(z)


def day(when: datetime, z: tzinfo) -> date:
    """The site's day of an aware moment (what the certification rule and the periods count in)."""
    return when.astimezone(z).date()


def midnight(d: date, z: tzinfo) -> datetime:
    """The aware first moment of the site's day `d`."""
    return datetime.combine(d, time(), tzinfo=z)


def wall(when: datetime, z: tzinfo) -> datetime:
    """An aware moment as the site's naive wall time to the second: the only kind a spreadsheet cell holds."""
    return datetime.fromtimestamp(when.timestamp() // 1, z).replace(tzinfo=None)


def now(z: tzinfo) -> datetime:
    return datetime.now(UTC).astimezone(z)


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date; ValueError with a message a user can act on otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r}: give a date as YYYY-MM-DD, e.g. 2026-11-01") from None


def today(z: tzinfo) -> date:
    """The site's date, or TRAINER_TODAY (YYYY-MM-DD) when set: for tests, never needed in production."""
    fixed = os.environ.get(TODAY_ENV, "").strip()
    if not fixed:
        return now(z).date()
    try:
        return parse_day(fixed)
    except ValueError as exc:
        raise UsageError(f"{TODAY_ENV} {exc}; or unset it to use the site's date") from None
