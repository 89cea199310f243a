"""Trainee PINs and name checks: what stops another tab in the training room from acting under someone's badge.

A badge number is no secret (it is printed on the card). When the site turns PINs on (`trainer trainees pins on`, the
setting 'trainee.pins'), signing in asks for the trainee's PIN: 4 to 8 digits, chosen at the first sign-in (typed twice)
or set by an instructor (`trainer trainees set-pin BADGE`), stored only as a salted scrypt hash (trainer.instructor_password, as
the instructor password). Wrong guesses are counted in the database and, after FREE_FAILURES, each makes the next wait
twice as long (1 s, 2 s, 4 s ... up to MAX_WAIT_MS), so neither another tab nor a restart gives fresh guesses.

Without PINs, a trainee is offered their interrupted sessions only after typing the name registered for the badge.
"""

from __future__ import annotations

import re
import unicodedata

from trainer.errors import UsageError
from trainer.instructor_password import check_password, hash_secret

SETTING = "trainee.pins"  # "on" or "off" (absent: off)
MIN_DIGITS, MAX_DIGITS = 4, 8
FREE_FAILURES = 3  # typos: the first wrong PINs cost no wait
MAX_WAIT_MS = 15 * 60_000
_PIN = re.compile(rf"[0-9]{{{MIN_DIGITS},{MAX_DIGITS}}}")


class PinError(UsageError):
    pass


def checked_pin(text: str) -> str:
    """The PIN as hashed, or PinError: 4 to 8 digits (0-9; a keypad's, so every terminal and browser can type it)."""
    if not _PIN.fullmatch(text):
        raise PinError(f"a PIN is {MIN_DIGITS} to {MAX_DIGITS} digits (0-9)")
    return text


def hash_pin(pin: str) -> str:
    return hash_secret(checked_pin(pin))


def pin_matches(pin: str, stored: str) -> bool:
    return check_password(pin, stored)


def wait_ms(failures: int) -> int:
    """How long after the `failures`-th wrong PIN in a row the next one is tried: none for the first FREE_FAILURES,
    then 1 s, doubling, up to MAX_WAIT_MS (10 000 four-digit PINs then take months)."""
    if failures <= FREE_FAILURES:
        return 0
    return min(1000 * 2 ** min(failures - FREE_FAILURES - 1, 30), MAX_WAIT_MS)


def same_name(typed: str, stored: str) -> bool:
    """Whether a typed name is the registered one: the same letters, whatever their case, width or spaces."""

    def simple(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).casefold().split())

    return bool(typed.strip()) and simple(typed) == simple(stored)
