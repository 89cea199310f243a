"""Golden paths of the electrical cabinet fire: alarm, first response and evacuation."""

from __future__ import annotations

from golden import expert_passes, play

COURSE = "fire-response"
EXPERT = [
    "raise_alarm", "cut_power", "check_ext", "take_co2",
    "approach_aisle", "pull_pin", "discharge_base",
    "hand_over", "close_fire_door", "take_stairs",
    "report_in", "wait_all_clear",
]  # fmt: skip
# With both events forced on: the fire gets into the cable tray after it seemed out, and Lao Wang is missing.
EXPERT_EVENTS = [
    "raise_alarm", "cut_power", "check_ext", "take_co2",
    "approach_aisle", "pull_pin", "discharge_base",
    "back_off_tray", "close_fire_door", "take_stairs",
    "report_in", "tell_fire_team", "wait_all_clear",
]  # fmt: skip


def test_expert_path_passes_with_full_marks():
    expert_passes(COURSE, EXPERT)


def test_expert_backs_off_from_the_cable_tray_and_reports_the_missing_colleague():
    played = play(COURSE, EXPERT_EVENTS, event=True)
    assert played.random_events() == ["cable_tray_fire", "colleague_missing"]
    assert played.outcome == "completed" and played.mistakes == []
    assert played.score.score == 100


def test_fighting_the_cable_tray_fire_is_a_critical_incident():
    at = EXPERT_EVENTS.index("back_off_tray")
    played = play(COURSE, [*EXPERT_EVENTS[:at], "fight_tray"], event=True)
    assert played.outcome == "incident"
    assert played.codes() == [("FOUGHT_GROWING_FIRE", "critical")]


def test_going_back_in_for_the_missing_colleague_is_a_critical_incident():
    at = EXPERT_EVENTS.index("tell_fire_team")
    played = play(COURSE, [*EXPERT_EVENTS[:at], "go_back_for_wang"], event=True)
    assert played.outcome == "incident"
    assert played.codes() == [("WENT_BACK_FOR_COLLEAGUE", "critical")]
    assert not played.score.passed


