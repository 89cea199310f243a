"""Everything specific to one database engine (SQLite, PostgreSQL) lives here and nowhere else.

SQLite (the default: one file on one machine):
- WAL journal: readers never block the writer and the writer never blocks readers, so the instructor's listing does not
  stall a trainee's session; a commit appends to the -wal file instead of rewriting pages.
- synchronous=FULL: in WAL mode, NORMAL may lose the last commits on power loss. A commit that returned must survive a
  pulled plug: the trainee's answer is the record. bench/bench_durability.py measures what this costs.
- Waiting for the write lock: a writer waits (30 s by default) instead of failing at once when another terminal writes.
  SQLite's own busy handler sleeps 1, 2, 5, 10 ... 100 ms on a fixed schedule and favours whoever is not asleep, so
  with thirty terminals writing at once one of them may wait 3 s for a single answer. A write therefore starts with
  busy_timeout set to 0 and waits itself, with random pauses that double up to a cap (_begin_immediate): at full
  contention a quarter less throughput, for a worst wait under a second. busy_timeout stays set for everything else.
- foreign_keys=ON: SQLite ignores declared foreign keys unless asked, per connection.
- BEGIN IMMEDIATE for writes: the write lock is taken at BEGIN, where busy_timeout applies. A deferred transaction that reads
  and then writes may instead fail with "database is locked" at its first write, without waiting, when another writer got in
  between. Reads stay deferred (plain BEGIN) and never take the write lock. This follows SQLAlchemy's documented pysqlite
  recipe: sqlite3's own transaction handling is switched off (isolation_level None) and we emit BEGIN on the "begin" event.

PostgreSQL (`postgresql+psycopg://...`: many machines, one server):
- Writes run at READ COMMITTED and lock what they change first: an append locks its session's row (SELECT ... FOR UPDATE,
  see write_transaction's `prepare`), so two appends to the same session never interleave while appends to different
  sessions run side by side. The chain's head is read after the lock is granted, so it is always the committed one.
- Reads run at REPEATABLE READ, READ ONLY: one snapshot for the whole read, so `sessions verify` never sees a session row
  and events from two different moments (PostgreSQL never aborts a read-only transaction for serialization).
- lock_timeout plays busy_timeout's part; synchronous_commit=on (the server's default) means a commit that returned is in
  the server's WAL on disk. Inserting or updating a row by key is one INSERT ... ON CONFLICT statement (upsert()), so two
  terminals registering the same badge at once cannot collide.
- Creating and upgrading the schema takes a transaction-scoped advisory lock (lock_schema()), so terminals starting
  together on an empty database create it once; PostgreSQL's DDL is transactional, so a failed step leaves nothing behind.
- Backups use pg_dump (backup_postgresql(); checking and placing the file: store/backup.py).

Both: a write that fails while it starts (busy, lock timeout, deadlock, a dropped connection) is started again a few times
(write_transaction) before the store reports it in one line.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import struct
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Connection, Engine, Table, event, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

_WRITE = "trainer_write"  # execution option set by write_transaction(); the "begin" hook reads it
SQLITE_MAGIC = b"SQLite format 3\x00"
DriverError = sqlite3.Error  # what the raw driver raises where SQLAlchemy does not wrap it (backups)
WRITE_ATTEMPTS = 3  # how often a write is started before a busy/lock/deadlock error reaches the caller
POSTGRES_EXTRA = "pip install 'trainer[postgres]'"
# PostgreSQL SQLSTATEs worth starting a write again for: serialization failure, deadlock, lock timeout, server shutting
# down or starting up (a restart while terminals play).
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03"})


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def is_postgresql(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


def normalize(url: URL) -> URL:
    """`postgresql://` (no driver named) means psycopg 3, the driver the `postgres` extra installs."""
    if url.drivername == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    return url


def sqlite_file(url: URL) -> Path | None:
    """The database file of an SQLite URL, or None for in-memory databases and other backends."""
    if not is_sqlite(url):
        return None
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):  # URI filename (with ?uri=true): keep only the path
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def create_engine(url: URL, *, lock_timeout: float, fsync_every_commit: bool) -> Engine:
    """An engine with the settings above for SQLite or PostgreSQL, or the backend's defaults otherwise."""
    url = normalize(url)
    if is_postgresql(url):
        return _postgresql_engine(url, lock_timeout=lock_timeout, fsync_every_commit=fsync_every_commit)
    if not is_sqlite(url):
        return sqlalchemy.create_engine(url, pool_pre_ping=True)
    if sqlite_file(url) is None:  # in memory: one shared connection, or each thread would see its own empty database
        engine = sqlalchemy.create_engine(
            url, connect_args={"timeout": lock_timeout, "check_same_thread": False}, poolclass=StaticPool
        )
    else:
        engine = sqlalchemy.create_engine(url, connect_args={"timeout": lock_timeout})
    synchronous = "FULL" if fsync_every_commit else "NORMAL"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # sqlite3 emits no BEGIN of its own; _on_begin does
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")  # first: the WAL switch may wait
            cursor.execute("PRAGMA journal_mode = WAL")  # persistent in the file; a no-op once set
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_WRITE):
            driver = conn.connection.driver_connection
            assert driver is not None  # a connection in use has its driver's
            _begin_immediate(driver, lock_timeout)
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


