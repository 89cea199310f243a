"""`trainer db copy`: a whole Trainer database copied into another, or several plants' merged into one, then verified.

What it copies: every table of schema.py (trainees, sessions, events, scores, labels, trainee PINs, settings, the audit
trail, the ledger) and meta['chain'] (how the record is hashed), between SQLite and PostgreSQL in any direction.

- The source is opened read-only (SQLite: `mode=ro`; PostgreSQL: `default_transaction_read_only`) and read in one
  snapshot (one read transaction), so terminals may keep playing on it: what they store after the copy started is
  copied by the next run.
- The target is written in batches, each its own transaction, so an interrupted copy keeps what it wrote. Every run
  works out what the target lacks from the target itself (the sessions and rows it holds, the events of each session
  up to the last one it holds, the last audit id and ledger entry), so a second run continues where the first stopped
  and copies nothing twice. Rows that changed on the source (a session that went on, was scored or voided; a trainee
  renamed; a PIN cleared) are brought up to date.
- Events, the ledger and the audit trail stream in batches (keyset pages of the source); nothing holds all the rows.
  On PostgreSQL targets new rows go in with COPY, on SQLite with one executemany per batch.
- A target that already holds records of another database is refused, unless merging (`--merge --plant NAME`).

Merging: each plant's trainees are tagged with their plant (trainees.plant). A badge that another plant already uses in
the target (two plants may both have badge 1001: two people) is renamed `BADGE@PLANT` for the plant merged later; the
badge that got there first keeps its name. A session's first event hash binds the badge it was recorded with (its
genesis, chain.py), so the session's chain is not rewritten (it could not be without changing every hash, and then its
heads would no longer match the source's): the session keeps its genesis and events as they are, and the ledger gets a
"rebadge" entry (the new badge, the one it replaces, the plant) right after the session's start; verification
(evidence.py) checks the row's badge against the last rename. Session ids are uuid4 and stay what they are; a session
id already in the target from another plant (the same file merged twice under two names) is refused. The merged
plant's ledger entries are appended to the target's ledger, renumbered and chained after its last entry (their heads,
the sessions' and trainees' record, unchanged; trainee entries name the renamed badge), so the target's ledger verifies
whole; this needs the same hashing (meta['chain']) in every database merged, and the site key if it is keyed.
Audit rows are appended with new ids. Settings the target has are kept; those it lacks are added. What a plant has
merged so far is kept in the target's meta (`copy.plant.NAME`: the source's identity, the last audit id and ledger
entry merged) and updated in the transaction that merges them.

Proof: after copying, the target is verified as `trainer sessions verify` does (Store.verification: every session's
chain, identity and derived fields, the ledger whole, the trainees), every session of the source snapshot must have the
same heads (events, last event hash, last scoring hash) on the target, and the rows of each table must be there.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy
from sqlalchemy import Column, Connection, Engine, Table, bindparam, event, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from trainer.store import chain, dialect, driver, migrations, schema, settings, sweep
from trainer.store.access import writing
from trainer.store.errors import StoreError
from trainer.store.opening import resolve
from trainer.store.records import Verification

SESSION_BATCH = 500  # sessions per target transaction (with their events, scorings and labels)
ROW_BATCH = 5000  # audit rows or ledger entries per target transaction
PLANT_MAX = 32  # characters of a plant name (a renamed badge is BADGE@PLANT, in a 64-character column)
_META_SOURCE = "copy.source"  # a plain copy's source identity
_META_PLANT = "copy.plant."  # + plant name: what a merge of that plant has done (JSON)

# Tables copied row for row by primary key (insert what is missing, update what differs); the others have their own
# way below. A table a later schema adds is copied this way too until it gets its own (test_copy checks the list).
MIRRORED = ("trainees", "trainee_pins", "settings")
SESSION_TABLES = ("sessions", "events", "scores", "labels")
STREAMED = ("audit", "ledger")
# A site's own policy: copied by primary key, never merged (each plant's required courses differ; the merged database
# gets its own with `trainer requirements load`, which the ledger records as one whole set).
POLICY = ("requirements",)
# A session's rows copied by primary key, in a copy and in a merge (session ids are unique across plants).
BY_SESSION = ("features",)
KNOWN = ("meta", *MIRRORED, *SESSION_TABLES, *STREAMED, *POLICY, *BY_SESSION)
SHOWN = ("trainees", "sessions", "events", "scores", "labels", "trainee_pins", "settings", "audit", "ledger")

Progress = Callable[[str, int], None]  # (table, rows just handled): advances a progress bar


@dataclass(frozen=True)
class TableCount:
    """One table after the copy: its rows on the source (the snapshot), on the target (of this source), copied now."""

    table: str
    source: int
    target: int
    copied: int


@dataclass(frozen=True)
class Copied:
    """What a copy did and what its verification found (`differences`: one line each, naming the session)."""

    source: str
    target: str
    plant: str | None
    tables: tuple[TableCount, ...]
    rebadged: tuple[tuple[str, str], ...]  # (badge on the source, badge on the target), all of this plant so far
    differences: tuple[str, ...]
    verification: Verification
    seconds: float  # copying (reading the source, writing the target)
    verify_seconds: float  # verifying the target against its chains and the source's heads


@dataclass(frozen=True)
class Totals:
    """The source snapshot's row counts, for the progress bar (known before anything is copied)."""

    rows: Mapping[str, int]


