"""The databases the integration tests run on: an SQLite file always, PostgreSQL when TRAINER_TEST_DB names one.

TRAINER_TEST_DB is a URL such as postgresql+psycopg://trainer:secret@127.0.0.1:5432/trainer_test, to a database the tests
may use: each test gets a schema of its own there (CREATE SCHEMA, dropped afterwards), reached through the URL's libpq
`options=-csearch_path=...`, so the user needs the CREATE privilege on that database (its owner has it). .ci/run starts
such a server. Helpers here also change a database behind the store's back, as an intruder with psql or sqlite3 would.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.sql import Executable

ENV = "TRAINER_TEST_DB"
SQLITE, POSTGRESQL = "sqlite", "postgresql"


def backend(url: str) -> str:
    return make_url(url).get_backend_name()


def postgresql_base() -> str | None:
    return os.environ.get(ENV) or None


def _engine(url: str) -> sqlalchemy.Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sqlalchemy.create_engine(parsed, poolclass=sqlalchemy.NullPool)


@contextmanager
def fresh_postgresql(base: str) -> Iterator[str]:
    """A new, empty schema in TRAINER_TEST_DB's database, and a URL whose connections use it; dropped afterwards."""
    name = f"trainer_test_{uuid.uuid4().hex[:12]}"
    admin = _engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={name}"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '20s'"))
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    finally:
        admin.dispose()


def execute(url: str, *statements: Executable | tuple[str, dict[str, Any]]) -> None:
    """Run SQL against the database in one transaction, not through the store (`:name` parameters)."""
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                if isinstance(statement, tuple):
                    sql, params = statement
                    conn.execute(text(sql), params)
                else:
                    conn.execute(statement)
    finally:
        engine.dispose()


def scalars(url: str, sql: str, **params: Any) -> list[Any]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).scalars())
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = _engine(url)
    try:
        return set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@contextmanager
def session_row_locked(url: str, session_id: str) -> Iterator[None]:
    """Another program in the middle of a write that holds what the store needs to append to this session.

    SQLite: a BEGIN IMMEDIATE on the file (the write lock). PostgreSQL: SELECT ... FOR UPDATE of the session's row.
    """
    if backend(url) == SQLITE:
        path = make_url(url).database
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield
            conn.execute("ROLLBACK")
        finally:
            conn.close()
        return
    engine = _engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT id FROM sessions WHERE id = :id FOR UPDATE"), {"id": session_id})
            yield
    finally:
        engine.dispose()


def restore_postgresql(url: str, archive: Path) -> None:
    """What docs/operations.md says to do with a `trainer db backup` archive: pg_restore --clean --if-exists."""
    parsed = make_url(url)
    plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    pg_restore = shutil.which("pg_restore")
    assert pg_restore is not None, "pg_restore is needed (Debian: postgresql-client)"
    subprocess.run(
        [pg_restore, "--clean", "--if-exists", "--no-owner", f"--dbname={plain}", str(archive)],
        env=env,
        check=True,
        timeout=120,
    )


def only(*names: str) -> pytest.MarkDecorator:
    """Run a `db_url` test on these backends only (e.g. SQLite's file format, PostgreSQL's pg_dump)."""
    return pytest.mark.parametrize(
        "db_url",
        [pytest.param(name, marks=pytest.mark.postgresql) if name == POSTGRESQL else name for name in names],
        indirect=True,
    )
