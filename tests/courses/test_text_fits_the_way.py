"""Scene and ending texts agree with what the trainee did on the way (issue #16 item 6, #17 item 5).

Each test plays, through the engine, a path on which a bundled course used to show text contradicting the variables
(a hub still saying a step is to be done after it was done; an ending praising work that was skipped) and reads the
text the trainee now sees there.
"""

from __future__ import annotations

from golden import play


def shown(played, lang: str = "en") -> str:
    """The current state's text as the player shows it now."""
    return played.session.state.scene(played.session.variables, lang)


def test_crane_slings_after_rejecting_the_rope_sling_no_longer_says_it_is_on_the_hook():
    played = play("crane-die-lift", ["to_slings", "inspect_rope_sling", "reject_rope_sling"], event=False)
    assert "left a four-leg wire-rope sling on the hook" not in shown(played)
    assert "scrap cage" in shown(played) and "报废区" in shown(played, "zh")


def test_crane_rig_after_centring_and_hooking_on_no_longer_says_the_hook_is_off_to_one_side():
    steps = ["to_slings", "inspect_rope_sling", "reject_rope_sling", "fit_chain_sling", "center_hook", "attach_legs"]
    played = play("crane-die-lift", steps, event=False)
    assert "off to one side" not in shown(played) and "一侧约1米" not in shown(played, "zh")
    assert "plumb over the die's centre" in shown(played) and "pins" in shown(played)


def test_crane_landing_after_blocks_and_one_signaller_no_longer_has_wang_waving_and_blocks_at_chen_feet():
    steps = [
        "inspect_rope_sling", "reject_rope_sling", "fit_chain_sling", "check_weight", "center_hook", "attach_legs",
        "take_slack", "trial_lift", "raise_to_travel", "route_bay", "follow_signals", "stop_on_signal",
        "one_signaller", "place_blocks",
    ]  # fmt: skip
    played = play("crane-die-lift", ["to_slings", *steps], event=False)
    assert played.session.state.id == "landing"
    assert "waving you down" not in shown(played) and "挥手" not in shown(played, "zh")
    assert "at his feet" not in shown(played)
    assert "only Lao Chen gives signals" in shown(played)


def test_fire_fighting_after_pulling_the_pin_no_longer_says_pin_in_and_seal_intact():
    played = play("fire-response", ["raise_alarm", "take_co2", "approach_aisle", "pull_pin"], event=False)
    assert played.session.state.id == "fighting"
    assert "pin in and seal intact" not in shown(played) and "保险销还插着" not in shown(played, "zh")
    assert "the pin is out" in shown(played)


def test_fire_evacuation_without_an_alarm_does_not_say_the_alarm_is_ringing():
    steps = ["fight_first", "approach_aisle", "pull_pin", "discharge_flames", "back_off"]
    played = play("fire-response", steps, event=False)
    assert played.session.state.id == "evacuate"
    assert "alarm is ringing" not in shown(played) and "警铃在响" not in shown(played, "zh")
    assert "Nobody has raised the alarm" in shown(played)
    played = play("fire-response", [*steps, "raise_alarm"], event=False)
    assert "alarm is ringing" in shown(played)


def test_fire_ending_after_not_reporting_in_does_not_say_everyone_was_accounted_for():
    steps = ["raise_alarm", "take_co2", "approach_aisle", "pull_pin", "discharge_base", "hand_over", "take_stairs"]
    played = play("fire-response", [*steps, "wait_unreported"], event=False)
    assert played.outcome == "completed"
    assert "Everyone is accounted for" not in shown(played) and "人员清点无误" not in shown(played, "zh")
    assert "never reported in" in shown(played)
    played = play("fire-response", [*steps, "report_in", "wait_all_clear"], event=False)
    assert "Everyone is accounted for" in shown(played)


FORKLIFT_TO_SPARE = [
    "get_on", "test_parking_brake", "secure_truck", "tag_out", "report_defect", "to_spare",
]  # fmt: skip