def _fail(where: str, message: str) -> StoreError:
    return StoreError(f"{where}: {message}")


# --- opening -------------------------------------------------------------------------------------------------------------


def _url(text: str) -> URL:
    chosen, _ = resolve(text)
    try:
        return dialect.normalize(make_url(chosen))
    except ArgumentError as exc:
        raise StoreError(
            f"{text}: not a database URL or file path; give a path such as ./trainer.db or a URL such as "
            "postgresql+psycopg://USER@HOST/DB"
        ) from exc


def _shown(url: URL) -> str:
    path = dialect.sqlite_file(url)
    return str(path) if path is not None else url.render_as_string(hide_password=True)


def open_source(text: str) -> tuple[Engine, str]:
    """A read-only engine on the source database, and how messages name it. Its read transactions are snapshots."""
    url = _url(text)
    where = _shown(url)
    if dialect.is_sqlite(url):
        path = dialect.sqlite_file(url)
        if path is None:
            raise _fail(where, "an in-memory database cannot be copied; give the database file")
        if not path.is_file():
            raise _fail(where, "no such database file; check --from")
        uri = f"{path.as_uri()}?mode=ro"

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30)

        engine = sqlalchemy.create_engine("sqlite://", creator=connect, poolclass=sqlalchemy.NullPool)

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:  # pysqlite starts no transaction for reads: one snapshot needs BEGIN
            conn.exec_driver_sql("BEGIN")

        return engine, where
    if dialect.is_postgresql(url):
        given = url.query.get("options", "")
        given = given if isinstance(given, str) else " ".join(given)
        url = url.update_query_dict({"options": f"{given} -c default_transaction_read_only=on".strip()})
        try:
            return dialect.create_engine(url, lock_timeout=30, fsync_every_commit=True), where
        except ImportError as exc:
            raise _fail(where, str(exc)) from exc
    raise _fail(where, "copy reads SQLite and PostgreSQL databases only")


def _same_database(source: URL, target: URL) -> bool:
    a, b = dialect.sqlite_file(source), dialect.sqlite_file(target)
    if a is not None and b is not None:
        return b.exists() and os.path.samefile(a, b)
    return source.render_as_string(hide_password=False) == target.render_as_string(hide_password=False)


# --- rows: read from one backend, written to the other -----------------------------------------------------------------
# Rows travel as tuples of Python values in the table's column order ("neutral": aware UTC datetimes, bools), made from
# what the source driver returns by the column types' result processors, and handed to the target's driver as they are
# (psycopg's COPY adapts them) or through the types' bind processors (SQLite stores datetimes as text, bools as 0/1).


def _readers(conn: Connection, columns: Sequence[Column[Any]]) -> list[Callable[[Any], Any] | None]:
    d = conn.dialect
    if d.name == "postgresql":  # psycopg returns the Python values already (aware datetimes, bools, floats)
        return [None for _ in columns]
    # SQLite's text timestamps, as SQLAlchemy writes them (2026-03-10 04:00:00.000000, UTC): fromisoformat reads them in
    # C, four times faster than the dialect's regular expression (a million events have a million of them)
    return [
        _sqlite_utc if isinstance(c.type, schema.UTCDateTime) else c.type.dialect_impl(d).result_processor(d, None)
        for c in columns
    ]


