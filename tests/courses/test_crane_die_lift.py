"""Golden paths of the 5 t die lift: shift check, damaged sling, trial lift, route, signals, landing on blocks."""

from __future__ import annotations

from golden import expert_passes, play

COURSE = "crane-die-lift"
EXPERT = [
    "check_tag", "check_controls", "check_brakes", "check_hook_rope", "test_limit", "to_slings",
    "inspect_rope_sling", "reject_rope_sling", "inspect_chain_sling", "fit_chain_sling",
    "check_weight", "check_pins", "fit_tag_line", "center_hook", "attach_legs", "take_slack",
    "trial_lift", "raise_to_travel",
    "agree_signals", "sound_warning", "route_bay",
    "follow_signals",
    "stop_on_signal",
    "one_signaller", "place_blocks", "lower_land",
]  # fmt: skip


def _until(step: str) -> list[str]:
    return EXPERT[: EXPERT.index(step)]


def _from(step: str) -> list[str]:
    return EXPERT[EXPERT.index(step) :]


def test_expert_path_passes_with_full_marks():
    expert_passes(COURSE, EXPERT)


def test_expert_stops_the_fitter_and_stops_the_crane_when_the_radio_drops():
    steps = (
        _until("route_bay") + ["stop_fitter", "route_bay", "stop_crane", "restore_contact"] + _from("stop_on_signal")
    )
    played = play(COURSE, steps, event=True)
    assert played.random_events() == ["fitter_in_bay", "radio_drops"]
    assert played.outcome == "completed" and played.mistakes == []
    assert played.score.score == 100


def test_side_pull_no_trial_lift_and_a_second_signaller_fail_with_three_serious():
    steps = [s for s in EXPERT if s not in ("center_hook", "trial_lift")]
    steps[steps.index("take_slack")] = "take_slack_offcentre"
    steps[steps.index("raise_to_travel")] = "raise_to_travel_untested"
    steps[steps.index("one_signaller")] = "lower_on_wave"
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes() == [
        ("SIDE_PULL", "serious"),
        ("NO_TRIAL_LIFT", "serious"),
        ("TWO_SIGNALLERS", "serious"),
    ]
    assert played.score.score == 55 and not played.score.passed


def test_using_the_damaged_sling_is_a_critical_incident_whether_inspected_or_not():
    for steps in (
        _until("inspect_rope_sling") + ["use_rope_sling"],
        _until("reject_rope_sling") + ["use_rope_sling_known"],
    ):
        played = play(COURSE, steps, event=False)
        assert played.outcome == "incident"
        assert played.codes() == [("DAMAGED_SLING_USED", "critical")]
        assert not played.score.passed


def test_carrying_the_die_over_line_4_is_a_critical_incident():
    played = play(COURSE, _until("route_bay") + ["route_direct"], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("LOAD_OVER_PEOPLE", "critical")]


def test_the_long_way_round_is_critical_when_the_fitter_was_not_stopped():
    """Same label as the expert's route: with the fitter still in the bay it carries the die over him."""
    played = play(COURSE, _until("route_bay") + ["route_bay_person"], event=True)
    assert played.random_events() == ["fitter_in_bay"]
    assert played.outcome == "incident"
    assert played.codes() == [("LOAD_OVER_PEOPLE", "critical")]


def test_continuing_when_the_radio_drops_is_a_critical_incident():
    played = play(COURSE, _until("route_bay") + ["stop_fitter", "route_bay", "continue_blind"], event=True)
    assert played.outcome == "incident"
    assert played.codes() == [("CONTINUED_WITHOUT_SIGNAL", "critical")]
    assert not played.score.passed


def test_hands_under_the_suspended_die_is_a_critical_incident():
    played = play(COURSE, _until("place_blocks") + ["push_blocks_under"], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("UNDER_SUSPENDED_LOAD", "critical")]


