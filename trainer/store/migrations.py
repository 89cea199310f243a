"""Schema versions and the steps between them.

The database records its version in meta['schema_version'] (and meta['application'] = 'trainer', which is how we tell our
database from another program's). On open:

- an empty database is created at the latest version straight from schema.py (no replay of old steps);
- an older one is upgraded by running the steps from its version up, in one write transaction: all or nothing;
- a newer one (written by a later Trainer) is refused untouched: this code cannot know what the new columns mean.

Adding a migration: bump schema.SCHEMA_VERSION, change schema.py to the new shape, and append a Step whose `apply` brings
a database of the previous version to the new shape with explicit, portable DDL (op-by-op, not `metadata.create_all`,
because schema.py will keep changing after the step is written). A test upgrades a database of every older version.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
)
from sqlalchemy.schema import CreateIndex, CreateTable

from trainer import sitekey, sitetime
from trainer.store import chain, dialect, schema

BASE_VERSION = 1  # the first schema; created by schema.py, not by a step


@dataclass(frozen=True)
class Step:
    """Upgrade a database from `to_version - 1` to `to_version`."""

    to_version: int
    description: str
    apply: Callable[[Connection], None]


def _labels_and_scores(conn: Connection) -> None:
    """Version 2: the labels and scores tables, spelled out as they were at version 2."""
    md = MetaData(naming_convention=schema.metadata.naming_convention)
    Table("sessions", md, Column("id", String(36), primary_key=True))  # only for the foreign keys
    labels = Table(
        "labels",
        md,
        Column("session_id", String(36), ForeignKey("sessions.id"), nullable=False),
        Column("mistake_id", String(128), nullable=False),
        Column("labeller", String(64), nullable=False),
        Column("severity", String(16), nullable=False),
        Column("labelled_at", schema.UTCDateTime, nullable=False),
        PrimaryKeyConstraint("session_id", "mistake_id", "labeller"),
    )
    scores = Table(
        "scores",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("session_id", String(36), ForeignKey("sessions.id"), nullable=False),
        Column("scored_at", schema.UTCDateTime, nullable=False),
        Column("scorer", String(64), nullable=False),
        Column("score", Float, nullable=False),
        Column("passed", Boolean, nullable=False),
        Column("reason", Text, nullable=False),
        Column("review", Boolean, nullable=False),
        Column("details", Text, nullable=False),
    )
    index = Index(None, scores.c.session_id, scores.c.scored_at)
    conn.execute(CreateTable(labels))
    conn.execute(CreateTable(scores))
    conn.execute(CreateIndex(index))


def _unscored_index(conn: Connection) -> None:
    """Version 3: a partial index of the sessions without a score, spelled out as it was at version 3."""
    md = MetaData()
    sessions = Table("sessions", md, Column("status", String(16)), Column("score", Float))
    unscored = sessions.c.score.is_(None)
    index = Index("ix_sessions_unscored", sessions.c.status, sqlite_where=unscored, postgresql_where=unscored)
    conn.execute(CreateIndex(index))


def _audit_trail(conn: Connection) -> None:
    """Version 4: the audit trail, spelled out as it was at version 4."""
    md = MetaData(naming_convention=schema.metadata.naming_convention)
    audit = Table(
        "audit",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", schema.UTCDateTime, nullable=False),
        Column("actor", String(255), nullable=False),
        Column("host", String(255), nullable=False),
        Column("terminal", String(255), nullable=False),
        Column("action", String(32), nullable=False),
        Column("session_id", String(36)),
        Column("detail", Text, nullable=False),
        Column("reason", Text, nullable=False),
    )
    conn.execute(CreateTable(audit))
    for index in (
        Index(None, audit.c.session_id, audit.c.id),
        Index(None, audit.c.action, audit.c.id),
        Index(None, audit.c.at),
    ):
        conn.execute(CreateIndex(index))


def _trainee_pins(conn: Connection) -> None:
    """Version 4: the trainee_pins table, spelled out as it was at version 4."""
    md = MetaData(naming_convention=schema.metadata.naming_convention)
    Table("trainees", md, Column("badge", String(64), primary_key=True))  # only for the foreign key
    pins = Table(
        "trainee_pins",
        md,
        Column("badge", String(64), ForeignKey("trainees.badge"), primary_key=True),
        Column("pin_hash", Text, nullable=False),
        Column("set_at", schema.UTCDateTime, nullable=False),
        Column("set_by", String(64), nullable=False),
        Column("failures", Integer, nullable=False),
        Column("retry_at", schema.UTCDateTime),
    )
    conn.execute(CreateTable(pins))


def new_keying() -> chain.Keying:
    """How a database created or upgraded to version 4 now hashes its record: keyed when the site has a key."""
    return chain.Keying.for_new(sitekey.site_key())


def _tamper_evidence(conn: Connection) -> None:
    """Version 4: scorings chained onto their session (scores.prev_hash, hash; sessions.score_hash) and the ledger.

    The sessions already recorded are entered in the ledger as *legacy*, with the head they have now: deleting or
    rolling one back is detected from here on, but their identity and scores were never bound to their chain and are
    not checked (verify reports them once as not covered). The trainees are entered with their name and department as
    they are now: the upgrade trusts the rows it finds. The hashing (keyed or not) is chosen now, once (meta['chain']).
    """
    md = MetaData(naming_convention=schema.metadata.naming_convention)
    ledger = Table(
        "ledger",
        md,
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("kind", String(16), nullable=False),
        Column("subject", String(64), nullable=False),
        Column("event_count", Integer, nullable=False),
        Column("head", String(64), nullable=False),
        Column("facts", Text),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
    )
    conn.execute(text("ALTER TABLE sessions ADD COLUMN score_hash VARCHAR(64)"))
    conn.execute(text("ALTER TABLE scores ADD COLUMN prev_hash VARCHAR(64)"))
    conn.execute(text("ALTER TABLE scores ADD COLUMN hash VARCHAR(64)"))
    conn.execute(CreateTable(ledger))
    keying = new_keying()
    conn.execute(schema.meta.insert().values(key="chain", value=keying.meta_value()))
    entries: list[dict[str, object]] = []
    prev = chain.LEDGER_GENESIS
    found: list[tuple[str, str, int, str, str | None]] = [
        ("trainee", badge, 0, "", chain.trainee_facts(badge, name, department))
        for badge, name, department in conn.execute(text("SELECT badge, name, department FROM trainees ORDER BY badge"))
    ]
    found += [
        ("legacy", sid, count, head, None)
        for sid, count, head in conn.execute(
            text("SELECT id, event_count, head_hash FROM sessions ORDER BY started_at, id")
        )
    ]
    for seq, (kind, subject, count, head, facts) in enumerate(found, start=1):
        head = head or chain.record_hash(keying, kind, facts or "")  # a trainee's head: the hash of its record
        digest = chain.ledger_hash(keying, prev, seq, kind, subject, count, head, facts)
        entries.append(
            {"seq": seq, "kind": kind, "subject": subject, "event_count": count, "head": head, "facts": facts}
            | {"prev_hash": prev, "hash": digest}
        )
        prev = digest
    if entries:
        conn.execute(ledger.insert(), entries)


def _version_4(conn: Connection) -> None:
    """Version 4: each addition of version 4, in its own function so each reads on its own."""
    _audit_trail(conn)
    _trainee_pins(conn)
    _tamper_evidence(conn)


def _roster(conn: Connection) -> None:
    """Version 5: HR's roster columns on trainees (role, plant, hire date, merged into) and the requirements table,
    spelled out as they were at version 5. Trainees already registered keep their ledger entries: the new columns are
    NULL, which is what those entries say (a trainee's facts name these only once they are set)."""
    for column in ("role TEXT", "plant TEXT", "hire_date DATE", "merged_into VARCHAR(64)"):
        conn.execute(text(f"ALTER TABLE trainees ADD COLUMN {column}"))
    md = MetaData(naming_convention=schema.metadata.naming_convention)
    requirements = Table(
        "requirements",
        md,
        Column("department", Text, nullable=False),
        Column("role", Text, nullable=False),
        Column("course_id", String(128), nullable=False),
        Column("first_days", Integer, nullable=False),
        Column("since", Date, nullable=False),
        PrimaryKeyConstraint("department", "role", "course_id"),
    )
    conn.execute(CreateTable(requirements))


def _site_timezone(conn: Connection) -> None:
    """Version 5: the site's time zone (settings 'timezone'), which dates, periods and expiry are counted in: the
    upgrading machine's zone, as a new database gets its creator's; `trainer db set timezone` changes it."""
    found = conn.execute(select(schema.settings.c.key).where(schema.settings.c.key == sitetime.SETTING)).first()
    if found is None:
        conn.execute(schema.settings.insert().values(key=sitetime.SETTING, value=sitetime.machine_zone()))


def _stored_features(conn: Connection) -> None:
    """Version 5: the features table, spelled out as it was at version 5. Sessions already scored have no row: their
    first rescoring reads their events and stores their features (trainer.scoring.rescoring)."""
    md = MetaData(naming_convention=schema.metadata.naming_convention)
    Table("sessions", md, Column("id", String(36), primary_key=True))  # only for the foreign key
    features = Table(
        "features",
        md,
        Column("session_id", String(36), ForeignKey("sessions.id"), primary_key=True),
        Column("feature_set", String(64), nullable=False),
        Column("content_hash", String(128), nullable=False),
        Column("mistakes", Text, nullable=False),
        Column("hash", String(64), nullable=False),
    )
    conn.execute(CreateTable(features))


def _version_5(conn: Connection) -> None:
    """Version 5: each addition of version 5, in its own function so each reads on its own."""
    _roster(conn)
    _site_timezone(conn)
    _session_mode(conn)
    _stored_features(conn)


def _session_mode(conn: Connection) -> None:
    """Version 5: sessions.mode, practice or exam. Every session recorded before it certified: it is an exam (and its
    genesis, which binds the mode only when it is practice, see chain.identity, stays what it was)."""
    conn.execute(text("ALTER TABLE sessions ADD COLUMN mode VARCHAR(16) NOT NULL DEFAULT 'exam'"))


STEPS: tuple[Step, ...] = (
    Step(2, "labels and scores: instructor severities per mistake, score history", _labels_and_scores),
    Step(3, "an index of unscored sessions: finished ones get their score when the store opens", _unscored_index),
    Step(
        4,
        "the audit trail, trainee PINs, and tamper evidence over the whole record (chained scorings, a ledger)",
        _version_4,
    ),
    Step(
        5,
        "the roster (trainees' role, plant, hire date, merges), required courses, the site's time zone, "
        "practice and exam (the mode of each session; those before it are exams), each session's stored features",
        _version_5,
    ),
)


def latest_version(steps: Sequence[Step] = STEPS) -> int:
    return steps[-1].to_version if steps else BASE_VERSION


def _check_steps(steps: Sequence[Step]) -> None:
    for expected, step in enumerate(steps, start=BASE_VERSION + 1):
        if step.to_version != expected:
            raise AssertionError(
                f"migration steps must go up one version at a time: step {step.description!r} goes to {step.to_version}, expected {expected}"
            )


_check_steps(STEPS)
assert latest_version() == schema.SCHEMA_VERSION, "schema.SCHEMA_VERSION and the last migration step disagree"


class ForeignDatabase(Exception):
    """The database holds another program's tables (the message says what was found)."""


class NewerDatabase(Exception):
    def __init__(self, version: int, known: int) -> None:
        super().__init__(
            f"it was written by a newer Trainer (schema version {version}; this Trainer knows up to {known}); upgrade Trainer"
        )
        self.version = version


def identify(tables: Collection[str], meta: Mapping[str, str], latest: int) -> int | None:
    """The schema version of a database with these tables and meta rows; None if it is empty (ours to create).

    Raises ForeignDatabase if it is not a Trainer database and NewerDatabase if it is from a later Trainer.
    """
    if not tables:
        return None
    if "meta" not in tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise ForeignDatabase(f"it holds another program's tables: {shown}")
    if meta.get("application") != schema.APPLICATION:
        raise ForeignDatabase(
            f"its meta table names application {meta.get('application')!r}, not {schema.APPLICATION!r}"
        )
    raw = meta.get("schema_version", "")
    if not raw.isdigit():
        raise ForeignDatabase(f"its schema_version is {raw!r}, not a number")
    version = int(raw)
    if version > latest:
        raise NewerDatabase(version, latest)
    return version


def _read_state(conn: Connection) -> tuple[frozenset[str], dict[str, str]]:
    tables = frozenset(inspect(conn).get_table_names())
    meta: dict[str, str] = {}
    if "meta" in tables:
        try:
            meta = {str(k): str(v) for k, v in conn.execute(select(schema.meta.c.key, schema.meta.c.value))}
        except Exception as exc:  # another program's `meta` table with other columns
            raise ForeignDatabase(f"its meta table is not Trainer's ({type(exc).__name__})") from exc
    return tables, meta


def ensure(engine: Engine, steps: Sequence[Step] = STEPS) -> int:
    """Create or upgrade the schema to the latest version; return the version the database was at (0 if it was empty).

    The common case (already current) only reads. Creating and upgrading happen in a write transaction that holds the
    schema lock (dialect.lock_schema) and checks the version again, so several terminals starting at once on a new
    database create it exactly once. Steps must be portable DDL: they run on SQLite and PostgreSQL alike.
    """
    _check_steps(steps)
    latest = latest_version(steps)
    with dialect.read_transaction(engine) as conn:
        version = identify(*_read_state(conn), latest=latest)
    if version == latest:
        return version
    with dialect.write_transaction(engine, prepare=dialect.lock_schema) as conn:
        version = identify(*_read_state(conn), latest=latest)
        if version is None:
            schema.metadata.create_all(conn)
            conn.execute(
                schema.meta.insert(),
                [
                    {"key": "application", "value": schema.APPLICATION},
                    {"key": "schema_version", "value": str(latest)},
                    {"key": "chain", "value": new_keying().meta_value()},
                ],
            )
            conn.execute(schema.settings.insert().values(key=sitetime.SETTING, value=sitetime.machine_zone()))
            return 0
        for step in steps:
            if step.to_version > version:
                step.apply(conn)
        if version < latest:
            conn.execute(schema.meta.update().where(schema.meta.c.key == "schema_version").values(value=str(latest)))
        return version
