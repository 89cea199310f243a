"""Schema version 5 (the roster and the requirements): a version 4 database is upgraded in place, its trainees keep
verifying against the ledger they were entered in, and then take roster fields and requirements."""

from __future__ import annotations

from datetime import UTC, date, datetime

from backends import execute
from test_store_migrations import _database_at

from trainer.store import Store, schema
from trainer.store.records import Requirement, RosterEntry


def test_an_older_database_takes_the_roster_and_requirements(db_url: str) -> None:
    _database_at(db_url, 3)
    execute(  # registered before version 4: that upgrade enters it in the ledger as it is, without roster fields
        db_url,
        schema.trainees.insert().values(badge="B1", name="Ann", department="Press", created_at=datetime.now(UTC)),
    )
    with Store.open(db_url) as store:  # upgraded from 3 to the latest, through 4 (the ledger) and 5 (the roster)
        assert store.upgraded_from == 3
        assert store.verify() == []
        trainee = store.get_trainee("B1")
        assert trainee is not None and (trainee.role, trainee.plant, trainee.hire_date) == (None, None, None)
        store.import_trainees([("r.csv:2", RosterEntry("B1", "Ann", "Press", "operator", "Plant 1", date(2025, 1, 2)))])
        store.set_requirements([Requirement("Press", "", "mini", 30)], today=date(2026, 1, 1))
        assert store.get_trainee("B1").plant == "Plant 1"
        assert [r.since for r in store.requirements()] == [date(2026, 1, 1)]
        assert store.verify() == []
