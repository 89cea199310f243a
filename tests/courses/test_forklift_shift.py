"""Golden paths of the forklift shift: pre-use check, defective truck, blind crossing, view-blocking load, parking."""

from __future__ import annotations

from golden import expert_passes, play

COURSE = "forklift-shift"
EXPERT = [
    "check_fluids", "check_tyres", "check_forks", "check_mast", "check_plate", "get_on",
    "check_horn_lights", "check_brakes_steering", "check_hydraulics", "test_parking_brake",
    "secure_truck", "tag_out", "report_defect", "to_spare",
    "check_spare", "fasten_seatbelt", "pull_away",
    "approach_careful",
    "travel_reverse", "cross_gate_careful", "cross_line_careful",
    "stop_under_forks",
    "lower_forks", "controls_neutral", "set_parking_brake", "key_off", "leave_truck",
]  # fmt: skip


def _replace(steps: list[str], old: str, new: str) -> list[str]:
    out = list(steps)
    out[out.index(old)] = new
    return out


def test_expert_path_passes_with_full_marks():
    expert_passes(COURSE, EXPERT)


def test_expert_brakes_for_the_welder_stepping_out_at_the_crossing():
    steps = EXPERT[: EXPERT.index("approach_careful") + 1] + ["brake_stop"] + EXPERT[EXPERT.index("travel_reverse") :]
    played = play(COURSE, steps, event=True)
    assert played.random_events() == ["welder_at_crossing"]
    assert played.outcome == "completed" and played.mistakes == []
    assert played.score.score == 100


def test_a_spotter_is_an_acceptable_alternative_to_reversing():
    played = play(COURSE, _replace(EXPERT, "travel_reverse", "travel_with_spotter"), event=False)
    assert played.outcome == "completed" and played.mistakes == []


def test_hurried_driver_no_belt_blind_forward_forks_up_fails_with_three_serious():
    steps = _replace(EXPERT, "pull_away", "pull_away_unbelted")
    steps.remove("fasten_seatbelt")
    steps = _replace(steps, "travel_reverse", "travel_forward_blind")
    steps.remove("lower_forks")
    steps = _replace(steps, "leave_truck", "leave_truck_forks_up")
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes() == [
        ("SEATBELT_NOT_WORN", "serious"),
        ("BLIND_FORWARD_TRAVEL", "serious"),
        ("FORKS_LEFT_RAISED", "serious"),
    ]
    assert played.score.score == 55 and not played.score.passed


def test_no_horn_at_the_blind_crossing_is_one_serious_mistake():
    played = play(COURSE, _replace(EXPERT, "approach_careful", "approach_no_horn"), event=False)
    assert played.outcome == "completed"
    assert played.codes() == [("NO_HORN_AT_CROSSING", "serious")]
    assert played.score.score == 85 and played.score.passed


def test_no_horn_at_every_blind_crossing_is_counted_at_each_one():
    """Issue 19 item 4: since 1.1.0 the loaded run passes two more blind crossings; a driver who got away without the
    horn at the first does it again at the next (1910.178(n)(4): at every cross aisle). Each time is its own serious
    mistake, the third counted as the third, and the rubric takes 15 points for each."""
    steps = _replace(EXPERT, "approach_careful", "approach_no_horn")
    steps = _replace(
        _replace(steps, "cross_gate_careful", "cross_gate_no_horn"), "cross_line_careful", "cross_line_no_horn"
    )
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes() == [("NO_HORN_AT_CROSSING", "serious")] * 3
    assert [m.repeat for m in played.mistakes] == [1, 2, 3]
    assert [d.points for d in played.score.deductions] == [15.0] * 3
    assert played.score.score == 55 and not played.score.passed
    assert {m.standard for m in played.mistakes} == {"OSHA 29 CFR 1910.178(n)(4)"}


def test_horn_without_slowing_down_at_every_crossing_is_counted_at_each_one():
    steps = _replace(EXPERT, "approach_careful", "approach_horn_only")
    steps = _replace(
        _replace(steps, "cross_gate_careful", "cross_gate_horn_only"), "cross_line_careful", "cross_line_horn_only"
    )
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("TOO_FAST_AT_CROSSING", "serious")] * 3
    assert [m.repeat for m in played.mistakes] == [1, 2, 3]
    assert played.outcome == "completed" and played.score.score == 55


def test_the_loaded_run_passes_two_more_crossings_where_the_horn_is_due_too():
    played = play(COURSE, _replace(EXPERT, "cross_line_careful", "cross_line_no_horn"), event=False)
    assert played.codes() == [("NO_HORN_AT_CROSSING", "serious")]
    assert played.score.score == 85 and played.outcome == "completed"


def test_untagged_defective_truck_counts_once():
    steps = [s for s in EXPERT if s != "tag_out"]
    played = play(COURSE, _replace(steps, "to_spare", "to_spare_untagged"), event=False)
    assert played.codes() == [("NO_DEFECT_TAG", "serious")]


def test_using_the_truck_with_the_failed_parking_brake_is_a_critical_incident():
    steps = EXPERT[: EXPERT.index("secure_truck")] + ["use_anyway"]
    played = play(COURSE, steps, event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("DEFECTIVE_TRUCK_USED", "critical")]
    assert not played.score.passed


def test_leaving_the_truck_is_fatal_only_on_no3_whose_parking_brake_was_never_tested():
    """Same label as the expert's last step: on No. 3 (parking brake never tested) the truck rolls away."""
    steps = EXPERT[: EXPERT.index("test_parking_brake")] + ["cab_done"] + EXPERT[EXPERT.index("fasten_seatbelt") :]
    steps = _replace(steps, "leave_truck", "leave_truck_rolls")
    played = play(COURSE, steps, event=False)
    assert played.outcome == "incident"
    assert ("PARKING_BRAKE_NOT_TESTED", "critical") in played.codes()
    assert "SKIPPED_TEST_PARKING_BRAKE" not in {code for code, _ in played.codes()}
    assert not played.score.passed


def test_someone_under_the_raised_forks_is_a_critical_incident():
    steps = EXPERT[: EXPERT.index("stop_under_forks")] + ["keep_lowering"]
    played = play(COURSE, steps, event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("PERSON_UNDER_FORKS", "critical")]


def test_speeding_through_the_crossing_when_someone_is_coming_is_a_critical_incident():
    steps = EXPERT[: EXPERT.index("approach_careful")] + ["approach_horn_only_ped"]
    played = play(COURSE, steps, event=True)
    assert played.outcome == "incident"
    assert played.codes() == [("PEDESTRIAN_STRUCK", "critical")]


def test_hesitating_when_the_welder_steps_out_costs_a_serious_mistake():
    steps = EXPERT[: EXPERT.index("approach_careful") + 1] + [9, "report_near_miss"]
    steps += EXPERT[EXPERT.index("travel_reverse") :]
    played = play(COURSE, steps, event=True)
    assert played.codes() == [("SLOW_TO_BRAKE", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_skipping_the_defect_report_is_found_from_the_procedure_alone():
    played = play(COURSE, [s for s in EXPERT if s != "report_defect"], event=False)
    assert played.outcome == "completed"
    assert played.codes() == [("SKIPPED_REPORT_DEFECT", "serious")]


def test_switching_off_before_lowering_the_forks_is_out_of_order():
    steps = [s for s in EXPERT if s != "key_off"]
    steps.insert(steps.index("lower_forks"), "key_off")
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("ORDER_KEY_OFF", "serious")]
