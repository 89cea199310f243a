"""Scores: every scoring of a session (at its end, or a later rescoring), chained after the session's head, the last one
the session's current score; and the features a scoring was computed from, kept so that a rescoring with another model
need not read the events again (Store.stored_features).

A scoring comes in as a mapping (trainer.scoring.grade.score_row makes it; the scoring package does not import the
store) and is checked into a ScoringRow here; from then on the store passes typed rows. Thousands of scorings are
written with the driver's executemany (driver.py): a rescoring writes them all in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import Connection, bindparam, select

from trainer.engine.events import canonical_json
from trainer.store import access, audit, chain, driver, ledger, schema
from trainer.store.access import Access
from trainer.store.errors import StoreError
from trainer.store.reads import FINISHED, SESSION_STATUS, latest_scoring
from trainer.store.records import FinishedSession, ScoreRecord, StoredFeatures


class ScoringRow(TypedDict):
    """A scores row before it is chained (schema.scores without id, prev_hash, hash)."""

    session_id: str
    scored_at: datetime
    scorer: str
    score: float
    passed: bool
    reason: str
    review: bool
    details: str  # canonical JSON list of the deductions


class ChainedScoring(ScoringRow):
    """A scores row with its place in the session's chain, ready to insert."""

    prev_hash: str
    hash: str


class FeaturesRow(TypedDict):
    """A features row (schema.features): what a scoring was computed from, hashed after the session's events' head."""

    session_id: str
    feature_set: str
    content_hash: str
    mistakes: str
    hash: str


def scoring_row(x: Mapping[str, Any], now: datetime) -> ScoringRow:
    """A scores row from a scoring as add_scores() takes it (session_id, scorer, score, passed, reason, review, details:
    a JSON-able list or its canonical JSON text)."""
    details = x.get("details") or []
    return ScoringRow(
        session_id=str(x["session_id"]),
        scored_at=now,
        scorer=str(x["scorer"])[:64],
        score=float(x["score"]),
        passed=bool(x["passed"]),
        reason=str(x["reason"]),
        review=bool(x["review"]),
        details=details if isinstance(details, str) else canonical_json(details),
    )


def linked(keying: chain.Keying, prev_hash: str, scoring: ScoringRow) -> ChainedScoring:
    """A scores row with its place in the session's chain: after `prev_hash`."""
    return ChainedScoring(**scoring, prev_hash=prev_hash, hash=chain.scoring_hash(keying, prev_hash, scoring))


def features_row(keying: chain.Keying, head_hash: str, session_id: str, given: Mapping[str, Any]) -> FeaturesRow:
    """A features row from a scoring's "features", hashed after the session's events' head."""
    row = {
        "session_id": session_id,
        "feature_set": str(given["feature_set"]),
        "content_hash": str(given["content_hash"]),
        "mistakes": str(given["mistakes"]),
    }
    return FeaturesRow(
        session_id=row["session_id"],
        feature_set=row["feature_set"],
        content_hash=row["content_hash"],
        mistakes=row["mistakes"],
        hash=chain.features_hash(keying, head_hash, row),
    )


