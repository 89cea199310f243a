"""Hostile or broken files: each is refused with exactly one error line, never an exception, a hang or side effects."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from trainer.course.diagnostics import Severity
from trainer.course.loader import CheckResult, check_path, check_text

ROOT = Path(__file__).resolve().parent.parent.parent
MINI = (ROOT / "tests" / "fixtures" / "mini_course.yaml").read_text(encoding="utf-8")


def billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
        previous = name
    return "\n".join(lines) + "\n"  # 9**9 (about 387 million) strings once expanded


# Each case writes its file into a folder and returns the path to check, the position and words of the one error.
Case = Callable[[Path], Path]


def _text(name: str, text: str) -> Case:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path

    return make


def _bytes(name: str, data: bytes) -> Case:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return make


def _big(folder: Path) -> Path:
    path = folder / "big.yaml"
    path.write_text(MINI + "# " + "x" * (6 * 1024 * 1024) + "\n", encoding="utf-8")
    return path


def _folder(folder: Path) -> Path:
    path = folder / "course.yaml"
    path.mkdir()
    return path


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
GBK = "id: mini\ntitle: {zh: 安全培训, en: Safety}\n".encode("gbk")  # 安 is B0 B2 in GBK: B0 cannot start UTF-8
PYTHON_TAG = '!!python/object/apply:os.system ["echo hacked > {marker}"]\n'

CASES: dict[str, tuple[Case, tuple[int, int], str]] = {
    "alias-bomb": (_text("bomb.yaml", billion_laughs()), (1, 64), "alias bomb"),  # where the count ran out
    "too-big": (_big, (1, 1), "a course may be at most 5 MB"),
    "binary": (_bytes("logo.yaml", PNG), (3, 1), "binary file, not a YAML course"),
    "not-utf8": (_bytes("gbk.yaml", GBK), (2, 13), "not UTF-8 text; save it as UTF-8"),
    "list": (_text("list.yaml", "- id: mini\n- states: {}\n"), (1, 1), "a course must be a mapping"),
    "recursive-alias": (_text("loop.yaml", "id: &loop\n  again: *loop\n"), (1, 5), "recursive YAML"),  # the anchor
    "empty": (_text("empty.yaml", ""), (1, 1), "the file is empty"),
    "folder": (_folder, (1, 1), "this is a folder, not a course file"),
    "control-char": (_text("esc.yaml", "id: mini\nversion: \x1b[31m1.0\n"), (2, 10), "U+001B"),
}


def one_error(result: CheckResult) -> str:
    assert result.course is None
    assert len(result.diagnostics) == 1, "\n".join(map(str, result.diagnostics))
    (d,) = result.diagnostics
    assert d.severity is Severity.ERROR
    printed = str(d)
    assert "\n" not in printed
    return printed


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_file_gives_one_error_line(tmp_path, name):
    make, (line, col), words = CASES[name]
    path = make(tmp_path)
    started = time.process_time()  # this process's CPU: the work done, whatever else the machine runs meanwhile
    printed = one_error(check_path(path))
    assert time.process_time() - started < 5, "refusing a file must be quick"
    assert printed.startswith(f"{path}:{line}:{col}: error: "), printed
    assert words in printed, printed


def test_python_tag_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "hacked"
    for i, text in enumerate([PYTHON_TAG, "id: " + PYTHON_TAG, MINI + "extra: " + PYTHON_TAG]):
        path = tmp_path / f"tag{i}.yaml"
        path.write_text(text.replace("{marker}", str(marker)), encoding="utf-8")
        printed = one_error(check_path(path))
        assert "python/object/apply:os.system' is not allowed in a course" in printed
    assert not marker.exists(), "a YAML tag ran a shell command"


def test_not_utf8_column_counts_characters_before_the_bad_byte(write):
    # A UTF-8 file with one Latin-1 byte pasted in: the column is in characters, as an editor shows it.
    path = write("id: mini\ntitle: {zh: 安全, en: caf\xe9}\n")
    path.write_bytes(path.read_bytes().replace(b"caf\xc3\xa9", b"caf\xe9"))
    printed = one_error(check_path(path))
    assert printed.startswith(f"{path}:2:24: error: the file is not UTF-8"), printed  # 28 if counted in bytes


@pytest.mark.parametrize(
    ("value", "words"),
    [(".nan", "must be a finite number, not nan"), (".inf", "not inf"), ("1" + "0" * 400, "must be at most 86400")],
    ids=["nan", "inf", "huge"],
)
def test_numbers_that_are_not_numbers(value, words):
    result = check_text(MINI.replace("seconds: 30", f"seconds: {value}"), "c.yaml")
    printed = one_error(result)
    assert printed.startswith("c.yaml:16:22: error: states.begin.timer.seconds "), printed
    assert words in printed


def test_surrogates_in_text_are_an_error_not_a_crash():
    printed = one_error(check_text(MINI.replace("Mini course", "Mini \ud800"), "c.yaml"))
    assert printed.startswith("c.yaml:3:27: error: the character U+D800"), printed


# --- the same files through the command line --------------------------------------------------------------------


def run_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trainer", "course", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


@pytest.mark.parametrize("name", [n for n in CASES if n != "folder"])
def test_cli_reports_hostile_file_in_one_line(tmp_path, name):
    make, (line, col), words = CASES[name]
    path = make(tmp_path)
    proc = run_check(path)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [proc.stdout.strip()], proc.stdout  # one line per error, and one error
    assert proc.stdout.startswith(f"{path}:{line}:{col}: error: ")
    assert words in proc.stdout
    assert proc.stderr.strip() == "1 file(s) checked: 1 error(s), 0 warning(s): invalid"


def test_cli_python_tag_exits_3_and_runs_nothing(tmp_path):
    marker = tmp_path / "hacked"
    path = tmp_path / "tag.yaml"
    path.write_text(PYTHON_TAG.replace("{marker}", str(marker)), encoding="utf-8")
    proc = run_check(path)
    assert proc.returncode == 3
    assert "Traceback" not in proc.stdout + proc.stderr
    assert len(proc.stdout.splitlines()) == 1
    assert "is not allowed in a course" in proc.stdout
    assert not marker.exists()


def test_cli_folder_without_courses_is_one_line_on_stderr(tmp_path):
    # `course check` accepts folders of courses; an empty one is a plain error (exit 1), not a crash.
    folder = tmp_path / "course.yaml"
    folder.mkdir()
    proc = run_check(folder)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [f"trainer: error: no course files (*.yaml) found in {folder}"]


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("states:\n", "states: oops\nold_states:\n", "13:9: error: states must be a mapping of names to entries"),
        (
            "variables:\n  power: on\n  locked: false\n",
            "variables: [power]\n",
            "9:12: error: variables must be a mapping",
        ),
        ("procedure:\n", "map: [1, 2]\nprocedure:\n", "36:6: error: map must be a mapping"),
        ("procedure:\n", "random_events: 5\nprocedure:\n", "36:16: error: random_events must be a list"),
    ],
    ids=["states", "variables", "map", "random_events"],
)
def test_a_section_of_the_wrong_type_is_reported_not_followed(old, new, words):
    result = check_text(MINI.replace(old, new), "c.yaml")
    assert result.course is None
    assert f"c.yaml:{words}" in [str(d)[: len("c.yaml:") + len(words)] for d in result.diagnostics]


def test_a_key_with_a_line_break_is_quoted_so_the_error_stays_on_one_line():
    result = check_text(MINI.replace("  hurt:\n    text: {zh: 受伤, en: Hurt}\n", '  "hu\\nrt":\n'), "c.yaml")
    printed = [str(d) for d in result.diagnostics]
    assert all("\n" not in line for line in printed), printed
    assert "c.yaml:34:5: error: states.'hu\\nrt' is missing the required key 'text'" in printed
