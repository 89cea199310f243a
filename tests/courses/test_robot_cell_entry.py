"""Golden paths of the robot cell entry: lockout for the fixture, T1 teach with the pendant, everyone out before AUTO."""

from __future__ import annotations

from golden import COURSES, expert_passes, play

from trainer.course.loader import load_course
from trainer.engine.modes import draw_hidden

COURSE = "robot-cell-entry"
EXPERT = [
    "notify", "to_panel",
    "stop_cell", "rest_gun", "isolate_power", "lock_power", "isolate_air", "try_start", "enter_gate",
    "replace_pin", "collect_tools", "exit_cell",
    "unlock", "select_t1", "take_pendant", "enter_teach",
    "plan_escape", "jog", "release_enable",
    "record_point", "exit_teach",
    "restore_air", "check_clear", "notify_restart", "auto_start", "watch_cycle",
]  # fmt: skip


def before(step: str) -> list[str]:
    return EXPERT[: EXPERT.index(step)]


def after(step: str) -> list[str]:
    return EXPERT[EXPERT.index(step) :]


def test_expert_path_passes_with_full_marks():
    expert_passes(COURSE, EXPERT)


def test_expert_sends_out_the_loader_and_takes_the_inspector_out():
    steps = before("record_point") + ["send_out"] + ["record_point", "take_inspector_out"] + after("exit_teach")
    played = play(COURSE, steps, event=True)
    assert played.random_events() == ["chen_walks_in", "inspector_stays"]
    assert played.outcome == "completed" and played.mistakes == []


def test_climbing_the_fence_is_a_critical_incident():
    played = play(COURSE, ["climb_fence"], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("FENCE_CLIMBED", "critical")]
    assert not played.score.passed


def test_going_in_by_the_gate_without_a_lock_is_a_critical_incident():
    played = play(COURSE, ["notify", "to_panel", "stop_cell", "enter_gate_unlocked"], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("ENTERED_WITHOUT_LOCKOUT", "critical")]


def test_typical_shortcuts_are_each_deducted_once():
    """Air not bled, pendant left on its hook, no escape path: three serious mistakes, no more."""
    steps = [s for s in EXPERT if s not in ("isolate_air", "take_pendant", "plan_escape", "restore_air")]
    steps[steps.index("replace_pin")] = "replace_pin_air"
    steps[steps.index("enter_teach")] = "enter_no_pendant"
    steps.insert(steps.index("jog"), "fetch_pendant")
    steps[steps.index("release_enable")] = "step_back_trapped"
    played = play(COURSE, steps, event=False)
    assert played.outcome == "completed"
    assert played.codes() == [
        ("AIR_NOT_ISOLATED", "serious"),
        ("PENDANT_NOT_CARRIED", "serious"),
        ("NO_ESCAPE_PATH", "serious"),
    ]
    assert played.score.score == 55 and not played.score.passed


def test_letting_the_loader_jog_from_outside_is_a_critical_incident():
    steps = before("take_pendant") + ["enter_no_pendant", "let_chen_jog"]
    played = play(COURSE, steps, event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("PENDANT_NOT_CARRIED", "serious"), ("NO_SOLE_CONTROL", "critical")]


def test_pushing_the_gun_away_is_a_critical_incident():
    played = play(COURSE, before("release_enable") + ["push_gun"], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("BODY_USED_TO_STOP_ROBOT", "critical")]


def test_teaching_with_the_loader_inside_is_a_critical_incident():
    played = play(COURSE, before("record_point") + ["record_point_visitor"], event=True)
    assert played.outcome == "incident"
    assert played.codes() == [("SECOND_PERSON_IN_CELL", "critical")]


def test_auto_with_the_inspector_left_inside_is_a_critical_incident():
    steps = before("record_point") + ["send_out", "record_point", "leave_inspector", "exit_teach"]
    steps += ["notify_restart", "auto_start_visitor"]
    played = play(COURSE, steps, event=True)
    assert played.outcome == "incident"
    assert played.codes() == [("PERSON_LEFT_BEHIND", "serious"), ("PERSON_LEFT_IN_CELL", "critical")]


def test_the_walk_round_finds_the_inspector_left_inside():
    steps = before("record_point") + ["send_out", "record_point", "leave_inspector"] + after("exit_teach")
    played = play(COURSE, steps, event=True)
    assert played.outcome == "completed"
    assert played.codes() == [("PERSON_LEFT_BEHIND", "serious")]


def test_auto_with_the_wrench_on_the_fixture_is_a_critical_incident():
    steps = [s for s in EXPERT if s != "collect_tools"]
    steps = steps[: steps.index("auto_start")] + ["auto_start_tools"]
    played = play(COURSE, steps, event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("TOOLS_LEFT_IN_CELL", "critical")]


def test_freezing_when_the_wrist_flips_costs_a_serious_mistake():
    steps = before("release_enable") + [9, "release_enable"] + after("record_point")
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("SLOW_TO_RELEASE_ENABLE", "serious")]
    assert played.outcome == "completed" and played.score.score == 85 and played.score.passed


