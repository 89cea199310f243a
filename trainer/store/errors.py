"""The store's one error type. Every message names the database (file path or URL, password hidden) and says what to do."""

from __future__ import annotations

from trainer.errors import TrainerError


class StoreError(TrainerError):
    """The database could not be opened, read or written, or a request does not fit the stored data.

    The message is one line, starts with the database's location and ends with what the user can do about it.
    When a write fails the transaction has been rolled back, so the caller may retry the same request.
    """