def test_forklift_spare_truck_is_not_called_ready_to_go_before_its_check():
    played = play("forklift-shift", FORKLIFT_TO_SPARE, event=False)
    assert played.session.state.id == "depart"
    assert "ready to go" not in shown(played) and "准备出发" not in shown(played, "zh")
    assert "nobody has checked it yet" in shown(played)
    played = play("forklift-shift", [*FORKLIFT_TO_SPARE, "check_spare"], event=False)
    assert "ready to go" in shown(played)


def test_forklift_ending_with_the_forks_left_up_or_the_no3_untagged_does_not_say_parked_safely_or_out_of_service():
    way = ["check_spare", "fasten_seatbelt", "pull_away", "approach_careful", "travel_reverse"]
    way += ["cross_gate_careful", "cross_line_careful", "stop_under_forks"]
    untagged = ["get_on", "test_parking_brake", "to_spare_untagged"]
    for steps in ([*FORKLIFT_TO_SPARE, *way, "leave_truck_forks_up"], [*untagged, *way, "lower_forks", "leave_truck"]):
        played = play("forklift-shift", steps, event=False)
        assert played.outcome == "completed"
        for claim in ("parked safely", "out of service for repair"):
            assert claim not in shown(played)
        for claim in ("按规定停好", "停用待修"):
            assert claim not in shown(played, "zh")
    assert "forks still raised" in shown(
        play("forklift-shift", [*FORKLIFT_TO_SPARE, *way, "leave_truck_forks_up"], event=False)
    )


PAINT_IN = ["alert_people", "small_spill", "read_sds", "don_ppe", "don_supplied_air", "control_ignition", "enter_spill"]


def test_paint_contain_after_absorbing_no_longer_says_six_litres_lie_on_the_floor():
    played = play("paint-solvent-spill", [*PAINT_IN, "stop_source", "contain_absorb"], event=False)
    assert played.session.state.id == "contain"
    assert "six litres" not in shown(played) and "六升" not in shown(played, "zh")
    assert "soaked up" in shown(played)


def test_paint_report_after_skipping_the_clean_up_does_not_call_the_room_clean():
    played = play("paint-solvent-spill", [*PAINT_IN, "stop_source", "contain_absorb", "leave_room"], event=False)
    assert played.session.state.id == "report"
    assert "is clean" not in shown(played) and "清理干净" not in shown(played, "zh")
    assert "sodden absorbent" in shown(played)


def test_paint_ending_unreported_with_waste_in_the_general_bin_claims_neither_report_nor_hazardous_waste_store():
    way = [*PAINT_IN, "stop_source", "contain_absorb", "decontaminate", "waste_general_bin", "leave_room"]
    played = play("paint-solvent-spill", [*way, "hand_back_unreported"], event=False)
    assert played.outcome == "completed"
    for claim in ("hazardous-waste store", "the spill is reported"):
        assert claim not in shown(played)
    for claim in ("危废库", "事件已上报"):
        assert claim not in shown(played, "zh")
    assert "never reported" in shown(played)


def test_press_check_station_after_refitting_the_button_box_no_longer_says_it_hangs_beside_the_die():
    played = play("press-shift-check", ["start_check", "to_station", "refit_console"], event=False)
    assert played.session.state.id == "station"
    assert "beside the die" not in shown(played) and "立柱空着" not in shown(played, "zh")
    assert "back on its pedestal" in shown(played)
    played = play("press-shift-check", ["start_check", "to_station", "leave_console"], event=False)
    assert "beside the die" in shown(played)


PRESS_CHECK_TO_SECURE = ["start_check", "to_station", "to_curtain", "fetch_rod", "test_static", "stop_press"]


def test_press_check_secure_after_tagging_out_no_longer_says_the_tags_are_in_the_clip():
    played = play("press-shift-check", [*PRESS_CHECK_TO_SECURE, "main_off", "tag_out"], event=False)
    assert played.session.state.id == "secure"
    assert "in your checklist clip" not in shown(played) and "夹在你的点检表夹子里" not in shown(played, "zh")
    assert "lock holds QS1 at OFF" in shown(played) and "is at OFF" in shown(played)


