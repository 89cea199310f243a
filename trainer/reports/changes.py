"""What instructors changed about attempts after the fact, from the audit trail: voids, relabels, rescoring with a
model other than the current one. Pure: session records and audit rows in; the course and trainee reports, and
`trainer sessions show`, print them, so a reader sees who changed an attempt and why."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trainer.store import audit
from trainer.store.records import SessionRecord

# The acts a report marks an attempt with (rescoring with the current model and repairs are routine: left out).
MARKED = (audit.SESSION_VOID, audit.LABEL_SET, audit.LABEL_IMPORT, audit.SCORE_MODEL)
WORDS = {
    audit.SESSION_VOID: "voided",
    audit.LABEL_SET: "relabelled",
    audit.LABEL_IMPORT: "relabelled (import)",
    audit.SCORE_MODEL: "rescored with another model",
    audit.SCORE_RESCORE: "rescored",
    audit.SCORE_REPAIR: "scored (was left without a score)",
    audit.DB_RESTORE: "database restored",
    audit.TRAINEE_IMPORT: "trainee imported from the roster",
    audit.TRAINEE_EDIT: "trainee corrected",
    audit.TRAINEE_MERGE: "badge merged",
    audit.REQUIREMENTS_LOAD: "requirements loaded",
}


@dataclass(frozen=True)
class Change:
    """One act on one attempt: which, what, by whom (OS user, host, terminal), when and why."""

    session_id: str
    badge: str
    course_id: str
    started_at: datetime
    action: str
    at: datetime
    who: str
    reason: str
    what: str  # the act in words, with what changed


def describe(action: str, detail: Mapping[str, Any]) -> str:
    """An audit row's act in words: "voided (was interrupted)", "relabelled m3 minor -> serious", ..."""
    words = WORDS.get(action, action)
    if action == audit.SESSION_VOID:
        status = detail.get("status") or ["?"]
        return f"{words} (was {status[0]}" + (f", by {detail['by']})" if detail.get("by") else ")")
    if action in (audit.LABEL_SET, audit.LABEL_IMPORT):
        parts = []
        for labeller, labels in sorted((detail.get("labels") or {}).items()):
            moves = ", ".join(f"{m} {old or 'unlabelled'} -> {new}" for m, (old, new) in sorted(labels.items()))
            parts.append(f"{labeller}: {moves}")
        where = f" from {detail['file']}" if detail.get("file") else ""
        return f"{words}{where}: " + "; ".join(parts)
    if action in (audit.SCORE_MODEL, audit.SCORE_RESCORE, audit.SCORE_REPAIR):
        if "sessions" in detail:  # one row for a whole transaction of a routine rescoring
            return f"{words} {detail['sessions']} session(s) with {detail.get('grader') or detail.get('scorer', '?')}"
        old, new = detail.get("score") or [None, None]
        was = "none" if old is None else f"{old:g}"
        model = f" {detail['model']}" if detail.get("model") else ""
        return f"{words}{model}: {was} -> {new:g} by {detail.get('scorer', '?')}" if new is not None else words
    if action in (audit.TRAINEE_IMPORT, audit.TRAINEE_EDIT):
        moves = ", ".join(
            f"{k} {_v(old)} -> {_v(new)}" for k, (old, new) in sorted((detail.get("changes") or {}).items())
        )
        what = "new trainee" if detail.get("new") else words
        where = f" from {detail['file']}" if detail.get("file") else ""
        return f"{what} {detail.get('badge', '?')}{where}: {moves}"
    if action == audit.TRAINEE_MERGE:
        also = f" (and {', '.join(detail['also'])}, merged into it before)" if detail.get("also") else ""
        return (
            f"badge {detail.get('badge', '?')}{also} merged into {detail.get('into', '?')}: "
            f"{detail.get('sessions', 0)} session(s) now count as theirs"
        )
    if action == audit.REQUIREMENTS_LOAD:
        parts = [f"{key} {', '.join(detail[key])}" for key in ("added", "removed", "changed") if detail.get(key)]
        where = f" from {detail['file']}" if detail.get("file") else ""
        return f"{words}{where}: {detail.get('count', '?')} in all" + (f"; {'; '.join(parts)}" if parts else "")
    via = f" via {detail['via']}" if detail.get("via") and detail.get("via") != "sign-in" else ""
    if action == audit.LOGIN_OK:
        return f"instructor signed in{via}"
    if action == audit.LOGIN_FAILED:
        return f"wrong instructor password{via} ({detail.get('failures', '?')} in a row)"
    if action == audit.LOGIN_REFUSED:
        left = -(-int(detail.get("wait_ms", 0)) // 1000)
        return f"instructor sign-in{via} refused unchecked: {left} s of the wait left"
    if action == audit.PASSWORD_SET:
        return "instructor password set" + (" (the first)" if detail.get("first") else " (the old one given)")
    if action == audit.PASSWORD_RESET:
        return "instructor password reset without the old one"
    if action == audit.SETTING_SET:
        return f"setting {detail.get('key')} changed from {detail.get('old') or 'unset'} to {detail.get('new')}"
    return words


def changes(records: Iterable[SessionRecord], trail: Sequence[audit.AuditRecord]) -> tuple[Change, ...]:
    """The marked acts on these sessions, oldest first."""
    by_id = {r.id: r for r in records}
    out = []
    for row in trail:
        record = by_id.get(row.session_id or "")
        if record is None or row.action not in MARKED:
            continue
        out.append(
            Change(
                record.id,
                record.badge,
                record.course_id,
                record.started_at,
                row.action,
                row.at,
                row.who,
                row.reason,
                describe(row.action, row.detail),
            )
        )
    return tuple(out)


def _v(value: Any) -> str:
    return "none" if value is None else str(value)
