"""The documented example and the bundled courses: they check cleanly and play the way an instructor would expect."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from trainer.cli.play import parse_script
from trainer.course.loader import check_path, load_course
from trainer.course.model import Course, Mistake, MistakeSeverity, Outcome
from trainer.engine.explore import explore_course
from trainer.engine.session import Session

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "course-format.md"
COURSES = ROOT / "courses"
PRESS = COURSES / "press-loto-die-change.yaml"
COURSE_FILES = sorted(COURSES.glob("*.yaml"))


# --- helpers --------------------------------------------------------------------------------------------------------


def first_yaml_block(markdown: str) -> str:
    match = re.search(r"^```yaml\n(.*?)^```", markdown, re.DOTALL | re.MULTILINE)
    assert match, "docs/course-format.md has no ```yaml block"
    return match.group(1)


def offered(course: Course, state: str, env: Mapping[str, Any]) -> list:
    return [a for a in course.state(state).actions if a.when is None or a.when(env)]


def play(course: Course, path: list[str]) -> tuple[str, dict[str, Any], list[str], list[Mistake]]:
    """Take the actions in `path` through the real engine, random events off; each must be on offer when taken."""
    session = Session(course, seed=0, clock=lambda: 0)
    session.roll = lambda event: False
    session.start()
    mistakes: list[Mistake] = []
    for action_id in path:
        action = session.state.action(action_id)
        session.choose(action_id)  # raises if it is not on offer
        if action is not None and action.mistake:
            mistakes.append(action.mistake)
    return session.state.id, dict(session.variables), list(session.history), mistakes


# The expert's way through the press course, state by state.
PRESS_EXPERT = [line.action for line in parse_script(ROOT / "tests" / "fixtures" / "press-loto-die-change.expert.txt")]


@pytest.fixture(scope="module")
def press() -> Course:
    return load_course(PRESS)


# --- (a) the documented example -------------------------------------------------------------------------------------


def test_doc_example_checks_without_any_diagnostic(tmp_path: Path):
    path = tmp_path / "example.yaml"
    path.write_text(first_yaml_block(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    result = check_path(path)
    assert [str(d) for d in result.diagnostics] == []
    assert result.course is not None


def test_doc_example_shows_every_feature(tmp_path: Path):
    path = tmp_path / "example.yaml"
    path.write_text(first_yaml_block(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    course = load_course(path)
    actions = [a for _, a in course.all_actions()]
    mistakes = [a.mistake for a in actions if a.mistake]
    mistakes += [s.timer.mistake for s in course.states.values() if s.timer and s.timer.mistake]
    mistakes += [e.ignored for e in course.random_events if e.ignored]
    assert {m.severity for m in mistakes} == set(MistakeSeverity)
    assert {s.outcome for s in course.states.values() if s.outcome} == set(Outcome)
    assert {type(v) for v in course.variables.values()} >= {str, int, bool}
    assert any(a.when for a in actions) and any(a.set for a in actions) and any(a.goto for a in actions)
    assert any(a.feedback for a in actions)
    assert any(step.after for step in course.procedure)
    assert any(s.timer for s in course.states.values())
    assert course.random_events and course.random_events[0].appears_at
    assert course.map is not None and course.map.machines
    assert any(s.incident for s in course.states.values())
    assert course.inventory


def test_doc_example_starts_with_the_editor_schema_line():
    block = first_yaml_block(DOC.read_text(encoding="utf-8"))
    assert block.startswith("# yaml-language-server: $schema=")
    assert "trainer course schema > course.schema.json" in DOC.read_text(encoding="utf-8")


# --- (b) every bundled course ---------------------------------------------------------------------------------------


def test_the_press_course_is_bundled():
    assert PRESS in COURSE_FILES


@pytest.mark.parametrize("path", COURSE_FILES, ids=lambda p: p.name)
def test_bundled_course_checks_without_any_diagnostic(path: Path):
    result = check_path(path)
    assert [str(d) for d in result.diagnostics] == []
    assert result.course is not None


@pytest.mark.parametrize("path", COURSE_FILES, ids=lambda p: p.name)
def test_bundled_course_is_fully_covered_by_course_test(path: Path):
    """What `trainer course test` checks, for every bundled course: no trap, no engine error, no ambiguous labels,
    every state and every action reached."""
    report = explore_course(load_course(path), random_runs=30, seed=1)
    assert [f.message for f in report.findings] == []
    done, total = report.state_coverage()
    assert done == total
    done, total = report.action_coverage()
    assert done == total


# A space between two Chinese characters or full-width marks: a `zh: >-` text folded over several lines (YAML joins
# the lines with a space, right for English, wrong for Chinese).
_CJK = "[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
_FOLDED = re.compile(f"{_CJK}\\s+{_CJK}")


def _chinese_texts(node: Any, where: str = ""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "map":
                continue  # a map label may hold a space on purpose: the box wraps it there
            if key == "zh" and isinstance(value, str):
                yield f"{where}.zh", value
            else:
                yield from _chinese_texts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _chinese_texts(item, f"{where}[{i}]")


@pytest.mark.parametrize("path", COURSE_FILES, ids=lambda p: p.name)
def test_bundled_chinese_texts_have_no_space_between_characters(path: Path):
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    folded = [f"{where}: {m.group()!r}" for where, text in _chinese_texts(data) if (m := _FOLDED.search(text))]
    assert folded == []


# --- (c) the press course as a trainee and an instructor see it --------------------------------------------------------


def test_press_expert_path_completes_without_mistakes_and_follows_the_procedure(press: Course):
    state, env, taken, mistakes = play(press, PRESS_EXPERT)
    assert press.state(state).outcome is Outcome.COMPLETED
    assert mistakes == []
    position = {a: i for i, a in enumerate(taken)}
    for step in press.procedure:
        assert step.action in position, f"the expert path skips {step.action!r}"
        for before in step.after:
            assert position[before] < position[step.action], f"{before!r} must come before {step.action!r}"


def test_press_isolating_only_electrical_is_a_critical_incident(press: Course):
    state, env, _, _ = play(press, ["review_energy", "notify_affected", "normal_stop", "isolate_electrical"])
    choices = {a.label.en: a for a in offered(press, state, env)}
    go = choices["Isolation done - go to the press to block the slide"]
    assert go.mistake is not None
    assert go.mistake.code == "ELECTRICAL_ONLY_ISOLATED"
    assert go.mistake.severity is MistakeSeverity.CRITICAL
    end = press.state(go.goto)
    assert end.outcome is Outcome.INCIDENT and end.incident and end.incident.zh and end.incident.en


def test_press_going_to_the_press_is_fine_only_when_every_source_is_locked(press: Course):
    prefix = ["review_energy", "notify_affected", "normal_stop", "isolate_electrical", "isolate_hydraulic"]
    prefix += ["isolate_air", "lock_electrical", "lock_hydraulic"]
    state, env, _, _ = play(press, prefix)
    go = next(a for a in offered(press, state, env) if a.label.en.startswith("Isolation done"))
    assert go.mistake is not None and go.mistake.code == "NO_PERSONAL_LOCK"
    state, env, _, _ = play(press, [*prefix, "lock_air"])
    go = next(a for a in offered(press, state, env) if a.label.en.startswith("Isolation done"))
    assert go.mistake is None and go.goto == "at_press"


def test_press_procedure_orders_notify_stop_isolate_lock(press: Course):
    steps = {s.action: s for s in press.procedure}
    assert "notify_affected" in steps["normal_stop"].after
    for source in ("electrical", "hydraulic", "air"):
        assert "normal_stop" in steps[f"isolate_{source}"].after
        assert f"isolate_{source}" in steps[f"lock_{source}"].after
        assert steps[f"lock_{source}"].severity is MistakeSeverity.CRITICAL
    assert {"wait_flywheel", "lock_electrical"} <= set(steps["insert_blocks"].after)
    assert "remove_own_locks" in steps["notify_restart"].after
    assert "notify_restart" in steps["energize"].after


def test_press_wrong_choices_have_the_severity_procedures_md_gives(press: Course):
    by_code = {a.mistake.code: a for _, a in press.all_actions() if a.mistake}
    expected = {
        "ELECTRICAL_ONLY_ISOLATED": MistakeSeverity.CRITICAL,
        "INCH_MODE_AS_PROTECTION": MistakeSeverity.CRITICAL,
        "BLOCKS_WITH_FLYWHEEL_TURNING": MistakeSeverity.CRITICAL,
        "LOCK_REMOVED_BY_OTHER": MistakeSeverity.CRITICAL,
        "RESTART_WITHOUT_NOTICE": MistakeSeverity.CRITICAL,
        "CONTROLS_NOT_NEUTRAL": MistakeSeverity.SERIOUS,
        "TOOLS_LEFT_IN_DIE": MistakeSeverity.SERIOUS,
    }
    assert {code: by_code[code].mistake.severity for code in expected if code in by_code} == expected
    for owner, action in press.all_actions():
        if action.mistake is None:
            continue
        assert action.mistake.standard, f"{action.id}: a mistake must cite its standard"
        assert action.feedback and action.feedback.zh and action.feedback.en, f"{action.id}: a mistake must teach"
        if action.mistake.severity is MistakeSeverity.CRITICAL:
            end = press.state(action.goto or owner)
            assert end.outcome is Outcome.INCIDENT and end.incident, f"{action.id}: critical, but no incident state"


def test_press_tags_carry_the_chinese_legend(press: Course):
    lock = press.state("stopped").action("lock_electrical")
    assert lock is not None and lock.feedback is not None
    assert "禁止合闸，有人工作" in lock.feedback.zh and "禁止合闸，有人工作" in lock.feedback.en


def test_press_status_bar_shows_the_locks_then_the_keys(press: Course):
    def carried(env: Mapping[str, Any]) -> set[str]:
        return {item.label.en for item in press.inventory if item.when(env)}

    assert "Personal locks and tags" in carried(press.variables)
    assert "Your lock keys" not in carried(press.variables)
    _, locked_env, _, _ = play(press, PRESS_EXPERT[: PRESS_EXPERT.index("lock_air") + 1])
    assert "Your lock keys" in carried(locked_env) and "Personal locks and tags" not in carried(locked_env)


def test_press_coworker_event_and_timer(press: Course):
    event = next(e for e in press.random_events if "die_change" in e.states)
    assert 0.3 <= event.probability <= 0.7
    assert event.ignored is not None and event.ignored.severity in (MistakeSeverity.SERIOUS, MistakeSeverity.CRITICAL)
    assert press.map is not None and press.map.zone(event.appears_at) is not None
    timers = [s for s in press.states.values() if s.timer]
    assert timers and all(t.timer.mistake for t in timers)


def test_press_map_fits_the_terminal_and_shows_the_press(press: Course):
    m = press.map
    assert m is not None and m.width <= 60 and m.height <= 14
    kinds = {z.kind for z in m.zones}
    assert {"hazard", "walkway", "exit"} <= kinds
    assert m.zone("die_area") is not None and m.zone("die_area").kind == "hazard"
    machine = next(mc for mc in m.machines if mc.id == "press_800t")
    assert machine.running(press.variables)
    assert machine.locked is not None and not machine.locked(press.variables)
    _, locked_env, _, _ = play(press, PRESS_EXPERT[: PRESS_EXPERT.index("wait_flywheel") + 1])
    assert machine.locked(locked_env) and not machine.running(locked_env)
    _, end_env, _, _ = play(press, PRESS_EXPERT)
    assert machine.running(end_env) and not machine.locked(end_env)


def test_press_metadata(press: Course):
    assert (press.id, press.version, press.area) == ("press-loto-die-change", "1.2.0", "stamping")
    assert press.pass_rule.min_score == 80 and press.pass_rule.critical_fails
    assert press.certification_days == 365
    assert any("1910.147" in s for s in press.standards) and any("GB/T 33579" in s for s in press.standards)
    assert len(press.ppe) >= 3 and press.objectives


def test_the_scoring_docs_show_the_figures_the_shipped_model_was_measured_at():
    """docs/scoring.md section 9 is written from data/starter/evaluation.json (data/measured.py): a rebuilt model whose
    figures were not carried into the docs fails here, so a reader never sees another model's numbers."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(root / "data" / "measured.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
