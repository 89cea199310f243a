"""HR's roster: `trainer trainees import FILE.csv|xlsx`, `edit`, `merge`, `list`, driven as HR types them.

Before: trainees existed only by signing in and typing their own department; nothing could correct a typo or join two
badges of one person, and nothing said who changed a trainee. Now the roster creates and updates them (every change
audited and in the ledger), a merge keeps the history verifiable, and plain-SQL edits of the new fields are caught.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from test_export_support import EXPERT, FIXTURES, course, play

from trainer.cli import main
from trainer.store.store import Store

ROSTER = """工号,姓名,部门,岗位,厂区,入职日期,电话
E1,张伟,冲压车间,操作工,一厂,2026-01-05,138
E2,李娜,焊装车间,班长,二厂,2026/5/20,
E3,王芳,冲压车间,,,,
"""


pytestmark = pytest.mark.usefixtures("at_the_plant")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def roster(tmp_path: Path, text: str = ROSTER, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_creates_trainees_with_their_roster_fields_and_audits_each(tmp_path, capsys):
    db = tmp_path / "t.db"
    code, out, _ = run(capsys, "trainees", "import", str(roster(tmp_path)), "--db", str(db))
    assert code == 0
    assert "3 new, 0 changed, 0 unchanged" in out and "columns left out: 电话" in out
    with Store.open(db) as store:
        t1 = store.get_trainee("E1")
        assert (t1.name, t1.department, t1.role, t1.plant, t1.hire_date) == (
            "张伟",
            "冲压车间",
            "操作工",
            "一厂",
            date(2026, 1, 5),
        )
        assert store.get_trainee("E2").hire_date == date(2026, 5, 20)
        assert store.get_trainee("E3").role is None
        trail = store.audit_trail(action="trainee.import")
        assert [r.detail["badge"] for r in trail] == ["E1", "E2", "E3"]
        assert store.verify() == []
    code, out, _ = run(capsys, "audit", "list", "--db", str(db))
    assert "new trainee E1 from" in out and "department none -> 冲压车间" in out

    # the same file again changes nothing; a corrected department is one change, audited old -> new
    code, out, _ = run(capsys, "trainees", "import", str(roster(tmp_path)), "--db", str(db))
    assert "0 new, 0 changed, 3 unchanged" in out
    fixed = roster(tmp_path, ROSTER.replace("E3,王芳,冲压车间", "E3,王芳,焊装车间"), "roster2.csv")
    code, out, _ = run(capsys, "trainees", "import", str(fixed), "--db", str(db), "--reason", "HR export of May")
    assert code == 0 and "0 new, 1 changed, 2 unchanged" in out
    with Store.open(db) as store:
        last = store.audit_trail(action="trainee.import")[-1]
        assert last.detail["changes"] == {"department": ["冲压车间", "焊装车间"]} and last.reason == "HR export of May"
        assert store.get_trainee("E3").department == "焊装车间"
        assert store.verify() == []


def test_import_reads_an_xlsx_roster_with_numeric_badges_and_date_cells(tmp_path, capsys):
    wb = Workbook()
    ws = wb.active
    ws.append(["Badge", "Name", "Department", "Role", "Plant", "Hire date"])
    ws.append([1001, "Ann Lee", "Press", "operator", "Plant 1", datetime(2025, 11, 3)])
    ws.append([None, None, None, None, None, None])  # an empty row is skipped
    ws.append(["B-7", "Bo Wu", "Weld", None, None, None])
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    db = tmp_path / "t.db"
    code, out, _ = run(capsys, "trainees", "import", str(path), "--db", str(db))
    assert code == 0 and "2 new" in out
    with Store.open(db) as store:
        ann = store.get_trainee("1001")
        assert ann is not None and ann.hire_date == date(2025, 11, 3) and ann.plant == "Plant 1"


def test_a_bad_roster_names_every_bad_line_and_stores_nothing(tmp_path, capsys):
    db = tmp_path / "t.db"
    bad = roster(
        tmp_path,
        "badge,name,department,hire date\nE1,Ann,Press,2026-01-05\nE 2,Bo,Press,\nE3,,Press,\nE4,Di,Press,yesterday\n"
        "E1,Ann again,Press,\n",
    )
    code, _, err = run(capsys, "trainees", "import", str(bad), "--db", str(db))
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"trainer: error: {bad}:3: badge 'E 2'")
    assert lines[1].startswith(f"{bad}:4: the name cannot be empty")
    assert lines[2].startswith(f"{bad}:5: hire date 'yesterday'")
    assert lines[3].startswith(f"{bad}:6: badge E1 is listed twice (first at {bad}:2)")
    assert lines[-1].endswith("nothing was changed") and "Traceback" not in err
    with Store.open(db) as store:
        assert store.trainees() == []
    no_header = roster(tmp_path, "who,what\nE1,Ann\n", "nohead.csv")
    code, _, err = run(capsys, "trainees", "import", str(no_header), "--db", str(db))
    assert code == 2 and f"{no_header}:1: the first row must name the columns; missing badge" in err


def test_edit_corrects_a_trainee_audited_and_in_the_ledger(tmp_path, capsys):
    db = tmp_path / "t.db"
    run(capsys, "trainees", "import", str(roster(tmp_path)), "--db", str(db))
    code, out, _ = run(
        capsys, "trainees", "edit", "E3", "--name", "王芳芳", "--plant", "一厂", "--hire-date", "2026-02-01",
        "--reason", "typo", "--db", str(db),
    )  # fmt: skip
    assert code == 0 and "王芳芳" in out
    with Store.open(db) as store:
        t = store.get_trainee("E3")
        assert (t.name, t.plant, t.hire_date) == ("王芳芳", "一厂", date(2026, 2, 1))
        row = store.audit_trail(action="trainee.edit")[-1]
        assert row.detail["changes"]["name"] == ["王芳", "王芳芳"] and row.reason == "typo"
        assert store.verify() == []
    code, _, err = run(capsys, "trainees", "edit", "E3", "--hire-date", "soon", "--db", str(db))
    assert code == 2 and "hire date 'soon'" in err
    code, _, err = run(capsys, "trainees", "edit", "NOBODY", "--name", "x", "--db", str(db))
    assert code == 1 and "no trainee with badge NOBODY" in err


def test_merge_joins_a_duplicate_badge_and_the_history_still_verifies(tmp_path, capsys, monkeypatch):
    db = tmp_path / "t.db"
    run(capsys, "trainees", "import", str(roster(tmp_path, ROSTER + "E3B,王芳,冲压车间,,,,\n")), "--db", str(db))
    mini = course()
    with Store.open(db) as store:
        play(store, mini, "E3B", EXPERT, at=datetime(2026, 3, 9, 2, tzinfo=UTC))
    code, out, _ = run(capsys, "trainees", "merge", "E3B", "E3", "--reason", "two cards", "--db", str(db))
    assert code == 0 and "E3B merged into E3: its 1 session(s)" in out

    # the record is untouched: the session keeps the badge its chain binds, and verify still passes
    code, out, _ = run(capsys, "sessions", "verify", "--db", str(db))
    assert code == 0, out
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT badge FROM sessions").fetchall() == [("E3B",)]
    # every report reads it as E3's now; the old card signs in as E3
    monkeypatch.setenv("TRAINER_TODAY", "2026-06-01")
    code, out, _ = run(capsys, "report", "trainee", "E3", "--db", str(db), "--courses", str(FIXTURES))
    assert code == 0 and re.search(r"mini\s+valid\s+2027-03-09", out)
    with Store.open(db) as store:
        assert store.get_trainee("E3B").badge == "E3"
        assert [t.badge for t in store.trainees()] == ["E1", "E2", "E3"]
        assert store.audit_trail(action="trainee.merge")[-1].detail["sessions"] == 1
    code, out, _ = run(capsys, "trainees", "list", "--merged", "--db", str(db))
    assert re.search(r"E3B\s+王芳\s+冲压车间.*E3", out)

    # merging again, or into a merged badge, is refused; so is a roster that lists the merged badge
    code, _, err = run(capsys, "trainees", "merge", "E3B", "E1", "--reason", "x", "--db", str(db))
    assert code == 1 and "already merged into E3" in err
    again = roster(tmp_path, "badge,name,department\nE3B,王芳,冲压车间\n", "again.csv")
    code, _, err = run(capsys, "trainees", "import", str(again), "--db", str(db))
    assert code == 1 and f"{again}:2: badge E3B was merged into E3" in err


def test_plain_sql_edits_of_roster_fields_and_merges_are_caught_by_verify(tmp_path, capsys):
    db = tmp_path / "t.db"
    run(capsys, "trainees", "import", str(roster(tmp_path)), "--db", str(db))
    run(capsys, "trainees", "merge", "E3", "E1", "--reason", "dup", "--db", str(db))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE trainees SET plant = '三厂' WHERE badge = 'E1'")
        conn.execute("UPDATE trainees SET merged_into = NULL WHERE badge = 'E3'")
    code, out, _ = run(capsys, "sessions", "verify", "--db", str(db))
    assert code != 0
    assert "trainee E1: trainees.plant does not match the ledger (stored 三厂, the ledger's 一厂)" in out
    assert "trainee E3: trainees.merged_into does not match the ledger (stored none, the ledger's E1)" in out


def test_play_refuses_a_badge_off_the_roster_and_plays_a_merged_one_as_its_target(tmp_path, capsys):
    db = tmp_path / "t.db"
    run(capsys, "trainees", "import", str(roster(tmp_path, ROSTER + "E3B,王芳,冲压车间,,,,\n")), "--db", str(db))
    run(capsys, "trainees", "merge", "E3B", "E3", "--reason", "two cards", "--db", str(db))
    steps = tmp_path / "s.txt"
    steps.write_text("2 lock\n3 work\n", encoding="utf-8")
    mini = str(FIXTURES / "mini_course.yaml")
    code, _, err = run(
        capsys,
        "play",
        mini,
        "--badge",
        "E9",
        "--name",
        "x",
        "--department",
        "y",
        "--script",
        str(steps),
        "--db",
        str(db),
    )
    assert code == 2 and "badge E9 is not on the roster" in err
    code, out, err = run(capsys, "play", mini, "--badge", "E3B", "--script", str(steps), "--db", str(db))
    assert code == 0, err
    with Store.open(db) as store:
        assert [s.badge for s in store.sessions()] == ["E3"]
        assert store.verify() == []