def test_not_telling_anyone_about_the_missing_colleague_is_serious():
    steps = [s for s in EXPERT_EVENTS if s != "tell_fire_team"]
    played = play(COURSE, steps, event=True)
    assert played.codes() == [("MISSING_NOT_REPORTED", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_water_on_the_live_cabinet_is_a_critical_incident():
    played = play(COURSE, ["raise_alarm", "run_hose"], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("WATER_ON_ELECTRICAL_FIRE", "critical")]
    assert not played.score.passed


def test_hurried_fighter_without_alarm_or_isolation_fails():
    """Straight at the fire: no alarm first, power never cut, the extinguisher grabbed unchecked, the pin forgotten, then
    the lift out."""
    steps = ["fight_first", "approach_aisle", "discharge_base_pin_in", "pull_pin", "discharge_base",
             "raise_alarm", "hand_over", "close_fire_door", "take_lift", "report_in", "wait_all_clear"]  # fmt: skip
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes() == [
        ("FIGHT_BEFORE_ALARM", "serious"),
        ("PIN_NOT_PULLED", "minor"),
        ("USED_LIFT", "serious"),
        ("SKIPPED_CHECK_EXT", "minor"),
        ("SKIPPED_CUT_POWER", "serious"),
    ]
    assert played.score.score == 45 and not played.score.passed


def test_exit_not_behind_and_aiming_at_the_smoke_then_backing_off_the_long_way():
    steps = ["raise_alarm", "cut_power", "check_ext", "take_co2", "approach_far", "pull_pin", "discharge_flames",
             "back_off_long_way", "close_fire_door", "take_stairs", "report_in", "wait_all_clear"]  # fmt: skip
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes() == [("EXIT_NOT_BEHIND", "serious"), ("AIM_NOT_AT_BASE", "serious")]
    assert played.score.score == 70 and not played.score.passed


def test_cutting_the_power_at_the_burning_cabinet_and_not_reporting_in():
    steps = list(EXPERT)
    steps[steps.index("cut_power")] = "cut_power_cabinet"
    steps.remove("report_in")
    steps[steps.index("wait_all_clear")] = "wait_unreported"
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("POWER_CUT_AT_BURNING_CABINET", "serious"), ("NOT_REPORTED_AT_ASSEMBLY", "serious")]
    assert played.score.score == 70 and not played.score.passed


def test_going_back_for_belongings_is_a_critical_incident():
    at = EXPERT.index("take_stairs")
    played = play(COURSE, [*EXPERT[:at], "get_bag"], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("WENT_BACK_FOR_BELONGINGS", "critical")]


def test_opening_the_cabinet_after_the_fire_is_out_makes_it_flare_up():
    at = EXPERT.index("hand_over")
    steps = [*EXPERT[:at], "open_cabinet", "back_off", *EXPERT[at + 1 :]]
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("OPENED_BURNING_CABINET", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_staying_in_the_growing_fire_is_critical():
    """Seconds count: 12 s of hesitation once the fire is in the cable tray end the session."""
    at = EXPERT.index("discharge_base")
    played = play(COURSE, [*EXPERT[:at], "discharge_flames", 13], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("AIM_NOT_AT_BASE", "serious"), ("STAYED_IN_GROWING_FIRE", "critical")]


def test_freezing_before_the_alarm_lets_the_fire_grow_beyond_fighting():
    """The fire outgrows an extinguisher, so the fight steps of the procedure are never taken either: they became
    impossible, so they are listed under the hesitation that caused them, without points of their own."""
    steps = [26, "back_off", "raise_alarm", "close_fire_door", "take_stairs", "report_in", "wait_all_clear"]
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes() == [
        ("SLOW_TO_RAISE_ALARM", "serious"),
        ("SKIPPED_APPROACH_AISLE", "serious"),
        ("SKIPPED_CUT_POWER", "serious"),
        ("SKIPPED_DISCHARGE_BASE", "minor"),
        ("SKIPPED_PULL_PIN", "minor"),
    ]
    assert played.folded() == dict.fromkeys(
        ["SKIPPED_APPROACH_AISLE", "SKIPPED_CUT_POWER", "SKIPPED_DISCHARGE_BASE", "SKIPPED_PULL_PIN"],
        "SLOW_TO_RAISE_ALARM",
    )
    assert played.score.score == 85 and played.score.passed


def test_hesitating_at_the_cabinet_lets_the_fire_grow():
    at = EXPERT.index("pull_pin")
    steps = [*EXPERT[:at], 31, "back_off", *EXPERT[EXPERT.index("close_fire_door") :]]
    played = play(COURSE, steps, event=False)
    assert played.codes() == [
        ("SLOW_TO_ATTACK", "serious"),
        ("SKIPPED_DISCHARGE_BASE", "minor"),
        ("SKIPPED_PULL_PIN", "minor"),
    ]
    assert played.folded() == dict.fromkeys(["SKIPPED_DISCHARGE_BASE", "SKIPPED_PULL_PIN"], "SLOW_TO_ATTACK")
    assert played.outcome == "completed" and played.score.score == 85 and played.score.passed


def test_evacuating_a_small_fire_costs_no_points_as_the_feedback_says_it_is_never_wrong():
    """Issue 20 item 7: evacuating cost a minor deduction while its feedback called it never wrong."""
    steps = ["raise_alarm", "evacuate_small", "close_fire_door", "take_stairs", "report_in", "wait_all_clear"]
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes() == [] and played.score.passed and played.score.score == 100
    feedback = played.course.states["decide"].action("evacuate_small").feedback
    assert "never wrong" in feedback.en and "不扣分" in feedback.zh


def test_the_chinese_texts_teach_the_extinguisher_as_chinese_plants_do():
    """Issue 20 item 7: 一提二拔三握四压, not 拔、瞄、压、扫 (a calque of PASS); the English keeps PASS."""
    from golden import COURSES

    text = (COURSES / f"{COURSE}.yaml").read_text(encoding="utf-8")
    body = text[text.index("id: fire-response") :]  # the header comment names the old calque on purpose
    assert "拔、瞄、压、扫" not in body and "一提二拔三握四压" in body
    played = play(COURSE, ["raise_alarm", "take_co2", "approach_aisle", "discharge_base_pin_in"], event=False)
    assert played.codes() == [("PIN_NOT_PULLED", "minor")]
    assert "一提二拔三握四压" in played.mistakes[0].rule.zh and "Pull, Aim, Squeeze, Sweep" in played.mistakes[0].rule.en


def test_skipping_the_fire_door_is_found_from_the_procedure_alone():
    steps = [s for s in EXPERT if s != "close_fire_door"]
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("SKIPPED_CLOSE_FIRE_DOOR", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


# --- the hidden fault: the CO2 extinguisher on the column was used and hung back (co2_spent) ---------------------------
SPENT = {"co2_spent": True}
EXPERT_SPENT = [
    "raise_alarm", "cut_power", "check_ext_spent", "take_powder_only",
    "approach_aisle", "pull_pin", "discharge_base",
    "hand_over", "close_fire_door", "take_stairs",
    "report_in", "wait_all_clear",
]  # fmt: skip


def test_the_check_finds_the_spent_extinguisher_and_the_expert_takes_the_powder():
    at_decide = play(COURSE, ["raise_alarm", "cut_power", "check_ext_spent"], event=False, faults=SPENT)
    offered = [o.action.id for o in at_decide.session.available()]
    assert "take_co2" not in offered and "take_powder_only" in offered  # a known empty one is not offered again
    played = expert_passes(COURSE, EXPERT_SPENT, faults=SPENT)
    assert played.session.variables["ext"] == "powder"


def test_grabbing_the_spent_extinguisher_unchecked_lets_the_fire_grow():
    steps = ["raise_alarm", "cut_power", "take_co2", "approach_aisle", "pull_pin", "discharge_base_empty",
             "back_off", "close_fire_door", "take_stairs", "report_in", "wait_all_clear"]  # fmt: skip
    played = play(COURSE, steps, event=False, faults=SPENT)
    assert played.outcome == "completed"
    mistake = played.mistakes[0]
    assert (mistake.code, str(mistake.severity)) == ("EXTINGUISHER_NOT_CHECKED", "serious")
    assert mistake.standard == "OSHA 29 CFR 1910.157(e)(2); GB 50444-2008 ch. 5"
    assert [d.mistake.code for d in played.score.deductions] == ["EXTINGUISHER_NOT_CHECKED"]
    assert played.score.score == 85


def test_a_good_extinguisher_taken_unchecked_costs_only_the_minor_check():
    steps = [s for s in EXPERT if s != "check_ext"]
    played = play(COURSE, steps, event=False, faults={"co2_spent": False})
    assert played.codes() == [("SKIPPED_CHECK_EXT", "minor")]
