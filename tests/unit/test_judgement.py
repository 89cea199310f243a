"""Every grade explained (issue 16): the graded list's rows say the declared severity, the facts, the grade, and for a
model's grade the facts it weighed most for that row (an honest per-row attribution) and its confidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer.course.loader import load_course
from trainer.engine.clock import ManualClock
from trainer.engine.session import Session
from trainer.scoring.detect import detect
from trainer.scoring.features import FEATURES, NEUTRAL, matrix_of, values
from trainer.scoring.grade import Grader, details, details_json
from trainer.scoring.judgement import explanation, read
from trainer.scoring.rubric import HINT_POINTS

ROOT = Path(__file__).resolve().parent.parent.parent
LOTO = [
    "review_energy", "notify_affected", "normal_stop", "isolate_electrical", "isolate_hydraulic", "isolate_air",
    "lock_electrical", "lock_hydraulic", "lock_air", "bleed_energy", "to_press", "wait_flywheel", "insert_blocks", "release_counterbalance",
    "to_controls", "try_start", "test_voltage", "return_neutral", "start_die_change", "let_coworker_in",
    "free_slug_tool", "clamp_die", "remove_blocks", "refit_guards", "check_clear", "to_unlock_tools_in",
    "remove_own_locks", "energize_unannounced",
]  # fmt: skip


@pytest.fixture(scope="module")
def session():
    course = load_course(ROOT / "courses" / "press-loto-die-change.yaml")
    clock = ManualClock()
    s = Session(course, 1, clock=clock)
    events = s.start() + s.hint()
    for step in LOTO:
        clock.advance(2000)
        events += s.tick() + s.choose(step)
    return course, events


def test_the_rubric_explains_each_grade_with_the_declared_severity_and_the_facts(session):
    course, events = session
    graded = read(details(Grader(None).score(course, events)))
    person = next(j for j in graded if j.code == "UNPROTECTED_PERSON_ENTERED")
    assert explanation(person, "en") == (
        "course says serious; not corrected, exposed to a hazard afterwards: graded serious "
        "(graded as the course declares)"
    )
    assert explanation(person, "zh") == "课程定为严重；没有改正，之后暴露在危险中：评定为严重（按课程规定评定）"
    hint = next(j for j in graded if j.code == "HINT_USED")
    assert explanation(hint, "en") == f"a hint always costs {HINT_POINTS:g} points"


def test_a_models_grade_names_what_it_weighed_for_this_row_and_the_weights_are_honest(session):
    course, events = session
    grader = Grader.current()
    if grader.model is None:
        pytest.skip("no default model")
    score = grader.score(course, events)
    graded = {j.mistake: j for j in read(details(score))}
    model = grader.model
    found = 0
    for m in detect(course, events):
        j = graded[m.id]
        if m.source == "hint":
            assert (j.severity, j.points, j.weighed) == ("minor", HINT_POINTS, ())  # never the model's
            continue
        row = list(values(course, m))
        k = model.grades.index(j.severity)
        p = model.probabilities(matrix_of([row]))[0][k]
        assert j.confidence == pytest.approx(p, abs=1e-4)
        for fact, weight in j.weighed:
            neutral = list(row)
            for feature, value in NEUTRAL[fact].items():
                neutral[FEATURES.index(feature)] = value
            q = model.probabilities(matrix_of([neutral]))[0][k]
            assert weight == pytest.approx(p - q, abs=1e-3) and weight > 0
            found += 1
        text = explanation(j, "en", scorer=score.scorer)
        assert f"model confidence {j.confidence:.0%}" in text and f"graded {j.severity}" in text
    assert found  # the model weighed something for at least one row


def test_the_stored_text_is_the_canonical_json_of_the_rows_and_older_rows_still_read(session):
    course, events = session
    score = Grader(None).score(course, events)
    assert details_json(score) == json.dumps(details(score), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    old = '[{"code":"X","confidence":1.0,"declared":"serious","mistake":"m3","points":15.0,"review":false,"severity":"serious"}]'
    (row,) = read(old)
    assert (row.code, row.severity, row.facts, row.weighed, row.under) == ("X", "serious", None, (), None)
    assert explanation(row, "en") == "course says serious; graded serious (graded as the course declares)"
