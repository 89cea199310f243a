"""One test per kind of course error: the exact file:line:col and what the message tells the instructor.

Every course here is the mini course with one small edit, so the line numbers below can be read off
tests/fixtures/mini_course.yaml (41 lines; `states:` is line 13, `procedure:` line 36).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.course.diagnostics import Diagnostic, Severity
from trainer.course.loader import CheckResult, check_path

MINI = (Path(__file__).resolve().parent.parent / "fixtures" / "mini_course.yaml").read_text(encoding="utf-8")

FORKLIFT = """\
random_events:
  - id: forklift
    probability: 0.5
    states: [begin, bgein]
    text: {zh: 叉车, en: A forklift}
    actions:
      - id: wait
        label: {zh: 等待, en: Wait}
"""

MAP = """\
map:
  width: 20
  height: 5
  zones:
    - id: press
      label: {zh: 压机, en: Press}
      rect: [0, 0, 10, 5]
    - id: aisle
      label: {zh: 通道, en: Aisle}
      rect: [15, 0, 10, 3]
"""


def edit(old: str, new: str, text: str = MINI) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)


def add_states(states: str) -> str:
    """Insert states right before `procedure:`, so the first inserted line is line 36."""
    return edit("procedure:\n", states + "procedure:\n")


def check(write, text: str) -> tuple[Path, CheckResult]:
    path = write(text)
    return path, check_path(path)


def at(result: CheckResult, line: int, col: int, severity: Severity = Severity.ERROR) -> Diagnostic:
    """The one diagnostic of `severity` reported at line:col."""
    found = [d for d in result.diagnostics if (d.pos.line, d.pos.col) == (line, col) and d.severity is severity]
    assert len(found) == 1, f"expected one {severity} at {line}:{col}, got:\n" + "\n".join(map(str, result.diagnostics))
    return found[0]


def assert_line(path: Path, result: CheckResult, line: int, col: int, *fragments: str) -> str:
    """An error at path:line:col whose printed line holds every fragment; the course must not load."""
    assert result.course is None, "a course with errors must not load"
    printed = str(at(result, line, col))
    assert printed.startswith(f"{path}:{line}:{col}: error: "), printed
    for fragment in fragments:
        assert fragment in printed, printed
    return printed


def test_yaml_syntax_error_points_at_the_problem(write):
    path, result = check(write, edit("area: stamping", "area: stamping: press"))
    assert len(result.diagnostics) == 1
    assert_line(path, result, 4, 15, "YAML syntax", "mapping values are not allowed")


def test_unknown_key_suggests_the_known_one(write):
    path, result = check(write, edit("        mistake: {", "        mistak: {"))
    assert len(result.diagnostics) == 1
    # The position is the key itself, not its value.
    assert_line(path, result, 29, 9, "unknown key 'mistak' in action", "did you mean 'mistake'?")


def test_missing_required_field_points_at_its_mapping(write):
    path, result = check(
        write, edit("  - action: lock\n    rule: {zh: 先上锁, en: Lock first}\n", "  - action: lock\n")
    )
    assert len(result.diagnostics) == 1
    assert_line(path, result, 37, 5, "procedure.0 is missing the required key 'rule'")


@pytest.mark.parametrize(
    ("old", "new", "line", "col", "message"),
    [
        ("goto: done", "goto: dnoe", 25, 15, "goto 'dnoe': there is no such state; did you mean 'done'?"),
        ("goto: begin}", "goto: nowhere}", 16, 32, "goto 'nowhere': there is no such state"),
        ("start: begin", "start: bgin", 12, 8, "start 'bgin': there is no such state; did you mean 'begin'?"),
    ],
    ids=["action", "timer", "start"],
)
def test_goto_to_an_undefined_state(write, old, new, line, col, message):
    path, result = check(write, edit(old, new))
    assert_line(path, result, line, col, message)


def test_a_misspelled_goto_is_one_error_with_its_consequences_grouped_under_it(write):
    # A chain begin -> a -> b -> c -> done cut by one typo: 'b', 'c' and 'done' cannot be reached, 'a' has no way
    # to an ending. Those follow from the typo, so only the typo is an error, and its message says what it also causes.
    chain = (
        "  a:\n    text: {zh: 甲, en: A}\n    actions:\n      - id: go_b\n        label: {zh: 去乙, en: To B}\n"
        "        goto: bb\n"
        "  b:\n    text: {zh: 乙, en: B}\n    actions:\n      - id: go_c\n        label: {zh: 去丙, en: To C}\n"
        "        goto: c\n"
        "  c:\n    text: {zh: 丙, en: C}\n    actions:\n      - id: go_done\n        label: {zh: 完成, en: Finish}\n"
        "        goto: done\n"
    )
    text = add_states(chain).replace("goto: done\n      - id: reach", "goto: a\n      - id: reach")
    path, result = check(write, text)
    assert [str(d) for d in result.diagnostics] == [
        f"{path}:41:15: error: goto 'bb': there is no such state; did you mean 'b'? (this also leaves 4 states "
        "unreachable or with no way to an ending: 'done', 'a', 'b', …; not listed separately)"
    ]


def test_a_goto_with_no_close_state_still_explains_the_trap_it_makes(write):
    # No suggestion for 'elsewhere', yet the state whose only way out it is would not be trapped once it is fixed.
    text = add_states(
        "  stuck:\n    text: {zh: 卡住, en: Stuck}\n    actions:\n      - id: leave\n"
        "        label: {zh: 离开, en: Leave}\n        goto: elsewhere\n"
    ).replace("goto: done\n      - id: reach", "goto: stuck\n      - id: reach")
    path, result = check(write, text)
    assert [str(d) for d in result.errors] == [
        f"{path}:41:15: error: goto 'elsewhere': there is no such state (this also leaves 1 state unreachable or "
        "with no way to an ending: 'stuck'; not listed separately)",
        f"{path}:30:3: error: state 'done' cannot be reached from the start state 'begin'",
    ][::-1]


def test_duplicate_state_id_is_reported_not_silently_dropped(write):
    path, result = check(write, add_states("  done:\n    text: {zh: 又完成, en: Done again}\n    outcome: completed\n"))
    assert len(result.diagnostics) == 1
    assert_line(path, result, 36, 3, "duplicate key 'done'", "first written at line 30")


def test_duplicate_action_id(write):
    text = edit("  done:\n", "      - id: lock\n        label: {zh: 再锁, en: Lock again}\n  done:\n")
    path, result = check(write, text)
    assert len(result.diagnostics) == 1
    assert_line(path, result, 30, 13, "duplicate action id 'lock'", "also item 1")


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("locked and", "cannot parse the condition"),
        ("__import__('os').system('echo hacked')", "Call is not allowed in a condition"),
    ],
    ids=["syntax", "code"],
)
def test_condition_that_does_not_parse(write, condition, message):
    path, result = check(write, edit("when: locked\n", f"when: {condition}\n"))
    assert len(result.diagnostics) == 1
    assert_line(path, result, 24, 15, f"condition {condition!r}", message)


def test_condition_naming_an_unknown_variable(write):
    path, result = check(write, edit("when: locked\n", "when: lockd\n"))
    assert len(result.diagnostics) == 1
    assert_line(path, result, 24, 15, "unknown variable 'lockd'", "did you mean 'locked'?")


def test_set_of_an_unknown_variable_points_at_its_name(write):
    path, result = check(write, edit("set: {locked: true,", "set: {lockd: true,"))
    assert len(result.diagnostics) == 1
    assert_line(path, result, 21, 15, "set: unknown variable 'lockd'", "declare it under variables", "'locked'")


def test_set_of_a_wrong_type_points_at_the_value(write):
    path, result = check(write, edit("set: {locked: true,", 'set: {locked: "yes",'))
    assert len(result.diagnostics) == 1
    assert_line(path, result, 21, 23, "'locked' holds true/false but is set to text 'yes'")


def test_unreachable_state_points_at_its_id(write):
    path, result = check(write, add_states("  lonely:\n    text: {zh: 孤单, en: Alone}\n    outcome: aborted\n"))
    assert len(result.diagnostics) == 1
    assert_line(path, result, 36, 3, "state 'lonely' cannot be reached from the start state 'begin'")


def test_trap_state_from_which_no_terminal_can_be_reached(write):
    text = edit(
        "      - id: work\n",
        "      - id: wander\n        label: {zh: 走开, en: Wander}\n        goto: trap\n      - id: work\n",
    )
    text = edit(
        "procedure:\n",
        "  trap:\n    text: {zh: 陷阱, en: Trap}\n    actions:\n      - id: wait\n        label: {zh: 等, en: Wait}\nprocedure:\n",
        text,
    )
    path, result = check(write, text)
    assert len(result.diagnostics) == 1
    assert_line(path, result, 39, 3, "from state 'trap' no terminal state can be reached", "trapped")


def test_procedure_step_naming_an_unknown_action(write):
    path, result = check(write, edit("  - action: lock\n", "  - action: lokc\n"))
    assert_line(path, result, 37, 13, "procedure step names the unknown action 'lokc'", "did you mean 'lock'?")


def test_procedure_after_naming_a_non_step(write):
    path, result = check(write, edit("after: [lock]", "after: [lock, reach]"))
    assert len(result.diagnostics) == 1
    assert_line(path, result, 40, 19, "after 'reach': no procedure step has that action")


def test_order_constraints_in_a_cycle(write):
    path, result = check(write, edit("  - action: lock\n", "  - action: lock\n    after: [work]\n"))
    assert len(result.diagnostics) == 1
    assert_line(path, result, 37, 5, "go round in a circle: lock -> work -> lock")


def test_timer_without_goto(write):
    path, result = check(write, edit("timer: {seconds: 30, goto: begin}", "timer: {seconds: 30}"))
    assert len(result.diagnostics) == 1
    assert_line(path, result, 16, 12, "states.begin.timer is missing the required key 'goto'")


def test_text_missing_a_language_is_a_warning_and_the_course_loads(write):
    path, result = check(write, edit("text: {zh: 完成, en: Done}", "text: {zh: 完成}"))
    assert result.errors == []
    assert result.course is not None
    warning = at(result, 31, 11, Severity.WARNING)
    assert str(warning) == (
        f"{path}:31:11: warning: states.done.text has no 'en' text; trainees will see the 'zh' text"
    )
    assert result.course.states["done"].text.get("en") == "完成"


def test_no_completed_outcome(write):
    path, result = check(write, edit("outcome: completed", "outcome: aborted"))
    assert len(result.diagnostics) == 1
    assert_line(path, result, 13, 1, "no state has outcome: completed", "no trainee could ever finish")


def test_terminal_state_with_actions(write):
    text = edit(
        "    outcome: completed\n",
        "    outcome: completed\n    actions:\n      - id: again\n        label: {zh: 再来, en: Again}\n        goto: begin\n",
    )
    path, result = check(write, text)
    assert len(result.diagnostics) == 1
    assert_line(path, result, 34, 7, "state 'done' has an outcome", "cannot have actions")


def test_random_event_naming_an_unknown_state(write):
    path, result = check(write, MINI + FORKLIFT)
    assert len(result.diagnostics) == 1
    assert_line(path, result, 45, 21, "random event 'forklift': there is no state 'bgein'", "did you mean 'begin'?")


def test_map_zone_outside_the_map(write):
    path, result = check(write, MINI + MAP)
    assert len(result.diagnostics) == 1
    assert_line(path, result, 51, 13, "zone 'aisle' does not fit in the 20x5 map")


def test_position_naming_an_unknown_zone(write):
    text = edit("    outcome: completed\n", "    outcome: completed\n    position: exti\n")
    text += MAP.replace("[15, 0, 10, 3]", "[10, 0, 10, 3]").replace("aisle", "exit")
    path, result = check(write, text)
    assert len(result.diagnostics) == 1
    assert_line(path, result, 33, 15, "there is no map zone 'exti'", "did you mean 'exit'?")


def test_on_off_yes_no_stay_text(write):
    text = edit("  power: on\n", "  power: on\n  guard: off\n  ready: yes\n  spare: no\n")
    text = edit("set: {locked: true, power: off}", "set: {locked: true, power: off, guard: on, ready: no}", text)
    path, result = check(write, text)
    # No condition reads the three new variables: those warnings only (they were never read before either).
    assert [d.message.split(" is never read")[0] for d in result.diagnostics] == [
        "variable 'guard'",
        "variable 'ready'",
        "variable 'spare'",
    ]
    course = result.course
    assert course is not None
    assert dict(course.variables) == {"power": "on", "guard": "off", "ready": "yes", "spare": "no", "locked": False}
    assert dict(course.states["begin"].action("lock").set) == {
        "locked": True,
        "power": "off",
        "guard": "on",
        "ready": "no",
    }


def test_several_problems_are_all_reported_sorted_by_position(write):
    text = edit("start: begin", "start: bgin")  # found by the cross-reference checks
    text = edit("        mistake: {", "        mistak: {", text)  # found by the format checks, earlier
    text = edit("text: {zh: 完成, en: Done}", "text: {zh: 完成}", text)  # a warning in between
    text = edit("after: [lock]", "after: [lock, reach]", text)
    path, result = check(write, text)
    assert result.course is None
    printed = [str(d) for d in result.diagnostics]
    assert printed == [
        f"{path}:12:8: error: start 'bgin': there is no such state; did you mean 'begin'?",
        f"{path}:29:9: error: unknown key 'mistak' in action; did you mean 'mistake'?",
        f"{path}:31:11: warning: states.done.text has no 'en' text; trainees will see the 'zh' text",
        f"{path}:40:19: error: after 'reach': no procedure step has that action",
    ]


def test_a_declared_mistake_without_instead_is_a_warning_at_the_mistake(write):
    text = edit(", instead: {zh: 先上锁, en: Lock out first}}", "}")
    _, result = check(write, text)
    d = at(result, 29, 18, Severity.WARNING)
    assert "HANDS_IN_DIE has no `instead:`" in d.message and not result.errors


def test_a_person_placed_in_an_unknown_zone(write):
    text = edit(
        "    outcome: completed\n",
        "    outcome: completed\n    people:\n      - {at: exti, label: {zh: 小李, en: Xiao Li}}\n",
    )
    text += MAP.replace("[15, 0, 10, 3]", "[10, 0, 10, 3]").replace("aisle", "exit")
    path, result = check(write, text)
    assert len(result.diagnostics) == 1
    assert_line(path, result, 34, 14, "there is no map zone 'exti'", "did you mean 'exit'?")


@pytest.mark.parametrize(
    ("old", "new", "line", "col", "message"),
    [
        (
            'version: "1.0"',
            "version: 1.10",
            2,
            10,
            "version must be a non-empty text, but YAML read '1.10' as a number: quote it, e.g. version: \"1.10\"",
        ),
        (
            "when: locked\n",
            "when: true\n",
            24,
            15,
            "when must be a non-empty text, but YAML read 'true' as true/false: quote it, e.g. when: \"true\"",
        ),
    ],
    ids=["version", "when"],
)
def test_a_text_yaml_read_as_a_number_or_true_says_to_quote_it(write, old, new, line, col, message):
    path, result = check(write, edit(old, new))
    assert len(result.diagnostics) == 1
    assert_line(path, result, line, col, message)


@pytest.mark.parametrize(
    ("word", "advice"), [("major", "; did you mean 'serious'?"), ("critcal", "; did you mean 'critical'?")]
)
def test_a_severity_from_another_scale_is_never_downgraded(write, word, advice):
    # difflib finds `minor` closest to `major`: a downgrade of the mistake. Other scales' words map by meaning.
    path, result = check(write, edit("severity: critical", f"severity: {word}"))
    printed = assert_line(path, result, 29, 49, "severity must be one of minor, serious, critical")
    assert printed.endswith(advice), printed
    assert "minor'" not in printed


@pytest.mark.parametrize(
    ("old", "new", "line", "col", "advice"),
    [
        (
            "    text: {zh: 开始, en: Start}",
            "\ttext: {zh: 开始, en: Start}",
            15,
            1,
            "a tab is not allowed for indentation",
        ),
        (
            "    text: {zh: 开始, en: Start}",
            "    text:\n      zh: 开始\n      en: Step 1: start",
            17,
            17,
            "a text holding ': ' must be quoted, e.g. en: \"Step 1: lock out\"",
        ),
        (
            "text: {zh: 开始, en: Start}",
            "text: {zh: 开始, en: Step 1: start}",
            15,
            30,
            "in {...} or [...] a text holding ':'",
        ),
    ],
    ids=["tab", "colon", "colon-in-braces"],
)
def test_yaml_syntax_errors_authors_make_come_with_advice(write, old, new, line, col, advice):
    path, result = check(write, edit(old, new))
    assert len(result.diagnostics) == 1
    assert_line(path, result, line, col, "YAML syntax", advice)


def test_a_variable_no_condition_reads_is_a_warning_at_its_declaration(write):
    path, result = check(write, edit("  locked: false\n", "  locked: false\n  guard_checked: false\n"))
    assert result.course is not None  # a warning: the course still loads
    assert str(at(result, 12, 3, Severity.WARNING)) == (
        f"{path}:12:3: warning: variable 'guard_checked' is never read by any condition (when:, a machine's "
        "running:/locked:, the inventory): remove it, or test it where it matters"
    )


def test_a_label_wider_than_the_player_shows_on_one_line_is_a_warning(write):
    # 71 columns fit on one line of the choice list at 80 columns (measured in the player); 36 Chinese characters are 72.
    fits = "Lock out " + "x" * 62  # 71
    wide = "锁" * 36
    text = edit("label: {zh: 上锁, en: Lock out}", f"label: {{zh: {wide}, en: {fits}}}")
    path, result = check(write, text)
    assert [str(d) for d in result.diagnostics] == [
        f"{path}:19:21: warning: label is 72 columns wide; the player shows 71 on one line at 80 columns (a Chinese "
        "character takes two): shorten it, or it wraps"
    ]


def test_a_map_larger_than_the_player_shows_is_a_warning_at_its_size(write):
    text = edit(
        "procedure:\n", MAP.replace("width: 20", "width: 77").replace("height: 5", "height: 17") + "procedure:\n"
    )
    path, result = check(write, text)
    assert result.course is not None
    assert str(at(result, 37, 10, Severity.WARNING)) == (
        f"{path}:37:10: warning: the map is 77 columns wide; at 80 columns the player shows 76: its right side is cut"
    )
    assert str(at(result, 38, 11, Severity.WARNING)).endswith(
        "warning: the map is 17 rows high; the player shows at most 16 beside a full list of choices: its bottom rows "
        "are cut"
    )
