"""The right way, from the course (issue 16): the debrief's "正确做法 / the right way" under a deduction is what to do
instead of that mistake, never the next procedure step for an unrelated one."""

from __future__ import annotations

import pytest
from golden import COURSES, FIXTURES, play, script_actions
from test_press_shift_check import before

from trainer.course.loader import load_course
from trainer.scoring.judgement import instead_of

BUNDLED = sorted(p.stem for p in COURSES.glob("*.yaml"))
LOTO = script_actions(FIXTURES / "press-loto-die-change.expert.txt")


def declared(course):
    found = [(f"action {a.id}", a.mistake) for _, a in course.all_actions() if a.mistake]
    found += [(f"timer of {s.id}", s.timer.mistake) for s in course.states.values() if s.timer and s.timer.mistake]
    found += [(f"ignoring {e.id}", e.ignored) for e in course.random_events if e.ignored]
    return found


@pytest.mark.parametrize("course_id", BUNDLED)
def test_every_declared_mistake_says_what_to_do_instead_in_both_languages(course_id):
    course = load_course(COURSES / f"{course_id}.yaml")
    missing = [
        f"{where}: {m.code}" for where, m in declared(course) if not (m.instead and m.instead.zh and m.instead.en)
    ]
    assert missing == []


def right_ways(played) -> dict[str, str]:
    return {m.code: (instead_of(played.course, m, played.events) or _none()).get("zh") for m in played.mistakes}


def _none():
    from trainer.course.model import Text

    return Text(zh="", en="")


def test_the_issues_examples_show_the_right_response_not_the_next_step():
    steps = list(LOTO)
    steps.insert(steps.index("free_slug_tool"), "let_coworker_in")
    steps.remove("notify_restart")
    played = play("press-loto-die-change", [*steps[: steps.index("energize")], "energize_unannounced"], seed=1)
    shown = right_ways(played)
    assert "拦在警戒带外" in shown["UNPROTECTED_PERSON_ENTERED"]  # was: 新模具就位，压紧并按力矩拧紧压板螺栓
    assert "通知操作工和班组长" in shown["RESTART_WITHOUT_NOTICE"]  # was: 收回工作台上的工具
    inch = play("press-loto-die-change", ["review_energy", "notify_affected", "normal_stop", "inch_mode"], event=False)
    assert "锁住" in right_ways(inch)["INCH_MODE_AS_PROTECTION"]  # was: 查看本机上锁挂牌作业卡
    slow = play("press-loto-die-change", [*LOTO[: LOTO.index("stop_entry")], 11, "get_him_out", "inch_through", "single_stroke"])
    assert "叫他出来" in right_ways(slow)["SLOW_TO_STOP_ENTRY"]  # was: 单次行程试冲几次


def test_a_skipped_or_out_of_order_step_shows_that_step():
    played = play("press-shift-check", [s for s in before("restart") if s != "test_tiedown"] + ["restart"], event=False)
    assert right_ways(played)["SKIPPED_TEST_TIEDOWN"] == played.course.states["station"].action("test_tiedown").label.zh
    swapped = list(LOTO)  # the shift check's tag now needs the switch off first, so the example is the die change's
    i, j = swapped.index("remove_tools"), swapped.index("refit_guards")
    swapped[i], swapped[j] = swapped[j], swapped[i]
    played = play("press-loto-die-change", swapped, event=False)
    assert right_ways(played)["ORDER_REFIT_GUARDS"] == played.course.states["release"].action("refit_guards").label.zh


def test_an_undeclared_timeout_shows_what_the_state_expected(tmp_path):
    from trainer.engine.clock import ManualClock
    from trainer.engine.session import Session
    from trainer.scoring.detect import detect

    course = load_course(FIXTURES / "mini_course.yaml")
    clock = ManualClock()
    session = Session(course, 0, clock=clock)
    events = session.start()
    clock.advance(35_000)
    events += session.tick()
    timeout = next(m for m in detect(course, events) if m.source == "timeout")
    assert instead_of(course, timeout, events).get("en") == "Lock out"  # the step the expert takes there
