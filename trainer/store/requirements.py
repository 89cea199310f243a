"""Requirements: which courses a department and/or role must hold, and the days a newcomer has for the first pass
(HR's file, docs/hr.md). The file is the whole truth: loading it replaces them all, audited and entered in the
ledger whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from trainer.store import access, audit, chain, ledger, schema
from trainer.store.access import Access
from trainer.store.records import Requirement


def set_requirements(
    db: Access, wanted: Sequence[Requirement], *, today: date, act: audit.Act | None = None, source: str = ""
) -> dict[str, list[str]]:
    """Replace the requirements with `wanted` (HR's file is the whole truth) in one transaction, audited
    (requirements.load: what was added, removed, changed) and entered in the ledger whole. A requirement loaded
    before keeps its `since`; a new one starts `today`. Returns {"added": [...], "removed": [...], "changed": [...]}."""
    r = schema.requirements
    keying = db._hasher("load the requirements")
    act = db._act(act)
    now = access.utcnow()
    with db._writing("load the requirements") as conn:
        before = {(x.department, x.role, x.course_id): x for x in conn.execute(select(r))}
        rows = []
        for req in wanted:
            was = before.get(req.key)
            since = was.since if was is not None else today
            rows.append({**_requirement_row(req), "since": since})
        keys = {req.key for req in wanted}
        moved = {
            "added": sorted(_said(k) for k in keys - set(before)),
            "removed": sorted(_said(k) for k in set(before) - keys),
            "changed": sorted(
                f"{_said(req.key)}: {before[req.key].first_days} -> {req.first_days} days"
                for req in wanted
                if req.key in before and before[req.key].first_days != req.first_days
            ),
        }
        conn.execute(r.delete())
        if rows:
            conn.execute(r.insert(), rows)
        facts = chain.requirements_facts(rows)
        digest = chain.record_hash(keying, "requirements", facts)
        ledger.enter(conn, keying, [("requirements", "requirements", 0, digest, facts)])
        detail = {"file": source, "count": len(rows), **moved}
        audit.write(conn, [audit.row(audit.REQUIREMENTS_LOAD, act=act, at=now, detail=detail)])
    return moved


def requirements(db: Access) -> list[Requirement]:
    """The requirements as last loaded, by course, department and role."""
    r = schema.requirements
    query = select(r.c.department, r.c.role, r.c.course_id, r.c.first_days, r.c.since)
    with db._reading("read the requirements") as conn:
        rows = conn.execute(query.order_by(r.c.course_id, r.c.department, r.c.role)).all()
    return [Requirement(x.department, x.role, x.course_id, x.first_days, x.since) for x in rows]


def _requirement_row(req: Requirement) -> dict[str, Any]:
    return {"department": req.department, "role": req.role, "course_id": req.course_id, "first_days": req.first_days}


def _said(key: tuple[str, str, str]) -> str:
    """A requirement's key in words, for the audit trail: "course for department / role"."""
    department, role, course_id = key
    who = " / ".join(x for x in (department, role) if x) or "everyone"
    return f"{course_id} for {who}"
