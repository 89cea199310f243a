"""Detection: every deviation with its context (correction, repetition, what followed, timers, procedure progress)."""

from __future__ import annotations

from pathlib import Path

from trainer.course.loader import load_course
from trainer.course.model import MistakeSeverity
from trainer.engine.clock import ManualClock, ms_from_seconds
from trainer.engine.events import Event
from trainer.engine.session import Session
from trainer.scoring.detect import DetectedMistake, detect
from trainer.scoring.features import FEATURES, context, matrix
from trainer.scoring.rubric import score_graded, score_session

ROOT = Path(__file__).resolve().parents[2]
PRESS = load_course(ROOT / "courses" / "press-loto-die-change.yaml")
MINI = load_course(ROOT / "tests" / "fixtures" / "mini_course.yaml")
EXPERT = [
    "review_energy", "notify_affected", "normal_stop",
    "isolate_electrical", "isolate_hydraulic", "isolate_air",
    "lock_electrical", "lock_hydraulic", "lock_air", "bleed_energy", "to_press",
    "wait_flywheel", "insert_blocks", "release_counterbalance", "to_controls",
    "try_start", "test_voltage", "return_neutral", "start_die_change",
    "free_slug_tool", "clamp_die",
    "remove_tools", "remove_blocks", "refit_guards", "check_clear", "to_unlock",
    "remove_own_locks", "notify_restart", "energize",
    "stop_entry", "inch_through", "single_stroke",
]  # fmt: skip


def play(course, steps: list[str | float], *, event: bool = False) -> list[Event]:
    """An action id is chosen after 2 s; a number waits that long (timers may run out)."""
    clock = ManualClock()
    session = Session(course, 0, clock=clock)
    session.roll = lambda ev: event
    events = session.start()
    for step in steps:
        clock.advance(ms_from_seconds(step) if isinstance(step, int | float) else 2000)
        events += session.tick()
        if not isinstance(step, int | float):
            events += session.choose(step)
    return events


def by_code(mistakes: list[DetectedMistake], code: str) -> DetectedMistake:
    return next(m for m in mistakes if m.code == code)


def test_the_expert_path_has_no_mistakes():
    assert detect(PRESS, play(PRESS, EXPERT)) == []


def test_a_late_notice_is_an_order_mistake_corrected_seconds_later():
    steps = list(EXPERT)
    steps.remove("notify_affected")
    steps.insert(steps.index("normal_stop") + 1, "notify_affected")  # told them only after stopping
    m = by_code(detect(PRESS, play(PRESS, steps)), "ORDER_NORMAL_STOP")
    assert m.source == "order" and m.corrected and m.correction_s == 2.0
    assert m.step_index == 2 and 0 < m.progress < 0.2
    assert m.course == PRESS.id and m.outcome == "completed"


def test_a_skipped_step_is_never_corrected_and_the_die_area_followed():
    steps = [s for s in EXPERT if s != "review_energy"]
    m = by_code(detect(PRESS, play(PRESS, steps)), "SKIPPED_REVIEW_ENERGY")
    assert m.source == "skipped" and not m.corrected and m.correction_s is None
    assert m.hazard_followed  # the trainee went on to the press and into the die area
    assert m.step_index == 0


def test_variables_and_time_in_state_are_recorded():
    steps = list(EXPERT)
    steps[steps.index("test_voltage")] = "test_voltage_unproven"
    m = by_code(detect(PRESS, play(PRESS, steps)), "TESTER_NOT_PROVEN")
    assert dict(m.variables)["voltage_tested"] is True and dict(m.variables)["tried_start"] is True
    assert m.seconds_in_state == 4.0  # entered verify, try_start (2 s), then this (2 s)
    assert context(PRESS, m)["vars_changed"] > 5


def test_hesitating_at_a_timer_is_a_declared_timer_mistake_with_the_timer_running():
    steps = EXPERT[: EXPERT.index("stop_entry")] + [11, "get_him_out", "inch_through", "single_stroke"]
    mistakes = detect(PRESS, play(PRESS, steps))
    assert [m.code for m in mistakes] == ["SLOW_TO_STOP_ENTRY"]  # the timeout is not counted a second time
    m = mistakes[0]
    assert m.source == "timer" and m.timer_running and m.corrected and m.correction_s == 3.0  # timer 10 s, acted at 13