def add_scores(
    db: Access,
    scores: Sequence[Mapping[str, Any]],
    *,
    act: audit.Act | None = None,
    action: str = audit.SCORE_RESCORE,
    detail: Mapping[str, Any] | None = None,
    per_session: bool = True,
) -> None:
    """Record scorings of sessions in one transaction, each becoming its session's current score.

    Each mapping holds session_id, scorer, score, passed, reason, review and details (a JSON-able list, or its
    canonical JSON text). Earlier scorings stay in the history (scores()). All or nothing: an unknown session id
    stores none of them. Two statements for the lot (executemany), however many there are.

    A mapping may also hold "features": {"feature_set", "content_hash", "mistakes"} (the features the scoring was
    computed from, see stored_features()): they replace the session's stored features, in the same transaction.

    With `act` (a rescoring someone asked for), each scoring also gets an audit row (`action`; its detail: the
    scorer, old -> new score and verdict, and `detail`) in the same transaction; with per_session=False the
    transaction gets one row instead, that counts the sessions (a routine rescoring of thousands with the current
    model: each session's scores history already shows it).
    """
    if not scores:
        return
    s, h = schema.sessions, schema.scores
    keying = db._hasher(f"save {len(scores)} score(s)")
    now = access.utcnow()
    rows = [scoring_row(x, now) for x in scores]
    # In session id order (stable: of two scorings of one session, the one given last stays the current score): each
    # statement then walks the indexes on session ids in order, quicker than in the order given.
    rows.sort(key=lambda r: r["session_id"])
    update = (
        s.update()
        .where(s.c.id == bindparam("b_id"))
        .values(score=bindparam("b_score"), passed=bindparam("b_passed"), score_hash=bindparam("b_hash"))
    )
    heads_of = select(s.c.id, s.c.event_count, s.c.head_hash, s.c.score_hash).with_for_update()
    trail = db._act(act) if act is not None else None
    with db._writing(f"save {len(rows)} score(s)") as conn:
        each = trail is not None and per_session
        old = _current_scores(conn, [r["session_id"] for r in rows]) if each else {}  # before they are replaced
        # Each scoring is chained after its session's head (its last scoring, else its last event), read locked.
        ids = list(dict.fromkeys(r["session_id"] for r in rows))
        heads: dict[str, tuple[int, str]] = {}
        event_heads: dict[str, str] = {}
        for first in range(0, len(ids), 900):
            part = heads_of.where(s.c.id.in_(ids[first : first + 900]))
            for sid, count, head, score_head in conn.execute(part):
                heads[sid] = (count, score_head or head)
                event_heads[sid] = head
        unknown = next((i for i in ids if i not in heads), None)
        if unknown is not None:
            raise StoreError(f"{db._where}: no session {unknown}; check the session id")
        chained: list[ChainedScoring] = []
        entries: list[ledger.LedgerEntry] = []
        for row in rows:
            sid = row["session_id"]
            count, prev = heads[sid]
            made = linked(keying, prev, row)
            heads[sid] = (count, made["hash"])
            chained.append(made)
            entries.append(("head", sid, count, made["hash"], None))
        last = {row["session_id"]: row for row in chained}  # each session's row takes its last scoring
        driver.executemany(
            conn,
            update,
            [
                {"b_id": sid, "b_score": r["score"], "b_passed": r["passed"], "b_hash": r["hash"]}
                for sid, r in last.items()
            ],
        )
        driver.executemany(conn, h.insert(), chained)
        features = {x["session_id"]: x["features"] for x in scores if x.get("features") is not None}
        if features:
            f = schema.features
            replaced = list(features)
            for first in range(0, len(replaced), 900):
                conn.execute(f.delete().where(f.c.session_id.in_(replaced[first : first + 900])))
            driver.executemany(
                conn,
                f.insert(),
                [features_row(keying, event_heads[sid], sid, given) for sid, given in features.items()],
            )
        ledger.enter(conn, keying, entries)
        if trail is None:
            return
        if each:
            audit_rows = [scoring_audit(r, old, action, trail, now, detail) for r in rows]
            driver.executemany(conn, schema.audit.insert(), audit_rows)
        else:
            count = {**(detail or {}), "sessions": len(rows), "scorer": rows[0]["scorer"]}
            audit.write(conn, [audit.row(action, act=trail, at=now, detail=count)])


def add_missing_scores(
    db: Access,
    scores: Sequence[Mapping[str, Any]],
    *,
    act: audit.Act | None = None,
    detail: Mapping[str, Any] | None = None,
) -> list[str]:
    """add_scores() for finished sessions that still have no score when the transaction runs; the ids scored.

    For repairs (unscored_sessions()): a session another process scored meanwhile keeps that score, and no second
    scoring is added to its history. Each scoring gets a score.repair row in the audit trail (same transaction).
    """
    if not scores:
        return []
    s, h = schema.sessions, schema.scores
    keying = db._hasher(f"save {len(scores)} missing score(s)")
    now = access.utcnow()
    finished = sorted(status.value for status in FINISHED)
    rows = [scoring_row(x, now) for x in scores]
    done: list[str] = []
    entries: list[ledger.LedgerEntry] = []
    with db._writing(f"save {len(scores)} missing score(s)") as conn:
        for row in rows:
            sid = row["session_id"]
            head = conn.execute(
                select(s.c.event_count, s.c.head_hash, s.c.score_hash)
                .where(s.c.id == sid, s.c.score.is_(None), s.c.status.in_(finished))
                .with_for_update()
            ).first()
            if head is None:
                continue
            made = linked(keying, head.score_hash or head.head_hash, row)
            conn.execute(
                s.update()
                .where(s.c.id == sid)
                .values(score=row["score"], passed=row["passed"], score_hash=made["hash"])
            )
            conn.execute(h.insert(), made)
            entries.append(("head", sid, head.event_count, made["hash"], None))
            done.append(sid)
        if entries:
            ledger.enter(conn, keying, entries)
        trail = db._act(act)
        scored = set(done)
        audit.write(
            conn,
            [scoring_audit(r, {}, audit.SCORE_REPAIR, trail, now, detail) for r in rows if r["session_id"] in scored],
        )
    return done


def unscored_sessions(db: Access) -> list[FinishedSession]:
    """The finished (completed, failed, aborted) sessions that have no score, oldest first.

    Since schema version 3 a session finishes with its score in one transaction (append); these are left by an older
    Trainer killed between the two, or by a scoring that failed. Every command looks for them when it opens the
    store, so the query reads only the partial index of unscored sessions (schema.UNSCORED_INDEX): no table scan.
    """
    s = schema.sessions
    query = (
        select(s.c.id, s.c.course_id, s.c.course_version, s.c.content_hash, s.c.status)
        .where(s.c.score.is_(None), s.c.status.in_(sorted(status.value for status in FINISHED)))
        .order_by(s.c.started_at, s.c.id)
    )
    with db._reading("look for finished sessions without a score") as conn:
        rows = conn.execute(query).all()
    return [
        FinishedSession(r.id, r.course_id, r.course_version, r.content_hash, SESSION_STATUS[r.status], None, None)
        for r in rows
    ]


