"""The migration mechanism on every backend (SQLite, and PostgreSQL when TRAINER_TEST_DB is set), with made-up steps after
the real ones, and `trainer db upgrade` on a database of every older version."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from backends import execute, scalars, table_names
from cliproc import run_cli
from sqlalchemy import Connection, make_url, text

from trainer.store import Store, dialect, migrations, schema


def _engine(url: str):  # type: ignore[no-untyped-def]
    return dialect.create_engine(make_url(url), lock_timeout=5, fsync_every_commit=True)


def _version(url: str) -> str:
    return scalars(url, "SELECT value FROM meta WHERE key = 'schema_version'")[0]


def test_a_fresh_database_is_created_at_the_latest_version(db_url: str) -> None:
    with Store.open(db_url) as store:
        assert store.upgraded_from == 0
    assert _version(db_url) == str(schema.SCHEMA_VERSION) == str(migrations.latest_version())
    assert table_names(db_url) == set(schema.metadata.tables)
    with Store.open(db_url) as store:
        assert store.upgraded_from is None  # already current


def test_an_older_database_is_upgraded_step_by_step_once(db_url: str) -> None:
    Store.open(db_url).close()
    calls: list[int] = []
    latest = migrations.latest_version()

    def add_notes(conn: Connection) -> None:
        calls.append(latest + 1)
        conn.execute(text("CREATE TABLE notes (session_id VARCHAR(36), seq INTEGER, note TEXT)"))

    steps = (*migrations.STEPS, migrations.Step(latest + 1, "notes", add_notes))
    engine = _engine(db_url)
    try:
        assert migrations.ensure(engine, steps) == latest
        assert migrations.ensure(engine, steps) == latest + 1  # already current: the step does not run again
    finally:
        engine.dispose()
    assert calls == [latest + 1] and _version(db_url) == str(latest + 1)


def test_a_failing_step_leaves_the_database_at_its_version(db_url: str) -> None:
    Store.open(db_url).close()

    def broken(conn: Connection) -> None:
        conn.execute(text("CREATE TABLE half_done (x INTEGER)"))
        raise RuntimeError("step failed")

    latest = migrations.latest_version()
    engine = _engine(db_url)
    try:
        with pytest.raises(RuntimeError):
            migrations.ensure(engine, (*migrations.STEPS, migrations.Step(latest + 1, "broken", broken)))
    finally:
        engine.dispose()
    assert _version(db_url) == str(latest)
    assert "half_done" not in table_names(db_url)


def _database_at(url: str, version: int) -> None:
    """A database as Trainer `version` created it: the tables of schema version 1, then the real steps up to `version`.

    Version 1's tables are taken from schema.py, whose shape of them has not changed since but for the index version 3
    added, the column version 4 added and the trainees' columns version 5 added (all dropped here); a step that alters one of them must spell out its version
    1 shape here.
    """
    engine = _engine(url)
    first = [schema.meta, schema.trainees, schema.sessions, schema.events, schema.settings]
    try:
        with engine.begin() as conn:
            schema.metadata.create_all(conn, tables=first)
            conn.execute(text(f"DROP INDEX {schema.UNSCORED_INDEX}"))
            conn.execute(text("ALTER TABLE sessions DROP COLUMN score_hash"))
            for column in ("role", "plant", "hire_date", "merged_into"):  # added by version 5
                conn.execute(text(f"ALTER TABLE trainees DROP COLUMN {column}"))
            conn.execute(text("ALTER TABLE sessions DROP COLUMN mode"))  # added by version 5
            conn.execute(
                schema.meta.insert(),
                [{"key": "application", "value": schema.APPLICATION}, {"key": "schema_version", "value": "1"}],
            )
            for step in migrations.STEPS:
                if step.to_version <= version:
                    step.apply(conn)
            conn.execute(schema.meta.update().where(schema.meta.c.key == "schema_version").values(value=str(version)))
    finally:
        engine.dispose()




@pytest.mark.parametrize("version", range(1, migrations.latest_version()))
def test_db_upgrade_brings_every_older_version_to_the_latest(db_url: str, version: int) -> None:
    _database_at(db_url, version)
    execute(
        db_url,
        schema.trainees.insert().values(badge="B1", name="Ann", department="Press", created_at=datetime.now(UTC)),
    )
    latest = migrations.latest_version()
    run = run_cli("db", "upgrade", "--db", db_url)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].endswith(f"upgraded from schema version {version} to {latest}")
    assert [line.split(":")[0].strip() for line in lines[1:]] == [str(v) for v in range(version + 1, latest + 1)]
    assert "secret" not in run.stdout  # the URL is shown with its password hidden
    assert _version(db_url) == str(latest)
    assert set(schema.metadata.tables) <= table_names(db_url)
    again = run_cli("db", "upgrade", "--db", db_url)
    assert again.returncode == 0 and again.stdout.strip().endswith("already current; nothing to do")
    with Store.open(db_url) as store:  # the old rows are still there and the new tables work
        assert store.get_trainee("B1") is not None
        session = store.create_session("B1", "c", "1", "h", 1, "en")
        store.set_labels(session.id, "instructor", {"M1": "minor"})
        assert [label.severity for label in store.labels(session.id)] == ["minor"]


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
