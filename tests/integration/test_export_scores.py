"""`trainer export scores`: the HR score sheet as XLSX and CSV, from sessions played through the real engine and store."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from test_export_support import (
    CRITICAL,
    EXPERT,
    FIXTURES,
    HOSTILE_NAMES,
    SLOW,
    course,
    plant_time_zone,
    play,
    register,
)

from trainer.cli import main
from trainer.export.scores import ATTEMPT_COLUMNS, DEPARTMENT_COLUMNS, TRAINEE_COLUMNS
from trainer.store.store import Store

TODAY = "2026-06-01"
HOSTILE_DEPARTMENT = "=cmd|' /C calc'!A0"


@pytest.fixture(autouse=True)
def _plant_time(monkeypatch):
    monkeypatch.setenv("TRAINER_TODAY", TODAY)
    monkeypatch.delenv("TRAINER_COURSES", raising=False)
    with plant_time_zone():
        yield


def utc(day: int, hour: int = 2, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.db"
    mini = course()
    with Store.open(path) as store:
        register(store, "A1", "张伟", "冲压车间")
        register(store, "A2", "李娜", "焊装车间")
        register(store, "A3", "王芳", "冲压车间")
        play(store, mini, "A1", CRITICAL, at=utc(2))  # incident, 60, critical HANDS_IN_DIE
        play(store, mini, "A1", SLOW, at=utc(5))  # passed, 95, a minor timeout
        play(store, mini, "A2", EXPERT, at=utc(6))  # passed, 100
        play(store, mini, "A2", ["lock"], at=utc(7))  # aborted: an attempt without a score
        play(store, mini, "A2", ["lock"], at=utc(8), finish=False)  # interrupted: not an attempt (yet)
        play(store, mini, "A3", CRITICAL, at=utc(5, hour=17))  # 01:00 on March 6 in Chongqing
        for i, name in enumerate(HOSTILE_NAMES):
            register(store, f"H{i}", name, HOSTILE_DEPARTMENT if i == 0 else "+dept")
            play(store, mini, f"H{i}", EXPERT, at=utc(9))
    return path


def export(db: Path, out: Path, *args: str) -> int:
    return main(["export", "scores", "--db", str(db), "--courses", str(FIXTURES), "--out", str(out), *args])


def rows(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def by_badge(table: list[list]) -> dict[str, list]:
    return {r[0]: r for r in table[1:]}


# --- XLSX -----------------------------------------------------------------------------------------------------------


def test_xlsx_has_three_sheets_with_frozen_headers_filters_and_widths(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert export(db, out) == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Trainees", "Attempts", "Departments"]
    for ws, columns in zip(wb.worksheets, (TRAINEE_COLUMNS, ATTEMPT_COLUMNS, DEPARTMENT_COLUMNS), strict=True):
        assert ws.freeze_panes == "A2"
        last = openpyxl.utils.get_column_letter(len(columns))
        assert ws.auto_filter.ref == f"A1:{last}{ws.max_row}"
        assert [c.value for c in ws[1]] == [c.en for c in columns]
        assert all(c.font.bold for c in ws[1])
        assert ws.column_dimensions["A"].width == columns[0].width
        assert ws.column_dimensions[last].width == columns[-1].width


def test_xlsx_trainee_rows_have_the_right_values_and_types(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert export(db, out) == 0
    table = by_badge(rows(openpyxl.load_workbook(out)["Trainees"]))
    a1 = table["A1"]
    assert a1[:6] == ["A1", "张伟", "冲压车间", "mini", "1.0", 2]
    assert a1[6] == datetime(2026, 3, 5)  # a real date, the local day of the latest attempt
    assert a1[7] == 95 and a1[8] == 95 and a1[9] is True
    assert a1[10] == datetime(2027, 3, 5) and a1[11] == "valid"
    a2 = table["A2"]
    assert a2[5] == 2  # the expert run and the aborted one; the interrupted session is not an attempt
    assert a2[7] is None and a2[8] == 100 and a2[9] is True  # the latest (aborted) attempt has no score
    a3 = table["A3"]
    assert a3[6] == datetime(2026, 3, 6)  # 17:00 UTC on March 5 is March 6 in Chongqing
    assert a3[9] is False and a3[10] is None and a3[11] == "never passed"
    for row in table.values():
        assert isinstance(row[5], int)
        assert isinstance(row[6], datetime)
        assert row[8] is None or isinstance(row[8], int | float)


def test_xlsx_attempts_sheet_lists_every_attempt_with_its_mistakes(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert export(db, out) == 0
    table = rows(openpyxl.load_workbook(out)["Attempts"])
    body = table[1:]
    assert len(body) == 2 + 2 + 1 + len(HOSTILE_NAMES)
    a1 = [r for r in body if r[0] == "A1"]
    assert [r[5] for r in a1] == [datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 5, 10, 0)]  # local times, oldest first
    critical, slow = a1
    assert critical[7:11] == [60, False, "incident", "HANDS_IN_DIE"]
    assert critical[11:14] == [0, 0, 1]
    assert slow[7:10] == [95, True, "completed"] and slow[10] is None
    assert slow[11:14] == [1, 0, 0]
    assert isinstance(slow[6], timedelta) and slow[6] == timedelta(seconds=39)  # active time: 35 s wait + 2 + 2
    aborted = [r for r in body if r[0] == "A2" and r[9] == "aborted"]
    assert len(aborted) == 1 and aborted[0][7] is None
    for r in body:
        assert isinstance(r[5], datetime) and isinstance(r[11], int) and len(r[15]) == 36
        assert r[14] == "exam"  # the mode column: every attempt here was played without one, as before modes


def test_xlsx_department_summary_counts_trained_passed_and_certifications(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert export(db, out) == 0
    table = {(r[0], r[1]): r[2:] for r in rows(openpyxl.load_workbook(out)["Departments"])[1:]}
    # trained, passed, valid, expiring, expired, never passed
    assert table[("冲压车间", "mini")] == [2, 1, 1, 0, 0, 1]
    assert table[("焊装车间", "mini")] == [1, 1, 1, 0, 0, 0]
    assert table[("+dept", "mini")] == [len(HOSTILE_NAMES) - 1, len(HOSTILE_NAMES) - 1, len(HOSTILE_NAMES) - 1, 0, 0, 0]


def test_no_cell_anywhere_is_a_formula_even_with_hostile_names(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert export(db, out) == 0
    wb = openpyxl.load_workbook(out)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} holds a formula: {cell.value!r}"
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                xml = z.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, name
    names = {r[0]: r[1] for r in rows(wb["Trainees"])[1:]}
    departments = {r[0]: r[2] for r in rows(wb["Trainees"])[1:]}
    assert names["H0"] == HOSTILE_NAMES[0] and departments["H0"] == HOSTILE_DEPARTMENT
    assert names["H1"] == "+1" and names["H2"] == "-2+3" and names["H3"] == "@SUM(A1)" and names["H4"] == "\t=1"
    assert names["H5"] in ("\r=1", "\n=1")  # XML turns a bare CR into LF; it stays text
    assert names["H7"] == "#N/A"  # text, not Excel's error value
    assert names["H8"] == "a\ufffdb"  # a control character XML cannot hold is replaced, not fatal
    hostile = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value in HOSTILE_NAMES[:5]]
    assert hostile and all(c.data_type == "s" and c.quotePrefix for c in hostile)


def test_xlsx_in_chinese(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert (
        main(["--lang", "zh", "export", "scores", "--db", str(db), "--courses", str(FIXTURES), "--out", str(out)]) == 0
    )
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["人员成绩", "考核记录", "部门汇总"]
    table = rows(wb["人员成绩"])
    assert table[0][0] == "工号" and by_badge(table)["A3"][11] == "从未通过"


# --- CSV ------------------------------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_csv_has_a_bom_chinese_names_and_the_first_sheets_columns(db, tmp_path):
    out_csv, out_xlsx = tmp_path / "scores.csv", tmp_path / "scores.xlsx"
    assert export(db, out_csv) == 0 and export(db, out_xlsx) == 0
    raw = out_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    table = read_csv(out_csv)
    sheet = rows(openpyxl.load_workbook(out_xlsx)["Trainees"])
    assert table[0] == sheet[0] == [c.en for c in TRAINEE_COLUMNS]
    assert [r[0] for r in table[1:]] == [r[0] for r in sheet[1:]]  # same rows, same order
    a1 = by_badge(table)["A1"]
    assert a1 == ["A1", "张伟", "冲压车间", "mini", "1.0", "2", "2026-03-05", "95", "95", "yes", "2027-03-05", "valid"]
    a2 = by_badge(table)["A2"]
    assert a2[7] == "" and a2[8] == "100"
    assert by_badge(table)["A3"][1] == "王芳"


def test_csv_neutralises_formulas_with_a_leading_quote(db, tmp_path):
    out = tmp_path / "scores.csv"
    assert export(db, out, "--format", "csv") == 0
    table = by_badge(read_csv(out))
    assert table["H0"][1] == "'" + HOSTILE_NAMES[0] and table["H0"][2] == "'" + HOSTILE_DEPARTMENT
    for i in range(1, 7):
        assert table[f"H{i}"][1] == "'" + HOSTILE_NAMES[i]
        assert table[f"H{i}"][2] == "'+dept"
    assert table["H7"][1] == "#N/A" and table["H8"][1] == "a\x07b"  # not formulas in CSV: kept as they are
    text = out.read_text(encoding="utf-8-sig")
    assert '"\'=HYPERLINK(""http://x"",""y"")"' in text  # quoted, inner quotes doubled (OWASP)


@pytest.mark.parametrize(
    ("today", "status"),
    [
        ("2027-02-02", "valid"),  # 31 days left
        ("2027-02-03", "expiring within 30 days"),  # 30 days left
        ("2027-03-04", "expiring within 30 days"),  # the day before expiry
        ("2027-03-05", "expiring within 30 days"),  # the last valid day
        ("2027-03-06", "expired"),  # the day after
    ],
)
def test_certification_status_around_expiry(db, tmp_path, monkeypatch, today, status):
    """A1 last passed on 2026-03-05 (local); mini_course certifies for 365 days: valid up to and including 2027-03-05."""
    monkeypatch.setenv("TRAINER_TODAY", today)
    out = tmp_path / "scores.csv"
    assert export(db, out) == 0
    a1 = by_badge(read_csv(out))["A1"]
    assert a1[10] == "2027-03-05" and a1[11] == status


# --- filters --------------------------------------------------------------------------------------------------------


def test_period_department_and_course_filters(db, tmp_path):
    out = tmp_path / "scores.csv"
    assert export(db, out, "--since", "2026-03-05", "--until", "2026-03-06") == 0
    table = by_badge(read_csv(out))
    assert set(table) == {"A1", "A2", "A3"}
    assert table["A1"][5] == "1" and table["A2"][5] == "1"  # only the attempts of March 5 and 6 (local)
    assert table["A1"][10] == "2027-03-05"  # certification still from every pass on record
    assert export(db, out, "--department", "冲压车间", "--force") == 0  # each export replaces the last
    assert set(by_badge(read_csv(out))) == {"A1", "A3"}
    assert export(db, out, "--course", "mini", "--until", "2026-03-01", "--force") == 0
    assert read_csv(out)[1:] == []


# --- errors ---------------------------------------------------------------------------------------------------------


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_an_unwritable_out_is_one_line_naming_the_file(db, tmp_path, capsys):
    missing = tmp_path / "no-such-folder" / "scores.xlsx"
    assert export(db, missing) == 1
    err = one_line_error(capsys)
    assert str(missing) in err and "does not exist" in err
    folder = tmp_path / "a-folder.xlsx"
    folder.mkdir()
    assert export(db, folder) == 1
    assert str(folder) in one_line_error(capsys)


def test_a_failed_write_leaves_no_file_and_names_it(db, tmp_path, capsys, monkeypatch):
    from trainer.export import xlsx

    out = tmp_path / "scores.xlsx"
    out.write_bytes(b"the previous export")

    save = xlsx.Workbook.save

    def full_disk(self, filename):
        save(self, filename)  # the workbook is written (and closed), then the disk turns out to be full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xlsx.Workbook, "save", full_disk)
    assert export(db, out, "--force") == 1
    err = one_line_error(capsys)
    assert str(out) in err and "No space left on device" in err
    assert out.read_bytes() == b"the previous export"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".scores")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "x.txt"], "--format"),
        (["--since", "2026-13-01"], "YYYY-MM-DD"),
        (["--since", "2026-03-06", "--until", "2026-03-05"], "after --until"),
        (["--department", "无此部门"], "no trainee in department"),
        (["--course", "nope"], "no course 'nope'"),
    ],
)
def test_usage_mistakes_are_one_line_and_exit_2(db, tmp_path, capsys, args, message):
    argv = ["export", "scores", "--db", str(db), "--courses", str(FIXTURES)]
    if "--out" not in args:
        argv += ["--out", str(tmp_path / "s.csv")]
    try:
        code = main([*argv, *args])
    except SystemExit as exc:  # argparse refuses a malformed value itself
        code = exc.code
    assert code == 2
    assert message in one_line_error(capsys)


def test_no_progress_bar_when_stderr_is_not_a_terminal(db, tmp_path, capsys):
    assert export(db, tmp_path / "s.xlsx") == 0
    err = capsys.readouterr().err
    assert err.startswith("wrote 12 trainee-course row(s) from 14 attempt(s)") and "\x1b[" not in err


def test_the_progress_bar_shows_only_on_a_terminal_for_large_exports(monkeypatch):
    from trainer.cli import export as export_cli

    monkeypatch.setattr(export_cli.sys, "stderr", _Terminal())
    bar = export_cli._ProgressBar()
    bar.stage("reading")(10, 100)
    assert bar._progress is None  # too small to bother
    bar.stage("reading")(0, 50_000)
    bar.stage("reading")(25_000, 50_000)
    assert bar._progress is not None
    task = bar._progress.tasks[0]
    assert (task.completed, task.total) == (25_000, 50_000)
    bar.close()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True
