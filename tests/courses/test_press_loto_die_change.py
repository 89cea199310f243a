"""Golden paths of the die change under lockout/tagout."""

from __future__ import annotations

from golden import FIXTURES, expert_passes, play, script_actions

COURSE = "press-loto-die-change"
EXPERT = script_actions(FIXTURES / "press-loto-die-change.expert.txt")


def test_expert_path_passes_with_full_marks():
    expert_passes(COURSE, EXPERT)


def test_expert_answers_the_coworker_in_the_die_area():
    steps = EXPERT[: EXPERT.index("free_slug_tool")] + ["stop_coworker"] + EXPERT[EXPERT.index("free_slug_tool") :]
    played = play(COURSE, steps, event=True)
    assert played.random_events() == ["coworker_walks_in"]
    assert played.outcome == "completed" and played.mistakes == []


def test_hurried_fitter_isolating_only_electrical_is_a_critical_incident():
    played = play(
        COURSE, ["notify_affected", "normal_stop", "isolate_electrical", "to_press_electrical_only"], event=False
    )
    assert played.outcome == "incident"
    assert ("ELECTRICAL_ONLY_ISOLATED", "critical") in played.codes()
    assert not played.score.passed


def test_typical_shortcuts_are_each_deducted_once():
    """Unproven tester, controls left on SINGLE and the wrench left in the die: three serious mistakes, no more."""
    steps = list(EXPERT)
    steps[steps.index("test_voltage")] = "test_voltage_unproven"
    steps.remove("return_neutral")
    steps[steps.index("start_die_change")] = "start_die_change_selector_on"
    steps.remove("remove_tools")
    steps[steps.index("to_unlock")] = "to_unlock_tools_in"
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes() == [
        ("TESTER_NOT_PROVEN", "serious"),
        ("CONTROLS_NOT_NEUTRAL", "serious"),
        ("TOOLS_LEFT_IN_DIE", "serious"),
    ]
    assert played.score.score == 55 and not played.score.passed


def test_skipping_the_notice_is_found_from_the_procedure_alone():
    steps = [s for s in EXPERT if s != "notify_affected"]
    played = play(COURSE, steps, event=False)
    assert ("SKIPPED_NOTIFY_AFFECTED", "serious") in played.codes()


def test_hesitating_when_the_handler_ducks_under_the_tape_costs_a_serious_mistake():
    steps = EXPERT[: EXPERT.index("stop_entry")] + [11, "get_him_out", "inch_through", "single_stroke"]
    played = play(COURSE, steps, event=False)
    assert ("SLOW_TO_STOP_ENTRY", "serious") in played.codes()
    assert played.outcome == "completed"


def test_asking_for_a_hint_is_recorded_and_costs_a_minor_deduction():
    from golden import COURSES, ScriptClock

    from trainer.course.loader import load_course
    from trainer.engine.session import Session, replay
    from trainer.scoring.detect import detect

    course = load_course(COURSES / f"{COURSE}.yaml")
    s = Session(course, 0, clock=ScriptClock())
    s.roll = lambda ev: False
    events = s.start() + s.hint()
    assert [str(e.kind) for e in events][-1] == "hint"
    for step in EXPERT:
        events += s.choose(step)
    assert [(m.code, str(m.severity)) for m in detect(course, events)] == [("HINT_USED", "minor")]
    assert replay(course, events).outcome == s.outcome  # a hint is an input like any other


def test_releasing_the_counterbalance_before_the_slide_is_blocked_is_a_serious_mistake():
    """Issue 20 item 7: block the slide first, then release the counterbalance (1910.147(d)(5)(i))."""
    steps = [s for s in EXPERT if s != "release_counterbalance"]
    steps.insert(steps.index("insert_blocks"), "release_counterbalance_unblocked")
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("COUNTERBALANCE_RELEASED_UNBLOCKED", "serious")]
    assert played.outcome == "completed" and played.score.score == 85
    bleed = played.course.states["stopped"].action("bleed_energy")
    assert "counterbalance" not in bleed.label.en and "平衡缸" not in bleed.label.zh


def test_inching_the_new_die_through_from_the_controls_is_the_setters_step_not_a_mistake():
    """Issue 20 item 7: inching under the die-setting card is normal; only INCH instead of a lockout is critical."""
    played = play(COURSE, EXPERT, event=False)
    assert "inch_through" in EXPERT and played.mistakes == []
    skipped = play(COURSE, [s for s in EXPERT if s != "inch_through"], event=False)
    assert skipped.codes() == [("SKIPPED_INCH_THROUGH", "minor")]
    inch = play(COURSE, ["review_energy", "notify_affected", "normal_stop", "inch_mode"], event=False)
    assert inch.codes() == [("INCH_MODE_AS_PROTECTION", "critical")] and inch.outcome == "incident"
