"""The store's raw-driver paths: bulk reads and writes that skip SQLAlchemy's per-row machinery.

SQLAlchemy still compiles each statement for the backend and its column types still convert the parameters; only the
Row built per result row (rows) and the per-row parameter processing (executemany) are skipped. Each is kept where
bench/bench_store_paths.py shows the gain (docs/performance.md, "Raw driver paths"): executemany for thousands of
scorings at once; rows for `trainer db copy`, which converts the columns itself (copy.py). The ledger's per-append
statements are raw too (ledger.py). Everything else, listings and event reads included (measured no faster raw),
uses conn.execute().
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def rows(conn: Connection, statement: Any) -> list[tuple[Any, ...]]:
    """The rows of a SELECT as the driver returns them (plain tuples, no SQLAlchemy Row or type processing: only for
    columns the driver already returns as wanted, or converted by the caller). Errors are raised as SQLAlchemy's."""
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    # The parameters through their column types' bind processors, as conn.execute() would: a `since` in the site's
    # zone (2026-11-01 00:00+08:00) must reach SQLite as UTC text, not be compared as written with the stored UTC text.
    dialect = conn.dialect
    params: Any = dict(compiled.params)
    for bind, name in compiled.bind_names.items():
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect) if name in params else None
        if convert is not None:
            params[name] = convert(params[name])
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    sql = str(compiled)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect) from exc
    finally:
        cursor.close()


def executemany(conn: Connection, statement: Any, rows: Sequence[Mapping[str, Any]]) -> int:
    """Execute an INSERT or UPDATE for each row (a mapping of bind parameter names to values), in one executemany of
    the driver; the number of rows changed.

    As conn.execute(statement, rows) would, SQLAlchemy compiles the statement and its column types convert the values
    (bind processors), but converted in one pass here, once per value repeated from row to row (a timestamp), instead
    of through SQLAlchemy's per-row parameter machinery."""
    compiled = statement.compile(dialect=conn.dialect, column_keys=list(rows[0]))
    names: list[str] = list(compiled.positiontup or ()) if compiled.positional else list(compiled.bind_names.values())
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    dialect = conn.dialect
    columns = []
    for name in names:  # column by column: a converter is looked up once, and zip() makes the rows in C
        values = [row[name] for row in rows]
        convert = by_name[name].type.dialect_impl(dialect).bind_processor(dialect)
        columns.append(values if convert is None else _converted(values, convert))
    params: list[Any] = list(zip(*columns, strict=True))
    if not compiled.positional:
        params = [dict(zip(names, values, strict=True)) for values in params]
    return conn.exec_driver_sql(str(compiled), params).rowcount


def _converted(values: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """`values` through a bind processor, converting a value repeated from row to row (a timestamp) only once."""
    out: list[Any] = []
    last: Any = out  # a sentinel no value is
    done = None
    for value in values:
        if value is not last:
            last, done = value, convert(value)
        out.append(done)
    return out