def _sqlite_utc(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _writers(conn: Connection, columns: Sequence[Column[Any]]) -> list[Callable[[Any], Any] | None]:
    d = conn.dialect
    return [c.type.dialect_impl(d).bind_processor(d) for c in columns]


def _apply(rows: Sequence[Sequence[Any]], procs: Sequence[Callable[[Any], Any] | None]) -> list[tuple[Any, ...]]:
    """`rows` through the column processors, column by column; a value repeated from row to row (the stored time of
    the events of one write) is converted once."""
    if not rows or all(p is None for p in procs):
        return [tuple(r) for r in rows]
    columns = []
    for i, proc in enumerate(procs):
        values = [r[i] for r in rows]
        if proc is not None:
            out: list[Any] = []
            last, done = object(), None
            for v in values:
                if v is None:
                    out.append(None)
                    continue
                if v != last:
                    last, done = v, proc(v)
                out.append(done)
            values = out
        columns.append(values)
    return list(zip(*columns, strict=True))


def read(conn: Connection, table: Table, statement: Any = None) -> list[tuple[Any, ...]]:
    """The rows of `table` (all its columns, in order) that `statement` (a select of them; default all) returns."""
    columns = list(table.columns)
    query: Any = statement if statement is not None else select(*columns)
    found = driver.rows(conn, query)  # no SQLAlchemy Row per row: a million events would pay for it
    return _apply(found, _readers(conn, columns))


def insert(conn: Connection, table: Table, rows: Sequence[Sequence[Any]], columns: Sequence[str] | None = None) -> None:
    """Add rows (neutral tuples of `columns`, default all of the table's) in the target's fastest way."""
    if not rows:
        return
    cols = [table.c[name] for name in columns] if columns is not None else list(table.columns)
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in cols)
    if conn.dialect.name == "postgresql":
        sql = f"COPY {quote(table.name)} ({names}) FROM STDIN"
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except conn.dialect.loaded_dbapi.Error as exc:  # the driver's own, raw: wrapped as SQLAlchemy wraps the others
            raise DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect) from exc
        finally:
            cursor.close()
        return
    marks = ", ".join("?" for _ in cols)
    values = _apply(rows, _writers(conn, cols))
    conn.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})", values)


def _update(conn: Connection, table: Table, rows: Sequence[Sequence[Any]]) -> None:
    """Overwrite rows (neutral tuples, all columns) by their primary key."""
    if not rows:
        return
    key = [c.name for c in table.primary_key.columns]
    names = [c.name for c in table.columns]
    statement = table.update().where(*(table.c[k] == bindparam(f"k_{k}") for k in key))
    statement = statement.values({n: bindparam(f"v_{n}") for n in names if n not in key})
    params = []
    for row in rows:
        values = dict(zip(names, row, strict=True))
        params.append({f"k_{k}": values[k] for k in key} | {f"v_{n}": values[n] for n in names if n not in key})
    conn.execute(statement, params)


def _delete(conn: Connection, table: Table, keys: Sequence[tuple[Any, ...]]) -> None:
    if not keys:
        return
    key = list(table.primary_key.columns)
    conn.execute(
        table.delete().where(*(c == bindparam(f"k_{c.name}") for c in key)),
        [{f"k_{c.name}": v for c, v in zip(key, k, strict=True)} for k in keys],
    )


def _pk(table: Table) -> list[int]:
    names = [c.name for c in table.columns]
    return [names.index(c.name) for c in table.primary_key.columns]


# --- the plan: what the target is, and what this run may do ----------------------------------------------------------


@dataclass
class _Run:
    source: Connection  # the snapshot
    target: Engine
    source_where: str
    target_where: str
    plant: str | None
    keying: chain.Keying  # the target's (the same as the source's)
    progress: Progress
    badges: dict[str, str] = field(default_factory=dict)  # source badge -> target badge
    copied: dict[str, int] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)  # a merge's meta state (copy.plant.NAME)

    @property
    def merging(self) -> bool:
        return self.plant is not None

    def count(self, table: str, copied: int, handled: int | None = None) -> None:
        """`copied` rows of `table` written, of `handled` read from the source (the progress bar's step)."""
        self.copied[table] = self.copied.get(table, 0) + copied
        self.progress(table, copied if handled is None else handled)

    def writing(self, what: str) -> AbstractContextManager[Connection]:
        """A write transaction on the target (access.writing, as the store's own writes)."""
        kept = "the batches before it were kept: run the same copy again to continue"
        return writing(self.target, self.target_where, what, undone=kept)


def source_identity(conn: Connection) -> str:
    """What tells this database from another (its meta cannot be written: it is read-only), made only of what never
    changes once written: its first ledger entry's hash, the id (a uuid4) of the first session the ledger names, and
    when the first trainee it names was registered (to the microsecond: two plants that registered the same first
    trainee and have no session yet still differ)."""
    led, t = schema.ledger, schema.trainees
    first = conn.execute(select(led.c.hash).order_by(led.c.seq).limit(1)).scalar_one_or_none()
    kinds = ("start", "legacy")
    session = conn.execute(
        select(led.c.subject).where(led.c.kind.in_(kinds)).order_by(led.c.seq).limit(1)
    ).scalar_one_or_none()
    badge = conn.execute(
        select(led.c.subject).where(led.c.kind == "trainee").order_by(led.c.seq).limit(1)
    ).scalar_one_or_none()
    registered = conn.execute(select(t.c.created_at).where(t.c.badge == badge)).scalar_one_or_none()
    text = f"{first}|{session}|{registered}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def check_plant(plant: str) -> str:
    name = plant.strip()
    if not name or len(name) > PLANT_MAX or any(c.isspace() or not c.isprintable() or c == "@" for c in name):
        raise StoreError(
            f"--plant {plant!r}: give the plant a short name (1 to {PLANT_MAX} characters, no spaces and no @), "
            "e.g. --plant chongqing2"
        )
    return name


