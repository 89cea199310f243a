"""The score sheet reads each attempt's mistakes from its latest scoring (Store.sessions_with_facts) instead of replaying its
events; the sheet must be the same either way, on every backend, and a session never scored still gets its mistakes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, delete, update
from test_export_support import CRITICAL, EXPERT, SLOW, course, plant_time_zone, play, register

from trainer.course.library import Library
from trainer.course.model import MistakeSeverity
from trainer.reports import scores
from trainer.reports.period import Period
from trainer.scoring.grade import score_row
from trainer.scoring.rubric import score_session
from trainer.sitetime import site_zone
from trainer.store import schema
from trainer.store.errors import StoreError
from trainer.store.store import Store

TODAY = date(2026, 6, 1)
_FIRST = [c.key for c in scores.ATTEMPT_COLUMNS].index("critical_mistakes")
MISTAKES = slice(_FIRST, _FIRST + 4)  # critical codes, then the minor, serious and critical counts


@pytest.fixture(autouse=True)
def _plant_time():
    with plant_time_zone():
        yield


def at(day: int) -> datetime:
    return datetime(2026, 3, day, 2, 0, tzinfo=UTC)


def filled(db_url: str) -> tuple[Store, dict[str, str]]:
    mini = course()
    store = Store.open(db_url)
    register(store, "A1", "张伟", "冲压车间")
    register(store, "A2", "李娜", "焊装车间")
    ids = {
        "critical": play(store, mini, "A1", CRITICAL, at=at(2)).record.id,
        "slow": play(store, mini, "A1", SLOW, at=at(3)).record.id,
        "expert": play(store, mini, "A2", EXPERT, at=at(4)).record.id,
        "aborted": play(store, mini, "A2", ["lock"], at=at(5)).record.id,
        "twice": play(store, mini, "A2", [*CRITICAL], at=at(6)).record.id,
    }
    return store, ids


def from_events(store: Store, library: Library) -> scores.ScoreSheet:
    """The sheet as it was built before scorings kept the mistakes: every attempt's events replayed."""
    trainees = {t.badge: t for t in store.trainees()}
    return scores.assemble(
        store.sessions(), trainees, library, today=TODAY, period=Period(), events=store.events_of, zone=site_zone(store)
    )


def test_the_sheet_from_stored_scorings_equals_the_sheet_from_the_events(db_url):
    store, ids = filled(db_url)
    library = Library({"mini": course()}, ())
    with store:
        quick = scores.build(store, library, today=TODAY)
        slow = from_events(store, library)
        assert quick.attempt_table().rows == slow.attempt_table().rows
        assert quick.trainee_table().rows == slow.trainee_table().rows
        by_id = {row[-1]: row for row in quick.attempt_table().rows}
        assert by_id[ids["critical"]][MISTAKES] == ("HANDS_IN_DIE", 0, 0, 1)
        assert by_id[ids["slow"]][MISTAKES][1] == 1  # the timer ran out once: one minor mistake
        assert by_id[ids["expert"]][MISTAKES] == (None, 0, 0, 0)


def test_a_session_never_scored_gets_its_mistakes_from_its_events(db_url):
    store, ids = filled(db_url)
    engine = create_engine(db_url)
    with engine.begin() as conn:  # as in a database from before scorings were kept
        conn.execute(delete(schema.scores).where(schema.scores.c.session_id == ids["critical"]))
    engine.dispose()
    library = Library({"mini": course()}, ())
    with store:
        facts = {r.id: f for r, f in store.sessions_with_facts()}
        assert facts[ids["critical"]].mistakes is None
        row = {r[-1]: r for r in scores.build(store, library, today=TODAY).attempt_table().rows}[ids["critical"]]
        assert row[MISTAKES] == ("HANDS_IN_DIE", 0, 0, 1)


def test_a_scored_session_keeps_its_mistakes_when_its_course_version_is_gone(db_url):
    store, ids = filled(db_url)
    with store:
        rows = scores.build(store, Library({}, ()), today=TODAY).attempt_table().rows
        assert {r[-1]: r[MISTAKES] for r in rows}[ids["critical"]] == ("HANDS_IN_DIE", 0, 0, 1)


def test_facts_are_the_last_event_time_and_the_latest_scoring(db_url):
    store, ids = filled(db_url)
    mini = course()
    with store:
        interrupted = play(store, mini, "A1", ["lock"], at=at(7), finish=False).record.id
        events = [s.event for s in store.events(ids["twice"])]
        rescored = score_session(mini, (), None)  # a later scoring that found nothing (say, another model)
        store.add_scores([score_row(ids["twice"], rescored)])
        facts = {r.id: f for r, f in store.sessions_with_facts()}
        assert facts[interrupted] is None  # not finished: not an attempt
        assert facts[ids["twice"]].last_t_ms == events[-1].t_ms
        assert facts[ids["twice"]].mistakes == ()  # the latest scoring wins
        assert [(m.code, m.severity) for m in facts[ids["critical"]].mistakes] == [
            ("HANDS_IN_DIE", MistakeSeverity.CRITICAL)
        ]
        in_march_3_to_5 = {r.id: f for r, f in store.sessions_with_facts(since=at(3), before=at(5))}
        assert len(in_march_3_to_5) == len(facts)  # every session is listed (certifications need them all) ...
        assert {i for i, f in in_march_3_to_5.items() if f} == {ids["slow"], ids["expert"]}  # ... facts in the period
        assert {r.id for r, _ in store.sessions_with_facts("another-course")} == set()


def test_an_unreadable_stored_scoring_is_a_one_line_store_error(db_url):
    store, ids = filled(db_url)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            update(schema.scores).where(schema.scores.c.session_id == ids["slow"]).values(details="[{not json")
        )
    engine.dispose()
    with store, pytest.raises(StoreError) as caught:
        store.sessions_with_facts()
    message = str(caught.value)
    assert ids["slow"][:8] in message and "trainer score" in message and "\n" not in message