def test_an_undeclared_timeout_is_a_minor_hesitation_and_repeats_are_counted():
    mistakes = detect(MINI, play(MINI, [31, 30, "lock", "work"]))
    assert [(m.code, m.source, m.severity) for m in mistakes] == [
        ("TIMEOUT_BEGIN", "timeout", MistakeSeverity.MINOR),
        ("TIMEOUT_BEGIN", "timeout", MistakeSeverity.MINOR),
    ]
    first, second = mistakes
    assert (first.repeat, second.repeat) == (1, 2) and second.mistakes_before == 1
    assert not first.corrected  # the next thing that happened was another timeout
    assert second.corrected and second.correction_s == 3.0  # waited 2 s after the second timeout, then locked
    assert first.id != second.id and first.id.startswith("t")


def test_an_ignored_event_answered_later_counts_as_corrected():
    at = EXPERT.index("free_slug_tool")
    steps = [*EXPERT[:at], "free_slug_tool", "stop_coworker", *EXPERT[at + 1 :]]
    m = by_code(detect(PRESS, play(PRESS, steps, event=True)), "UNPROTECTED_PERSON_ENTERED")
    assert m.source == "ignored" and m.corrected and m.correction_s == 2.0


def test_features_are_one_flat_row_per_mistake():
    steps = [s for s in EXPERT if s not in ("review_energy", "check_clear")]
    mistakes = detect(PRESS, play(PRESS, steps))
    rows = matrix([context(PRESS, m) for m in mistakes])
    assert rows.shape == (len(mistakes), len(FEATURES))
    assert set(context(PRESS, mistakes[0])) == set(FEATURES)


def test_a_model_grade_of_none_clears_the_mistake_and_critical_still_fails():
    steps = [s for s in EXPERT if s != "review_energy"]
    events = play(PRESS, steps)
    mistakes = detect(PRESS, events)
    from trainer.scoring.detect import outcome_of

    rubric = score_session(PRESS, mistakes, outcome_of(events))
    assert rubric.score == 85 and rubric.scorer == "rubric" and not rubric.review
    cleared = score_graded(PRESS, [(mistakes[0], "none", 0.55, True)], outcome_of(events), scorer="model x")
    assert cleared.score == 100 and cleared.passed and cleared.review and cleared.cleared[0].points == 0
    critical = score_graded(PRESS, [(mistakes[0], "critical", 0.9, False)], outcome_of(events), scorer="model x")
    assert not critical.passed and critical.reason.startswith("critical mistake")


def test_a_variant_action_performs_its_step_and_a_step_can_depend_on_the_situation():
    from trainer.course.loader import check_text
    from trainer.engine.session import Session

    text = """
id: v
version: "1"
title: {zh: 变体, en: Variant}
area: fire
standards: [x]
minutes: 5
pass: {min_score: 80}
certification_days: 30
variables: {grown: false}
start: a
states:
  a:
    text: {zh: 甲, en: A}
    actions:
      - {id: alarm, label: {zh: 报警, en: Raise the alarm}}
      - {id: alarm_by_phone, label: {zh: 打电话报警, en: Phone the alarm in}, step: alarm}
      - {id: grows, label: {zh: 等待, en: Wait}, set: {grown: true}}
      - {id: fight, label: {zh: 灭火, en: Fight it}, goto: z}
      - {id: leave, label: {zh: 撤离, en: Evacuate}, goto: z}
  z: {text: {zh: 完, en: Done}, outcome: completed}
procedure:
  - {action: alarm, rule: {zh: 先报警, en: Alarm first}}
  - {action: fight, after: [alarm], when: not grown, rule: {zh: 小火扑救, en: Fight a small fire}}
"""
    course = check_text(text).course
    assert course is not None

    def codes(steps):
        s = Session(course, 0, clock=lambda: 0)
        events = s.start()
        for a in steps:
            events += s.choose(a)
        return [m.code for m in detect(course, events)]

    assert codes(["alarm_by_phone", "fight"]) == []  # the variant did the alarm step
    assert codes(["alarm", "leave"]) == ["SKIPPED_FIGHT"]  # a small fire should have been fought
    assert codes(["alarm", "grows", "leave"]) == []  # the fire grew: evacuating was right, nothing skipped