# Seconds. The first pause is about two appends' time on a local disk; the cap trades throughput against the longest
# wait (bench/bench_durability.py measures it; the figures for each cap are in docs/performance.md, "30 writers").
_FIRST_PAUSE = 0.0005
_LONGEST_PAUSE = 0.032


def _begin_immediate(connection: sqlite3.Connection, lock_timeout: float) -> None:
    """BEGIN IMMEDIATE, waiting up to lock_timeout for the write lock with random pauses that double (see the top).

    The pauses are random so that writers who collided do not wake together. Errors (the last "database is locked"
    when the time is up, a damaged file...) reach the caller wrapped as SQLAlchemy wraps the driver's errors: the
    "begin" hook runs outside SQLAlchemy's own error handling, and the store turns only those into one-line messages.
    """
    try:
        connection.execute("PRAGMA busy_timeout = 0")
        try:
            deadline = time.monotonic() + lock_timeout
            pause = _FIRST_PAUSE
            while True:
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if not _is_sqlite_busy(exc) or time.monotonic() >= deadline:
                        raise
                time.sleep(min(random.uniform(0, pause), max(0.0, deadline - time.monotonic())))
                pause = min(pause * 2, _LONGEST_PAUSE)
        finally:
            connection.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
    except sqlite3.Error as exc:
        raise DBAPIError.instance("BEGIN IMMEDIATE", None, exc, sqlite3.Error) from exc


def _postgresql_engine(url: URL, *, lock_timeout: float, fsync_every_commit: bool) -> Engine:
    """psycopg 3 at READ COMMITTED, with lock_timeout and synchronous_commit set per connection.

    Settings go in libpq's `options`, after any the URL already has (e.g. `?options=-csearch_path%3Dplant2`).
    """
    settings = {
        "lock_timeout": f"{max(1, int(lock_timeout * 1000))}ms",
        "synchronous_commit": "on" if fsync_every_commit else "off",
    }
    given = url.query.get("options", "")
    options = " ".join(
        part
        for part in (
            given if isinstance(given, str) else " ".join(given),
            *(f"-c {k}={v}" for k, v in settings.items()),
        )
        if part
    )
    url = url.difference_update_query(["options"])
    connect_args: dict[str, Any] = {"options": options}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = 10
    if "application_name" not in url.query:
        connect_args["application_name"] = "trainer"
    try:
        return sqlalchemy.create_engine(
            url, connect_args=connect_args, isolation_level="READ COMMITTED", pool_pre_ping=True
        )
    except ImportError as exc:
        raise ImportError(f"the PostgreSQL driver psycopg is not installed: {POSTGRES_EXTRA}") from exc


@contextmanager
def write_transaction(
    engine: Engine, *, prepare: Callable[[Connection], object] | None = None, attempts: int = WRITE_ATTEMPTS
) -> Iterator[Connection]:
    """A transaction that will write. Commits on success, else rolls back.

    Its locks are taken while it starts: SQLite's BEGIN IMMEDIATE takes the write lock, and `prepare` (run right after
    BEGIN) takes row locks on PostgreSQL, e.g. SELECT ... FOR UPDATE of a session row. If starting fails because the
    database is busy, a lock wait timed out, a deadlock was detected or the connection dropped, the transaction is started
    again, up to `attempts` times in all, with a short random pause; other errors, and every error after the start, go
    to the caller at once (nothing has been written then, so the caller may retry the whole call).
    """
    for attempt in range(1, attempts + 1):
        conn = engine.connect()
        try:
            conn.execution_options(**{_WRITE: True})
            transaction = conn.begin()
            if prepare is not None:
                prepare(conn)
        except BaseException as exc:
            conn.close()  # rolls back
            if attempt < attempts and isinstance(exc, SQLAlchemyError) and is_transient(exc):
                time.sleep(random.uniform(0.05, 0.2) * attempt)
                continue
            raise
        break
    with conn, transaction:
        yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction: one consistent snapshot, no write lock."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield conn