def _meta(conn: Connection) -> dict[str, str]:
    m = schema.meta
    return {str(k): str(v) for k, v in conn.execute(select(m.c.key, m.c.value))}


def _set_meta(conn: Connection, key: str, value: str) -> None:
    dialect.upsert(conn, schema.meta, {"key": key, "value": value}, update=["value"])


def _holds_records(conn: Connection) -> bool:
    return any(
        conn.execute(select(table.c[column]).limit(1)).first() is not None
        for table, column in (
            (schema.trainees, "badge"),
            (schema.sessions, "id"),
            (schema.ledger, "seq"),
            (schema.audit, "id"),
        )
    )


def count_rows(conn: Connection) -> dict[str, int]:
    return {
        t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
        for t in schema.metadata.sorted_tables
        if t.name != "meta"
    }


# --- the copy ------------------------------------------------------------------------------------------------------------


def copy(
    source_url: str,
    target_url: str,
    *,
    plant: str | None = None,
    progress: Progress = lambda table, n: None,
    started: Callable[[Totals], None] = lambda totals: None,
) -> Copied:
    """Copy (or with `plant`, merge) the database at `source_url` into the one at `target_url`, then verify; see the
    module. Raises StoreError (one line) when the copy cannot be made; differences found after it are in the result."""
    from trainer.store.store import Store

    clock = time.perf_counter()
    if plant is not None:
        plant = check_plant(plant)
    src_url, dst_url = _url(source_url), _url(target_url)
    engine, source_where = open_source(source_url)
    if _same_database(src_url, dst_url):
        raise _fail(source_where, "--from and --to name the same database; copy into another one")
    try:
        try:
            with dialect.read_transaction(engine) as src:
                found = _source_version(src, source_where)
                source_meta = _meta(src)
                identity = source_identity(src)
                totals = count_rows(src)
                with Store.open(target_url) as store:
                    target_where = store._where
                    run = _prepare(
                        store._engine, src, source_where, target_where, plant, source_meta, identity, progress
                    )
                    started(Totals(totals))
                    _copy_all(run)
                    expected = _expected_heads(src)
                    tally = _tally(run, src, totals)
                del found
        except (SQLAlchemyError, OSError) as exc:
            raise _fail(source_where, f"could not read the source: {dialect.explain(exc)}") from exc
    finally:
        engine.dispose()
    copied_at = time.perf_counter()
    with Store.open(target_url) as store:  # again: the keying may have been set from the source's
        verification = sweep.verify(store._engine, store._keying)
        target_heads = _target_heads(store._engine, list(expected))
    differences = [p.line() for p in verification.problems]
    for sid, want in expected.items():
        got = target_heads.get(sid)
        if got is None:
            differences.append(f"session {sid}: missing from the target")
        elif got != want:
            differences.append(
                f"session {sid}: its head on the target ({_head(got)}) is not the source's ({_head(want)})"
            )
    for t in tally:
        if t.target != t.source:
            differences.append(f"{t.table}: the source has {t.source} rows, the target {t.target} of them")
    return Copied(
        source=source_where,
        target=target_where,
        plant=plant,
        tables=tuple(tally),
        rebadged=tuple(sorted((a, b) for a, b in run.badges.items() if a != b)),
        differences=tuple(differences),
        verification=verification,
        seconds=copied_at - clock,
        verify_seconds=time.perf_counter() - copied_at,
    )


def _head(head: tuple[int, str, str | None]) -> str:
    count, event_hash, score_hash = head
    scored = f", scoring {score_hash[:12]}" if score_hash else ""
    return f"{count} events, last {event_hash[:12]}{scored}"


def _source_version(conn: Connection, where: str) -> int:
    tables, meta = migrations._read_state(conn)
    latest = migrations.latest_version()
    try:
        version = migrations.identify(tables, meta, latest)
    except (migrations.ForeignDatabase, migrations.NewerDatabase) as exc:
        raise _fail(where, f"not a database this Trainer can copy ({exc}); nothing was copied") from exc
    if version is None:
        raise _fail(where, "the database is empty; nothing to copy (check --from)")
    if version < latest:
        raise _fail(
            where,
            f"schema version {version}, this Trainer writes {latest}: upgrade it first (trainer db upgrade --db "
            "SOURCE, with its terminals stopped), then copy; the copy opens it read-only",
        )
    return version


