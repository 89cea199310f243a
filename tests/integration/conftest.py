"""`db_url`: a fresh, empty database for each test, on every backend the tests can reach (see backends.py).
`played_db`: an SQLite file of trainees and attempts played through the engine, the report and export tests' data.

A test that takes `db_url` runs once on an SQLite file and once on a PostgreSQL schema. The PostgreSQL run is skipped
only when TRAINER_TEST_DB is unset (CI always sets it); select the backends with `-m postgresql` or `-m "not postgresql"`.
A test can narrow the backends with `@backends.only(SQLITE)` (or `only(POSTGRESQL)`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from backends import ENV, POSTGRESQL, SQLITE, fresh_postgresql, postgresql_base
from test_export_support import MINI, Attempt, Trainee, fill, plant_time_zone


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


@pytest.fixture(scope="session")
def _played_originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The databases `played_db` built in this test process, by recipe."""
    return {}


@pytest.fixture
def played_db(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, _played_originals: dict[str, Path]
) -> Callable[..., Path]:
    """`played_db(recipe, name="t.db", played=MINI)`: tmp_path/name, an SQLite store holding `recipe`'s trainees and
    attempts (test_export_support.fill). Playing sessions through the engine takes a while and many tests read the same
    few databases, so each recipe is played once per test process and every test gets its own copy of the file."""

    def make(recipe: Sequence[Trainee | Attempt], name: str = "t.db", played: Path = MINI) -> Path:
        key = repr((list(recipe), str(played)))
        original = _played_originals.get(key)
        if original is None:
            original = tmp_path_factory.mktemp("played") / name
            fill(original, recipe, played)
            _played_originals[key] = original
        path = tmp_path / name
        for suffix in ("", "-wal", "-shm"):  # the store closed cleanly: the -wal is folded in and gone, normally
            if Path(f"{original}{suffix}").exists():
                shutil.copyfile(f"{original}{suffix}", f"{path}{suffix}")
        return path

    return make


@pytest.fixture
def at_the_plant(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The report and sheet tests' setting: the plant's time zone (whatever the machine's), the bundled courses only."""
    monkeypatch.delenv("TRAINER_COURSES", raising=False)
    with plant_time_zone():
        yield
