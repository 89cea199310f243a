"""Required training: `trainer requirements load`, `trainer report compliance`, the Compliance sheets of the score
workbook, `trainer export overdue` and `trainer report due`, on a seeded plant (docs/hr.md), driven through the CLI.

Before: nobody was ever required to train: a trainee who never started a mandatory course appeared nowhere, and
`report due` left out the never-passed.

The seeded plant, as of 2027-02-20 (the requirements were loaded on 2026-01-01):
- T1 冲压车间 操作工 一厂: mini passed 2026-03-09 -> expiring (17 days); drill not required (班长 only)
- T2 焊装车间 操作工 二厂: mini passed 2026-01-10 -> expired (overdue)
- T3 冲压车间 班长 一厂, hired 2027-02-10: mini failed 2027-02-15 -> in progress (due 2027-03-12); drill never
  started (due 2027-02-24)
- T4 冲压车间 操作工 二厂: mini passed 2026-12-01 under a duplicate badge T4X, merged into T4 -> valid
- T5 焊装车间 操作工 二厂: mini never started, due 2026-01-31 -> overdue
"""

from __future__ import annotations

import csv
import re
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from test_export_support import CRITICAL, EXPERT, FIXTURES, course, play

from trainer.cli import main
from trainer.store.store import Store

ROSTER = """badge,name,department,role,plant,hire date
T1,张伟,冲压车间,操作工,一厂,2025-01-01
T2,李娜,焊装车间,操作工,二厂,2025-01-01
T3,王芳,冲压车间,班长,一厂,2027-02-10
T4,赵强,冲压车间,操作工,二厂,2025-06-01
T4X,赵强,冲压车间,操作工,二厂,2025-06-01
T5,孙丽,焊装车间,操作工,二厂,2025-03-01
"""
REQUIREMENTS = """课程,部门,岗位,首次期限天数
mini,冲压车间,,30
mini,焊装车间,*,30
drill,,班长,14
"""
TODAY = "2027-02-20"