def test_press_check_restart_without_the_retest_does_not_end_repaired_and_re_tested():
    steps = [*PRESS_CHECK_TO_SECURE, "main_off", "tag_out", "record_fault", "go_report", "back_to_press"]
    played = play("press-shift-check", [*steps, "restart_unverified"], event=False)
    assert played.outcome == "completed"
    assert "re-tested" not in shown(played) and "复测合格" not in shown(played, "zh")
    assert "electrician's word alone" in shown(played)
    assert "re-tested" in shown(play("press-shift-check", [*steps, "retest", "restart"], event=False))


ROBOT_IN = ["notify", "to_panel", "stop_cell", "rest_gun", "isolate_power", "lock_power", "isolate_air", "enter_gate"]


def test_robot_fixture_after_replacing_the_pin_no_longer_says_pin_3_is_bent():
    played = play("robot-cell-entry", [*ROBOT_IN, "replace_pin"], event=False)
    assert played.session.state.id == "fixture"
    assert "bent" not in shown(played) and "弯了" not in shown(played, "zh")
    assert "still sit on the fixture table" in shown(played)
    played = play("robot-cell-entry", [*ROBOT_IN, "replace_pin", "collect_tools"], event=False)
    assert "back in the toolbox" in shown(played)


def test_robot_outside_after_unlocking_no_longer_says_the_lock_is_still_on_qs2():
    played = play("robot-cell-entry", [*ROBOT_IN, "replace_pin", "collect_tools", "exit_cell", "unlock"], event=False)
    assert played.session.state.id == "outside"
    assert "still on QS2" not in shown(played) and "还挂在QS2上" not in shown(played, "zh")
    assert "Your lock is off" in shown(played)


GROUP = "group-lockout-shift-change"


def test_group_handover_follows_the_locks_on_the_box():
    played = play(GROUP, [], event=False)
    assert "his personal lock is on the box" in shown(played) and "marked 刘" in shown(played)
    played = play(GROUP, ["take_over", "release_zhang", "trace_liu"], event=False)
    assert played.session.state.id == "handover"
    assert "waits with the group lockout record" not in shown(played) and "等着交班" not in shown(played, "zh")
    assert "gone home" in shown(played)
    assert "marked 刘" not in shown(played) and "剪了吧" not in shown(played, "zh")
    assert "Your own lock is on the box" in shown(played)


def test_group_points_after_locking_qf7_no_longer_say_it_is_on_and_unlocked():
    steps = ["take_over", "release_zhang", "trace_liu", "to_points", "check_points"]
    played = play(GROUP, steps, event=False)
    assert "has no lock and is ON" in shown(played)
    played = play(GROUP, [*steps, "lock_qf7"], event=False)
    assert "has no lock" not in shown(played) and "没有上锁" not in shown(played, "zh")
    assert "QF7 is OFF too" in shown(played)


def test_group_work_personnel_and_release_follow_the_locks_the_tools_and_the_box():
    steps = ["take_over", "release_zhang", "trace_liu", "to_points", "check_points", "lock_qf7", "try_start", "crew_in"]
    played = play(GROUP, [*steps, "zhou_own_lock"], event=False)
    assert "don't need mine" not in shown(played) and "我就不挂了吧" not in shown(played, "zh")
    assert "own lock is on the box" in shown(played)
    steps += ["zhou_own_lock", "start_bolts"]
    played = play(GROUP, [*steps, "ma_locks_in", "zhou_out"], event=False)
    assert played.session.state.id == "personnel"
    assert "still under the transfer" not in shown(played) and "waits outside the tape" not in shown(played)
    assert "gone to line 1" in shown(played) and "Lao Ma's own lock is on the box" in shown(played)
    steps += ["ma_locks_in", "zhou_out", "finish_job"]
    played = play(GROUP, [*steps, "remove_tools", "refit_guards"], event=False)
    assert "still on the transfer" not in shown(played) and "stand open" not in shown(played)
    played = play(GROUP, [*steps, "walk_round", "unlock_box"], event=False)
    assert "Only your lock is left" not in shown(played) and "只剩你的锁" not in shown(played, "zh")
    assert "The box is open" in shown(played)
