"""The site key: a secret kept in a file outside the database, named by TRAINER_SITE_KEY_FILE.

A SHA-256 beside a file proves the file is the one that digest was taken of (integrity), not who wrote it: anyone who can
replace the file can write a new digest. A keyed digest (HMAC-SHA256) proves origin as well: only someone holding the
key can make one that verifies. The key is read from its file when needed and never stored, logged or shown; what is
shown is its id, an HMAC of a fixed text (it tells keys apart and reveals nothing of the key).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from trainer.errors import TrainerError

ENV_VAR = "TRAINER_SITE_KEY_FILE"
MIN_BYTES = 16  # 128 bits


class SiteKeyError(TrainerError):
    """The site key file is named but cannot be used."""


def key_file() -> Path | None:
    """The key file the environment names, or None when the site has no key."""
    value = os.environ.get(ENV_VAR, "").strip()
    return Path(value).expanduser() if value else None


def site_key() -> bytes | None:
    """The site's key (the file's bytes, surrounding whitespace removed), or None when the site has no key. A key file
    that is named but missing, unreadable or too short is an error: a site that meant to check origins must not
    silently stop checking."""
    path = key_file()
    if path is None:
        return None
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise SiteKeyError(f"{ENV_VAR}={path}: cannot read the site key ({exc.strerror or exc})") from None
    if len(key) < MIN_BYTES:
        raise SiteKeyError(
            f"{ENV_VAR}={path}: the site key is {len(key)} bytes, fewer than {MIN_BYTES}; make one with "
            '`python -c "import secrets; print(secrets.token_hex(32))" > FILE`'
        )
    return key


def key_id(key: bytes) -> str:
    """A short public name for the key: the first 16 hex of HMAC-SHA256(key, 'trainer site key id')."""
    return hmac.new(key, b"trainer site key id", hashlib.sha256).hexdigest()[:16]


def mac(key: bytes, purpose: str, message: bytes) -> str:
    """HMAC-SHA256 of the message, bound to its purpose (a MAC made for one use never verifies for another)."""
    return hmac.new(key, purpose.encode() + b"\0" + message, hashlib.sha256).hexdigest()
