"""Reading the audit trail, and recording an act that changes no row of the store (audit.py holds the trail's rows
and rules; the store's writes add theirs in their own transactions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from trainer.store import access, audit
from trainer.store.access import Access


def audit_trail(
    db: Access, *, since: datetime | None = None, action: str | None = None, session: str | None = None
) -> list[audit.AuditRecord]:
    """The audit trail, oldest first: rows at or after `since`, of `action`, about `session` (id or unique prefix)."""
    with db._reading("read the audit trail") as conn:
        ids = None if session is None else [db._find(conn, session).id]
        return audit.read(conn, since=since, action=action, session_ids=ids)


def audit_of(db: Access, session_ids: Sequence[str], actions: Sequence[str] | None = None) -> list[audit.AuditRecord]:
    """The audit rows about these sessions (of these actions, if given), oldest first (for reports)."""
    with db._reading("read the audit trail") as conn:
        return audit.read(conn, session_ids=session_ids, actions=actions)


def record(db: Access, action: str, *, act: audit.Act | None = None, detail: Mapping[str, Any] | None = None) -> None:
    """An audit row for an act that is not a change of this store's rows (a restore of the whole database)."""
    row = audit.row(action, act=db._act(act), at=access.utcnow(), detail=detail)
    with db._writing(f"record {action} in the audit trail") as conn:
        audit.write(conn, [row])
