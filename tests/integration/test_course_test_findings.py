"""`trainer course test` findings as an author reads them: one line per problem, each at its file:line:col.

The course here has two check hubs of six flags each and a sign-off. The first hub's flags are never read after it,
so a situation after it need not remember them (dead-variable reduction): 260 situations instead of 8,320.
"""

from __future__ import annotations

from cliproc import run_cli, trainer

from trainer.course.loader import check_text
from trainer.engine.explore import explore_course


def hubs(n: int = 6, sign_when: str = "d1") -> str:
    lines = [
        "id: hubs",
        'version: "1"',
        "title: {zh: 两个检查点, en: Two checkpoints}",
        "area: stamping",
        'standards: ["OSHA 1910.147"]',
        "minutes: 5",
        "pass: {min_score: 80}",
        "certification_days: 365",
        "variables:",  # line 9; c1 is line 10, d1 line 16
    ]
    lines += [f"  c{i}: false" for i in range(1, n + 1)] + [f"  d{i}: false" for i in range(1, n + 1)]
    lines += ["start: hub1", "states:"]
    for hub, flag, nxt in (("hub1", "c", "hub2"), ("hub2", "d", "finish")):
        lines += [f"  {hub}:", f"    text: {{zh: 检查 {hub}, en: Checks at {hub}}}", "    actions:"]
        for i in range(1, n + 1):
            lines += [
                f"      - id: {flag}{i}_check",
                f"        label: {{zh: 检查{i}, en: Check {i}}}",
                f"        when: not {flag}{i}",
                f"        set: {{{flag}{i}: true}}",
            ]
        lines += [f"      - id: {hub}_leave", "        label: {zh: 离开, en: Leave}", f"        when: {flag}1"]
        lines += [f"        goto: {nxt}"]
    lines += [
        "  finish:",  # line 86
        "    text: {zh: 签字, en: Sign off}",
        "    actions:",
        "      - id: sign",
        "        label: {zh: 签字, en: Sign}",
        f"        when: {sign_when}",
        "        goto: done",
        "  done:",
        "    text: {zh: 完成, en: Done}",
        "    outcome: completed",
    ]
    return "\n".join(lines) + "\n"


def test_variables_that_can_no_longer_be_read_do_not_multiply_the_situations():
    result = check_text(hubs(), "hubs.yaml")
    assert result.course is not None, [str(d) for d in result.diagnostics]
    report = explore_course(result.course, random_runs=5)
    # Per exploration (events on, then off): hub1 2^5 (c1 set to leave) + hub2 ... counted without the c flags.
    assert report.situations == 260  # 8,320 when every situation kept the first hub's flags
    assert not report.failed
    assert report.state_coverage() == (4, 4)


def test_a_trap_for_some_values_is_one_line_at_the_state_with_the_smallest_example(write):
    # Leaving hub2 needs d1, signing needs d2: whoever leaves without checking 2 is stuck at the sign-off. The static
    # check cannot see it; course test names the state once, where it is written, and one smallest way into it.
    path = write(hubs(sign_when="d2"), "trap.yaml")
    proc = run_cli("course", "test", "--random", "5", str(path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    traps = [line for line in proc.stdout.splitlines() if ": trap: " in line]
    assert traps == [
        f"{path}:86:3: error: trap: state 'finish' traps the trainee: no action is offered and no timer runs; "
        "e.g. with d2 = false, after: c1_check, hub1_leave, d1_check, hub2_leave"
    ]


def test_the_situation_limit_names_the_variables_that_multiply_situations_at_their_lines(write):
    path = write(hubs(), "hubs.yaml")
    proc = run_cli("course", "test", "--random", "0", "--max-situations", "40", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a limit is a warning: what was explored passed
    (limit,) = [line for line in proc.stdout.splitlines() if ": limit: " in line]
    assert limit.startswith(
        f"{path}:10:3: warning: limit: stopped after 40 situations; the course has more; the variables that multiply "
        f"them most: 'c1' ({path}:10:3) splits "
    ), limit
    assert "Set such a variable back to its start value once nothing reads it" in limit
    assert limit.endswith("or raise --max-situations")


def test_max_situations_must_be_a_positive_whole_number(write):
    path = write(hubs(), "hubs.yaml")
    proc = trainer("course", "test", "--max-situations", "0", str(path))
    assert proc.returncode == 2
    assert "--max-situations: 0 must be at least 1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_what_is_never_covered_is_reported_where_it_is_written(write):
    path = write(hubs(sign_when="d1 and not d1"), "never.yaml")
    proc = run_cli("course", "test", "--random", "0", str(path))
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the sign-off is now a trap too
    assert f"{path}:93:3: warning: uncovered: state 'done' was never reached" in proc.stdout.splitlines()
    assert f"{path}:89:9: warning: uncovered: action 'sign' of finish was never available" in proc.stdout.splitlines()