def _prepare(
    target: Engine,
    src: Connection,
    source_where: str,
    target_where: str,
    plant: str | None,
    source_meta: Mapping[str, str],
    identity: str,
    progress: Progress,
) -> _Run:
    """Check that the target may take this source (empty, a copy of it, or a merge), and record what it now is."""
    chain_value = source_meta.get("chain", chain.UNKEYED)
    keyed = chain_value.startswith(chain.KEYED)
    from trainer import sitekey

    keying = chain.Keying.from_meta(chain_value, sitekey.site_key() if keyed else None)
    t = schema.trainees
    if plant is not None and src.execute(select(t.c.badge).where(t.c.plant.is_not(None)).limit(1)).first():
        raise _fail(
            source_where,
            "its trainees are tagged with plants: it holds merged plants already; merge each plant's own database "
            "(a plain copy of it is fine)",
        )
    try:
        return _claim(target, src, source_where, target_where, plant, chain_value, keying, identity, progress)
    except (SQLAlchemyError, OSError) as exc:
        raise _fail(target_where, f"could not prepare the copy: {dialect.explain(exc)}; nothing was copied") from exc


def _claim(
    target: Engine,
    src: Connection,
    source_where: str,
    target_where: str,
    plant: str | None,
    chain_value: str,
    keying: chain.Keying,
    identity: str,
    progress: Progress,
) -> _Run:
    from trainer import sitekey

    with dialect.write_transaction(target, prepare=dialect.lock_schema) as conn:
        meta = _meta(conn)
        holds = _holds_records(conn)
        plants = {k.removeprefix(_META_PLANT): v for k, v in meta.items() if k.startswith(_META_PLANT)}
        copied_from = meta.get(_META_SOURCE)
        state: dict[str, Any] = {}
        if holds and meta.get("chain", chain.UNKEYED) != chain_value:
            raise _fail(
                target_where,
                f"its record is hashed with {meta.get('chain', chain.UNKEYED)}, the source's with {chain_value}: "
                "databases can be merged only when they share the hashing (the same site key, or none; see "
                "docs/operations.md); nothing was copied",
            )
        if plant is None:
            if plants:
                raise _fail(
                    target_where,
                    f"it holds merged plants ({', '.join(sorted(plants))}); add this database with --merge --plant NAME",
                )
            if holds and copied_from != identity:
                raise _fail(
                    target_where,
                    "it already holds other records (it is not a copy of this source); choose an empty database, or "
                    "merge into it with --merge --plant NAME",
                )
            _set_meta(conn, _META_SOURCE, identity)
        else:
            if not keying.can_hash:
                raise _fail(
                    source_where,
                    f"its record is keyed with site key {keying.key_id}, and this process does not have it: a merge "
                    f"chains the plant's ledger onto the target's; set {sitekey.ENV_VAR} to that key's file",
                )
            if copied_from == identity:
                raise _fail(target_where, "it is a plain copy of this source already; merging it again would double it")
            for other, text in plants.items():
                if json.loads(text).get("source") == identity and other != plant:
                    raise _fail(
                        target_where,
                        f"this source was merged into it as plant {other}; run the same command with --plant {other}",
                    )
            if plant in plants:
                state = json.loads(plants[plant])
                if state.get("source") != identity:
                    raise _fail(
                        target_where,
                        f"plant {plant} was merged into it from another database; give this one another --plant name",
                    )
            else:
                state = {"source": identity, "audit": 0, "ledger": 0}
                _set_meta(conn, _META_PLANT + plant, json.dumps(state, sort_keys=True))
        if not holds:
            _set_meta(conn, "chain", chain_value)
    return _Run(src, target, source_where, target_where, plant, keying, progress, state=state)


def _copy_all(run: _Run) -> None:
    _trainees(run)
    _sessions(run)
    _pins(run)
    _settings(run)
    for table in schema.metadata.sorted_tables:  # a table a later schema adds, copied by primary key
        if table.name not in KNOWN or table.name in BY_SESSION or (table.name in POLICY and not run.merging):
            _mirror(run, table, read(run.source, table), scope=None)
    _audit(run)
    _ledger(run)
    if run.target.dialect.name == "postgresql":
        with run.writing("set the id sequences") as conn:
            for table in (schema.scores, schema.audit):
                conn.execute(
                    sqlalchemy.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), coalesce(max(id), 0) + 1, false) "
                        f"FROM {table.name}"
                    )
                )


def _mirror(
    run: _Run,
    table: Table,
    rows: Sequence[tuple[Any, ...]],
    *,
    scope: Sequence[tuple[Any, ...]] | None,
    delete: bool = True,
) -> None:
    """Make the target's rows of `table` among the keys of `rows` (and `scope`: more keys of this source, whose rows
    the source no longer has: deleted) equal to `rows`."""
    key = _pk(table)
    with run.writing(f"copy {table.name}") as conn:
        have = {tuple(r[i] for i in key): r for r in read(conn, table)}
        new = [r for r in rows if tuple(r[i] for i in key) not in have]
        changed = [r for r in rows if (old := have.get(tuple(r[i] for i in key))) is not None and old != r]
        insert(conn, table, new)
        _update(conn, table, changed)
        if delete and scope is not None:
            present = {tuple(r[i] for i in key) for r in rows}
            _delete(conn, table, [k for k in scope if k not in present and k in have])
    run.count(table.name, len(new) + len(changed), len(rows))