def test_jogging_on_the_same_way_after_the_flip_repeats_it_until_lao_huang_stops_it():
    """Issue 19 item 4: since 1.3.0, after the wrist flip the trainee may jog on unchanged, and it flips again at the
    same singularity. Each time is a serious mistake (15 points to the rubric); after the third, jogging that way is no
    longer offered: Lao Huang, at the gate, tells them to change the frame or come out."""
    again = ["jog_again", "release_enable", "jog_again_2", "release_enable", "jog_again_3", "release_enable"]
    played = play(COURSE, before("record_point") + again, event=False)
    assert played.codes() == [("JOGGED_AGAIN_UNCHANGED", "serious")] * 3
    assert [m.repeat for m in played.mistakes] == [1, 2, 3]
    assert [d.points for d in played.score.deductions] == [15.0] * 3
    assert not any(o.action.id.startswith("jog_again") for o in played.session.available())
    scene = played.session.state.scene(played.session.variables, "en")
    assert "Lao Huang has seen enough" in scene and "老黄在门口看不下去了" in played.session.state.scene(
        played.session.variables, "zh"
    )
    played = play(COURSE, before("record_point") + again + after("record_point"), event=False)
    assert played.outcome == "completed" and played.score.score == 55 and not played.score.passed


def test_slow_on_the_enabling_switch_at_every_flip_is_counted_each_time():
    steps = before("release_enable") + [9, "release_enable", "jog_again", 9, "release_enable", "jog_again_2", 9]
    played = play(COURSE, steps + ["release_enable"] + after("record_point"), event=False)
    slow = [m for m in played.mistakes if m.code == "SLOW_TO_RELEASE_ENABLE"]
    assert [m.repeat for m in slow] == [1, 2, 3]
    assert played.codes().count(("JOGGED_AGAIN_UNCHANGED", "serious")) == 2
    assert played.outcome == "completed" and played.score.score == 100 - 5 * 15


def test_skipping_the_try_start_is_found_from_the_procedure_alone():
    played = play(COURSE, [s for s in EXPERT if s != "try_start"], event=False)
    assert played.codes() == [("SKIPPED_TRY_START", "serious")]


def test_entering_in_auto_is_a_critical_incident():
    played = play(COURSE, before("select_t1") + ["enter_auto"], event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("ENTERED_IN_AUTO", "critical")]


def test_working_under_the_hanging_gun_is_a_serious_mistake():
    """Issue 20 item 7: gravity and the gun balancer are stored energy; rest the gun before the lockout."""
    played = play(COURSE, [s if s != "replace_pin" else "replace_pin_gun_hanging" for s in EXPERT if s != "rest_gun"],
                  event=False)  # fmt: skip
    assert played.codes() == [("GUN_LEFT_HANGING", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_restoring_the_clamp_air_for_the_teach_is_a_serious_mistake_and_the_air_comes_back_from_outside():
    """Issue 20 item 7: the teach needs power only; the fixture air stays locked until the trainee is out."""
    steps = [s if s != "unlock" else "unlock_all" for s in EXPERT if s != "restore_air"]
    played = play(COURSE, steps, event=False)
    assert played.codes()[0] == ("AIR_RESTORED_FOR_TEACH", "serious")
    assert [d.mistake.code for d in played.score.deductions] == ["AIR_RESTORED_FOR_TEACH"]
    forgot = play(COURSE, [s if s != "auto_start" else "auto_start_no_air" for s in EXPERT if s != "restore_air"],
                  event=False)  # fmt: skip
    assert forgot.codes() == [("AIR_NOT_RESTORED", "minor")] and forgot.outcome == "completed"
    teaching = play(COURSE, before("enter_teach"), event=False)
    assert teaching.session.variables["air_locked"] is True


# --- the hidden fault: a fixture air valve that passes air when closed (valve_passing) ---------------------------------
PASSING = {"valve_passing": True}
EXPERT_PASSING = before("try_start") + ["try_start_passing", "lock_branch"] + after("enter_gate")


def test_the_declared_valve_holds_and_sessions_draw_both():
    course = load_course(COURSES / f"{COURSE}.yaml")
    assert course.variables["valve_passing"] is False  # the goldens above play the declared value
    assert {draw_hidden(course, seed)["valve_passing"] for seed in range(20)} == {False, True}


def test_the_verification_finds_the_passing_valve_and_the_expert_locks_the_branch_valve():
    played = expert_passes(COURSE, EXPERT_PASSING, faults=PASSING)
    assert played.session.variables["branch_locked"] is False  # restored with the fixture air before AUTO


def test_the_verification_finds_nothing_when_the_valve_holds():
    played = play(COURSE, before("try_start") + ["try_start"], event=False, faults={"valve_passing": False})
    assert "lock_branch" not in [o.action.id for o in played.session.available()]
    assert expert_passes(COURSE, EXPERT, faults={"valve_passing": False}).score.score == 100


def test_skipping_the_verification_with_a_passing_valve_snaps_a_clamp():
    steps = [s if s != "replace_pin" else "replace_pin_unverified" for s in EXPERT if s != "try_start"]
    played = play(COURSE, steps, event=False, faults=PASSING)
    assert played.outcome == "completed"
    mistake = played.mistakes[0]
    assert (mistake.code, str(mistake.severity)) == ("AIR_ISOLATION_NOT_VERIFIED", "serious")
    assert mistake.standard == "OSHA 29 CFR 1910.147(d)(6); 1910.147(d)(5)(iii)"
    assert [d.mistake.code for d in played.score.deductions] == ["AIR_ISOLATION_NOT_VERIFIED"]
    assert played.score.score == 85 and played.score.passed


def test_going_in_knowing_the_valve_passes_is_deducted():
    steps = before("try_start") + ["try_start_passing"] + after("enter_gate")
    steps[steps.index("replace_pin")] = "replace_pin_passing"
    played = play(COURSE, steps, event=False, faults=PASSING)
    assert played.codes() == [("PASSING_VALVE_NOT_ISOLATED", "serious")]
    assert played.score.score == 85
