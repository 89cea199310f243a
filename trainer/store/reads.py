"""Reading sessions and events: one session, listings, and the bulk reads reports, exports and rescoring make.

A session's status as handed out is decided here: in progress with an owner that stopped running is interrupted
(liveness.py). A badge merged into another (Store.merge_trainees) is read as that other badge in every listing.

Bulk reads name their columns in one select beside the code that unpacks them (RECORD_COLUMNS; each query's own
list) and unpack them by position, cheaper than by name over 100 000 rows. They go through conn.execute(): the
driver's bare tuples were measured no faster (docs/performance.md, "Raw driver paths"). Nothing here verifies the
record: see verify.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, func, null, select

from trainer.course.model import MistakeSeverity
from trainer.engine.events import Event, EventKind
from trainer.store import access, schema
from trainer.store.access import Access
from trainer.store.errors import StoreError
from trainer.store.liveness import Owner, owner_alive
from trainer.store.records import (
    AttemptFacts,
    ChainProblem,
    FinishedSession,
    MistakeMade,
    SessionRecord,
    SessionStatus,
    StoredEvent,
)

FINISHED = frozenset({SessionStatus.COMPLETED, SessionStatus.FAILED, SessionStatus.ABORTED})
SESSION_STATUS = {s.value: s for s in SessionStatus}
_SEVERITIES = {s.value: s for s in MistakeSeverity}

# What a SessionRecord is made of, in the order session_record() unpacks them. The heartbeat only decides whether a
# session in progress still runs: listings read it for those alone (one timestamp less to parse per finished session).
_RECORD_NAMES = (
    "id", "badge", "course_id", "course_version", "content_hash", "seed", "lang", "status", "outcome", "score",
    "passed", "started_at", "ended_at", "event_count", "owner_host", "owner_pid", "heartbeat_at", "void_reason", "mode",
)  # fmt: skip
RECORD_COLUMNS = tuple(
    case(
        (schema.sessions.c.status == SessionStatus.IN_PROGRESS.value, schema.sessions.c.heartbeat_at), else_=null()
    ).label("heartbeat_at")
    if name == "heartbeat_at"
    else schema.sessions.c[name]
    for name in _RECORD_NAMES
)


def session_record(row: Sequence[Any], now: datetime) -> SessionRecord:
    """A record from a row that starts with RECORD_COLUMNS."""
    (id_, badge, course_id, course_version, content_hash, seed, lang, status_text, outcome, score, passed, started_at,
     ended_at, event_count, owner_host, owner_pid, heartbeat_at, void_reason, mode) = row[: len(_RECORD_NAMES)]  # fmt: skip
    status = SESSION_STATUS[status_text]
    if status is SessionStatus.IN_PROGRESS and not owner_alive(Owner(owner_host, owner_pid), heartbeat_at, now):
        status = SessionStatus.INTERRUPTED
    return SessionRecord(
        id_, badge, course_id, course_version, content_hash, seed, lang, status, started_at, ended_at, outcome, score,
        passed, event_count, void_reason, mode,
    )  # fmt: skip


def record_of(row: Row[Any], now: datetime) -> SessionRecord:
    """session_record() of a whole sessions row (`select(schema.sessions)`), its columns taken by name."""
    named = row._mapping
    return session_record([named[name] for name in _RECORD_NAMES], now)


def as_merged(records: list[SessionRecord], aliases: Mapping[str, str]) -> list[SessionRecord]:
    """Records whose badge was merged into another (Store.merge_trainees) with that other badge: one person, one
    history, in every report. The stored row keeps the badge its chain binds; `trainer sessions verify` reads that."""
    if not aliases:
        return records
    return [replace(r, badge=aliases[r.badge]) if r.badge in aliases else r for r in records]


# --- sessions ---------------------------------------------------------------------------------------------------------


def session(db: Access, session_id_or_prefix: str) -> SessionRecord:
    """One session by id or by a unique prefix of it (as the CLI shows 8 characters)."""
    with db._reading(f"read session {session_id_or_prefix}") as conn:
        row = db._find(conn, session_id_or_prefix)
        aliases = db._aliases(conn)
    return as_merged([record_of(row, access.utcnow())], aliases)[0]


def sessions(
    db: Access,
    badge: str | None = None,
    course_id: str | None = None,
    since: datetime | None = None,
    status: SessionStatus | None = None,
    *,
    newest_first: bool = True,
) -> list[SessionRecord]:
    """Sessions matching every filter given, newest first. `since` is timezone-aware and compared with started_at.

    `newest_first=False` leaves them in no particular order, for callers that sort them their own way: the database's
    sort of a large listing costs about as much as reading it.
    """
    s = schema.sessions
    query = select(*RECORD_COLUMNS)
    if newest_first:
        query = query.order_by(s.c.started_at.desc(), s.c.id)
    if course_id is not None:
        query = query.where(s.c.course_id == course_id)
    if since is not None:
        if since.tzinfo is None:
            raise ValueError("sessions(since=...) needs a timezone-aware datetime")
        query = query.where(s.c.started_at >= since)
    if status is not None:
        # interrupted is in_progress with a dead owner: select in_progress, then tell them apart below
        stored = SessionStatus.IN_PROGRESS if status is SessionStatus.INTERRUPTED else status
        query = query.where(s.c.status == stored.value)
    with db._reading("list sessions") as conn:
        aliases = db._aliases(conn)
        if badge is not None:  # with the sessions of the badges merged into it
            query = query.where(s.c.badge.in_([badge, *(old for old, new in aliases.items() if new == badge)]))
        rows = conn.execute(query).all()
    now = access.utcnow()
    records = as_merged([session_record(row, now) for row in rows], aliases)
    return records if status is None else [r for r in records if r.status is status]


def finished_sessions(db: Access, since: datetime | None = None, *, newest_first: bool = True) -> list[FinishedSession]:
    """The completed, failed and aborted sessions (started since `since`, timezone-aware), newest first as sessions()
    lists them, with only what rescoring needs (much less than sessions() reads). `newest_first=False` leaves them in
    no particular order (rescoring them all needs none, and the sort is not free)."""
    s = schema.sessions
    query = select(s.c.id, s.c.course_id, s.c.course_version, s.c.content_hash, s.c.status, s.c.score, s.c.passed)
    query = query.where(s.c.status.in_(sorted(status.value for status in FINISHED)))
    if newest_first:
        query = query.order_by(s.c.started_at.desc(), s.c.id)
    if since is not None:
        if since.tzinfo is None:
            raise ValueError("finished_sessions(since=...) needs a timezone-aware datetime")
        query = query.where(s.c.started_at >= since)
    with db._reading("list the finished sessions") as conn:
        rows = conn.execute(query).all()
    return [
        FinishedSession(sid, course_id, version, content_hash, SESSION_STATUS[status], score, passed)
        for sid, course_id, version, content_hash, status, score, passed in rows
    ]


def sessions_with_facts(
    db: Access, course_id: str | None = None, *, since: datetime | None = None, before: datetime | None = None
) -> list[tuple[SessionRecord, AttemptFacts | None]]:
    """Every session (of one course, if given), in no particular order, each with what a score sheet needs of it
    if it is finished and started within [since, before) (both aware, both optional): its last event's time and
    the mistakes its latest scoring kept, read without its events. Other sessions get None. All at once: for sheets
    of any size, stream_sessions_with_facts() reads the same a few thousand rows at a time."""
    return list(_with_facts(db, course_id, since=since, before=before, facts=True, ordered=False, batch=None))


_BATCH = 2000  # rows fetched at a time by the streaming reader


def stream_sessions_with_facts(
    db: Access,
    course_id: str | None = None,
    *,
    since: datetime | None = None,
    before: datetime | None = None,
    facts: bool = True,
) -> Iterator[tuple[SessionRecord, AttemptFacts | None]]:
    """As sessions_with_facts(), oldest first (started_at, then id), fetched a few thousand rows at a time in one read
    transaction (one consistent snapshot): what the HR workbooks read, in the order their Attempts sheet lists them,
    with memory flat in the number of sessions. `facts=False`: the records alone (every facts None), no joins."""
    return _with_facts(db, course_id, since=since, before=before, facts=facts, ordered=True, batch=_BATCH)


def count_finished(
    db: Access, course_id: str | None = None, *, since: datetime | None = None, before: datetime | None = None
) -> int:
    """How many finished sessions (of one course) started within [since, before): the total a progress bar shows."""
    s = schema.sessions
    query = select(func.count()).select_from(s).where(_finished_within(since, before))
    if course_id is not None:
        query = query.where(s.c.course_id == course_id)
    with db._reading("count the sessions") as conn:
        return int(conn.execute(query).scalar_one())


def _finished_within(since: datetime | None, before: datetime | None) -> ColumnElement[bool]:
    s = schema.sessions
    conditions: list[ColumnElement[bool]] = [s.c.status.in_([status.value for status in FINISHED])]
    if since is not None:
        conditions.append(s.c.started_at >= since)
    if before is not None:
        conditions.append(s.c.started_at < before)
    return and_(*conditions)


def _with_facts(
    db: Access,
    course_id: str | None,
    *,
    since: datetime | None,
    before: datetime | None,
    facts: bool,
    ordered: bool,
    batch: int | None,
) -> Iterator[tuple[SessionRecord, AttemptFacts | None]]:
    """One query: the last event is found by the session's event_count (seq counts from 1), the latest scoring by
    scored_at then id (as scores() orders them), each by an index lookup, and only for the sessions that need them."""
    s, e, h = schema.sessions, schema.events, schema.scores
    wanted = _finished_within(since, before)
    if facts:
        query = (
            select(*RECORD_COLUMNS, wanted.label("wanted"), e.c.t_ms, h.c.details, h.c.scorer)
            .outerjoin(e, (e.c.session_id == s.c.id) & (e.c.seq == s.c.event_count) & wanted)
            .outerjoin(h, (h.c.id == latest_scoring(s.c.id)) & wanted)
        )
    else:
        query = select(*RECORD_COLUMNS)
    if course_id is not None:
        query = query.where(s.c.course_id == course_id)
    if ordered:
        query = query.order_by(s.c.started_at, s.c.id)
    known: dict[str, tuple[MistakeMade, ...]] = {}  # sessions that made the same mistakes share a text
    with db._reading("read the sessions and their scores") as conn:
        aliases = db._aliases(conn)
        now = access.utcnow()
        if batch is None:
            parts: Iterator[Sequence[Any]] = iter([conn.execute(query).all()])
        else:
            parts = conn.execution_options(stream_results=True, max_row_buffer=batch).execute(query).partitions(batch)
        for rows in parts:
            for row in rows:
                record = session_record(row, now)
                if aliases and record.badge in aliases:
                    record = replace(record, badge=aliases[record.badge])
                if not facts or not row[len(RECORD_COLUMNS)]:
                    yield record, None
                    continue
                t_ms, details, scorer = row[len(RECORD_COLUMNS) + 1 :]
                yield record, AttemptFacts(record.id, t_ms, _mistakes_of(db, record, details, known), scorer)


def _mistakes_of(
    db: Access, record: SessionRecord, details: str | None, known: dict[str, tuple[MistakeMade, ...]]
) -> tuple[MistakeMade, ...] | None:
    """The mistakes a stored scoring kept, at their graded severity (rows graded "none" are not mistakes); None: never
    scored."""
    if details is None:
        return None
    found = known.get(details)
    if found is not None:
        return found
    try:
        found = tuple(_made(d) for d in json.loads(details) if d["severity"] != "none")
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"{db._where}: session {record.id[:8]} has an unreadable score ({exc}); rescore it with `trainer score`"
        ) from exc
    if len(known) > 10_000:  # a few texts repeat on most sessions; a sheet of unique ones must not grow without end
        known.clear()
    known[details] = found
    return found


def latest_scoring(session_id: Any) -> Any:
    """The id of the latest scoring (scored_at, then id: as scores() orders them) of the session `session_id` (a
    column of the outer query), as a scalar subquery: the scoring every report reads a session's mistakes from."""
    latest = schema.scores.alias("latest")
    return (
        select(latest.c.id)
        .where(latest.c.session_id == session_id)
        .order_by(latest.c.scored_at.desc(), latest.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _made(deduction: Mapping[str, Any]) -> MistakeMade:
    """A mistake of a stored scoring's details (see trainer.scoring.grade.details) at its graded severity: the one
    judgement every sheet counts by (rows graded "none", cleared or folded under a root, are not mistakes; the caller
    leaves them out)."""
    return MistakeMade(str(deduction["code"]), _SEVERITIES[deduction["severity"]], str(deduction["mistake"]))


# --- events -----------------------------------------------------------------------------------------------------------

# An event as event_rows_of() reads it, without building an Event: (seq, t_ms, kind, state, action, data).
EventTuple = tuple[int, int, EventKind, str, str | None, Mapping[str, Any]]
# Event data texts read so far, parsed (read-only: events share them). Most events repeat a few texts: rescoring reads
# them once per process instead of once per batch.
_PARSED_DATA: dict[str, Mapping[str, Any]] = {}


def events(db: Access, session_id: str) -> list[StoredEvent]:
    """A session's stored events in seq order (not verified: see verify())."""
    with db._reading(f"read the events of session {session_id[:8]}") as conn:
        if conn.execute(select(schema.sessions.c.id).where(schema.sessions.c.id == session_id)).first() is None:
            raise StoreError(f"{db._where}: no session {session_id}; check the session id")
        rows = conn.execute(events_query(session_id)).all()
    try:
        return [stored_event(row) for row in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"{db._where}: session {session_id[:8]} has an unreadable event ({exc}); run `trainer sessions verify`"
        ) from exc


def events_of(db: Access, session_ids: Sequence[str], *, chunk: int = 1000) -> Iterator[tuple[str, list[Event]]]:
    """The events of many sessions, for reports and exports: (session id, its events in seq order) for each id, in
    the order given; a session without events (or unknown) gets an empty list.

    One query per `chunk` sessions instead of one per session, and only what the engine's Event holds (no hashes).
    Not verified: see verify().
    """
    for sid, rows in event_rows_of(db, session_ids, chunk=chunk):
        yield sid, [Event(*row) for row in rows]


def event_rows_of(
    db: Access, session_ids: Sequence[str], *, chunk: int = 1000
) -> Iterator[tuple[str, list[EventTuple]]]:
    """events_of() with each event as a plain tuple (seq, t_ms, kind, state, action, data) in Event's field order:
    for bulk readers (`trainer score --all` reads millions of events; trainer.scoring.detect.detect_rows takes these).

    Events with the same data share one read-only mapping. Not verified: see verify().
    """
    e = schema.events
    ids = list(dict.fromkeys(session_ids))
    query = select(e.c.session_id, e.c.seq, e.c.t_ms, e.c.kind, e.c.state, e.c.action, e.c.data)
    kinds = {k.value: k for k in EventKind}
    parsed = _PARSED_DATA
    for first in range(0, len(ids), chunk):
        part = ids[first : first + chunk]
        with db._reading(f"read the events of {len(part)} session(s)") as conn:
            rows = conn.execute(query.where(e.c.session_id.in_(part)).order_by(e.c.session_id, e.c.seq)).all()
        if len(parsed) > 100_000:
            parsed.clear()
        grouped: dict[str, list[EventTuple]] = {sid: [] for sid in part}
        sid, seq = "", 0
        try:
            for sid, seq, t_ms, kind, state, action, data in rows:
                mapping = parsed.get(data)
                if mapping is None:
                    mapping = parsed[data] = MappingProxyType(json.loads(data))
                grouped[sid].append((seq, t_ms, kinds[kind], state, action, mapping))
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"{db._where}: session {sid[:8]} has an unreadable event {seq} ({exc}); run `trainer sessions verify`"
            ) from exc
        yield from grouped.items()


def events_query(session_id: str) -> Any:
    e = schema.events
    return select(e).where(e.c.session_id == session_id).order_by(e.c.seq)


def stored_event(row: Row[Any]) -> StoredEvent:
    """Raises ValueError (bad kind, bad JSON) or TypeError for a damaged row."""
    data = json.loads(row.data)
    if not isinstance(data, dict):
        raise ValueError(f"event {row.seq}: data is not a JSON object")
    event = Event(
        seq=row.seq,
        t_ms=row.t_ms,
        kind=EventKind(row.kind),
        state=row.state,
        action=row.action,
        data=MappingProxyType(data),
    )
    return StoredEvent(session_id=row.session_id, event=event, utc=row.utc, prev_hash=row.prev_hash, hash=row.hash)


def read_events(rows: Sequence[Row[Any]]) -> tuple[list[StoredEvent], ChainProblem | None]:
    """The stored events of a session's rows, up to the first unreadable one (which cannot be hashed), and the problem
    that one is (evidence.check_session reports the chain up to it first: an earlier problem wins)."""
    stored: list[StoredEvent] = []
    for row in rows:
        try:
            stored.append(stored_event(row))
        except (ValueError, KeyError, TypeError) as exc:
            return stored, ChainProblem(
                session_id=row.session_id, seq=row.seq, reason=f"event {row.seq} is unreadable: {exc}"
            )
    return stored, None