def _trainees(run: _Run) -> None:
    t = schema.trainees
    rows = read(run.source, t)
    names = [c.name for c in t.columns]
    at_badge, at_plant = names.index("badge"), names.index("plant")
    if run.merging:
        with run.writing("read the target's trainees") as conn:
            taken = {b: p for b, p in conn.execute(select(t.c.badge, t.c.plant))}
        for row in rows:
            run.badges[row[at_badge]] = _badge_for(run, str(row[at_badge]), taken)
        if len(set(run.badges.values())) != len(run.badges):
            raise _fail(run.target_where, f"the badges of plant {run.plant} cannot be kept apart (BADGE@PLANT taken)")
        rows = [
            tuple(run.badges[r[i]] if i == at_badge else run.plant if i == at_plant else v for i, v in enumerate(r))
            for r in rows
        ]
    else:
        run.badges = {r[at_badge]: r[at_badge] for r in rows}
    for first in range(0, len(rows), ROW_BATCH):
        _mirror(run, t, rows[first : first + ROW_BATCH], scope=None)


def _badge_for(run: _Run, badge: str, taken: dict[str, str | None]) -> str:
    """The badge this plant's trainee has in the target: its own, unless another plant (or an unmerged database) has it
    there already; then BADGE@PLANT. The same answer on every run: a trainee merged before is found with its plant."""
    apart = f"{badge}@{run.plant}"
    if badge in taken and taken[badge] == run.plant:
        return badge
    if apart in taken and taken[apart] == run.plant:
        return apart
    if badge not in taken:
        return badge
    if apart in taken or len(apart) > 64:
        raise _fail(
            run.target_where,
            f"badge {badge} of plant {run.plant} is taken by another plant's trainee and {apart} is not free either",
        )
    return apart


def _sessions(run: _Run) -> None:
    """Sessions in batches of SESSION_BATCH (by id), each batch with its events, scorings and labels in one
    transaction: an interrupted copy leaves whole batches."""
    s = schema.sessions
    names = [c.name for c in s.columns]
    at_badge = names.index("badge")
    last = ""
    while True:
        rows = read(run.source, s, select(*s.columns).where(s.c.id > last).order_by(s.c.id).limit(SESSION_BATCH))
        if not rows:
            return
        last = rows[-1][0]
        if run.merging:
            rows = [tuple(run.badges[v] if i == at_badge else v for i, v in enumerate(r)) for r in rows]
        _session_batch(run, rows)


def _session_batch(run: _Run, rows: list[tuple[Any, ...]]) -> None:
    s, e, h, lab = schema.sessions, schema.events, schema.scores, schema.labels
    ids = [r[0] for r in rows]
    with run.writing("copy sessions") as conn:
        have = {r[0]: r for r in read(conn, s, select(*s.columns).where(s.c.id.in_(ids)))}
        if run.merging:
            for r in rows:
                old = have.get(r[0])
                if old is not None and old[1] != r[1]:
                    raise _fail(
                        run.target_where,
                        f"session {r[0]} is there already, of trainee {old[1]}, not {r[1]}: the same records cannot be "
                        f"merged under two plants (was this file merged under another --plant?); nothing more was copied",
                    )
        new = [r for r in rows if r[0] not in have]
        changed = [r for r in rows if r[0] in have and have[r[0]] != r]
        insert(conn, s, new)
        _update(conn, s, changed)
        # events: each session's, after the last one the target holds (an interrupted run left whole batches, and
        # events only ever grow)
        held = dict(
            conn.execute(
                select(e.c.session_id, func.max(e.c.seq)).where(e.c.session_id.in_(ids)).group_by(e.c.session_id)
            ).all()
        )
        events = read(
            run.source, e, select(*e.columns).where(e.c.session_id.in_(ids)).order_by(e.c.session_id, e.c.seq)
        )
        fresh = [r for r in events if r[1] > held.get(r[0], 0)]
        insert(conn, e, fresh)
        # scorings: appended, never changed; plain copies keep their ids, merges take new ones (the target's own may
        # be taken), after the ones the target holds for the session
        scorings = read(
            run.source, h, select(*h.columns).where(h.c.session_id.in_(ids)).order_by(h.c.session_id, h.c.id)
        )
        if run.merging:
            counts: dict[str, int] = dict(
                conn.execute(
                    select(h.c.session_id, func.count()).where(h.c.session_id.in_(ids)).group_by(h.c.session_id)
                ).all()
            )
            seen: dict[str, int] = {}
            todo = []
            for r in scorings:
                seen[r[1]] = seen.get(r[1], 0) + 1
                if seen[r[1]] > counts.get(r[1], 0):
                    todo.append(r[1:])
            insert(conn, h, todo, [c.name for c in h.columns][1:])
        else:
            present = {i for (i,) in conn.execute(select(h.c.id).where(h.c.session_id.in_(ids)))}
            todo = [r for r in scorings if r[0] not in present]
            insert(conn, h, todo)
        # labels: an instructor may change a severity: made equal
        labels = read(run.source, lab, select(*lab.columns).where(lab.c.session_id.in_(ids)))
        there = {r[:3]: r for r in read(conn, lab, select(*lab.columns).where(lab.c.session_id.in_(ids)))}
        source_keys = {r[:3] for r in labels}
        relabelled = [r for r in labels if r[:3] not in there or there[r[:3]] != r]
        insert(conn, lab, [r for r in relabelled if r[:3] not in there])
        _update(conn, lab, [r for r in relabelled if r[:3] in there])
        _delete(conn, lab, [k for k in there if k not in source_keys])
    run.count("sessions", len(new) + len(changed), len(rows))
    run.count("events", len(fresh), len(events))
    run.count("scores", len(todo), len(scorings))
    run.count("labels", len(relabelled), len(labels))


