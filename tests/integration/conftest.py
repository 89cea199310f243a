"""`db_url`: a fresh, empty database for each test, on every backend the tests can reach (see backends.py).

A test that takes `db_url` runs once on an SQLite file and once on a PostgreSQL schema. The PostgreSQL run is skipped
only when TRAINER_TEST_DB is unset (CI always sets it); select the backends with `-m postgresql` or `-m "not postgresql"`.
A test can narrow the backends with `@backends.only(SQLITE)` (or `only(POSTGRESQL)`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import ENV, POSTGRESQL, SQLITE, fresh_postgresql, postgresql_base


@pytest.fixture(params=[SQLITE, pytest.param(POSTGRESQL, marks=pytest.mark.postgresql)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == SQLITE:
        yield f"sqlite:///{tmp_path / 'trainer.db'}"
        return
    base = postgresql_base()
    if base is None:
        pytest.skip(f"{ENV} is not set: no PostgreSQL server to test against (.ci/run starts one)")
    with fresh_postgresql(base) as url:
        yield url
