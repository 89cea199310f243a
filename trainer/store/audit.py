"""The audit trail (schema version 4) and the instructor sign-in throttle that reads it.

Every record-changing act (a void, a relabel, a rescoring, a restore) and every security event (an instructor sign-in,
a password change) leaves one row: when, who (the OS user, the host, the terminal), what (a fixed action and a JSON
detail, old -> new where it applies), on which session, and why. Store writes the row inside the transaction of the
change it records, through write() here: there is no change without its row, and no row without its change.

The sign-in throttle keeps no state of its own: the number of failed instructor sign-ins in a row, and the time of the
last one, are read from the trail (one truth), so restarting the process or starting ten at once resets nothing. The
attempt is checked and recorded in one write transaction, which serialises attempts across processes: a script cannot
run its guesses in parallel to get around the wait.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from trainer.store import schema
from trainer.store.actions import (  # noqa: F401  (re-exported: callers name them audit.SESSION_VOID etc.)
    ACTIONS,
    DB_RESTORE,
    LABEL_IMPORT,
    LABEL_SET,
    LOGIN_FAILED,
    LOGIN_OK,
    LOGIN_REFUSED,
    PASSWORD_RESET,
    PASSWORD_SET,
    REQUIREMENTS_LOAD,
    SCORE_MODEL,
    SCORE_REPAIR,
    SCORE_RESCORE,
    SESSION_VOID,
    SETTING_SET,
    TRAINEE_EDIT,
    TRAINEE_IMPORT,
    TRAINEE_MERGE,
)

# The events after which the failure count starts again from zero.
_RESETS = (LOGIN_OK, PASSWORD_SET, PASSWORD_RESET)

FREE_FAILURES = 2  # failed sign-ins in a row that cost no wait (a typo, then another)
FIRST_WAIT_MS = 1000  # after the 3rd failure in a row; doubled after each further one
MAX_WAIT_MS = 60_000
REASON_MAX = 500  # characters of a reason


def wait_after(failures: int) -> int:
    """Milliseconds to wait after `failures` failed sign-ins in a row before the next may be checked."""
    if failures <= FREE_FAILURES:
        return 0
    return min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** min(failures - FREE_FAILURES - 1, 16))


@dataclass(frozen=True)
class Actor:
    """Who did it: the OS user, the host and the terminal (tty) the command ran on."""

    user: str
    host: str
    terminal: str

    @classmethod
    def here(cls) -> Actor:
        return cls(_os_user(), _host(), _terminal())


def _os_user() -> str:
    # The account the process runs as, from the password database first: getpass.getuser() trusts $USER and $LOGNAME,
    # which anyone can set on the command line. It is the fallback (an account without an entry, e.g. in a container).
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        pass
    try:
        return getpass.getuser()
    except Exception:  # no account name anywhere: still say which one
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _host() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return ""


def _terminal() -> str:
    for fd in (0, 1, 2):
        try:
            return os.ttyname(fd)
        except (OSError, AttributeError):
            continue
    return ""


@dataclass(frozen=True)
class Act:
    """What the person doing a record-changing act says about it: why, and who they are (default: Actor.here())."""

    reason: str = ""
    actor: Actor | None = None


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime  # UTC, timezone-aware
    actor: str
    host: str
    terminal: str
    action: str
    session_id: str | None
    detail: Mapping[str, Any]
    reason: str

    @property
    def who(self) -> str:
        """The actor as a report shows it: user@host, and the terminal if there was one."""
        where = f"{self.actor}@{self.host}" if self.host else self.actor
        return f"{where} ({self.terminal})" if self.terminal else where


def clean_reason(reason: str) -> str:
    """A reason as stored: one line of at most REASON_MAX characters (ValueError otherwise)."""
    text = " ".join(reason.split())
    if len(text) > REASON_MAX:
        raise ValueError(f"the reason has {len(text)} characters; keep it to {REASON_MAX}")
    return text


def row(
    action: str,
    *,
    act: Act | None,
    at: datetime,
    session_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit row, as write() takes it."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    act = act or Act()
    actor = act.actor or Actor.here()
    return {
        "at": at,
        "actor": actor.user[:255],
        "host": actor.host[:255],
        "terminal": actor.terminal[:255],
        "action": action,
        "session_id": session_id,
        "detail": json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        "reason": clean_reason(act.reason),
    }


def write(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add audit rows inside the caller's write transaction (the one that makes the change they record)."""
    if rows:
        conn.execute(schema.audit.insert(), list(rows))


