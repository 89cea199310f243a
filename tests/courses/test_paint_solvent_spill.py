"""Golden paths of the solvent and isocyanate spill in the paint mixing room."""

from __future__ import annotations

from golden import expert_passes, play

COURSE = "paint-solvent-spill"
EXPERT = [
    "alert_people", "small_spill",
    "read_sds", "don_ppe", "don_supplied_air", "control_ignition", "enter_spill",
    "stop_source",
    "contain_absorb", "decontaminate", "waste_drum", "leave_room",
    "report_spill", "hand_back",
]  # fmt: skip


def test_expert_path_passes_with_full_marks():
    expert_passes(COURSE, EXPERT)


def test_expert_stops_the_colleague_reaching_for_the_lamp_switch():
    at = EXPERT.index("contain_absorb")
    played = play(COURSE, [*EXPERT[:at], "stop_colleague", *EXPERT[at:]], event=True)
    assert played.random_events() == ["colleague_at_door"]
    assert played.outcome == "completed" and played.mistakes == []
    assert played.score.score == 100


def test_letting_the_colleague_switch_the_lamp_on_in_the_vapour_is_an_incident():
    at = EXPERT.index("contain_absorb")
    played = play(COURSE, [*EXPERT[:at], "let_colleague"], event=True)
    assert played.outcome == "incident"
    assert played.codes() == [("SWITCH_USED_IN_VAPOUR", "critical")]


def test_ignoring_the_colleague_is_a_serious_mistake_but_the_job_goes_on():
    played = play(COURSE, EXPERT, event=True)
    assert played.codes() == [("COLLEAGUE_NOT_STOPPED", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_switching_on_the_floor_fan_in_the_vapour_is_a_critical_incident():
    played = play(COURSE, ["alert_people", "small_spill", "read_sds", "switch_on_fan"], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("IGNITION_FAN_SWITCHED_ON", "critical")]
    assert not played.score.passed


def test_dust_mask_for_isocyanate_is_a_critical_incident():
    played = play(
        COURSE,
        ["alert_people", "small_spill", "read_sds", "don_ppe", "don_dust_mask", "control_ignition", "enter_dust_mask"],
        event=False,
    )
    assert played.outcome == "incident"
    assert played.codes() == [("DUST_MASK_FOR_ISOCYANATE", "critical")]


def test_swapping_the_dust_mask_for_supplied_air_before_going_in_costs_nothing():
    steps = list(EXPERT)
    steps[steps.index("don_supplied_air")] = "don_dust_mask"
    steps.insert(steps.index("control_ignition"), "don_supplied_air")
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed" and played.mistakes == []


def test_hurried_mixer_skipping_the_sds_with_a_cartridge_mask_and_sawdust_fails():
    """No SDS, so the cartridge mask and the sawdust bin: each deducted once, and not reported. Choosing the mask left
    the preparation for good, so the SDS unread is listed under it without points of its own."""
    steps = list(EXPERT)
    steps.remove("read_sds")
    steps[steps.index("don_supplied_air")] = "don_cartridge"
    steps[steps.index("enter_spill")] = "enter_cartridge"
    steps[steps.index("contain_absorb")] = "absorb_sawdust"
    steps.remove("report_spill")
    steps[steps.index("hand_back")] = "hand_back_unreported"
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes() == [
        ("CARTRIDGE_FOR_ISOCYANATE", "serious"),
        ("SKIPPED_READ_SDS", "serious"),
        ("COMBUSTIBLE_ABSORBENT", "serious"),
        ("SPILL_NOT_REPORTED", "serious"),
    ]
    assert played.folded() == {"SKIPPED_READ_SDS": "CARTRIDGE_FOR_ISOCYANATE"}
    assert played.score.score == 55 and not played.score.passed


def test_mopping_up_without_ppe_is_serious_then_first_aid_and_a_proper_clean_up():
    steps = ["mop_up", "first_aid", "alert_people", *EXPERT[1:]]
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes() == [("MOP_WITHOUT_PPE", "serious")]
    assert played.score.passed and played.score.score == 85


def test_waste_in_the_general_bin_and_residue_down_the_drain():
    steps = list(EXPERT)
    steps[steps.index("decontaminate")] = "hose_to_drain"
    steps[steps.index("waste_drum")] = "waste_general_bin"
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("RESIDUE_DOWN_DRAIN", "serious"), ("WASTE_IN_GENERAL_BIN", "serious")]
    assert played.score.score == 70 and not played.score.passed


def test_hesitating_at_the_door_turns_it_into_an_evacuation():
    played = play(COURSE, [31, "evacuate_call"], event=False)
    assert played.codes() == [("SLOW_TO_ACT", "serious")]
    assert played.outcome == "aborted"


def test_tackling_the_spread_spill_alone_is_a_critical_incident():
    played = play(COURSE, [31, "handle_anyway"], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("SLOW_TO_ACT", "serious"), ("SPILL_BEYOND_KIT", "critical")]


def test_hesitating_in_the_room_lets_the_spill_reach_the_drain():
    at = EXPERT.index("stop_source")
    played = play(COURSE, [*EXPERT[:at], 21, *EXPERT[at:]], event=False)
    assert played.codes() == [("SLOW_TO_STOP_SOURCE", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_evacuating_a_small_spill_is_safe_and_ends_without_a_result():
    played = play(COURSE, ["alert_people", "evacuate_small"], event=False)
    assert played.outcome == "aborted" and played.mistakes == []


def test_skipping_ignition_control_is_found_from_the_procedure_alone():
    steps = [s for s in EXPERT if s != "control_ignition"]
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("SKIPPED_CONTROL_IGNITION", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_never_warning_anyone_is_found_from_the_procedure_alone():
    played = play(COURSE, ["go_look", *EXPERT[1:]], event=False)
    assert played.codes() == [("ENTERED_SPILL_UNPROTECTED", "minor"), ("SKIPPED_ALERT_PEOPLE", "serious")]
    assert played.score.score == 80 and played.score.passed