def lock_schema(conn: Connection) -> None:
    """Serialize creating and upgrading the schema (write_transaction's `prepare` for migrations).

    SQLite's BEGIN IMMEDIATE already does; PostgreSQL takes an advisory lock on the schema's name until the transaction ends.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('trainer schema ' || current_schema()))"))


def lock_ledger(conn: Connection) -> None:
    """Serialize appends to the ledger (ledger.enter), which has one end for the whole store.

    SQLite's BEGIN IMMEDIATE already does; PostgreSQL takes a transaction-scoped advisory lock, so two writers never read
    the same last entry and chain after it.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('trainer ledger ' || current_schema()))"))


def upsert(conn: Connection, table: Table, values: Mapping[str, Any], *, update: Sequence[str]) -> None:
    """Insert a row, or set the columns `update` of the row with the same primary key: one statement, so no race."""
    keys = [column.name for column in table.primary_key.columns]
    if conn.dialect.name in ("sqlite", "postgresql"):
        # the two backends' INSERT ... ON CONFLICT are spelled alike but typed apart; only the one in use is imported
        insert: Callable[[Table], Any]
        if conn.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            insert = sqlite_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as postgresql_insert

            insert = postgresql_insert
        statement = insert(table).values(**values)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=keys, set_={name: statement.excluded[name] for name in update}
            )
        )
        return
    where = [table.c[key] == values[key] for key in keys]
    if conn.execute(select(*[table.c[key] for key in keys]).where(*where)).first() is None:
        conn.execute(table.insert().values(**values))
    else:
        conn.execute(table.update().where(*where).values(**{name: values[name] for name in update}))


def is_transient(exc: BaseException) -> bool:
    """A busy database, a lock wait that timed out, a deadlock or a dropped connection: worth starting again."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    return isinstance(orig, sqlite3.OperationalError) and _is_sqlite_busy(orig)


def _is_sqlite_busy(exc: sqlite3.OperationalError) -> bool:
    lowered = str(exc).lower()
    return "locked" in lowered or "busy" in lowered


def durability_settings(conn: Connection) -> dict[str, str]:
    """The settings in force on this connection, for `trainer db info` and the tests. Empty for other backends."""
    if conn.dialect.name == "postgresql":
        shown = {
            name: str(conn.exec_driver_sql(f"SHOW {name}").scalar())
            for name in ("server_version", "synchronous_commit", "lock_timeout")
        }
        shown["schema"] = str(conn.execute(text("SELECT current_schema()")).scalar())
        shown["write_isolation"] = "read committed, session row locked per append"
        return shown
    if conn.dialect.name != "sqlite":
        return {}
    names = ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
    return {name: str(conn.exec_driver_sql(f"PRAGMA {name}").scalar()) for name in names}


def explain(exc: BaseException) -> str:
    """A short, actionable reason for a database or OS error (used inside StoreError messages)."""
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's exception
    if isinstance(orig, OSError):
        return f"{orig.strerror or orig}; check the disk and the file's permissions"
    text_ = str(orig).strip().splitlines()[0].strip() if str(orig).strip() else type(orig).__name__
    lowered = text_.lower()
    if "locked" in lowered or "busy" in lowered or "lock timeout" in lowered or "deadlock" in lowered:
        return "another program kept the database locked for too long; try again"
    if "disk is full" in lowered or "no space left" in lowered:
        return "the disk is full; free some space and try again"
    if "readonly" in lowered or "read-only" in lowered:
        return "the database is read-only; check the permissions of the file and its folder"
    if "unable to open" in lowered:
        return "cannot open the file; check that its folder exists and is writable"
    if "disk i/o" in lowered:
        return "disk I/O error; check the disk"
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return f"the server refused the user name or password ({text_}); check the URL's user and password"
    if "does not exist" in lowered and "database" in lowered:
        return f"{text_}; create the database first (see docs/operations.md)"
    if "permission denied" in lowered:
        return f"{text_}; the database user needs rights on Trainer's tables (see docs/operations.md)"
    if lowered.startswith("connection failed") or "could not connect" in lowered or "connection refused" in lowered:
        return f"cannot reach the database server ({text_}); check that it is running and the URL's host and port"
    if "server closed the connection" in lowered or "terminating connection" in lowered:
        return f"the database server closed the connection ({text_}); try again"
    return text_


# --- looking at a file before touching it ---------------------------------------------------------------------------------


class NotADatabase(Exception):
    """The file is not an SQLite database we can read (the message says why)."""


class CannotRead(Exception):
    """The file may be fine but could not be opened (permissions, locked): the message says why."""


@dataclass(frozen=True)
class FileProbe:
    """What is in an SQLite file, read without writing a byte."""

    exists: bool
    tables: frozenset[str] = frozenset()
    meta: Mapping[str, str] = field(default_factory=dict)  # the `meta` table's rows, if it has one


def probe_sqlite_file(path: Path) -> FileProbe:
    """Read an existing file's header and table list through a read-only connection.

    This must run before create_engine(): switching to WAL writes to the file, and we promise to leave a file that is not
    ours untouched. Raises NotADatabase (not SQLite, truncated, damaged) or CannotRead.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return FileProbe(exists=False)
    except OSError as exc:
        raise CannotRead(exc.strerror or str(exc)) from exc
    if path.is_dir():
        raise NotADatabase("it is a folder")
    if size == 0:
        return FileProbe(exists=True)  # SQLite treats an empty file as an empty database
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise CannotRead(exc.strerror or str(exc)) from exc
    if not header.startswith(SQLITE_MAGIC):
        raise NotADatabase("not an SQLite file")
    if len(header) < 100:
        raise NotADatabase(f"truncated: {size} bytes, shorter than an SQLite header")
    if not _has_wal(
        path
    ):  # pages still in the -wal file may legitimately extend the database beyond its header's count
        _check_size(header, size)
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise CannotRead(str(exc)) from exc
    try:
        tables = frozenset(
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        )
        meta: dict[str, str] = {}
        if "meta" in tables:
            meta = {str(key): str(value) for key, value in conn.execute("SELECT key, value FROM meta")}
    except sqlite3.OperationalError as exc:
        message = str(exc)
        if "no such column" in message or "no such table" in message:  # a `meta` table of another shape
            raise NotADatabase(f"its meta table is not Trainer's: {message}") from exc
        raise CannotRead(message) from exc
    except sqlite3.DatabaseError as exc:
        raise NotADatabase(f"damaged: {exc}") from exc
    finally:
        conn.close()
    return FileProbe(exists=True, tables=tables, meta=meta)


