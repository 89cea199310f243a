"""Golden paths of the shift-start press check: the curtain gap found at rest at bolster height, locked and tagged out,
re-tested; and, on the sessions that draw no gap (the hidden fault curtain_gap), the same checks passed and signed."""

from __future__ import annotations

from golden import COURSES, expert_passes, play

from trainer.course.loader import load_course
from trainer.engine.modes import draw_hidden

COURSE = "press-shift-check"
EXPERT = [
    "read_log", "start_check",
    "check_guards", "check_air", "to_station",
    "refit_console", "test_estop", "test_each_hand", "test_release", "test_tiedown", "test_single",
    "to_curtain",
    "fetch_rod", "test_static",
    "stop_press", "main_off", "tag_out", "record_fault", "go_report",
    "report_details", "back_to_press",
    "retest", "restart",
]  # fmt: skip


def before(step: str) -> list[str]:
    return EXPERT[: EXPERT.index(step)]


def test_expert_path_passes_with_full_marks():
    expert_passes(COURSE, EXPERT)


def test_expert_refuses_the_team_leader_who_wants_it_run_on_the_buttons():
    steps = before("report_details") + ["refuse_push"] + EXPERT[EXPERT.index("report_details") :]
    played = play(COURSE, steps, event=True)
    assert played.random_events() == ["leader_pushes"]
    assert played.outcome == "completed" and played.mistakes == []


def test_giving_in_to_the_team_leader_is_a_critical_incident():
    played = play(COURSE, before("report_details") + ["obey_push"], event=True)
    assert played.outcome == "incident"
    assert played.codes() == [("RAN_WITH_FAILED_SAFEGUARD", "critical")]
    assert not played.score.passed


def test_walking_away_from_the_team_leader_without_a_no_is_deducted():
    played = play(COURSE, [s for s in EXPERT if s != "report_details"], event=True)
    assert played.codes() == [("PRESSURE_NOT_REFUSED", "serious"), ("SKIPPED_REPORT_DETAILS", "minor")]
    assert played.outcome == "completed" and played.score.score == 80


def test_typical_shortcuts_are_each_deducted_once():
    """Curtain nudged back by the operator, a tag and no lock on a live press, no re-test: four serious, no more."""
    steps = before("stop_press") + ["adjust_curtain", "stop_press", "tag_only", "record_fault", "go_report_live"]
    steps += ["report_details", "back_to_press", "restart_unverified"]
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes() == [
        ("UNAUTHORISED_SAFEGUARD_ADJUSTMENT", "serious"),
        ("PRESS_TAGGED_NOT_LOCKED", "serious"),
        ("PRESS_LEFT_LIVE", "serious"),
        ("NO_RETEST_AFTER_REPAIR", "serious"),
    ]
    assert played.score.score == 40 and not played.score.passed


def test_testing_the_curtain_with_a_hand_is_a_critical_incident():
    played = play(COURSE, before("fetch_rod") + ["hand_test"], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("CURTAIN_TESTED_BY_HAND", "critical")]
    assert not played.score.passed


def test_testing_only_top_and_middle_misses_the_gap_one_deduction_with_its_consequences_under_it():
    """Signing after stop tests at the top and middle only means the gap is never found, so nothing of the defect
    procedure can follow: one serious deduction (docs/scoring.md, "Root causes fold"), its consequences under it."""
    steps = before("test_static") + ["test_top", "test_mid", "sign_partial", "fix_with_tool"]
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes()[0] == ("CURTAIN_NOT_FULLY_TESTED", "serious")
    assert ("SKIPPED_TAG_OUT", "serious") in played.codes()
    assert set(played.folded().values()) == {"CURTAIN_NOT_FULLY_TESTED"} and len(played.folded()) == 6
    assert [d.mistake.code for d in played.score.deductions] == ["CURTAIN_NOT_FULLY_TESTED"]
    assert played.score.score == 85


def test_skipping_the_curtain_test_is_one_deduction_not_seven():
    """The issue's example: ticking the curtain test gave a deduction for each step it made impossible."""
    played = play(COURSE, before("fetch_rod") + ["skip_curtain", "fix_with_tool"], event=False)
    assert len(played.mistakes) == 7
    assert [d.mistake.code for d in played.score.deductions] == ["CURTAIN_TEST_SKIPPED"]
    assert set(played.folded()) == {
        "SKIPPED_STOP_PRESS", "SKIPPED_MAIN_OFF", "SKIPPED_TAG_OUT", "SKIPPED_RECORD_FAULT", "SKIPPED_REPORT_DETAILS",
        "SKIPPED_RETEST",
    }  # fmt: skip
    assert all(d.points == 0 for d in played.score.folded) and played.score.score == 85


def test_trusting_the_untested_curtain_in_production_ends_in_an_amputation():
    steps = before("fetch_rod") + ["skip_curtain", "fix_by_hand"]
    played = play(COURSE, steps, event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("CURTAIN_TEST_SKIPPED", "serious"), ("HAND_IN_DIE_FOOT_ON_PEDAL", "critical")]


def test_hesitating_after_the_failure_lets_the_second_operator_reach_the_pedal():
    steps = before("stop_press") + [21] + EXPERT[EXPERT.index("stop_press") :]
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("SLOW_TO_STOP_DEFECTIVE_PRESS", "serious")]
    assert played.outcome == "completed" and played.score.score == 85 and played.score.passed


