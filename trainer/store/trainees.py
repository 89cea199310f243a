"""Trainees: registered at their first sign-in or from HR's roster (docs/hr.md), corrected, and merged when one person
got two badges. Every change of a trainee's row is entered in the ledger (trainee_entry): a name or department edited
by plain SQL no longer matches it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, func, select

from trainer import people
from trainer.store import access, audit, chain, dialect, ledger, schema
from trainer.store.access import Access
from trainer.store.errors import StoreError
from trainer.store.records import RosterEntry, Trainee


def upsert_trainee(db: Access, badge: str, name: str, department: str) -> Trainee:
    """Register a trainee or update their name and department (the badge id is the key and never changes).

    The three are checked first (trainer.people): whatever screen or command typed them, nothing a terminal would
    act on, and nothing longer than a sheet's column, is stored.
    """
    badge, name, department = people.badge(badge), people.name(name), people.department(department)
    t = schema.trainees
    keying = db._hasher(f"save trainee {badge}")
    with db._writing(f"save trainee {badge}") as conn:
        before = conn.execute(select(t.c.name, t.c.department).where(t.c.badge == badge)).one_or_none()
        values = {"badge": badge, "name": name, "department": department, "created_at": access.utcnow()}
        dialect.upsert(conn, t, values, update=("name", "department"))
        saved = conn.execute(select(t).where(t.c.badge == badge)).one()
        if before is None or (before.name, before.department) != (saved.name, saved.department):
            ledger.enter(conn, keying, [trainee_entry(keying, saved)])  # the ledger keeps every change
    return _trainee(saved)


def get_trainee(db: Access, badge: str) -> Trainee | None:
    """The trainee with this badge; for a badge merged into another (`trainer trainees merge`), that other one:
    an old card still signs its holder in as the trainee they are now recorded as."""
    t = schema.trainees
    with db._reading(f"read trainee {badge}") as conn:
        row = conn.execute(select(t).where(t.c.badge == badge.strip())).one_or_none()
        seen = set()
        while row is not None and row.merged_into is not None and row.badge not in seen:
            seen.add(row.badge)
            row = conn.execute(select(t).where(t.c.badge == row.merged_into)).one_or_none()
    return None if row is None else _trainee(row)


def trainees(db: Access, *, merged: bool = False) -> list[Trainee]:
    """Every registered trainee, by badge id (for reports and exports); badges merged into another are left out
    (their sessions are read as that other trainee's) unless `merged`."""
    t = schema.trainees
    query = select(t).order_by(t.c.badge)
    if not merged:
        query = query.where(t.c.merged_into.is_(None))
    with db._reading("list trainees") as conn:
        rows = conn.execute(query).all()
    return [_trainee(row) for row in rows]


def import_trainees(
    db: Access, entries: Sequence[tuple[str, RosterEntry]], *, act: audit.Act | None = None, source: str = ""
) -> dict[str, str]:
    """Create or update the trainees of HR's roster in one transaction: all or nothing. `entries`: (where in the
    file, e.g. "roster.csv:3", the entry). Each trainee created or changed gets a trainee.import row in the audit
    trail (old -> new of each field) and a ledger entry; one listed the same as stored is left alone. A role,
    plant or hire date the roster leaves empty is kept as stored. Returns badge -> "new", "changed" or "same"."""
    t = schema.trainees
    keying = db._hasher(f"import the roster {source}")
    act = db._act(act)
    now = access.utcnow()
    outcome: dict[str, str] = {}
    with db._writing(f"import the roster {source}") as conn:
        trail, entered = [], []
        for where, entry in entries:
            row = conn.execute(select(t).where(t.c.badge == entry.badge)).one_or_none()
            if row is not None and row.merged_into is not None:
                raise StoreError(
                    f"{where}: badge {entry.badge} was merged into {row.merged_into}; list {row.merged_into} "
                    "instead (nothing was imported)"
                )
            wanted: dict[str, Any] = {"name": entry.name, "department": entry.department}
            for key in ("role", "plant", "hire_date"):
                value = getattr(entry, key)
                if value is not None:
                    wanted[key] = value
            if row is None:
                conn.execute(t.insert().values(badge=entry.badge, created_at=now, **wanted))
                changes = {key: [None, _jsonable(value)] for key, value in wanted.items()}
                outcome[entry.badge] = "new"
            else:
                changes = _changes(row, wanted)
                if not changes:
                    outcome[entry.badge] = "same"
                    continue
                conn.execute(t.update().where(t.c.badge == entry.badge).values(**wanted))
                outcome[entry.badge] = "changed"
            saved = conn.execute(select(t).where(t.c.badge == entry.badge)).one()
            entered.append(trainee_entry(keying, saved))
            detail = {"badge": entry.badge, "file": source, "new": row is None, "changes": changes}
            trail.append(audit.row(audit.TRAINEE_IMPORT, act=act, at=now, detail=detail))
        if entered:
            ledger.enter(conn, keying, entered)
        audit.write(conn, trail)
    return outcome


def edit_trainee(db: Access, badge: str, changes: Mapping[str, Any], *, act: audit.Act | None = None) -> Trainee:
    """Correct a trainee's name, department, role, plant or hire date (`changes`: field -> new value, None to
    clear role, plant or hire date), audited (trainee.edit: old -> new) and entered in the ledger."""
    t = schema.trainees
    allowed = ("name", "department", "role", "plant", "hire_date")
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValueError(f"cannot edit {', '.join(unknown)}")
    keying = db._hasher(f"edit trainee {badge}")
    act = db._act(act)
    now = access.utcnow()
    with db._writing(f"edit trainee {badge}") as conn:
        row = conn.execute(select(t).where(t.c.badge == badge)).one_or_none()
        if row is None:
            raise StoreError(f"{db._where}: no trainee with badge {badge}; check the badge")
        if row.merged_into is not None:
            raise StoreError(f"badge {badge} was merged into {row.merged_into}; edit {row.merged_into} instead")
        moved = _changes(row, changes)
        if moved:
            conn.execute(t.update().where(t.c.badge == badge).values(**{k: changes[k] for k in moved}))
            saved = conn.execute(select(t).where(t.c.badge == badge)).one()
            ledger.enter(conn, keying, [trainee_entry(keying, saved)])
            detail = {"badge": badge, "changes": moved}
            audit.write(conn, [audit.row(audit.TRAINEE_EDIT, act=act, at=now, detail=detail)])
        row = conn.execute(select(t).where(t.c.badge == badge)).one()
    return _trainee(row)


def merge_trainees(db: Access, old: str, new: str, *, act: audit.Act | None = None) -> int:
    """Merge the duplicate badge `old` into `new`: from now on `old`'s sessions are read as `new`'s (reports,
    certifications, compliance) and `old` signs in as `new`. Nothing of the history is rewritten: each session
    keeps the badge its hash chain was started with (chain.identity), so `trainer sessions verify` still holds;
    `old`'s row stays, marked merged_into = `new` (audited: trainee.merge; in the ledger). Badges merged into
    `old` before now point to `new` too. `old`'s PIN is forgotten. Returns how many sessions `old` had."""
    t, s = schema.trainees, schema.sessions
    if old == new:
        raise StoreError(f"cannot merge badge {old} into itself")
    keying = db._hasher(f"merge trainee {old} into {new}")
    act = db._act(act)
    now = access.utcnow()
    with db._writing(f"merge trainee {old} into {new}") as conn:
        rows = {r.badge: r for r in conn.execute(select(t).where(t.c.badge.in_([old, new])))}
        for badge in (old, new):
            if badge not in rows:
                raise StoreError(f"{db._where}: no trainee with badge {badge}; check the badge")
            if rows[badge].merged_into is not None:
                raise StoreError(f"badge {badge} was already merged into {rows[badge].merged_into}")
        moving = [old, *conn.execute(select(t.c.badge).where(t.c.merged_into == old).order_by(t.c.badge)).scalars()]
        conn.execute(t.update().where(t.c.badge.in_(moving)).values(merged_into=new))
        conn.execute(schema.trainee_pins.delete().where(schema.trainee_pins.c.badge.in_(moving)))
        entries = [
            trainee_entry(keying, row)
            for row in conn.execute(select(t).where(t.c.badge.in_(moving)).order_by(t.c.badge))
        ]
        ledger.enter(conn, keying, entries)
        count = conn.execute(select(func.count()).select_from(s).where(s.c.badge.in_(moving))).scalar_one()
        a, b = rows[old], rows[new]
        detail = {
            "badge": old,
            "into": new,
            "sessions": int(count),
            "also": moving[1:],
            "old": {"name": a.name, "department": a.department},
            "new": {"name": b.name, "department": b.department},
        }
        audit.write(conn, [audit.row(audit.TRAINEE_MERGE, act=act, at=now, detail=detail)])
    return int(count)


def trainee_entry(keying: chain.Keying, row: Row[Any]) -> ledger.LedgerEntry:
    """The ledger entry of a trainee's row as it now is (every field the ledger keeps, chain.trainee_facts)."""
    facts = chain.trainee_facts(
        row.badge,
        row.name,
        row.department,
        role=row.role,
        plant=row.plant,
        hire_date=None if row.hire_date is None else row.hire_date.isoformat(),
        merged_into=row.merged_into,
    )
    return ("trainee", row.badge, 0, chain.record_hash(keying, "trainee", facts), facts)


def _trainee(row: Row[Any]) -> Trainee:
    return Trainee(
        badge=row.badge,
        name=row.name,
        department=row.department,
        created_at=row.created_at,
        role=row.role,
        plant=row.plant,
        hire_date=row.hire_date,
        merged_into=row.merged_into,
    )


def _changes(row: Row[Any], wanted: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field -> [old, new] (as the audit trail's JSON holds them) of each field `wanted` changes in the trainee's `row`."""
    named = row._mapping
    return {key: [_jsonable(named[key]), _jsonable(value)] for key, value in wanted.items() if named[key] != value}


def _jsonable(value: Any) -> Any:
    """A field's value as the audit trail's JSON holds it (a date as YYYY-MM-DD)."""
    return value.isoformat() if isinstance(value, date) else value
