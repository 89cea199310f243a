"""Instructors' labels: the severity an instructor gives each detected mistake of a session (none, minor, serious,
critical), the training data of the scoring model (docs/scoring.md). Every change is in the audit trail, old -> new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from trainer.store import access, audit, schema
from trainer.store.access import Access
from trainer.store.errors import StoreError
from trainer.store.records import LabelRecord

GRADES = ("none", "minor", "serious", "critical")  # an instructor's severities (trainer.scoring.features.GRADES)


def set_labels(
    db: Access, session_id: str, labeller: str, severities: Mapping[str, str], *, act: audit.Act | None = None
) -> int:
    """Save one labeller's severities for mistakes of a session (mistake id -> none|minor|serious|critical), with
    one label.set row in the audit trail (old -> new severity of each mistake).

    A mistake this labeller had already labelled gets the new severity. Returns how many labels were written.
    """
    return import_labels(db, [(session_id, labeller, severities)], act=act, action=audit.LABEL_SET)


def import_labels(
    db: Access,
    labels: Sequence[tuple[str, str, Mapping[str, str]]],
    *,
    act: audit.Act | None = None,
    action: str = audit.LABEL_IMPORT,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """set_labels() for several (session, labeller, severities) in one transaction: all or nothing, one audit row
    per session (`action`, with `detail` added to each). Returns how many labels were written."""
    if not labels:
        return 0
    t = schema.labels
    act = db._act(act)
    wanted = [(sid, labeller.strip(), severities) for sid, labeller, severities in labels]
    if any(not labeller for _, labeller, _ in wanted):
        raise StoreError(f"{db._where}: a label needs the labeller's id")
    bad = sorted({v for _, _, severities in wanted for v in severities.values() if v not in GRADES})
    if bad:
        raise StoreError(f"{db._where}: severity {bad[0]!r} is not one of {', '.join(GRADES)}")
    now = access.utcnow()
    written = 0
    shown = wanted[0][0][:8] if len(wanted) == 1 else f"{len({sid for sid, _, _ in wanted})} sessions"
    with db._writing(f"save labels of {'session ' if len(wanted) == 1 else ''}{shown}") as conn:
        # session -> labeller -> mistake -> [old, new]
        changes: dict[str, dict[str, dict[str, list[str | None]]]] = {}
        for session_id, labeller, severities in wanted:
            row = db._find(conn, session_id)
            mine = changes.setdefault(row.id, {}).setdefault(labeller, {})
            for mistake_id, severity in severities.items():
                key = (t.c.session_id == row.id, t.c.mistake_id == mistake_id, t.c.labeller == labeller)
                old = conn.execute(select(t.c.severity).where(*key)).scalar_one_or_none()
                if old is None:
                    conn.execute(
                        t.insert().values(
                            session_id=row.id,
                            mistake_id=mistake_id,
                            labeller=labeller,
                            severity=severity,
                            labelled_at=now,
                        )
                    )
                else:
                    conn.execute(t.update().where(*key).values(severity=severity, labelled_at=now))
                mine[mistake_id] = [mine.get(mistake_id, [old])[0], severity]
                written += 1
        audit.write(
            conn,
            [
                audit.row(action, act=act, at=now, session_id=sid, detail={**(detail or {}), "labels": by})
                for sid, by in changes.items()
            ],
        )
    return written


def labels(db: Access, session_id: str | None = None) -> list[LabelRecord]:
    """Labels of one session (id or unique prefix) or of all sessions, by session, mistake and labeller."""
    t = schema.labels
    query = select(t.c.session_id, t.c.mistake_id, t.c.labeller, t.c.severity, t.c.labelled_at)
    query = query.order_by(t.c.session_id, t.c.mistake_id, t.c.labeller)
    with db._reading("read labels") as conn:
        if session_id is not None:
            query = query.where(t.c.session_id == db._find(conn, session_id).id)
        rows = conn.execute(query).all()
    return [LabelRecord(r.session_id, r.mistake_id, r.labeller, r.severity, r.labelled_at) for r in rows]
