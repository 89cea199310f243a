"""`trainer course ...` as an instructor runs it: a real process, its exit code and what it prints."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini_course.yaml"
MINI_TEXT = MINI.read_text(encoding="utf-8")


def trainer(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "TRAINER_COURSES"}
    full_env.update({"COLUMNS": "200", **(env or {})})  # wide enough that tables do not wrap ids
    return subprocess.run(
        [sys.executable, "-m", "trainer", *args], capture_output=True, text=True, timeout=60, cwd=ROOT, env=full_env
    )


def test_top_level_help_lists_the_course_commands():
    proc = trainer("--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: trainer")
    assert "Trainer: safety training and assessment in the terminal." in proc.stdout
    assert re.search(r"^\s+course\s+Check, list, draw and test courses", proc.stdout, re.MULTILINE), proc.stdout


def test_course_check_help_is_the_docstring():
    proc = trainer("course", "check", "--help")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("usage: trainer course check")
    assert "Check course files and report every problem as file:line:col: error|warning: message." in lines
    # The docstring's indentation is not carried into the help.
    assert "Exits 3 when any file has an error, 0 otherwise (warnings alone do not fail)." in lines
    assert "--quiet" in proc.stdout


def test_check_a_valid_course_exits_0():
    proc = trainer("course", "check", str(MINI))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.strip() == "1 file(s) checked: 0 error(s), 0 warning(s): ok"


def test_check_a_bad_course_exits_3_with_one_line_per_problem(write):
    text = MINI_TEXT.replace("goto: done", "goto: dnoe").replace("        mistake: {", "        mistak: {")
    path = write(text, "bad.yaml")
    proc = trainer("course", "check", str(path))
    assert proc.returncode == 3
    # 'done' unreachable follows from the typo: said in the typo's error, not listed as an error of its own.
    assert proc.stdout.splitlines() == [
        f"{path}:25:15: error: goto 'dnoe': there is no such state; did you mean 'done'? (this also leaves 1 state "
        "unreachable or with no way to an ending: 'done'; not listed separately)",
        f"{path}:29:9: error: unknown key 'mistak' in action; did you mean 'mistake'?",
    ]
    assert proc.stderr.strip() == "1 file(s) checked: 2 error(s), 0 warning(s): invalid"
    assert "Traceback" not in proc.stderr


def test_check_quiet_prints_problems_only(write):
    path = write(MINI_TEXT.replace("text: {zh: 完成, en: Done}", "text: {zh: 完成}"), "warn.yaml")
    proc = trainer("course", "check", "--quiet", str(path))
    assert proc.returncode == 0  # a warning alone does not fail
    assert proc.stdout.splitlines() == [
        f"{path}:31:11: warning: states.done.text has no 'en' text; trainees will see the 'zh' text"
    ]
    assert proc.stderr == ""


def test_unknown_subcommand_is_a_usage_error_in_one_line():
    proc = trainer("course", "chekc", str(MINI))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "usage error" in lines[0] and "'chekc'" in lines[0] and "see trainer course --help" in lines[0]


def test_graph_mermaid_draws_states_and_marks_the_critical_edge():
    proc = trainer("course", "graph", str(MINI), "--format", "mermaid")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "flowchart TD"
    for state in ("s_begin[", "s_done(", "s_hurt{{"):
        assert any(line.strip().startswith(state) for line in lines), state
    edges = [line.strip() for line in lines if "|" in line and ("-->" in line or "-.->" in line)]
    critical = edges.index('s_begin -->|"reach"| s_hurt')
    assert f"linkStyle {critical} stroke:#d00,stroke-width:3px" in proc.stdout
    assert sum("stroke:#d00" in line for line in lines) == 1  # only the one critical edge is red


def test_graph_dot_draws_states_and_marks_the_critical_edge():
    proc = trainer("course", "graph", str(MINI), "--format", "dot")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith('digraph "mini" {')
    for state in ("begin", "done", "hurt"):
        assert f'  "{state}"' in proc.stdout
    assert '"begin" -> "hurt" [label="reach", color=red, penwidth=3];' in proc.stdout
    assert '"begin" -> "done" [label="work"];' in proc.stdout  # a plain edge stays plain


def test_graph_of_an_invalid_course_exits_3_in_one_line(write):
    path = write(MINI_TEXT.replace("goto: done", "goto: dnoe"), "bad.yaml")
    proc = trainer("course", "graph", str(path))
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"trainer: error: {path}:25:15: error: goto 'dnoe': there is no such state; did you mean 'done'? (this also "
        "leaves 1 state unreachable or with no way to an ending: 'done'; not listed separately)"
    ]


def _own_course(folder: Path, course_id: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{course_id}.yaml").write_text(MINI_TEXT.replace("id: mini", f"id: {course_id}"), encoding="utf-8")


def test_list_shows_a_course_from_a_courses_folder(tmp_path):
    _own_course(tmp_path / "mine", "zz-forklift-basics")
    proc = trainer("course", "list", "--courses", str(tmp_path / "mine"))
    assert proc.returncode == 0, proc.stderr
    assert "zz-forklift-basics" in proc.stdout
    assert "小课程" in proc.stdout and "Mini course" in proc.stdout


def test_trainer_courses_env_adds_a_folder(tmp_path):
    _own_course(tmp_path / "a", "zz-from-env-a")
    _own_course(tmp_path / "b", "zz-from-env-b")
    folders = os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")])
    proc = trainer("course", "list", env={"TRAINER_COURSES": folders})
    assert proc.returncode == 0, proc.stderr
    assert "zz-from-env-a" in proc.stdout and "zz-from-env-b" in proc.stdout
    assert "zz-from-env" not in trainer("course", "list").stdout


STARTUP = """
import json, sys
from trainer.cli import main
code = main(["course", "check", sys.argv[1]])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"sklearn", "textual", "sqlalchemy", "openpyxl", "numpy"})
print(json.dumps({"code": code, "heavy": heavy}))
"""


def test_course_check_does_not_import_heavy_libraries():
    proc = subprocess.run(
        [sys.executable, "-c", STARTUP, str(MINI)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report == {"code": 0, "heavy": []}
