"""The site's own settings, kept in the database (settings table) and set with `trainer db set KEY VALUE`.

Each settable key has a description and a check that returns the value to store (or raises UsageError naming the key):
one table, so `db set`, `db info` and the readers (the xAPI export) agree on names, defaults and what is valid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from trainer.errors import UsageError

TIMEZONE = "timezone"  # the site's IANA time zone (trainer.sitetime.SETTING)
SITE_URL = "site.url"  # the site's URL: the homePage of trainees' xAPI accounts (their identity in an LRS)
SITE_NAME = "site.name"  # the site's name, e.g. "Plant 2, Suzhou"
XAPI_IRI = "xapi.iri"  # the IRI of the site's xAPI profile terms (extensions, the mistake verb); default SITE_URL/xapi
PLACEHOLDER_URL = "https://trainer.local"  # what an unset site.url stands for: the same at every site, so never posted


@dataclass(frozen=True)
class Settable:
    key: str
    help: str
    check: Callable[[str, str], str]  # (key, value) -> the value to store


def check_url(value: str, what: str) -> str:
    """An absolute http(s) URL without spaces (a trailing '/' dropped), or UsageError naming `what`."""
    text = value.strip()
    if not text.startswith(("http://", "https://")) or len(text) <= len("https://") or any(c.isspace() for c in text):
        raise UsageError(f"{what} {value!r}: give an http(s) URL such as https://plant2.example-corp.com")
    return text.rstrip("/")


def _site_url(key: str, value: str) -> str:
    url = check_url(value, key)
    if url == PLACEHOLDER_URL:
        raise UsageError(f"{key} {value!r}: that is the placeholder every site has; give this site's own URL")
    return url


def _iri(key: str, value: str) -> str:
    return check_url(value, key)


def _timezone(key: str, value: str) -> str:
    from trainer import sitetime

    return sitetime.zone(value, key).key


def _name(key: str, value: str) -> str:
    text = " ".join(value.split())
    if not text or len(text) > 200:
        raise UsageError(f"{key} {value!r}: give a name of 1 to 200 characters")
    return text


SETTABLE: dict[str, Settable] = {
    s.key: s
    for s in (
        Settable(TIMEZONE, "the site's time zone (IANA, e.g. Asia/Shanghai) for dates, periods and expiry", _timezone),
        Settable(SITE_URL, "the site's URL: trainees' identity in an LRS (their xAPI account homePage)", _site_url),
        Settable(SITE_NAME, "the site's name, written into xAPI statements", _name),
        Settable(XAPI_IRI, "IRI of the site's xAPI extensions and profile verb (default: site.url/xapi)", _iri),
    )
}
