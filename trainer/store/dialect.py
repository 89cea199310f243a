"""Everything specific to one database engine. Today only SQLite; everything SQLite-only lives here and nowhere else.

Why these SQLite settings:
- WAL journal: readers never block the writer and the writer never blocks readers, so the instructor's listing does not
  stall a trainee's session; a commit appends to the -wal file instead of rewriting pages.
- synchronous=FULL: in WAL mode, NORMAL may lose the last commits on power loss. A commit that returned must survive a
  pulled plug: the trainee's answer is the record. bench/bench_durability.py measures what this costs.
- busy_timeout: a writer waits for the lock (30 s by default) instead of failing at once when another terminal writes.
- foreign_keys=ON: SQLite ignores declared foreign keys unless asked, per connection.
- BEGIN IMMEDIATE for writes: the write lock is taken at BEGIN, where busy_timeout applies. A deferred transaction that reads
  and then writes may instead fail with "database is locked" at its first write, without waiting, when another writer got in
  between. Reads stay deferred (plain BEGIN) and never take the write lock. This follows SQLAlchemy's documented pysqlite
  recipe: sqlite3's own transaction handling is switched off (isolation_level None) and we emit BEGIN on the "begin" event.

Other backends get none of this and run with their defaults (PostgreSQL: read committed, synchronous_commit on).
"""

from __future__ import annotations

import os
import sqlite3
import struct
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

_WRITE = "trainer_write"  # execution option set by write_transaction(); the "begin" hook reads it
SQLITE_MAGIC = b"SQLite format 3\x00"
DriverError = sqlite3.Error  # what the raw driver raises where SQLAlchemy does not wrap it (backup)


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


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
    """An engine with the durability settings above (for SQLite), or the backend's defaults otherwise."""
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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: on SQLite it holds the write lock from its start. Commits on success, else rolls back."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction: one consistent snapshot, no write lock."""
    with engine.connect() as conn, conn.begin():
        yield conn


def durability_settings(conn: Connection) -> dict[str, str]:
    """The settings in force on this connection, for `trainer db info` and the tests. Empty for other backends."""
    if conn.dialect.name != "sqlite":
        return {}
    names = ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
    return {name: str(conn.exec_driver_sql(f"PRAGMA {name}").scalar()) for name in names}


def explain(exc: BaseException) -> str:
    """A short, actionable reason for a database or OS error (used inside StoreError messages)."""
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's exception
    if isinstance(orig, OSError):
        return f"{orig.strerror or orig}; check the disk and the file's permissions"
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return "another program kept the database locked for too long; try again"
    if "disk is full" in lowered:
        return "the disk is full; free some space and try again"
    if "readonly" in lowered or "read-only" in lowered:
        return "the database is read-only; check the permissions of the file and its folder"
    if "unable to open" in lowered:
        return "cannot open the file; check that its folder exists and is writable"
    if "disk i/o" in lowered:
        return "disk I/O error; check the disk"
    return text


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


def backup(engine: Engine, target: Path) -> None:
    """A consistent copy of a live SQLite database with the sqlite3 backup API (safe while others write).

    Written next to `target` first and renamed into place, so `target` is never a half-written copy.
    """
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    raw = engine.raw_connection()
    try:
        source: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
        dest = sqlite3.connect(partial)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        raw.close()
    os.replace(partial, target)