def scores(db: Access, session_id: str) -> list[ScoreRecord]:
    """Every scoring of a session (id or unique prefix), oldest first; the last one is the current score."""
    h = schema.scores
    columns = (h.c.id, h.c.session_id, h.c.scored_at, h.c.scorer, h.c.score, h.c.passed, h.c.reason, h.c.review)
    with db._reading(f"read the scores of session {session_id}") as conn:
        sid = db._find(conn, session_id).id
        query = select(*columns, h.c.details).where(h.c.session_id == sid).order_by(h.c.scored_at, h.c.id)
        rows = conn.execute(query).all()
    return [
        ScoreRecord(r.id, r.session_id, r.scored_at, r.scorer, r.score, r.passed, r.reason, r.review, r.details)
        for r in rows
    ]


def graded_lists(db: Access, session_ids: Sequence[str], *, chunk: int = 900) -> dict[str, str]:
    """The graded list of mistakes (the `details` JSON text of the latest scoring) of each session that was scored,
    by session id: what every report reads for a mistake's severity (trainer.scoring.judgement.read). Sessions
    never scored are left out."""
    h = schema.scores
    out: dict[str, str] = {}
    ids = list(dict.fromkeys(session_ids))
    last_scoring = latest_scoring(h.c.session_id)
    for first in range(0, len(ids), chunk):
        part = ids[first : first + chunk]
        query = select(h.c.session_id, h.c.details).where(h.c.session_id.in_(part), h.c.id == last_scoring)
        with db._reading(f"read the graded mistakes of {len(part)} session(s)") as conn:
            out.update((row.session_id, row.details) for row in conn.execute(query))
    return out


def stored_features(db: Access, session_ids: Sequence[str], feature_set: str, *, chunk: int = 900) -> StoredFeatures:
    """The features stored with these sessions' scorings (trainer.scoring.features.stored) that apply: made under
    `feature_set`, and matching their hash (chain.features_hash: bound to the session's events). A row edited by
    plain SQL is listed as altered instead. Rows of another feature set are left out (the caller computes them
    again); so is everything in a keyed database this process has no key for (no hash can be checked)."""
    keying = db._keying
    if not keying.can_hash:
        return StoredFeatures({})
    f, s = schema.features, schema.sessions
    query = select(f.c.session_id, f.c.feature_set, f.c.content_hash, f.c.mistakes, f.c.hash, s.c.head_hash).join(
        s, s.c.id == f.c.session_id
    )
    ids = list(dict.fromkeys(session_ids))
    found: dict[str, tuple[str, str]] = {}
    altered: set[str] = set()
    digest = chain.features_hash
    for first in range(0, len(ids), chunk):
        part = ids[first : first + chunk]
        with db._reading(f"read the stored features of {len(part)} session(s)") as conn:
            rows = conn.execute(query.where(f.c.session_id.in_(part))).all()
        for sid, made_under, content_hash, mistakes, stored_hash, head in rows:
            row = {"session_id": sid, "feature_set": made_under, "content_hash": content_hash, "mistakes": mistakes}
            if digest(keying, head, row) != stored_hash:
                altered.add(sid)
            elif made_under == feature_set:
                found[sid] = (content_hash, mistakes)
    return StoredFeatures(found, frozenset(altered))


def _current_scores(conn: Connection, session_ids: Sequence[str]) -> dict[str, tuple[float | None, bool | None]]:
    """The sessions' current score and verdict, read in the transaction that replaces them (for the audit trail)."""
    s = schema.sessions
    ids = list(dict.fromkeys(session_ids))
    found: dict[str, tuple[float | None, bool | None]] = {}
    for first in range(0, len(ids), 900):
        query = select(s.c.id, s.c.score, s.c.passed).where(s.c.id.in_(ids[first : first + 900]))
        found.update((row.id, (row.score, row.passed)) for row in conn.execute(query))
    return found


def scoring_audit(
    row: ScoringRow,
    old: Mapping[str, tuple[float | None, bool | None]],
    action: str,
    act: audit.Act,
    now: datetime,
    detail: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The audit row of one scoring: who scored, the scorer, old -> new score and verdict."""
    was_score, was_passed = old.get(row["session_id"], (None, None))
    return audit.row(
        action,
        act=act,
        at=now,
        session_id=row["session_id"],
        detail={
            **(detail or {}),
            "scorer": row["scorer"],
            "score": [was_score, row["score"]],
            "passed": [was_passed, row["passed"]],
        },
    )
