"""Who may sign in: trainees' PINs (schema version 4) and the instructor password (audit.py holds its rules).

Each check is one write transaction, so terminals guessing at once still count every guess, and the wait after wrong
ones survives a restart (it is stored, not kept in memory).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from trainer.store import access, audit, dialect, schema
from trainer.store.access import Access
from trainer.store.errors import StoreError
from trainer.store.records import PinAttempt, PinResult


def has_pin(db: Access, badge: str) -> bool:
    t = schema.trainee_pins
    with db._reading(f"read the PIN of {badge}") as conn:
        return conn.execute(select(t.c.badge).where(t.c.badge == badge)).first() is not None


def set_pin(db: Access, badge: str, pin_hash: str, by: str) -> None:
    """Give a registered trainee this PIN (its hash, trainer.pins.hash_pin), forgetting any wrong guesses."""
    t = schema.trainee_pins
    with db._writing(f"save the PIN of {badge}") as conn:
        if conn.execute(select(schema.trainees.c.badge).where(schema.trainees.c.badge == badge)).first() is None:
            raise StoreError(f"{db._where}: no trainee with badge {badge}; they sign in once first")
        values = {"pin_hash": pin_hash, "set_at": access.utcnow(), "set_by": by, "failures": 0, "retry_at": None}
        dialect.upsert(conn, t, {"badge": badge, **values}, update=tuple(values))


def clear_pin(db: Access, badge: str) -> bool:
    """Forget a trainee's PIN (they choose a new one at their next sign-in); whether there was one."""
    t = schema.trainee_pins
    with db._writing(f"clear the PIN of {badge}") as conn:
        return conn.execute(t.delete().where(t.c.badge == badge)).rowcount > 0


def try_pin(
    db: Access,
    badge: str,
    matches: Callable[[str], bool],
    wait_ms: Callable[[int], int],
    now: datetime | None = None,
) -> PinAttempt:
    """Check a typed PIN against the stored hash (`matches(pin_hash)`), unless a wait after wrong ones runs.

    One write transaction, so tabs guessing at once still count every guess; `wait_ms(failures)` is the delay after
    that many wrong PINs in a row (trainer.pins.wait_ms). A right PIN forgets the wrong ones.
    """
    t = schema.trainee_pins
    now = now or access.utcnow()
    with db._writing(f"check the PIN of {badge}") as conn:
        row = conn.execute(select(t.c.pin_hash, t.c.failures, t.c.retry_at).where(t.c.badge == badge)).one_or_none()
        if row is None:
            return PinAttempt(PinResult.NO_PIN)
        if row.retry_at is not None and now < row.retry_at:
            return PinAttempt(PinResult.WAIT, -(-(row.retry_at - now) // timedelta(milliseconds=1)))
        if matches(row.pin_hash):
            conn.execute(t.update().where(t.c.badge == badge).values(failures=0, retry_at=None))
            return PinAttempt(PinResult.RIGHT)
        failures = row.failures + 1
        wait = wait_ms(failures)
        retry = now + timedelta(milliseconds=wait) if wait else None
        conn.execute(t.update().where(t.c.badge == badge).values(failures=failures, retry_at=retry))
        return PinAttempt(PinResult.WRONG, wait)


def instructor_sign_in(
    db: Access, key: str, check: Callable[[str], bool], *, now: datetime | None = None, act: audit.Act | None = None
) -> audit.Attempt:
    """Check the instructor password stored at setting `key` with `check(stored_hash)`, unless the wait after
    earlier failures is not over; the attempt is recorded in the trail in the same transaction. See audit.py."""
    with db._writing("check the instructor password", undone="the attempt was not counted") as conn:
        try:
            return audit.attempt(conn, key, check, now=now or access.utcnow(), act=act)
        except LookupError:
            raise StoreError("no instructor password is set; run `trainer instructor set-password` first") from None


def set_instructor_password(
    db: Access,
    key: str,
    new_hash: str,
    *,
    old: Callable[[str], bool] | None = None,
    reset: bool = False,
    act: audit.Act | None = None,
    now: datetime | None = None,
) -> audit.Attempt:
    """Store the instructor password's new hash at setting `key`: the first freely; a replacement after `old`
    accepts the current one (checked and throttled as a sign-in) or with `reset` and a reason. Recorded in the
    trail with the change; when the old password is refused nothing changes but the failure is recorded."""
    act = db._act(act)
    try:
        with db._writing("save the instructor password") as conn:
            return audit.set_password(conn, key, new_hash, old=old, reset=reset, now=now or access.utcnow(), act=act)
    except ValueError as exc:
        raise StoreError(f"{exc}; nothing was changed") from None