def test_detection_gives_the_contexts_stored_with_the_starter_data():
    """The starter data keeps each mistake's id and context as detection gave them when it was built: detection (and
    its bulk form on event tuples) must give them again, for every session of every course."""
    from trainer.course.library import load_library
    from trainer.scoring.detect import detect_rows, rows_of
    from trainer.scoring.labelled import read

    library = load_library()
    sessions = list(read(ROOT / "data" / "starter" / "holdout.jsonl.gz"))
    assert {s.course for s in sessions} == set(library.courses)
    for s in sessions:
        course = library.courses[s.course]
        events = [Event.from_canonical(e) for e in s.events]
        found = detect(course, events)
        assert detect_rows(course, rows_of(events)) == found
        assert [(m.id, context(course, m)) for m in found] == [(m.id, dict(m.context)) for m in s.mistakes]


def simulated_mistakes() -> list[DetectedMistake]:
    from trainer.scoring.simulate import simulate

    found = [m for s in simulate([PRESS], 30, 3) for m in detect(PRESS, s.events)]
    assert len({m.source for m in found}) >= 4  # declared, skipped, order, timeout...
    return found


def test_a_detected_mistake_is_the_dataclass_its_fields_make():
    """detect builds its records without DetectedMistake's __init__ (for speed): they must be the same objects."""
    from dataclasses import fields

    found = simulated_mistakes()
    for m in found:
        made = DetectedMistake(**{f.name: getattr(m, f.name) for f in fields(DetectedMistake)})
        assert made == m and repr(made) == repr(m) and hash(made) == hash(m)


def test_new_mistake_is_typed_with_every_field_of_the_dataclass():
    """new_mistake's guard: its MistakeFields (what mypy checks each call against) names DetectedMistake's fields and
    requires those without a default; detect gives every field itself rather than leaving one to its default."""
    from dataclasses import fields

    from trainer.scoring.detect import MistakeFields, _fields_match

    assert _fields_match()
    assert set(MistakeFields.__annotations__) == {f.name for f in fields(DetectedMistake)}
    assert all(set(vars(m)) == set(MistakeFields.__annotations__) for m in simulated_mistakes())


def test_the_model_input_built_from_values_is_the_one_built_from_contexts():
    from trainer.scoring.features import matrix_of, values

    found = simulated_mistakes()
    by_context, by_values = matrix([context(PRESS, m) for m in found]), matrix_of([values(PRESS, m) for m in found])
    assert by_context.shape == by_values.shape == (len(found), len(FEATURES))
    assert [[(type(x), x) for x in row] for row in by_context.tolist()] == [
        [(type(x), x) for x in row] for row in by_values.tolist()
    ]


def test_the_details_text_is_canonical_json_of_the_details():
    """details_json writes the stored text directly; it must be canonical_json(details(...)) exactly, also for text
    that needs escaping and for values it leaves to json (a confidence that is not a number)."""
    from dataclasses import replace

    from trainer.engine.events import canonical_json
    from trainer.scoring.grade import details, details_json
    from trainer.scoring.rubric import Deduction

    found = simulated_mistakes()
    scores = [score_session(PRESS, found[i : i + 7], None) for i in range(0, len(found), 7)]
    odd = replace(found[0], id='m"1\\é', code="代码\n")
    scores.append(
        score_graded(PRESS, [(odd, "none", 0.123456, True), (found[1], "critical", 0.5, False)], None, scorer="m")
    )
    scores.append(replace(scores[-1], deductions=(Deduction(odd, odd.severity, 5.0, float("nan")),)))
    for score in scores:
        assert details_json(score) == canonical_json(details(score))