def _has_wal(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


def _check_size(header: bytes, size: int) -> None:
    """A file shorter than the page count in its header was truncated (the count is valid when offsets 24 and 92 agree)."""
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    change_counter, page_count = struct.unpack(">II", header[24:32])
    (valid_for,) = struct.unpack(">I", header[92:96])
    if page_size < 512 or page_size & (page_size - 1):
        raise NotADatabase(f"damaged header: page size {page_size}")
    if valid_for == change_counter and page_count and size < page_count * page_size:
        raise NotADatabase(f"truncated: the header promises {page_count * page_size} bytes, the file has {size}")


# --- backups --------------------------------------------------------------------------------------------------------------


class BackupFailed(Exception):
    """pg_dump is missing or failed (the message says which, in one line)."""


def libpq_url(url: URL) -> tuple[str, dict[str, str]]:
    """The URL as libpq (psql, pg_dump) takes it, without the password, and the environment that carries the password."""
    plain = URL.create(
        "postgresql", username=url.username, host=url.host, port=url.port, database=url.database, query=url.query
    )
    env = {"PGPASSWORD": url.password} if url.password else {}
    return plain.render_as_string(hide_password=False), env


def backup_postgresql(engine: Engine, target: Path) -> None:
    """A consistent dump of Trainer's schema with pg_dump (custom format, for pg_restore), safe while terminals write.

    pg_dump reads one snapshot. The dump carries no owner and no privileges, so it restores under any user. `target` is
    the temporary file trainer.outfile hands over (store/backup.py); pg_dump fills it. Raises BackupFailed.
    """
    executable = shutil.which("pg_dump")
    if executable is None:
        raise BackupFailed(
            "pg_dump is needed to back up a PostgreSQL database and was not found; install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) or put pg_dump on the PATH"
        )
    with read_transaction(engine) as conn:
        schema_name = str(conn.execute(text("SELECT current_schema()")).scalar())
    address, password_env = libpq_url(engine.url)
    command = [
        executable,
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        f"--schema={schema_name}",
        f"--file={target}",
        f"--dbname={address}",
    ]
    try:
        done = subprocess.run(command, env={**os.environ, **password_env}, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupFailed(f"cannot run {executable}: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        raise BackupFailed(f"pg_dump failed: {lines[0] if lines else f'exit code {done.returncode}'}")
