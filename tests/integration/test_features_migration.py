"""Schema version 5 (stored features): a version 4 database is upgraded in place; its sessions scored before have no
stored features, so the first rescoring reads their events and stores them, and a session played after the upgrade
stores its features with its first scoring."""

from __future__ import annotations

from backends import execute, scalars, table_names
from test_export_support import CRITICAL, EXPERT, course, play, register
from test_store_migrations import _database_at

from trainer.course.library import Library
from trainer.scoring import rescoring
from trainer.scoring.grade import Grader
from trainer.store import Store, schema


def test_an_older_database_takes_stored_features(db_url: str) -> None:
    _database_at(db_url, 4)
    assert "features" not in table_names(db_url)
    mini = course()
    with Store.open(db_url) as store:  # upgraded from 4
        assert store.upgraded_from == 4
        register(store, "B1", "Ann Lee", "Press shop")
        before = play(store, mini, "B1", CRITICAL).record.id
    # scored as a version 4 Trainer did: no features kept
    assert scalars(db_url, "SELECT session_id FROM features") == [before]
    execute(db_url, schema.features.delete())
    with Store.open(db_url) as store:
        after = play(store, mini, "B1", EXPERT).record.id
        assert scalars(db_url, "SELECT session_id FROM features") == [after]
        library, grader = Library({mini.id: mini}, ()), Grader.current("rubric")
        first = rescoring.rescore(store, library, grader, store.finished_sessions())
        assert (first.done, first.from_events) == (2, 1)  # the session scored before the upgrade
        assert sorted(scalars(db_url, "SELECT session_id FROM features")) == sorted([before, after])
        again = rescoring.rescore(store, library, grader, store.finished_sessions())
        assert (again.done, again.from_events) == (2, 0)
        assert [s.score for s in store.scores(before)] == [60.0, 60.0, 60.0]
        assert store.verify() == []
    assert set(schema.metadata.tables) <= table_names(db_url)
