"""Each finished session's mistakes and their features are stored with its first scoring, and `trainer score` with a new
model reads them instead of the session's events: the same scores and graded lists as from the events, on every
backend; features made under another feature set or course content, or edited behind the store's back, are not used
(the events are read), and `trainer sessions verify` names an edited row."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from backends import execute, scalars
from cliproc import run_cli
from test_export_support import CRITICAL, EXPERT, FIXTURES, course, play, register
from test_rescore import latest
from test_rescore import one_by_one as from_events  # each session graded alone from its events

import trainer.scoring.features as features
import trainer.scoring.rescoring as rescoring
from trainer.course.library import Library, load_library
from trainer.scoring.grade import DEFAULT_MODEL, Grader, score_row
from trainer.scoring.simulate import simulate
from trainer.store import Store, schema

LIBRARY = load_library()
COURSES = list(LIBRARY.courses.values())
MODEL = Grader.current(DEFAULT_MODEL, strict=True)


def finish(store: Store, grader: Grader) -> None:
    """70 simulated sessions of every bundled course, each stored with its first scoring as a session's end stores it
    (trainer.session_service: the score and the features it was computed from, with the last events)."""
    for s in simulate(COURSES, 70, 2027):
        store.upsert_trainee(s.trainee, "Sim", "stamping")
        record = store.create_session(s.trainee, s.course.id, s.course.version, s.course.content_hash, s.seed, "en")
        score, kept = grader.score_kept(s.course, s.events)
        store.append(record.id, s.events, score={**score_row(record.id, score), "features": kept})


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store.open(db_url, fsync_every_commit=False) as store:
        finish(store, MODEL)
        yield store


def kept_rows(url: str) -> dict[str, tuple[str, str, str]]:
    f = "SELECT session_id, feature_set, content_hash, mistakes FROM features"
    return {row[0]: tuple(row[1:]) for row in _rows(url, f)}


def _rows(url: str, sql: str) -> list[tuple]:
    import sqlalchemy

    from trainer.store import dialect

    engine = dialect.create_engine(sqlalchemy.make_url(url), lock_timeout=5, fsync_every_commit=False)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sqlalchemy.text(sql))]
    finally:
        engine.dispose()


def no_events(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record which sessions' events the rescoring reads (none, with stored features)."""
    read: list[list[str]] = []
    real = store.event_rows_of

    def reading(ids, *args, **kwargs):
        read.append(list(ids))
        return real(ids, *args, **kwargs)

    monkeypatch.setattr(store, "event_rows_of", reading)
    return read