def _pins(run: _Run) -> None:
    p = schema.trainee_pins
    rows = [(run.badges.get(r[0], r[0]), *r[1:]) for r in read(run.source, p)]
    scope = [(b,) for b in run.badges.values()]
    _mirror(run, p, rows, scope=scope)


def _settings(run: _Run) -> None:
    """The source's settings on the target, written as the store writes them (settings.put): a merge keeps the target's
    own and adds those it lacks; a copy makes the target's the source's."""
    wanted = settings.read_all(run.source)
    with run.writing("copy settings") as conn:
        have = settings.read_all(conn)
        if run.merging:
            wanted = {key: value for key, value in wanted.items() if key not in have}
        changed = {key: value for key, value in wanted.items() if have.get(key) != value}
        settings.put(conn, changed)
        if not run.merging:
            settings.remove(conn, set(have) - set(wanted))
    run.count("settings", len(changed), len(wanted))


def _audit(run: _Run) -> None:
    a = schema.audit
    if run.merging:
        last = int(run.state.get("audit", 0))
    else:
        with run.writing("read the target's audit trail") as conn:
            last = int(conn.execute(select(func.coalesce(func.max(a.c.id), 0))).scalar_one())
    while True:
        rows = read(run.source, a, select(*a.columns).where(a.c.id > last).order_by(a.c.id).limit(ROW_BATCH))
        if not rows:
            return
        last = rows[-1][0]
        with run.writing("copy the audit trail") as conn:
            if run.merging:
                insert(conn, a, [r[1:] for r in rows], [c.name for c in a.columns][1:])
                _save_state(run, conn, audit=last)
            else:
                insert(conn, a, rows)
        run.count("audit", len(rows))


def _save_state(run: _Run, conn: Connection, **changes: Any) -> None:
    run.state.update(changes)
    _set_meta(conn, _META_PLANT + str(run.plant), json.dumps(run.state, sort_keys=True))


def _ledger(run: _Run) -> None:
    led = schema.ledger
    if run.merging:
        last = int(run.state.get("ledger", 0))
    else:
        with run.writing("read the target's ledger") as conn:
            last = int(conn.execute(select(func.coalesce(func.max(led.c.seq), 0))).scalar_one())
    while True:
        rows = read(run.source, led, select(*led.columns).where(led.c.seq > last).order_by(led.c.seq).limit(ROW_BATCH))
        if not rows:
            return
        last = rows[-1][0]
        with run.writing("copy the ledger") as conn:
            if run.merging:
                entries = _merged_entries(run, rows)
                dialect.lock_ledger(conn)
                tail = conn.execute(select(led.c.seq, led.c.hash).order_by(led.c.seq.desc()).limit(1)).first()
                seq, prev = (int(tail[0]), str(tail[1])) if tail is not None else (0, chain.LEDGER_GENESIS)
                chained = []
                for kind, subject, count, head, facts in entries:
                    seq += 1
                    digest = chain.ledger_hash(run.keying, prev, seq, kind, subject, count, head, facts)
                    chained.append((seq, kind, subject, count, head, facts, prev, digest))
                    prev = digest
                insert(conn, led, chained)
                _save_state(run, conn, ledger=last)
            else:
                insert(conn, led, rows)
        run.count("ledger", len(rows))