def test_hesitating_on_the_stop_signal_costs_a_serious_mistake():
    """Since 1.2.0 the die that overshot is brought back and approached again; this time the trainee stops."""
    steps = _until("stop_on_signal") + [7, "steady_load"] + _from("stop_on_signal")
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("SLOW_TO_STOP", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_slow_on_the_stop_signal_at_every_approach_repeats_until_wang_takes_the_remote():
    """Issue 19 item 4: each overshoot is followed by another approach and another stop signal; a trainee slow to let
    go every time makes the same serious mistake three times (each one costs the rubric its 15 points), and after the
    third overshoot the team leader takes the remote: the session ends there, it cannot be farmed."""
    steps = _until("stop_on_signal") + [7, "steady_load", 7, "steady_load_again", 7, "steady_load_wang"]
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("SLOW_TO_STOP", "serious")] * 3
    assert [m.repeat for m in played.mistakes] == [1, 2, 3]
    assert [d.points for d in played.score.deductions] == [15.0] * 3
    assert played.outcome == "aborted" and played.score.score == 55 and not played.score.passed
    assert played.session.state.id == "taken_off"


def test_creeping_on_against_the_stop_at_every_approach_is_counted_each_time():
    steps = _until("stop_on_signal") + ["creep_on", "steady_load", "creep_on", "steady_load_again", "creep_on"]
    played = play(COURSE, steps + ["steady_load_wang"], event=False)
    assert played.codes() == [("MOVED_AGAINST_STOP_SIGNAL", "serious")] * 3
    assert [m.repeat for m in played.mistakes] == [1, 2, 3]
    assert played.score.score == 55 and played.outcome == "aborted"


def test_a_second_approach_stopped_in_time_lands_the_die():
    steps = _until("stop_on_signal") + ["creep_on", "steady_load", 7, "steady_load_again"] + _from("stop_on_signal")
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("MOVED_AGAINST_STOP_SIGNAL", "serious"), ("SLOW_TO_STOP", "serious")]
    assert played.outcome == "completed" and played.score.score == 70


def test_skipping_the_limit_switch_test_is_found_from_the_procedure_alone():
    played = play(COURSE, [s for s in EXPERT if s != "test_limit"], event=False)
    assert played.outcome == "completed"
    assert played.codes() == [("SKIPPED_TEST_LIMIT", "serious")]


def test_limit_test_before_checking_the_controls_is_out_of_order():
    steps = [s for s in EXPERT if s != "test_limit"]
    steps.insert(steps.index("check_controls"), "test_limit")
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("ORDER_TEST_LIMIT", "serious")]


def test_limit_tested_at_full_speed_counts_once():
    steps = list(EXPERT)
    steps[steps.index("test_limit")] = "test_limit_fast"
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("LIMIT_TESTED_AT_SPEED", "serious")]


def test_following_the_usual_calls_after_the_radio_dropped_is_critical():
    """Same label as the expert's travel step: after the radio drops there are no calls, and the die moves blind."""
    played = play(COURSE, _until("route_bay") + ["stop_fitter", "route_bay", "follow_signals_lost"], event=True)
    assert played.outcome == "incident"
    assert played.codes() == [("CONTINUED_WITHOUT_SIGNAL", "critical")]


def test_driving_the_remote_crane_blind_on_radio_calls_is_a_serious_mistake():
    """Issue 20 item 7: walk with the load and keep it in sight; the radio alone is driving blind."""
    steps = list(EXPERT)
    steps[steps.index("follow_signals")] = "drive_blind"
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("LOAD_DRIVEN_OUT_OF_SIGHT", "serious")]
    assert played.outcome == "completed" and played.score.score == 85
    walking = played.course.states["travel"].action("follow_signals").label
    assert "in sight" in walking.en and "跟着吊物走" in walking.zh


def test_the_lifting_pins_and_the_tag_line_are_steps_of_the_rigging():
    """Issue 20 item 7: pins screwed fully home with sound threads; a tag line, so no hand guides the die."""
    played = play(COURSE, [s for s in EXPERT if s != "check_pins"], event=False)
    assert played.codes() == [("SKIPPED_CHECK_PINS", "serious")]
    played = play(COURSE, [s for s in EXPERT if s != "fit_tag_line"], event=False)
    assert played.codes() == [("SKIPPED_FIT_TAG_LINE", "serious")]
    at_landing = play(COURSE, EXPERT[: EXPERT.index("lower_land")], event=False)
    scene = at_landing.session.state.scene(at_landing.session.variables, "en")
    assert "holds the tag line" in scene