pytestmark = pytest.mark.usefixtures("at_the_plant")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([*argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def plant(tmp_path: Path, capsys, monkeypatch) -> Path:
    db = tmp_path / "t.db"
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "req.csv").write_text(REQUIREMENTS, encoding="utf-8")
    assert run(capsys, "trainees", "import", str(tmp_path / "roster.csv"), "--db", str(db))[0] == 0
    monkeypatch.setenv("TRAINER_TODAY", "2026-01-01")
    code, out, err = run(
        capsys, "requirements", "load", str(tmp_path / "req.csv"), "--db", str(db), "--courses", str(FIXTURES)
    )
    assert code == 0, err
    assert "3 requirement(s) loaded: 3 added" in out
    mini = course()
    with Store.open(db) as store:
        play(store, mini, "T1", EXPERT, at=datetime(2026, 3, 9, 2, tzinfo=UTC))
        play(store, mini, "T2", EXPERT, at=datetime(2026, 1, 10, 2, tzinfo=UTC))
        play(store, mini, "T3", CRITICAL, at=datetime(2027, 2, 15, 2, tzinfo=UTC))
        play(store, mini, "T4X", EXPERT, at=datetime(2026, 12, 1, 2, tzinfo=UTC))
    assert run(capsys, "trainees", "merge", "T4X", "T4", "--reason", "two cards", "--db", str(db))[0] == 0
    monkeypatch.setenv("TRAINER_TODAY", TODAY)
    return db


def test_report_compliance_shows_every_cell_and_the_counts(plant, capsys):
    code, out, err = run(capsys, "report", "compliance", "--db", str(plant), "--courses", str(FIXTURES))
    assert code == 0, err
    assert "Compliance on 2027-02-20: 5 trainee(s), 2 required course(s)" in out
    assert "1 = drill" in out and "2 = mini" in out
    assert re.search(r"T1\s+张伟\s+冲压车间\s+-\s+17d left\s+0", out)
    assert re.search(r"T2\s+李娜\s+焊装车间\s+-\s+expired\s+1", out)
    assert re.search(r"T3\s+王芳\s+冲压车间\s+not started\s+in prog\.\s+0", out)
    assert re.search(r"T4\s+赵强\s+冲压车间\s+-\s+valid\s+0", out)
    assert re.search(r"T5\s+孙丽\s+焊装车间\s+-\s+not started\s+1", out)
    assert "T4X" not in out
    # valid, expiring, expired, in progress, never started, held/required, overdue
    assert re.search(r"total\s+1\s+1\s+1\s+1\s+2\s+2/6 33%\s+2", out)
    code, out, _ = run(capsys, "report", "compliance", "--lang", "zh", "--db", str(plant), "--courses", str(FIXTURES))
    assert "合规情况（2027-02-20）：5 人，2 门必修课程" in out and "未开始" in out and "合计" in out
    code, out, _ = run(
        capsys, "report", "compliance", "--plant", "一厂", "--db", str(plant), "--courses", str(FIXTURES)
    )
    assert "2 trainee(s)" in out


def test_the_workbook_has_a_compliance_sheet_and_its_summary(plant, tmp_path, capsys):
    out_file = tmp_path / "sheet.xlsx"
    code, _, err = run(
        capsys, "export", "scores", "--out", str(out_file), "--db", str(plant), "--courses", str(FIXTURES)
    )
    assert code == 0, err
    wb = load_workbook(out_file)
    assert wb.sheetnames == ["About", "Trainees", "Attempts", "Departments", "Compliance", "Compliance summary"]
    rows = list(wb["Compliance"].iter_rows(values_only=True))
    head = rows[0]
    assert head[:6] == ("badge", "name", "department", "role", "plant", "hire date")
    assert head[6:] == ("drill Inspection drill", "mini Mini course", "required", "held", "overdue")
    cells = {r[0]: r[6:] for r in rows[1:]}
    assert cells == {
        "T1": ("not required", "expiring (17 days)", 1, 1, 0),
        "T3": ("never started", "in progress", 2, 0, 0),
        "T4": ("not required", "valid", 1, 1, 0),
        "T2": ("not required", "expired", 1, 0, 1),
        "T5": ("not required", "never started", 1, 0, 1),
    }
    assert [r[0] for r in rows[1:]] == ["T1", "T3", "T4", "T2", "T5"]  # by department, plant, badge
    summary = list(wb["Compliance summary"].iter_rows(values_only=True))
    assert summary[0] == (
        "by", "group", "trainees", "required", "valid", "expiring", "expired", "in progress", "never started",
        "unknown (course not loaded)", "held (valid or expiring)", "held %", "overdue",
    )  # fmt: skip
    assert summary[1:] == [
        ("department", "冲压车间", 3, 4, 1, 1, 0, 1, 1, 0, 2, 50, 0),
        ("department", "焊装车间", 2, 2, 0, 0, 1, 0, 1, 0, 0, 0, 2),
        ("plant", "一厂", 2, 3, 0, 1, 0, 1, 1, 0, 1, 33.3, 0),
        ("plant", "二厂", 3, 3, 1, 0, 1, 0, 1, 0, 1, 33.3, 2),
        ("total", None, 5, 6, 1, 1, 1, 1, 2, 0, 2, 33.3, 2),
    ]
    assert not any(
        isinstance(c.value, str) and c.value.startswith("=")
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
    )

    zh_file = tmp_path / "zh.xlsx"
    assert run(capsys, "export", "scores", "--out", str(zh_file), "--lang", "zh", "--db", str(plant),
               "--courses", str(FIXTURES))[0] == 0  # fmt: skip
    wb = load_workbook(zh_file)
    assert wb.sheetnames[-2:] == ["合规", "合规汇总"]
    zh = {r[0]: r[6:8] for r in list(wb["合规"].iter_rows(values_only=True))[1:]}
    assert zh["T1"] == ("不要求", "即将到期（17天）") and zh["T3"] == ("未开始", "培训中")


def test_export_overdue_lists_whom_hr_must_chase(plant, tmp_path, capsys):
    out_csv = tmp_path / "overdue.csv"
    code, _, err = run(
        capsys, "export", "overdue", "--out", str(out_csv), "--db", str(plant), "--courses", str(FIXTURES)
    )
    assert code == 0 and "wrote 2 overdue course(s) of 2 trainee(s) (as of 2027-02-20)" in err
    with open(out_csv, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [
        "badge", "name", "department", "role", "plant", "hire date", "course", "title", "status", "due since",
        "days overdue",
    ]  # fmt: skip
    assert rows[1] == ["T5", "孙丽", "焊装车间", "操作工", "二厂", "2025-03-01", "mini", "Mini course",
                       "never started", "2026-01-31", "385"]  # fmt: skip
    assert rows[2][0] == "T2" and rows[2][8:] == ["expired", "2027-01-10", "41"]
    out_xlsx = tmp_path / "overdue.xlsx"
    assert run(capsys, "export", "overdue", "--out", str(out_xlsx), "--lang", "zh", "--db", str(plant),
               "--courses", str(FIXTURES))[0] == 0  # fmt: skip
    ws = load_workbook(out_xlsx)["逾期"]
    got = [(r[0], r[8], r[9], r[10]) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert got == [("T5", "未开始", datetime(2026, 1, 31), 385), ("T2", "已过期", datetime(2027, 1, 10), 41)]


def test_report_due_includes_required_courses_never_passed(plant, capsys):
    code, out, _ = run(capsys, "report", "due", "--db", str(plant), "--courses", str(FIXTURES))
    assert code == 0
    lines = [line for line in out.splitlines() if re.match(r"\s*T\d", line)]
    assert [line.split()[0] for line in lines] == ["T5", "T2", "T3", "T1", "T3"]
    assert re.search(r"T5\s+孙丽\s+焊装车间\s+mini\s+2026-01-31\s+-385\s+never passed", out)
    assert re.search(r"T3\s+王芳\s+冲压车间\s+drill\s+2027-02-24\s+4\s+never passed", out)
    assert re.search(r"T3\s+王芳\s+冲压车间\s+mini\s+2027-03-12\s+20\s+never passed", out)


def test_a_bad_requirements_file_names_each_line_and_loads_nothing(plant, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("course,department,days\nminii,冲压车间,30\nmini,冲压车间,-3\nmini,冲压车间,7\nmini,冲压车间,8\n")
    code, _, err = run(capsys, "requirements", "load", str(bad), "--db", str(plant), "--courses", str(FIXTURES))
    assert code == 2
    assert err.splitlines() == [
        f"trainer: error: {bad}:2: no course 'minii' in the library; check the course id",
        f"{bad}:3: first deadline days '-3': give a whole number from 0 to 3650",
        f"{bad}:5: mini for this department and role is listed twice (first at {bad}:4); nothing was changed",
    ]
    with Store.open(plant) as store:
        assert len(store.requirements()) == 3


def test_reloading_keeps_each_requirements_start_and_is_audited_and_tamper_evident(plant, tmp_path, capsys):
    changed = tmp_path / "req2.csv"
    changed.write_text("course,department,role,days\nmini,冲压车间,,45\ndrill,,班长,14\n", encoding="utf-8")
    code, out, _ = run(capsys, "requirements", "load", str(changed), "--db", str(plant), "--courses", str(FIXTURES))
    assert code == 0 and "2 requirement(s) loaded: 0 added, 1 removed, 1 changed" in out
    with Store.open(plant) as store:
        assert {r.since for r in store.requirements()} == {date(2026, 1, 1)}  # loaded before: their start is kept
        row = store.audit_trail(action="requirements.load")[-1]
        assert row.detail["removed"] == ["mini for 焊装车间"] and row.detail["changed"] == [
            "mini for 冲压车间: 30 -> 45 days"
        ]
    assert run(capsys, "sessions", "verify", "--db", str(plant))[0] == 0
    with sqlite3.connect(plant) as conn:
        conn.execute("DELETE FROM requirements WHERE course_id = 'drill'")  # hiding who is overdue
    code, out, _ = run(capsys, "sessions", "verify", "--db", str(plant))
    assert code != 0 and "requirements: the requirements table does not match the ledger" in out


def test_compliance_without_requirements_says_how_to_load_them(tmp_path, capsys):
    code, _, err = run(capsys, "report", "compliance", "--db", str(tmp_path / "t.db"))
    assert code == 2 and "trainer requirements load FILE" in err and err.count("\n") == 1


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_summary_rows_stay_whole_in_an_80_column_terminal(plant, capsys, monkeypatch, lang):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run(capsys, "report", "compliance", "--lang", lang, "--db", str(plant), "--courses", str(FIXTURES))
    assert code == 0, err
    summary = out.split("By department and plant" if lang == "en" else "按部门和厂区汇总")[1]
    rows = [line for line in summary.splitlines() if re.match(r"\s*(dept\.|plant|total|部门|厂区|合计)\s", line)]
    assert len(rows) >= 3 and any(re.match(r"\s*(dept\.|部门)\s", line) for line in rows)
    for line in rows:  # every row ends with its overdue count: nothing wrapped onto a second line
        assert len(line.rstrip()) <= 80 and re.search(r"\d+/\d+ \d+%\s+\d+$", line.rstrip()), line
