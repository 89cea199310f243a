"""The tables, in SQLAlchemy Core. Portable types only, the same on SQLite and PostgreSQL (see dialect.py for the rest).

This module describes the *latest* schema, which a fresh database is created with. Older databases are brought here by the
steps in migrations.py, which must spell out their own DDL instead of reusing these objects (they change over time).
Version 2 added labels (instructor severities per detected mistake) and scores (every scoring of a session, kept as
history). Version 3 added an index of the sessions without a score (finished ones are scored when a command opens the
store). Version 4 added the audit trail (who changed which record, when and why; instructor sign-ins), trainee_pins
(a trainee's PIN, as a salted hash, and its wrong guesses), and made the whole record tamper-evident (chain.py):
scorings chained onto their session's events (scores.prev_hash, scores.hash, sessions.score_hash) and the store-wide
ledger of session heads and trainees. Version 5 added the roster (trainees.role, plant, hire_date and merged_into, from
HR's roster import) and the requirements (which courses a department and/or role must hold, docs/hr.md), sessions.mode (practice or exam), the plant a merged database's trainees came
from (`trainer db copy --merge --plant`), and the features table (each finished session's detected mistakes and their
features, stored with its first scoring, so that rescoring with another model does not read its events again). Planned: models (trained scoring models and their provenance).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
)

SCHEMA_VERSION = 5  # the version this code creates; migrations.py upgrades older ones to it
APPLICATION = "trainer"  # meta['application']: how open() tells our database from another program's


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones and hands back naive values; PostgreSQL keeps them. We write UTC and read back aware UTC, so
    callers always compare aware datetimes and the hash chain sees the same value that was hashed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store only takes timezone-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], datetime | None]:
        """The dialect's own parsing, then process_result_value: one call per value instead of TypeDecorator's two
        (listing 100 000 sessions reads 300 000 of these)."""
        parse = self.impl_instance.dialect_impl(dialect).result_processor(dialect, coltype)
        to_utc = self.process_result_value
        if parse is None:
            return lambda value: to_utc(value, dialect)
        return lambda value: to_utc(parse(value), dialect)


# Named constraints, so a later migration can drop or alter them by name on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# key/value facts about the database itself: schema_version, application.
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

trainees = Table(
    "trainees",
    metadata,
    Column("badge", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("department", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Version 5, from HR's roster (`trainer trainees import`, docs/hr.md); NULL for a trainee who only signed in.
    Column("role", Text, nullable=True),
    Column("plant", Text, nullable=True),
    Column("hire_date", Date, nullable=True),  # the first deadline of a required course counts from it
    # A duplicate badge merged into another (`trainer trainees merge`): its sessions stay recorded under it (their
    # hash chain binds it) and are read as the other trainee's. NULL for a trainee in use.
    Column("merged_into", String(64), nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(36), primary_key=True),  # uuid4 text, also the xAPI registration
    Column("badge", String(64), ForeignKey("trainees.badge"), nullable=False),
    Column("course_id", String(128), nullable=False),
    Column("course_version", String(64), nullable=False),
    Column("content_hash", String(128), nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("lang", String(16), nullable=False),
    # in_progress | completed | failed | aborted | voided. "interrupted" is never stored: it is in_progress with a dead owner.
    Column("status", String(16), nullable=False),
    Column("outcome", String(32)),
    Column("score", Float),
    Column("passed", Boolean),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("event_count", Integer, nullable=False),  # with head_hash: catches removal of the last events
    Column("head_hash", String(64), nullable=False),  # hash of the last event; the genesis hash while there is none
    Column("owner_host", String(255), nullable=False),  # the process that may append: host name + pid
    Column("owner_pid", Integer, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),  # refreshed on every append; tells other hosts the owner lives
    Column("void_reason", Text),
    # practice | exam (version 5; sessions before it are exams): only an exam certifies. Bound into the session's
    # genesis when it is practice (chain.identity), so a practice attempt turned into an exam by SQL is caught.
    Column("mode", String(16), nullable=False, server_default="exam"),
    Column("voided_by", String(64)),
    Column("voided_at", UTCDateTime),
    # The hash of the latest scoring (the end of the session's chain, see chain.py); NULL while it has none.
    Column("score_hash", String(64)),
)
Index(None, sessions.c.badge, sessions.c.started_at)
Index(None, sessions.c.course_id, sessions.c.started_at)
Index(None, sessions.c.started_at)
Index(None, sessions.c.status)
# The sessions without a score (in progress, voided, and finished ones an older Trainer was killed before scoring), for
# the look-up every command makes when it opens the store: a partial index holds only those, so it stays a few entries
# and rescoring scored sessions never touches it. Named: the naming convention would call it ix_sessions_status too.
UNSCORED_INDEX = "ix_sessions_unscored"
Index(
    UNSCORED_INDEX,
    sessions.c.status,
    sqlite_where=sessions.c.score.is_(None),
    postgresql_where=sessions.c.score.is_(None),
)

events = Table(
    "events",
    metadata,
    Column("session_id", String(36), ForeignKey("sessions.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("t_ms", BigInteger, nullable=False),
    Column("utc", UTCDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("state", Text, nullable=False),
    Column("action", Text),
    Column("data", Text, nullable=False),  # canonical JSON of Event.data
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    PrimaryKeyConstraint("session_id", "seq"),
)

# Instructor password hash and other small site settings.
settings = Table(
    "settings",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
)

# An instructor's severity for one detected mistake of a session (mistake ids come from trainer.scoring.detect).
labels = Table(
    "labels",
    metadata,
    Column("session_id", String(36), ForeignKey("sessions.id"), nullable=False),
    Column("mistake_id", String(128), nullable=False),
    Column("labeller", String(64), nullable=False),
    Column("severity", String(16), nullable=False),  # none | minor | serious | critical
    Column("labelled_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("session_id", "mistake_id", "labeller"),
)

# Every time a session was scored (at its end, and by `trainer score`): the latest is also copied to sessions.score.
scores = Table(
    "scores",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(36), ForeignKey("sessions.id"), nullable=False),
    Column("scored_at", UTCDateTime, nullable=False),
    Column("scorer", String(64), nullable=False),  # "rubric" or "model <sha256 prefix>"
    Column("score", Float, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("review", Boolean, nullable=False),  # some grade is flagged for an instructor's review
    Column("details", Text, nullable=False),  # canonical JSON: the deductions with severity, points, confidence, review
    # The scoring's place in its session's chain (chain.scoring_hash): the previous scoring's hash, or the session's
    # last event's for the first. NULL in scorings recorded before version 4.
    Column("prev_hash", String(64)),
    Column("hash", String(64)),
)
Index(None, scores.c.session_id, scores.c.scored_at)

# The audit trail: one row per record-changing act (void, relabel, rescoring, restore) or security event (instructor
# sign-ins, password changes), written in the same transaction as the change it records (trainer/store/audit.py).
# No foreign key to sessions: the trail names what it names even if a session row is ever removed.
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(255), nullable=False),  # the OS user who ran the command
    Column("host", String(255), nullable=False),  # the machine it ran on
    Column("terminal", String(255), nullable=False),  # its tty ("" when there was none: a script, a service)
    Column("action", String(32), nullable=False),  # audit.ACTIONS
    Column("session_id", String(36)),
    Column("detail", Text, nullable=False),  # canonical JSON: what changed, old -> new where it applies
    Column("reason", Text, nullable=False),  # why, as the person gave it ("" when they gave none)
)
Index(None, audit.c.session_id, audit.c.id)
Index(None, audit.c.action, audit.c.id)
Index(None, audit.c.at)
# A trainee's PIN (schema version 4), asked at sign-in when the site turns PINs on (settings 'trainee.pins'): a salted
# scrypt hash (trainer.instructor_password), who set it, and the wrong guesses since the last right one, with the time before
# which no guess is tried (the growing delay; kept here so that another tab or a restart does not reset it).
trainee_pins = Table(
    "trainee_pins",
    metadata,
    Column("badge", String(64), ForeignKey("trainees.badge"), primary_key=True),
    Column("pin_hash", Text, nullable=False),
    Column("set_at", UTCDateTime, nullable=False),
    Column("set_by", String(64), nullable=False),  # "trainee" (at sign-in) or "instructor <OS user>"
    Column("failures", Integer, nullable=False),
    Column("retry_at", UTCDateTime),
)
# The store-wide, append-only ledger (version 4): one entry per write that changes a session's record or a trainee, each
# hash-chained to the one before (chain.ledger_hash), seq counting from 1 without gaps. A session or trainee deleted
# whole, or a session rolled back to an earlier head, no longer matches it (Store.verification).
LEDGER_KINDS = ("start", "head", "void", "legacy", "trainee", "requirements", "rebadge")
ledger = Table(
    "ledger",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    # start: a session created (facts: its identity); head: its events or scorings grew; void: it was voided (facts: why,
    # by whom, when); legacy: recorded before version 4 (entered by the upgrade); trainee: registered or changed (facts);
    # requirements (version 5): the whole set loaded (subject "requirements"; head: the hash of facts, its rows).
    # rebadge: a merged session's badge renamed apart from another plant's (facts: badge, was, plant; store/copy.py).
    Column("kind", String(16), nullable=False),
    Column("subject", String(64), nullable=False),  # the session id, or the trainee's badge
    Column("event_count", Integer, nullable=False),  # the session's event_count after the write; 0 for a trainee
    Column("head", String(64), nullable=False),  # the session's head after the write (score_hash, else head_hash)
    Column("facts", Text),  # canonical JSON, see kind
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
# No index on subject: one more B-tree write per append and per scoring (a tenth of a rescoring's time) for the one
# reader that would use it, `sessions verify ID`, which reads the ledger through instead.

# Which courses each department and/or role must hold (version 5): loaded whole from HR's file by `trainer requirements
# load` (docs/hr.md), each load one transaction, audited and entered in the ledger. "" in department or role means any.
requirements = Table(
    "requirements",
    metadata,
    Column("department", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("course_id", String(128), nullable=False),
    Column("first_days", Integer, nullable=False),  # a newcomer's first pass is due this many days after the hire date
    Column("since", Date, nullable=False),  # the day the requirement was first loaded: staff hired before count from it
    PrimaryKeyConstraint("department", "role", "course_id"),
)

# A finished session's detected mistakes with their features and its outcome (version 5), as its first scoring computed
# them from its events (trainer.scoring.features.stored): they depend on the events and the course content, not on the
# model, so `trainer score` reads them instead of the events. They apply only under the feature set they were made
# with (trainer.scoring.features.FEATURE_SET) and the course content they were detected with; others are computed
# again from the events and replace them. `hash` binds them to the session's events (chain.features_hash): a row
# edited by plain SQL no longer matches it, is not used, and `trainer sessions verify` reports it.
features = Table(
    "features",
    metadata,
    Column("session_id", String(36), ForeignKey("sessions.id"), primary_key=True),
    Column("feature_set", String(64), nullable=False),
    Column("content_hash", String(128), nullable=False),
    Column("mistakes", Text, nullable=False),  # JSON text (features.stored): the outcome and each mistake's features
    Column("hash", String(64), nullable=False),
)
