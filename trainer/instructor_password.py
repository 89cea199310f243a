"""The instructor password: stored only as a salted scrypt hash (hashlib), compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from trainer.errors import TrainerError

SETTING = "instructor.password"
# scrypt cost (its time and memory: docs/performance.md, "Figures behind the code"): slow enough to make guessing a
# stolen hash expensive, fast enough to sign in.
N, R, P = 2**14, 8, 1
MIN_LENGTH = 8


class PasswordError(TrainerError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"the instructor password must have at least {MIN_LENGTH} characters")
    return hash_secret(password)


def hash_secret(secret: str) -> str:
    """A salted scrypt hash of a secret (the instructor password, a trainee's PIN), checked by check_password."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=N, r=R, p=P)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, bytes.fromhex(digest))


def wait_seconds(wait_ms: int) -> int:
    """A wait as whole seconds, rounded up: "wait 1 s" is never shown for a wait that is not over after 1 s."""
    return max(1, -(-wait_ms // 1000))


def refusal(attempt: Any, wrong: str = "wrong instructor password") -> str:
    """Why a sign-in (a trainer.store.audit.Attempt) did not let the instructor in, on one line ("" if it did)."""
    if attempt.ok:
        return ""
    if attempt.refused:
        return (
            f"too many wrong instructor passwords: wait {wait_seconds(attempt.wait_ms)} s before the next try "
            "(this attempt was not checked, and it is in the audit trail)"
        )
    if attempt.wait_ms:
        return f"{wrong} ({attempt.failures} in a row): wait {wait_seconds(attempt.wait_ms)} s before the next try"
    return wrong
