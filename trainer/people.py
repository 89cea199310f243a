"""What a badge id, a name and a department may be: checked wherever a trainee is registered.

A badge is what a card reader types or a person keys in: 1 to 32 letters (any script), digits and the separators
`- _ . /`, starting with a letter or a digit (`1001`, `B-0042`, `ZX/冲压/17`). Names and departments are 1 to 64
characters of printable text in any script, with spaces and punctuation; no control or bidi-override characters
(see trainer.text). Leading and trailing spaces are dropped.
"""

from __future__ import annotations

import re

from trainer.errors import UsageError
from trainer.text import describe, first_unsafe

BADGE_MAX = 32
NAME_MAX = 64
DEPARTMENT_MAX = 64
BADGE_PATTERN = re.compile(r"[^\W_][\w./-]*")  # \w: letters and digits of any script (and _)


class TraineeFieldError(UsageError):
    """A badge, name or department that cannot be stored. `field` and `reason` let a screen say it in its language."""

    def __init__(self, field: str, reason: str, message: str):
        self.field = field
        self.reason = reason  # "empty", "long", "characters"
        super().__init__(message)


def badge(text: str) -> str:
    """The badge id as stored, or TraineeFieldError."""
    value = text.strip()
    _check_text("badge", value, BADGE_MAX)
    if not BADGE_PATTERN.fullmatch(value):
        raise TraineeFieldError(
            "badge",
            "characters",
            f"badge {value[:BADGE_MAX]!r}: use letters, digits and - _ . / only, starting with a letter or digit",
        )
    return value


def name(text: str) -> str:
    value = text.strip()
    _check_text("name", value, NAME_MAX)
    return value


def department(text: str) -> str:
    value = text.strip()
    _check_text("department", value, DEPARTMENT_MAX)
    return value


def _check_text(field: str, value: str, limit: int) -> None:
    if not value:
        raise TraineeFieldError(field, "empty", f"the {field} cannot be empty")
    if len(value) > limit:
        raise TraineeFieldError(
            field, "long", f"the {field} is {len(value)} characters long; at most {limit} are allowed"
        )
    bad = first_unsafe(value)
    if bad is not None:
        raise TraineeFieldError(
            field,
            "characters",
            f"the {field} holds {describe(value[bad])} at character {bad + 1}, which is not allowed; type it again",
        )
