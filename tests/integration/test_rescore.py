"""`trainer score --all`'s bulk path (bulk reads, batched detection and prediction, worker processes, executemany writes)
stores exactly the scores that grading each session on its own gives, on every backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

import trainer.scoring.rescoring as rescoring
from trainer.course.library import Library, load_library
from trainer.engine.events import canonical_json
from trainer.scoring.grade import DEFAULT_MODEL, Grader, details
from trainer.scoring.simulate import simulate
from trainer.store import Store
from trainer.store.errors import StoreError

LIBRARY = load_library()
in_workers = rescoring._in_workers
COURSES = list(LIBRARY.courses.values())


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A database holding 70 simulated sessions of every bundled course (10 each), stored as the app stores them."""
    with Store.open(db_url, fsync_every_commit=False) as store:
        for s in simulate(COURSES, 70, 2027):
            store.upsert_trainee(s.trainee, "Sim", "stamping")
            record = store.create_session(s.trainee, s.course.id, s.course.version, s.course.content_hash, s.seed, "en")
            store.append(record.id, s.events)
        yield store


def one_by_one(store: Store, grader: Grader) -> dict[str, tuple[str, float, bool, str, bool, str]]:
    """Each session graded alone, from its events as Store.events reads them (the per-session path)."""
    out = {}
    for r in store.sessions():
        result = grader.score(LIBRARY.courses[r.course_id], [s.event for s in store.events(r.id)])
        out[r.id] = (
            result.scorer,
            result.score,
            result.passed,
            result.reason,
            result.review,
            canonical_json(details(result)),
        )
    return out


def latest(store: Store) -> dict[str, tuple[str, float, bool, str, bool, str]]:
    out = {}
    for r in store.sessions():
        h = store.scores(r.id)[-1]
        assert (r.score, r.passed) == (h.score, h.passed)  # the latest scoring is the session's score
        out[r.id] = (h.scorer, h.score, h.passed, h.reason, h.review, h.details)
    return out


@pytest.mark.parametrize("model", [DEFAULT_MODEL, "rubric"])
def test_bulk_rescoring_stores_what_grading_each_session_alone_gives(
    store: Store, model: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    grader = Grader.current(model, strict=True)
    expected = one_by_one(store, grader)
    assert sum(1 for e in expected.values() if e[5] != "[]") > 40  # most sessions have mistakes to grade
    records = store.finished_sessions()  # what trainer score --all lists
    assert [(r.id, r.course_id, r.course_version, r.content_hash, r.status, r.score, r.passed) for r in records] == [
        (r.id, r.course_id, r.course_version, r.content_hash, r.status, r.score, r.passed)
        for r in store.sessions()
        if str(r.status) in rescoring.FINISHED
    ]

    monkeypatch.setattr(rescoring, "BATCH", 16)  # several batches, the last one short
    monkeypatch.setattr(rescoring, "WRITE_EVERY", 40)  # stored three batches at a time, then the last ones one by one
    done = rescoring.rescore(store, LIBRARY, grader, records, jobs=1)
    assert done.done == 70 and not done.missing
    assert latest(store) == expected

    # Worker processes, each grading some of the batches, give the same scores again.
    monkeypatch.setattr(rescoring, "PARALLEL_FROM", 1)
    forked = []
    monkeypatch.setattr(rescoring, "_in_workers", lambda *a: forked.append(a[2]) or in_workers(*a))
    again = rescoring.rescore(store, LIBRARY, grader, records, jobs=2)
    assert len(forked) == 1 and len(forked[0]) > 2  # batches for both workers
    assert latest(store) == expected
    assert (again.done, again.flagged) == (done.done, done.flagged)
    assert all(len(store.scores(r.id)) == 2 for r in records)


def test_a_library_without_a_course_leaves_its_sessions_alone(store: Store) -> None:
    grader = Grader.current("rubric")
    kept = Library({k: c for k, c in LIBRARY.courses.items() if k != "fire-response"}, ())
    done = rescoring.rescore(store, kept, grader, store.sessions(), jobs=1)
    fire = LIBRARY.courses["fire-response"]
    fires = sum(1 for r in store.sessions() if r.course_id == "fire-response")  # the 70 are spread over the library
    assert fires > 0 and done.done == 70 - fires and done.missing == {f"fire-response {fire.version}": fires}
    assert all(
        (r.score is None) == (r.course_id == "fire-response") for r in store.sessions()
    )  # scored, or left as it was


def test_scores_for_an_unknown_session_store_none_of_the_batch(store: Store) -> None:
    first = store.sessions()[0]
    row = {"session_id": first.id, "scorer": "rubric", "score": 90.0, "passed": True, "reason": "r", "review": False}
    with pytest.raises(StoreError, match="no session nope"):
        store.add_scores([{**row, "details": []}, {**row, "session_id": "nope", "details": "[]"}])
    assert store.scores(first.id) == [] and store.session(first.id).score is None
    store.add_scores([{**row, "details": '[{"a":1}]'}, {**row, "score": 80.0, "details": [{"a": 2}]}])
    history = store.scores(first.id)
    assert [(h.score, h.details) for h in history] == [(90.0, '[{"a":1}]'), (80.0, '[{"a":2}]')]
    assert store.session(first.id).score == 80.0  # the last one given is the current score


def test_event_rows_are_the_events_as_tuples(store: Store) -> None:
    ids = [r.id for r in store.sessions()][:9] + ["unknown"]
    rows = dict(store.event_rows_of(ids, chunk=4))
    events = dict(store.events_of(ids, chunk=3))
    assert list(rows) == list(events) == ids and rows["unknown"] == []
    for sid in ids[:-1]:
        stored = [s.event for s in store.events(sid)]
        assert events[sid] == stored
        assert rows[sid] == [(e.seq, e.t_ms, e.kind, e.state, e.action, e.data) for e in stored]


def test_scores_are_written_as_sqlalchemy_writes_them(db_url: str) -> None:
    """add_scores hands the driver values its column types converted (a timestamp as the backend stores it, booleans):
    the raw rows are the ones SQLAlchemy's own executemany writes."""
    from sqlalchemy import bindparam

    from trainer.store import schema
    from trainer.store.access import utcnow
    from trainer.store.driver import executemany

    with Store.open(db_url, fsync_every_commit=False) as store:
        store.upsert_trainee("b1", "Sim", "stamping")
        sid = store.create_session("b1", "c", "1", "h", 1, "en").id
        row = {"session_id": sid, "scored_at": utcnow(), "scorer": "model x", "score": 87.5, "passed": True}
        row |= {"reason": "r", "review": False, "details": '[{"a":"é"}]'}
        s, h = schema.sessions, schema.scores
        update = s.update().where(s.c.id == bindparam("b_id")).values(passed=bindparam("b_passed"))
        with store._writing("test") as conn:
            conn.execute(h.insert(), [row])
            assert executemany(conn, h.insert(), [row, row]) == 2
            assert executemany(conn, update, [{"b_id": sid, "b_passed": False}, {"b_id": "?", "b_passed": True}]) == 1
        with store._reading("test") as conn:
            raw = conn.exec_driver_sql(
                "SELECT session_id, scored_at, scorer, score, passed, reason, review, details FROM scores"
            ).all()
            assert raw[0] == raw[1] == raw[2]
            assert conn.execute(select(s.c.passed)).scalar_one() is False
        assert [x.scored_at for x in store.scores(sid)] == [row["scored_at"]] * 3
