"""Practice and exam in the engine: hidden faults drawn per seed and recorded, key events an exam guarantees, hints
refused in an exam and free in practice; and the course format's `hidden:` and `key:` with errors at file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.course.loader import check_text
from trainer.engine.clock import ManualClock
from trainer.engine.events import EventKind
from trainer.engine.explore import explore_course
from trainer.engine.modes import Mode
from trainer.engine.session import EngineError, Session, replay
from trainer.scoring.detect import detect

COURSE = (Path(__file__).resolve().parent.parent / "fixtures" / "hidden_fault.yaml").read_text(encoding="utf-8")


def course(text: str = COURSE):
    result = check_text(text, "curtain.yaml")
    assert not result.errors, result.errors
    return result.course


def started(c, seed: int, mode: Mode | None):
    session = Session(c, seed, clock=ManualClock(), mode=mode)
    return session, session.start()


def test_hidden_fault_values_vary_by_seed_are_recorded_and_replay_agrees():
    c = course()
    seen = set()
    for seed in range(40):
        session, events = started(c, seed, Mode.PRACTICE)
        drawn = events[0].data["hidden"]
        assert session.variables["curtain_ok"] == drawn["curtain_ok"]
        seen.add(drawn["curtain_ok"])
        again = replay(c, events)
        assert again.variables["curtain_ok"] == drawn["curtain_ok"]
        assert started(c, seed, Mode.EXAM)[1][0].data["hidden"] == drawn  # the same seed, the same faults
    assert seen == {True, False}


def test_scoring_starts_from_the_recorded_hidden_values():
    c = course()
    seed = next(s for s in range(40) if not started(c, s, Mode.EXAM)[0].variables["curtain_ok"])
    session, events = started(c, seed, Mode.EXAM)
    events += session.choose("test") + session.choose("tag")
    moments = [m for m in detect(c, events)]
    assert all(dict(m.variables).get("curtain_ok") is False for m in moments)


def test_sessions_without_a_mode_keep_the_rules_before_modes():
    c = course()
    session, events = started(c, 7, None)
    assert "mode" not in events[0].data and "hidden" not in events[0].data
    assert session.variables["curtain_ok"] is True  # the declared value
    assert [e.kind for e in session.hint()] == [EventKind.HINT]


def test_an_exam_guarantees_key_events_and_refuses_hints():
    c = course()
    _, events = started(c, 1, Mode.EXAM)
    assert [e.data["event"] for e in events if e.kind is EventKind.RANDOM_EVENT] == ["visitor"]
    exam, _ = started(c, 1, Mode.EXAM)
    with pytest.raises(EngineError, match="exam gives no hints"):
        exam.hint()
    _, practice = started(c, 1, Mode.PRACTICE)
    assert not [e for e in practice if e.kind is EventKind.RANDOM_EVENT]  # probability 0: practice leaves it to chance
    keyless = course(COURSE.replace("    probability: 0.0\n", "    probability: 0.0\n    key: false\n"))
    assert not [e for e in started(keyless, 1, Mode.EXAM)[1] if e.kind is EventKind.RANDOM_EVENT]


def test_hints_are_free_in_practice_and_cost_in_sessions_before_modes():
    c = course()
    for mode, codes in ((Mode.PRACTICE, []), (None, ["HINT_USED"])):
        session, events = started(c, 3, mode)
        events += session.hint()
        assert [m.code for m in detect(c, events) if m.code == "HINT_USED"] == codes


def test_replay_of_a_tampered_mode_is_caught():
    from dataclasses import replace
    from types import MappingProxyType

    from trainer.engine.session import ReplayMismatch

    c = course()
    session, events = started(c, 1, Mode.EXAM)
    events += session.choose("stop_visitor")
    forged = replace(events[0], data=MappingProxyType({**events[0].data, "mode": "practice"}))
    with pytest.raises(ReplayMismatch):
        replay(c, [forged, *events[1:]])


def test_the_tester_explores_every_hidden_value():
    report = explore_course(course(), random_runs=5)
    covered, total = report.action_coverage()
    assert ("check", "tag") in report.coverage.actions and ("check", "run") in report.coverage.actions
    assert not report.failed


@pytest.mark.parametrize(
    ("edit", "where", "message"),
    [
        ("  curtain_okk: [true, false]", "11:3", "hidden: unknown variable 'curtain_okk'; declare it under variables"),
        ("  curtain_ok: [true, 1]", "11:22", "hidden: 'curtain_ok' holds true/false but may start as a number 1"),
        ("  curtain_ok: [false, false]", "11:15", "is declared true under variables; list that value among its start"),
        ("  curtain_ok: [true]", "11:15", "needs at least 2 item(s)"),
    ],
)
def test_hidden_faults_errors_name_the_place(edit, where, message):
    text = COURSE.replace("  curtain_ok: [true, false]", edit)
    result = check_text(text, "curtain.yaml")
    found = [f"{d.pos.line}:{d.pos.col} {d.message}" for d in result.errors]
    assert any(f.startswith(where) and message in f for f in found), found