def test_testing_the_failed_curtain_again_and_again_is_a_minor_mistake_each_time():
    """Issue 19 item 4: since 1.3.0 trying the bottom again after the rod went through the gap is a declared mistake
    (it was offered and explained, but cost nothing), counted each time: three tries, 5 points each to the rubric.
    After the third it is no longer offered; the press is then stopped as the expert does."""
    tries = ["retest_low", "retest_low_2", "retest_low_3"]
    played = play(COURSE, before("stop_press") + tries + EXPERT[EXPERT.index("stop_press") :], event=False)
    assert played.codes() == [("RETESTED_FAILED_SAFEGUARD", "minor")] * 3
    assert [m.repeat for m in played.mistakes] == [1, 2, 3]
    assert [d.points for d in played.score.deductions] == [5.0] * 3
    assert {m.standard for m in played.mistakes} == {"OSHA 29 CFR 1910.217(e)(1)(ii); GB 27607-2011"}
    assert played.outcome == "completed" and played.score.score == 85 and played.score.passed
    stuck = play(COURSE, before("stop_press") + tries, event=False)
    assert not any(o.action.id.startswith("retest_low") for o in stuck.session.available())


def test_testing_the_failed_curtain_until_the_time_runs_out_lets_the_second_operator_reach_the_pedal():
    played = play(COURSE, before("stop_press") + ["retest_low", "retest_low_2", "retest_low_3", 15], event=False)
    assert played.session.state.id == "wang_at_pedal"
    assert [c for c, _ in played.codes()] == ["RETESTED_FAILED_SAFEGUARD"] * 3 + ["SLOW_TO_STOP_DEFECTIVE_PRESS"]


def test_hesitating_twice_is_a_critical_incident():
    played = play(COURSE, before("stop_press") + [21, 9], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("SLOW_TO_STOP_DEFECTIVE_PRESS", "serious"), ("SLOW_TO_STOP_OPERATOR", "critical")]


def test_skipping_the_anti_tie_down_test_is_found_from_the_procedure_alone():
    played = play(COURSE, [s for s in EXPERT if s != "test_tiedown"], event=False)
    assert played.codes() == [("SKIPPED_TEST_TIEDOWN", "serious")]


def test_a_tag_without_the_lock_is_deducted_and_the_lock_needs_the_switch_off():
    """Issue 20 item 7: the faulty press is locked as well as tagged (1910.147(c)(3)(ii))."""
    steps = list(EXPERT)
    steps[steps.index("tag_out")] = "tag_only"
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("PRESS_TAGGED_NOT_LOCKED", "serious")]
    assert played.outcome == "completed" and played.score.score == 85
    at_secure = play(COURSE, before("main_off"), event=False)
    assert "tag_out" not in [o.action.id for o in at_secure.session.available()]  # no lock on a switch still ON
    assert "tag_out" in [o.action.id for o in play(COURSE, before("tag_out"), event=False).session.available()]


def test_finding_the_gap_with_the_slide_coming_down_is_a_serious_mistake():
    """Issue 20 item 7: the static test comes before any stop test on a descending slide."""
    steps = before("test_static") + ["test_top", "test_mid", "test_low"] + EXPERT[EXPERT.index("stop_press") :]
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("NO_STATIC_TEST_FIRST", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_leaving_the_button_box_by_the_die_defeats_the_two_hand_control():
    steps = list(EXPERT)
    steps[steps.index("refit_console")] = "leave_console"
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("TWO_HAND_CONTROL_DEFEATED", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


# --- the hidden fault: the curtain refitted too high, or not (curtain_gap) ----------------------------------------------
NO_GAP = {"curtain_gap": False}
EXPERT_NO_GAP = before("test_static") + ["test_static_ok", "test_top", "test_mid", "test_low_ok", "sign_ok"]
EXPERT_NO_GAP += ["fix_with_tool_ok"]


def test_the_goldens_above_play_the_declared_gap_and_sessions_draw_both():
    course = load_course(COURSES / f"{COURSE}.yaml")
    assert course.variables["curtain_gap"] is True
    assert {draw_hidden(course, seed)["curtain_gap"] for seed in range(20)} == {False, True}


def test_without_the_gap_the_expert_tests_signs_and_runs_the_shift_with_full_marks():
    assert expert_passes(COURSE, EXPERT_NO_GAP, faults=NO_GAP).session.state.id == "done_shift"


def test_the_same_rod_test_finds_the_gap_when_there_is_one():
    played = play(COURSE, before("test_static") + ["test_static"], event=False, faults={"curtain_gap": True})
    assert played.session.state.id == "defect"


def test_ticking_the_curtain_without_the_gap_is_still_the_same_mistake():
    played = play(COURSE, before("fetch_rod") + ["skip_curtain", "fix_with_tool_ok"], event=False, faults=NO_GAP)
    assert played.outcome == "completed"
    assert played.codes() == [("CURTAIN_TEST_SKIPPED", "serious")]  # no defect steps are due on a sound press
    assert played.score.score == 85


def test_a_stop_test_low_down_before_the_static_test_is_deducted_even_when_it_passes():
    steps = before("test_static") + ["test_low_early", "test_static_ok", "test_top", "test_mid", "sign_ok"]
    played = play(COURSE, [*steps, "fix_with_tool_ok"], event=False, faults=NO_GAP)
    assert played.codes() == [("NO_STATIC_TEST_FIRST", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_signing_after_the_static_test_alone_is_not_a_full_test():
    steps = before("test_static") + ["test_static_ok", "sign_partial", "fix_with_tool_ok"]
    played = play(COURSE, steps, event=False, faults=NO_GAP)
    assert played.codes() == [("CURTAIN_NOT_FULLY_TESTED", "serious")]


def test_a_hand_in_the_die_with_a_foot_at_the_pedal_fails_even_when_the_curtain_holds():
    played = play(COURSE, [*EXPERT_NO_GAP[:-1], "fix_by_hand_curtain"], event=False, faults=NO_GAP)
    assert played.outcome == "incident"
    assert played.codes() == [("HAND_IN_DIE_FOOT_ON_PEDAL", "critical")]
    assert not played.score.passed
