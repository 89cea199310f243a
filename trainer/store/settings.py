"""Settings: the site's key -> value pairs (the time zone, the LRS's ledger, the instructor password's hash, ...), and
the backend's own durability settings in force.

`put` and `remove` are the one way setting rows are written: the store's methods below and `trainer db copy` (copy.py)
use them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import Connection, select

from trainer.store import access, audit, dialect, schema
from trainer.store.access import Access


def put(conn: Connection, values: Mapping[str, str]) -> None:
    """Insert or replace these settings in the transaction `conn`."""
    for key, value in values.items():
        dialect.upsert(conn, schema.settings, {"key": key, "value": value}, update=("value",))


def remove(conn: Connection, keys: Collection[str]) -> None:
    """Delete these settings in the transaction `conn`."""
    if keys:
        conn.execute(schema.settings.delete().where(schema.settings.c.key.in_(sorted(keys))))


def read_all(conn: Connection) -> dict[str, str]:
    """Every setting, key -> value, in the transaction `conn`."""
    t = schema.settings
    return {str(row.key): str(row.value) for row in conn.execute(select(t.c.key, t.c.value))}


def get_setting(db: Access, key: str) -> str | None:
    t = schema.settings
    with db._reading(f"read setting {key}") as conn:
        value: str | None = conn.execute(select(t.c.value).where(t.c.key == key)).scalar_one_or_none()
        return value


def set_setting(db: Access, key: str, value: str) -> None:
    with db._writing(f"save setting {key}") as conn:
        put(conn, {key: value})


def settings_under(db: Access, prefix: str) -> dict[str, str]:
    """Every setting whose key starts with `prefix` (a family of rows, e.g. an LRS ledger's, one per session)."""
    t = schema.settings
    with db._reading(f"read settings {prefix}*") as conn:
        rows = conn.execute(select(t.c.key, t.c.value).where(t.c.key.startswith(prefix, autoescape=True)))
        return {str(row.key): str(row.value) for row in rows}


def set_settings(db: Access, values: Mapping[str, str]) -> None:
    """Save several settings in one transaction: all or none."""
    with db._writing(f"save {len(values)} setting(s)") as conn:
        put(conn, values)


def change_setting(db: Access, key: str, value: str, *, act: audit.Act | None = None) -> str | None:
    """Set a site setting an administrator chose (`trainer db set`) and record the change, old and new value, in
    the audit trail in the same transaction: a time zone moves expiry dates, so who changed it must be known.
    Returns the old value (None: it was unset)."""
    t = schema.settings
    with db._writing(f"save setting {key}") as conn:
        old: str | None = conn.execute(select(t.c.value).where(t.c.key == key)).scalar_one_or_none()
        put(conn, {key: value})
        detail = {"key": key, "old": old, "new": value}
        audit.write(conn, [audit.row(audit.SETTING_SET, act=db._act(act), at=access.utcnow(), detail=detail)])
    return old


def diagnostics(db: Access) -> dict[str, str]:
    """The backend's durability settings in force (SQLite: journal_mode, synchronous, busy_timeout, foreign_keys)."""
    with db._reading("read its settings") as conn:
        return dialect.durability_settings(conn)