def read(
    conn: Connection,
    *,
    since: datetime | None = None,
    action: str | None = None,
    session_ids: Sequence[str] | None = None,
    actions: Sequence[str] | None = None,
) -> list[AuditRecord]:
    """The trail, oldest first; only rows at or after `since`, of `action` (or one of `actions`), about `session_ids`,
    when given."""
    a = schema.audit
    query = select(a).order_by(a.c.id)
    if since is not None:
        query = query.where(a.c.at >= since)
    if action is not None:
        query = query.where(a.c.action == action)
    if actions is not None:
        query = query.where(a.c.action.in_(list(actions)))
    if session_ids is not None:
        if not session_ids:
            return []
        ids = list(dict.fromkeys(session_ids))
        if len(ids) > 900 and actions is not None:  # a report on many sessions: one query, filtered here
            wanted = set(ids)
            return [r for r in _records(conn.execute(query).all()) if r.session_id in wanted]
        found: list[AuditRecord] = []
        for first in range(0, len(ids), 900):  # SQLite's limit on bound parameters
            found += _records(conn.execute(query.where(a.c.session_id.in_(ids[first : first + 900]))).all())
        return sorted(found, key=lambda r: r.id)
    return _records(conn.execute(query).all())


def _records(rows: Sequence[Any]) -> list[AuditRecord]:
    return [
        AuditRecord(
            r.id, r.at, r.actor, r.host, r.terminal, r.action, r.session_id, json.loads(r.detail or "{}"), r.reason
        )
        for r in rows
    ]


# --- the instructor password -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """How an instructor sign-in (or a password change's check of the old password) went."""

    ok: bool
    failures: int  # failed attempts in a row now (0 after a success)
    wait_ms: int  # how long to wait before the next attempt is checked (refused: how long is left)
    refused: bool = False  # made before the wait was over: the password was not even checked


def _failures(conn: Connection) -> tuple[int, datetime | None]:
    """Failed sign-ins since the last success or password change, and when the last one was."""
    a = schema.audit
    last_reset = select(func.max(a.c.id)).where(a.c.action.in_(_RESETS)).scalar_subquery()
    count, last = conn.execute(
        select(func.count(), func.max(a.c.at)).where(a.c.action == LOGIN_FAILED, a.c.id > func.coalesce(last_reset, 0))
    ).one()
    if isinstance(last, str):  # max() keeps the column's type (UTCDateTime); a driver's raw text, just in case
        last = datetime.fromisoformat(last).replace(tzinfo=UTC)
    return int(count), last


def _locked_password(conn: Connection, key: str) -> str | None:
    t = schema.settings
    # FOR UPDATE (PostgreSQL): concurrent attempts queue here, each seeing the failures recorded before it.
    # SQLite's write transaction already holds the whole file.
    return conn.execute(select(t.c.value).where(t.c.key == key).with_for_update()).scalar_one_or_none()


def attempt(
    conn: Connection,
    key: str,
    check: Callable[[str], bool],
    *,
    now: datetime,
    act: Act | None = None,
    via: str = "sign-in",
) -> Attempt:
    """Check the instructor password (`check(stored_hash)`) unless the wait after earlier failures is not over, and
    record the attempt: login_ok, login_failed or login_refused. Raises LookupError when no password is set."""
    stored = _locked_password(conn, key)
    if stored is None:
        raise LookupError(key)
    failures, last = _failures(conn)
    if last is not None:
        wait = wait_after(failures)
        # min(): a clock that went back (or another host's, ahead of ours) never makes the wait longer than it is
        left = min(wait, wait - int((now - last) / timedelta(milliseconds=1)))
        if left > 0:
            write(
                conn, [row(LOGIN_REFUSED, act=act, at=now, detail={"via": via, "failures": failures, "wait_ms": left})]
            )
            return Attempt(False, failures, left, refused=True)
    if check(stored):
        write(conn, [row(LOGIN_OK, act=act, at=now, detail={"via": via, "failures_before": failures})])
        return Attempt(True, 0, 0)
    failures += 1
    write(conn, [row(LOGIN_FAILED, act=act, at=now, detail={"via": via, "failures": failures})])
    return Attempt(False, failures, wait_after(failures))


def set_password(
    conn: Connection,
    key: str,
    new_hash: str,
    *,
    old: Callable[[str], bool] | None,
    reset: bool,
    now: datetime,
    act: Act | None = None,
) -> Attempt:
    """Store a new password hash, recorded in the trail. The very first needs nothing; replacing one needs `old`
    (a check of the current password, throttled and recorded as a sign-in) or `reset` with a reason."""
    from trainer.store import dialect

    stored = _locked_password(conn, key)
    action = PASSWORD_SET
    if stored is not None:
        if reset:
            if not (act and act.reason.strip()):
                raise ValueError("a password reset needs a reason")
            action = PASSWORD_RESET
        else:
            if old is None:
                raise ValueError("replacing the password needs the old one")
            result = attempt(conn, key, old, now=now, act=act, via="set-password")
            if not result.ok:
                return result
    dialect.upsert(conn, schema.settings, {"key": key, "value": new_hash}, update=("value",))
    detail = {"first": stored is None} if action == PASSWORD_SET else {}
    write(conn, [row(action, act=act, at=now, detail=detail)])
    return Attempt(True, 0, 0)