@pytest.mark.parametrize("model", [DEFAULT_MODEL, "rubric"])
def test_rescoring_from_stored_features_gives_what_the_events_give(
    store: Store, db_url: str, model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    grader = Grader.current(model, strict=True)
    expected = from_events(store, grader)
    assert sum(1 for e in expected.values() if e[5] != "[]") > 40  # most sessions have mistakes to grade
    at_the_end = kept_rows(db_url)
    assert len(at_the_end) == 70 and {v[0] for v in at_the_end.values()} == {features.FEATURE_SET}

    read = no_events(store, monkeypatch)
    monkeypatch.setattr(rescoring, "BATCH", 16)
    done = rescoring.rescore(store, LIBRARY, grader, store.finished_sessions(), jobs=1)
    assert (done.done, done.from_events) == (70, 0) and all(ids == [] for ids in read)
    assert latest(store) == expected

    # In forked worker processes too (they read the features in their own connections).
    monkeypatch.setattr(rescoring, "PARALLEL_FROM", 1)
    again = rescoring.rescore(store, LIBRARY, grader, store.finished_sessions(), jobs=2)
    assert (again.done, again.from_events) == (70, 0)
    assert latest(store) == expected

    # A database without stored features (scored before they were kept): the events are read, the scores are the
    # same, and the features are stored with the new scores, exactly as the sessions' ends stored them.
    execute(db_url, schema.features.delete())
    old = rescoring.rescore(store, LIBRARY, grader, store.finished_sessions(), jobs=1)
    assert (old.done, old.from_events) == (70, 70)
    assert latest(store) == expected
    assert kept_rows(db_url) == at_the_end
    assert store.verify() == []


def test_features_made_under_another_feature_set_or_course_content_are_made_again(
    store: Store, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = from_events(store, MODEL)
    sid = store.finished_sessions()[0].id
    row = {k: v for k, v in zip(("feature_set", "content_hash", "mistakes"), kept_rows(db_url)[sid], strict=True)}
    # features detected from an earlier content of the course (the same version, the file edited)
    store.add_scores([{**score_row(sid, _score(store, sid)), "features": {**row, "content_hash": "another"}}])
    done = rescoring.rescore(store, LIBRARY, MODEL, store.finished_sessions(), jobs=1)
    assert (done.done, done.from_events) == (70, 1)
    assert kept_rows(db_url)[sid][1] == LIBRARY.courses[store.session(sid).course_id].content_hash

    # A model expecting another feature list (a feature added or dropped) has another feature set: every session is
    # detected from its events again, and its features stored under the new set.
    assert features.feature_set_of(features.CATEGORICAL, (*features.NUMERIC, "shift_hour")) != features.FEATURE_SET
    assert (
        features.feature_set_of(features.CATEGORICAL, features.NUMERIC, features.DEFINITION + 1) != features.FEATURE_SET
    )
    monkeypatch.setattr(features, "FEATURE_SET", "another feature list")
    done = rescoring.rescore(store, LIBRARY, MODEL, store.finished_sessions(), jobs=1)
    assert (done.done, done.from_events) == (70, 70)
    assert {v[0] for v in kept_rows(db_url).values()} == {"another feature list"}
    assert latest(store) == expected
    again = rescoring.rescore(store, LIBRARY, MODEL, store.finished_sessions(), jobs=1)
    assert again.from_events == 0 and latest(store) == expected


def _score(store: Store, sid: str):
    r = store.session(sid)
    return MODEL.score(LIBRARY.courses[r.course_id], [s.event for s in store.events(sid)])


def test_a_forged_features_row_changes_no_score_and_verify_names_it(db_url: str) -> None:
    """An intruder with write access turns a critical mistake into a minor one in the stored features, hoping the next
    rescoring passes the trainee: the row no longer matches its hash, the rescoring reads the events instead, and
    `trainer sessions verify` names the session and the features."""
    mini = course()
    with Store.open(db_url) as store:
        register(store, "B1", "Ann Lee", "Press shop")
        failed = play(store, mini, "B1", CRITICAL).record.id
        passed = play(store, mini, "B1", EXPERT).record.id
        assert store.session(failed).passed is False and store.session(passed).passed is True
    stored = json.loads(kept_rows(db_url)[failed][2])
    assert [m[4] for m in stored["mistakes"]] == ["critical"]
    stored["mistakes"][0][4] = "minor"
    stored["mistakes"][0][12][4] = "minor"  # the declared severity among the features too
    forged = json.dumps(stored, separators=(",", ":"), ensure_ascii=False)
    f = schema.features
    execute(db_url, f.update().where(f.c.session_id == failed).values(mistakes=forged))

    run = run_cli("score", "--all", "--model", "rubric", "--courses", str(FIXTURES), db=db_url)
    assert run.returncode == 0, run.stderr
    assert "2 session(s) rescored with rubric: 0 score(s) changed, 0 pass/fail" in " ".join(run.stdout.split())
    with Store.open(db_url) as store:
        assert store.session(failed).passed is False and store.scores(failed)[-1].scorer == "rubric"
    one = run_cli("score", "--session", failed[:8], "--model", "rubric", "--courses", str(FIXTURES), db=db_url)
    assert one.returncode == 0 and "60 (failed) -> 60 (failed" in " ".join(one.stdout.split()), one.stdout
    assert scalars(db_url, "SELECT mistakes FROM features WHERE session_id = :sid", sid=failed) == [forged]  # kept

    run = run_cli("sessions", "verify", db=db_url)
    assert run.returncode == 1
    lines = [line for line in run.stdout.splitlines() if line.startswith("session ")]
    assert len(lines) == 1 and lines[0].startswith(f"session {failed}") and "features" in lines[0]
    assert "altered" in lines[0]


def test_a_session_played_to_its_end_keeps_its_features(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the app's own path (DurableSession): a rescoring of a session just played reads no events."""
    mini = course()
    with Store.open(db_url) as store:
        register(store, "B1", "Ann Lee", "Press shop")
        sid = play(store, mini, "B1", CRITICAL).record.id
        read = no_events(store, monkeypatch)
        done = rescoring.rescore(
            store, Library({mini.id: mini}, ()), Grader.current("rubric"), store.finished_sessions()
        )
        assert (done.done, done.from_events) == (1, 0) and all(ids == [] for ids in read)
        assert store.scores(sid)[-1].details == store.scores(sid)[0].details
