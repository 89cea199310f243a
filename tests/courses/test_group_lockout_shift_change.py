"""Golden paths of the group lockout handed over at shift change on stamping line 3 (issue 20 item 8): the on-coming
lead's lock on the box first, the forgotten lock traced to its owner, QF7 found against the card and verified, every
worker's own lock on the box, and a walk round before power comes back."""

from __future__ import annotations

from golden import expert_passes, play

COURSE = "group-lockout-shift-change"
EXPERT = [
    "read_record", "take_over", "release_zhang", "trace_liu", "to_points",
    "check_points", "lock_qf7", "try_start", "crew_in",
    "zhou_own_lock", "start_bolts",
    "ma_locks_in", "zhou_out", "finish_job",
    "remove_tools", "refit_guards", "walk_round", "unlock_box", "notify_restart", "energize",
]  # fmt: skip


def before(step: str) -> list[str]:
    return EXPERT[: EXPERT.index(step)]


def after(step: str) -> list[str]:
    return EXPERT[EXPERT.index(step) :]


def test_expert_path_passes_with_full_marks():
    played = expert_passes(COURSE, EXPERT)
    assert played.session.variables["energised"] is True


def test_expert_stops_the_electrician_at_the_tape():
    steps = before("zhou_own_lock") + ["stop_sun"] + after("zhou_own_lock")
    played = play(COURSE, steps, event=True)
    assert played.random_events() == ["electrician_arrives"]
    assert played.outcome == "completed" and played.mistakes == []


def test_letting_the_electrician_in_without_his_lock_is_deducted_once():
    played = play(COURSE, before("zhou_own_lock") + ["let_sun_in"] + after("zhou_own_lock"), event=True)
    assert played.codes() == [("UNPROTECTED_PERSON_ENTERED", "serious")]
    ignored = play(COURSE, EXPERT, event=True)  # answering the scene instead of the electrician
    assert ignored.codes() == [("UNPROTECTED_PERSON_ENTERED", "serious")]


def test_cutting_the_forgotten_lock_is_a_critical_incident_he_was_still_inside():
    for wrong in ("cut_liu_lock", "spare_key_liu"):
        played = play(COURSE, [*before("trace_liu"), wrong], event=False)
        assert played.outcome == "incident"
        assert played.codes() == [("LOCK_REMOVED_BY_OTHER", "critical")]
        assert not played.score.passed
        assert "under the bolster" in played.session.state.incident.en


def test_the_night_lead_unlocking_before_your_lock_is_on_is_a_gap_in_protection():
    steps = list(EXPERT)
    steps.remove("take_over")
    steps[steps.index("release_zhang")] = "release_zhang_early"
    steps.insert(steps.index("trace_liu"), "take_over")
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("LOCKOUT_GAP_AT_HANDOVER", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_sending_the_crew_in_with_qf7_unlocked_is_a_critical_incident():
    played = play(COURSE, [*before("check_points"), "crew_in_live"], event=False)
    assert played.outcome == "incident"
    assert played.codes()[-1] == ("ISOLATION_INCOMPLETE", "critical")
    assert [d.mistake.code for d in played.score.deductions] == ["ISOLATION_INCOMPLETE"]


def test_verification_finds_the_missed_qf7_when_the_card_was_not_checked():
    steps = [*before("check_points"), "try_start_qf7_live", "lock_qf7", "try_start", *after("crew_in")]
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("SKIPPED_CHECK_POINTS", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_starting_work_without_verifying_and_without_the_workers_own_lock():
    steps = [s for s in EXPERT if s not in ("try_start", "zhou_own_lock")]
    steps[steps.index("crew_in")] = "crew_in_unverified"
    steps[steps.index("start_bolts")] = "start_bolts_zhou_unlocked"
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("HANDOVER_NOT_VERIFIED", "serious"), ("WORKER_WITHOUT_OWN_LOCK", "serious")]
    assert played.outcome == "completed" and played.score.score == 70 and not played.score.passed


def test_the_relief_going_in_without_his_own_lock_at_the_personnel_change_is_deducted_once():
    """1910.147(f)(4): personnel changes keep the protection - the relief locks on before he goes in."""
    steps = [s for s in EXPERT if s != "ma_locks_in"]
    steps[steps.index("finish_job")] = "finish_job_ma_unlocked"
    played = play(COURSE, steps, event=False)
    assert played.codes() == [("RELIEF_WITHOUT_OWN_LOCK", "serious")]
    assert played.outcome == "completed" and played.score.score == 85


def test_energising_without_the_walk_round_catches_the_worker_who_went_back_for_his_torch():
    steps = [*before("walk_round"), "unlock_box", "notify_restart", "energize_worker_inside"]
    played = play(COURSE, steps, event=False)
    assert played.outcome == "incident"
    assert played.codes() == [("ENERGISED_WITH_WORKER_INSIDE", "critical")]
    assert "torch" in played.session.state.incident.en


def test_skipping_the_restart_notice_is_found_from_the_procedure_alone():
    played = play(COURSE, [s for s in EXPERT if s != "notify_restart"], event=False)
    assert played.codes() == [("SKIPPED_NOTIFY_RESTART", "serious")]
    assert played.outcome == "completed"


def test_the_map_shows_the_line_locked_until_the_box_is_opened_and_running_only_when_handed_back():
    played = play(COURSE, before("unlock_box"), event=False)
    line = next(m for m in played.course.map.machines if m.id == "line3")
    assert line.locked(played.session.variables) and not line.running(played.session.variables)
    played = play(COURSE, EXPERT, event=False)
    assert not line.locked(played.session.variables) and line.running(played.session.variables)