def _merged_entries(run: _Run, rows: Sequence[tuple[Any, ...]]) -> list[tuple[str, str, int, str, str | None]]:
    """A merged plant's ledger entries as the target keeps them: trainees under their badge there, and after the start
    of each session whose badge was renamed, its rebadge entry (see the module)."""
    starts = [r[2] for r in rows if r[1] in ("start", "legacy")]
    s = schema.sessions
    badge_of: dict[str, str] = {}
    for first in range(0, len(starts), SESSION_BATCH):
        part = starts[first : first + SESSION_BATCH]
        badge_of.update(run.source.execute(select(s.c.id, s.c.badge).where(s.c.id.in_(part))).all())
    out: list[tuple[str, str, int, str, str | None]] = []
    for _seq, kind, subject, count, head, facts, _prev, _hash in rows:
        if kind in POLICY:
            continue  # a plant's requirements are not merged (see POLICY)
        if kind == "trainee":
            # The trainee as the target keeps them: under their badge there, tagged with the plant (the ledger keeps
            # the plant with the other roster fields, chain.trainee_facts), so the rows and the entries agree.
            was = json.loads(facts or "{}")
            badge = run.badges.get(subject, subject)
            roster = {key: was.get(key) for key in chain.ROSTER_FIELDS}
            roster["plant"] = run.plant
            facts = chain.trainee_facts(badge, str(was.get("name")), str(was.get("department")), **roster)
            head = chain.record_hash(run.keying, kind, facts)
            subject = badge
        out.append((kind, subject, count, head, facts))
        if kind in ("start", "legacy"):
            recorded: str | None = (
                json.loads(facts).get("badge") if kind == "start" and facts else badge_of.get(subject)
            )
            if recorded is None:
                continue
            now = run.badges.get(badge_of.get(subject, recorded), recorded)
            if now != recorded:
                out.append(("rebadge", subject, count, head, chain.rebadge_facts(now, recorded, str(run.plant))))
    return out


# --- the proof -------------------------------------------------------------------------------------------------------


def _expected_heads(src: Connection) -> dict[str, tuple[int, str, str | None]]:
    s = schema.sessions
    return {
        str(i): (int(c), str(h), sh)
        for i, c, h, sh in src.execute(select(s.c.id, s.c.event_count, s.c.head_hash, s.c.score_hash))
    }


def _target_heads(engine: Engine, ids: list[str]) -> dict[str, tuple[int, str, str | None]]:
    s = schema.sessions
    found: dict[str, tuple[int, str, str | None]] = {}
    with dialect.read_transaction(engine) as conn:
        for first in range(0, len(ids), SESSION_BATCH):
            part = ids[first : first + SESSION_BATCH]
            query = select(s.c.id, s.c.event_count, s.c.head_hash, s.c.score_hash).where(s.c.id.in_(part))
            found.update({str(i): (int(c), str(h), sh) for i, c, h, sh in conn.execute(query)})
    return found


def _tally(run: _Run, src: Connection, totals: Mapping[str, int]) -> list[TableCount]:
    """Each table's rows of this source on the target. Plain copy: the whole table. Merge: the rows of the plant's
    sessions and trainees; the audit trail and the ledger by what the merge recorded it took (the ledger verifies
    whole, and has a rebadge entry more for each renamed session)."""
    s, e, h, lab, t, p = (
        schema.sessions,
        schema.events,
        schema.scores,
        schema.labels,
        schema.trainees,
        schema.trainee_pins,
    )
    with dialect.read_transaction(run.target) as conn:
        if not run.merging:
            there = count_rows(conn)
        else:
            there = {name: 0 for name in totals}
            ids = [str(i) for (i,) in src.execute(select(s.c.id))]
            for first in range(0, len(ids), SESSION_BATCH):
                part = ids[first : first + SESSION_BATCH]
                f = schema.features
                for table, column in (
                    (s, s.c.id),
                    (e, e.c.session_id),
                    (h, h.c.session_id),
                    (lab, lab.c.session_id),
                    (f, f.c.session_id),
                ):
                    n = conn.execute(select(func.count()).select_from(table).where(column.in_(part))).scalar_one()
                    there[table.name] += int(n)
            badges = list(run.badges.values())
            for first in range(0, len(badges), SESSION_BATCH):
                part = badges[first : first + SESSION_BATCH]
                for table in (t, p):
                    n = conn.execute(
                        select(func.count()).select_from(table).where(table.c.badge.in_(part))
                    ).scalar_one()
                    there[table.name] += int(n)
            a, led = schema.audit, schema.ledger
            there["audit"] = int(
                src.execute(
                    select(func.count()).select_from(a).where(a.c.id <= int(run.state.get("audit", 0)))
                ).scalar_one()
            )
            there["ledger"] = int(
                src.execute(
                    select(func.count()).select_from(led).where(led.c.seq <= int(run.state.get("ledger", 0)))
                ).scalar_one()
            )
            st = schema.settings
            keys = [k for (k,) in src.execute(select(st.c.key))]  # the target's value is kept (see the module)
            there["settings"] = int(
                conn.execute(select(func.count()).select_from(st).where(st.c.key.in_(keys))).scalar_one()
            )
    order = [*SHOWN, *(name for name in totals if name not in SHOWN and not (run.merging and name in POLICY))]
    return [TableCount(name, int(totals[name]), int(there.get(name, 0)), run.copied.get(name, 0)) for name in order]
