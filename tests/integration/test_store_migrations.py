"""The migration mechanism, exercised with a made-up step (the real list is empty until schema version 2)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import Connection, make_url, text

from trainer.store import Store, dialect, migrations, schema


def _engine(path: Path):  # type: ignore[no-untyped-def]
    return dialect.create_engine(make_url(f"sqlite:///{path}"), lock_timeout=5, fsync_every_commit=True)


def _version(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]


def test_a_fresh_database_is_created_at_the_latest_version(tmp_path: Path) -> None:
    Store.open(tmp_path / "t.db").close()
    assert _version(tmp_path / "t.db") == str(schema.SCHEMA_VERSION) == str(migrations.latest_version())


def test_an_older_database_is_upgraded_step_by_step_once(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    Store.open(path).close()
    calls: list[int] = []

    def add_labels(conn: Connection) -> None:
        calls.append(2)
        conn.execute(text("CREATE TABLE labels (session_id VARCHAR(36), seq INTEGER, severity VARCHAR(16))"))

    steps = (migrations.Step(2, "labels", add_labels),)
    engine = _engine(path)
    try:
        assert migrations.ensure(engine, steps) == 1
        assert migrations.ensure(engine, steps) == 2  # already current: the step does not run again
    finally:
        engine.dispose()
    assert calls == [2] and _version(path) == "2"


def test_a_failing_step_leaves_the_database_at_its_version(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    Store.open(path).close()

    def broken(conn: Connection) -> None:
        conn.execute(text("CREATE TABLE half_done (x INTEGER)"))
        raise RuntimeError("step failed")

    engine = _engine(path)
    try:
        with pytest.raises(RuntimeError):
            migrations.ensure(engine, (migrations.Step(2, "broken", broken),))
    finally:
        engine.dispose()
    assert _version(path) == "1"
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None


def test_steps_must_go_up_one_version_at_a_time() -> None:
    with pytest.raises(AssertionError, match="one version at a time"):
        migrations.ensure(None, (migrations.Step(3, "skips 2", lambda conn: None),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tables", "meta", "expected"),
    [
        (set(), {}, None),
        ({"meta", "sessions"}, {"application": "trainer", "schema_version": "1"}, 1),
    ],
)
def test_identify(tables: set[str], meta: dict[str, str], expected: int | None) -> None:
    assert migrations.identify(tables, meta, latest=1) == expected


def test_identify_refuses_foreign_and_newer() -> None:
    with pytest.raises(migrations.ForeignDatabase, match="invoices"):
        migrations.identify({"invoices"}, {}, latest=1)
    with pytest.raises(migrations.ForeignDatabase, match="application"):
        migrations.identify({"meta"}, {"schema_version": "1"}, latest=1)
    with pytest.raises(migrations.NewerDatabase, match="schema version 2"):
        migrations.identify({"meta"}, {"application": "trainer", "schema_version": "2"}, latest=1)
