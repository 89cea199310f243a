"""Durable storage of trainees, sessions and their hash-chained events (SQLAlchemy Core; SQLite or PostgreSQL).

`from trainer.store import Store` works, but SQLAlchemy is only imported when Store is first used: importing the records
(`trainer.store.records`) or StoreError stays cheap and free of SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trainer.store.errors import StoreError
from trainer.store.records import ChainProblem, SessionRecord, SessionStatus, StoredEvent, Trainee

if TYPE_CHECKING:
    from trainer.store.store import Store, default_url

__all__ = [
    "ChainProblem",
    "SessionRecord",
    "SessionStatus",
    "Store",
    "StoreError",
    "StoredEvent",
    "Trainee",
    "default_url",
]


def __getattr__(name: str) -> Any:
    if name in ("Store", "default_url"):
        from trainer.store import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
