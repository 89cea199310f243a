"""Names, badges and texts that reach a terminal: refused where they come in, neutralised where stored text goes out.

A name holding `\\x1b]0;...` would set the instructor's window title when `sessions list` printed it; `\\x1b[2J` would
clear the screen; U+202E would make a badge read backwards. Before the fix all of them were stored and printed raw.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cliproc import run_cli

from trainer import people
from trainer.text import shown

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MINI = FIXTURES / "mini_course.yaml"
TITLE_SEQUENCE = "\x1b]0;pwned\x07"
CLEAR_SCREEN = "\x1b[2J"
RLO = "\u202e"


def run(*argv: str) -> tuple[int, str, str]:
    done = run_cli(*argv)
    return done.returncode, done.stdout, done.stderr


def play(db: str, tmp_path: Path, badge: str, name: str = "王芳", department: str = "冲压") -> tuple[int, str, str]:
    script = tmp_path / "s.txt"
    script.write_text("2 lock\n3 work\n", encoding="utf-8")
    return run("play", str(MINI), "--db", db, "--badge", badge, "--name", name, "--department", department,
               "--script", str(script), "--seed", "1")  # fmt: skip


@pytest.mark.parametrize(
    ("badge", "name", "department"),
    [
        (CLEAR_SCREEN + "7", "王芳", "冲压"),
        ("B" + RLO + "7001", "王芳", "冲压"),
        ("B 7", "王芳", "冲压"),
        ("B" * 10_000, "王芳", "冲压"),
        ("B-7", "王" + TITLE_SEQUENCE, "冲压"),
        ("B-7", "x" * 10_000, "冲压"),
        ("B-7", "王芳", "冲压\n第二行"),
        ("B-7", "王芳", "\x00"),
    ],
)
def test_a_hostile_badge_name_or_department_is_refused_in_one_line_and_nothing_is_stored(tmp_path, badge, name,
                                                                                          department):  # fmt: skip
    db = f"sqlite:///{tmp_path / 't.db'}"
    code, out, err = play(db, tmp_path, badge, name, department)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and len(err) < 200, err
    assert "\x1b" not in err and RLO not in err
    code, out, _ = run("sessions", "list", "--db", db)
    assert code == 0 and "B-7" not in out and "B" * 20 not in out


def test_plain_badges_names_and_departments_of_any_script_are_accepted(tmp_path):
    db = f"sqlite:///{tmp_path / 't.db'}"
    code, out, err = play(db, tmp_path, "ZX/冲压/17", "张三 O'Brien \"Ziggy\" Ünal", "冲压 / Press; 100%")
    assert code == 0, err


def hostile_store(tmp_path: Path) -> tuple[str, str]:
    """A database in which an older version stored a hostile name, department and badge; and its session's id."""
    path = tmp_path / "t.db"
    db = f"sqlite:///{path}"
    code, out, err = play(db, tmp_path, "B-7")
    assert code == 0, err
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("UPDATE trainees SET name=?, department=?", ("王" + TITLE_SEQUENCE, CLEAR_SCREEN + "冲压"))
        conn.execute("UPDATE trainees SET badge=?", ("B" + RLO + "7",))
        conn.execute("UPDATE sessions SET badge=?", ("B" + RLO + "7",))
    return db, out.split()[1]


def test_stored_control_and_bidi_characters_are_shown_as_escapes_by_every_printer(tmp_path):
    db, session = hostile_store(tmp_path)
    page = tmp_path / "report.html"
    outputs = {
        "sessions list": run("sessions", "list", "--db", db),
        "report trainee": run("report", "trainee", "B" + RLO + "7", "--db", db),
        "report due": run("report", "due", "--within", "400", "--courses", str(FIXTURES), "--db", db),
        "report course": run("report", "course", "mini", "--courses", str(FIXTURES), "--db", db, "--html", str(page)),
    }
    outputs["sessions show"] = run("sessions", "show", session, "--courses", str(FIXTURES), "--db", db)
    for command, (code, out, err) in outputs.items():
        assert code == 0, (command, err)
        assert "\x1b" not in out + err and "\x07" not in out + err and RLO not in out + err, command
    assert "\\u202e" in outputs["sessions list"][1]
    assert "\\x1b]0;pwned" in outputs["report trainee"][1] and "\\x1b[2J" in outputs["report trainee"][1]
    assert "\\x1b]0;pwned" in outputs["report due"][1] and "\\x1b]0;pwned" in outputs["sessions show"][1]
    html = page.read_text(encoding="utf-8")
    assert "\x1b" not in html and RLO not in html


def test_shown_makes_every_control_character_visible_and_leaves_text_alone():
    assert shown("王芳 O'Brien") == "王芳 O'Brien"
    assert shown(TITLE_SEQUENCE) == "\\x1b]0;pwned\\x07"
    assert shown("a" + RLO + "b\u2066c") == "a\\u202eb\\u2066c"
    assert shown("\x9b2J") == "\\x9b2J"  # the one-byte CSI of C1 controls too


def test_the_badge_rule_reads_as_documented():
    assert people.badge("  B-0042 ") == "B-0042"
    for bad in ("", "-7", "a b", "x" * 33, "a\tb"):
        with pytest.raises(people.TraineeFieldError):
            people.badge(bad)


def test_course_texts_with_control_or_bidi_characters_are_errors_at_their_place(tmp_path):
    text = MINI.read_text(encoding="utf-8")
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(text.replace("title: {zh: 小课程,", 'title: {zh: "小课程\\e]0;x\\a",'), encoding="utf-8")
    code, out, _ = run("course", "check", str(hostile))
    assert code == 3
    assert out.startswith(f"{hostile}:3:13: error: this text holds U+001B"), out
    trojan = tmp_path / "trojan.yaml"
    trojan.write_text(text.replace("area: stamping", "area: stamping  # ok" + RLO + " fine"), encoding="utf-8")
    code, out, _ = run("course", "check", str(trojan))
    assert code == 3 and out.startswith(f"{trojan}:4:21: error: the character U+202E"), out
