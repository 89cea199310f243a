"""Rows for filling a store in bulk in the benches' own set-up (the store's append is what some benches measure)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from trainer.engine.events import Event, canonical_json


def event_row(session_id: str, event: Event, began: datetime) -> dict[str, Any]:
    """An events-table row for a bulk insert; the hash chain is left blank (these benches do not verify it)."""
    return {
        "session_id": session_id,
        "seq": event.seq,
        "t_ms": event.t_ms,
        "utc": began + timedelta(milliseconds=event.t_ms),
        "kind": str(event.kind),
        "state": event.state,
        "action": event.action,
        "data": canonical_json(event.data),
        "prev_hash": "0" * 64,
        "hash": "0" * 64,
    }
