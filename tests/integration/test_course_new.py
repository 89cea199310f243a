"""`trainer course new`: a scaffold an instructor can start from, which already checks clean and plays."""

from __future__ import annotations

import subprocess
import sys

from cliproc import run_cli


def trainer(*args, cwd):
    return subprocess.run([sys.executable, "-m", "trainer", *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_scaffold_checks_clean_and_is_fully_covered(tmp_path):
    made = run_cli("course", "new", "conveyor-jam", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    path = tmp_path / "conveyor-jam.yaml"
    assert "id: conveyor-jam" in path.read_text(encoding="utf-8")
    checked = run_cli("course", "check", str(path), cwd=tmp_path)
    assert checked.returncode == 0 and checked.stdout == ""  # no error, no warning
    tested = run_cli("course", "test", str(path), "--random", "20", cwd=tmp_path)
    assert tested.returncode == 0 and "states 3/3 (100%), actions 3/3 (100%)" in tested.stdout


def test_scaffold_never_overwrites_and_refuses_bad_ids(tmp_path):
    (tmp_path / "mine.yaml").write_text("keep me", encoding="utf-8")
    again = trainer("course", "new", "mine", cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert (tmp_path / "mine.yaml").read_text(encoding="utf-8") == "keep me"
    bad = trainer("course", "new", "Bad Name", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
