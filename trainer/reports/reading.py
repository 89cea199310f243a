"""Sessions read as a stream, oldest first, for sheets of any size: memory flat in the number of sessions.

Store.sessions() and Store.sessions_with_facts() return lists: 100 000 sessions are 100 000 records held at once. The
HR workbooks need each session once, in the order the Attempts sheet lists them, so they read them here instead: one
query in one read transaction (one consistent snapshot, as the list readers have), fetched a few thousand rows at a
time. What each row becomes is what the store's list readers make of it (records.SessionRecord, AttemptFacts), from
the public schema; merged badges count as the badge they were merged into, as everywhere.

This reaches into the store for its read transaction (Store._reading): the store has no streaming reader of its own
yet. When the store is split by concern, this query belongs with its bulk reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, null, select

from trainer.course.model import MistakeSeverity
from trainer.store import schema
from trainer.store.errors import StoreError
from trainer.store.liveness import Owner, owner_alive
from trainer.store.records import AttemptFacts, MistakeMade, SessionRecord, SessionStatus
from trainer.store.store import Store

FINISHED = (SessionStatus.COMPLETED, SessionStatus.FAILED, SessionStatus.ABORTED)
_STATUS = {s.value: s for s in SessionStatus}
_SEVERITY = {s.value: s for s in MistakeSeverity}
_BATCH = 2000  # rows fetched at a time


def aliases(store: Store) -> dict[str, str]:
    """Merged badge -> the badge it now counts as (followed to the end: merges never form a cycle)."""
    direct = {t.badge: t.merged_into for t in store.trainees(merged=True) if t.merged_into}
    resolved = {}
    for badge, target in direct.items():
        seen = {badge}
        while target in direct and target not in seen:
            seen.add(target)
            target = direct[target]
        resolved[badge] = target
    return resolved


def sessions_with_facts(
    store: Store,
    course_id: str | None = None,
    *,
    since: datetime | None = None,
    before: datetime | None = None,
    facts: bool = True,
) -> Iterator[tuple[SessionRecord, AttemptFacts | None]]:
    """Every session (of one course, if given), oldest first (started_at, then id), each with what a score sheet needs of
    it if it is finished and started within [since, before): its last event's time and the mistakes its latest scoring
    kept (as Store.sessions_with_facts). Other sessions, and every session with `facts=False`, get None."""
    s, e, h = schema.sessions, schema.events, schema.scores
    statuses = [status.value for status in FINISHED]
    wanted = s.c.status.in_(statuses)
    if since is not None:
        wanted = wanted & (s.c.started_at >= since)
    if before is not None:
        wanted = wanted & (s.c.started_at < before)
    columns = [
        s.c.id, s.c.badge, s.c.course_id, s.c.course_version, s.c.content_hash, s.c.seed, s.c.lang, s.c.status,
        s.c.started_at, s.c.ended_at, s.c.outcome, s.c.score, s.c.passed, s.c.event_count, s.c.void_reason, s.c.mode,
        s.c.owner_host, s.c.owner_pid,
        # read only where it is used (is a session in progress still alive?): one timestamp less to convert a row
        case((s.c.status == SessionStatus.IN_PROGRESS.value, s.c.heartbeat_at), else_=null()).label("heartbeat_at"),
    ]  # fmt: skip
    if facts:
        latest = h.alias("latest")
        last_scoring = (
            select(latest.c.id)
            .where(latest.c.session_id == s.c.id)
            .order_by(latest.c.scored_at.desc(), latest.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(*columns, wanted.label("wanted"), e.c.t_ms, h.c.details, h.c.scorer)
            .outerjoin(e, (e.c.session_id == s.c.id) & (e.c.seq == s.c.event_count) & wanted)
            .outerjoin(h, (h.c.id == last_scoring) & wanted)
        )
    else:
        query = select(*columns)
    if course_id is not None:
        query = query.where(s.c.course_id == course_id)
    query = query.order_by(s.c.started_at, s.c.id)
    merged = aliases(store)
    now = datetime.now(UTC)
    known: dict[str, tuple[MistakeMade, ...]] = {}  # sessions that made the same mistakes share one tuple
    with store._reading("read the sessions and their scores") as conn:
        result = conn.execution_options(stream_results=True, max_row_buffer=_BATCH).execute(query)
        for rows in result.partitions(_BATCH):
            for row in rows:
                record = _record(row, now, merged)
                if not facts or not row[19]:
                    yield record, None
                    continue
                try:
                    mistakes = _mistakes(row[21], known)
                except (ValueError, KeyError, TypeError) as exc:
                    raise StoreError(
                        f"{store.describe()}: session {record.id[:8]} has an unreadable score ({exc}); "
                        "rescore it with `trainer score`"
                    ) from exc
                yield record, AttemptFacts(record.id, row[20], mistakes, row[22])


def _record(row: Any, now: datetime, merged: Mapping[str, str]) -> SessionRecord:
    (id_, badge, course_id, version, content_hash, seed, lang, status_text, started_at, ended_at, outcome, score,
     passed, event_count, void_reason, mode, owner_host, owner_pid, heartbeat_at) = row[:19]  # fmt: skip
    status = _STATUS[status_text]
    if status is SessionStatus.IN_PROGRESS and not owner_alive(Owner(owner_host, owner_pid), heartbeat_at, now):
        status = SessionStatus.INTERRUPTED
    return SessionRecord(
        id_, merged.get(badge, badge), course_id, version, content_hash, seed, lang, status, started_at, ended_at,
        outcome, score, None if passed is None else bool(passed), event_count, void_reason, mode,
    )  # fmt: skip


def _mistakes(details: str | None, known: dict[str, tuple[MistakeMade, ...]]) -> tuple[MistakeMade, ...] | None:
    """The mistakes a stored scoring kept, at their graded severity (rows graded "none" are not mistakes); None: never
    scored."""
    if details is None:
        return None
    found = known.get(details)
    if found is not None:
        return found
    found = tuple(
        MistakeMade(str(d["code"]), _SEVERITY[d["severity"]], str(d["mistake"]))
        for d in json.loads(details)
        if d["severity"] != "none"
    )
    if len(known) > 10_000:  # a few texts repeat on most sessions; a sheet of unique ones must not grow without end
        known.clear()
    known[details] = found
    return found


def count_attempts(
    store: Store, course_id: str | None = None, *, since: datetime | None = None, before: datetime | None = None
) -> int:
    """How many finished sessions (of one course) started within [since, before): the total a progress bar shows."""
    s = schema.sessions
    query = select(func.count()).select_from(s).where(s.c.status.in_([status.value for status in FINISHED]))
    if since is not None:
        query = query.where(s.c.started_at >= since)
    if before is not None:
        query = query.where(s.c.started_at < before)
    if course_id is not None:
        query = query.where(s.c.course_id == course_id)
    with store._reading("count the sessions") as conn:
        return int(conn.execute(query).scalar_one())
