"""`trainer export scores`: the HR score sheet as XLSX and CSV, from sessions played through the real engine and store."""

from __future__ import annotations

import csv
import io
import re
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
    Attempt,
    Trainee,
)

from trainer.cli import main
from trainer.reports.scores import ATTEMPT_COLUMNS, DEPARTMENT_COLUMNS, TRAINEE_COLUMNS

TODAY = "2026-06-01"
HOSTILE_DEPARTMENT = "=cmd|' /C calc'!A0"


@pytest.fixture(autouse=True)
def _plant_time(monkeypatch, at_the_plant):
    monkeypatch.setenv("TRAINER_TODAY", TODAY)


def utc(day: int, hour: int = 2, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def db(played_db) -> Path:
    hostile = [
        step
        for i, name in enumerate(HOSTILE_NAMES)
        for step in (
            Trainee(f"H{i}", name, HOSTILE_DEPARTMENT if i == 0 else "+dept"),
            Attempt(f"H{i}", EXPERT, utc(9)),
        )
    ]
    return played_db([
        Trainee("A1", "张伟", "冲压车间"),
        Trainee("A2", "李娜", "焊装车间"),
        Trainee("A3", "王芳", "冲压车间"),
        Attempt("A1", CRITICAL, utc(2)),  # incident, 60, critical HANDS_IN_DIE
        Attempt("A1", SLOW, utc(5)),  # passed, 95, a minor timeout
        Attempt("A2", EXPERT, utc(6)),  # passed, 100
        Attempt("A2", ["lock"], utc(7)),  # aborted: an attempt without a score
        Attempt("A2", ["lock"], utc(8), finish=False),  # interrupted: not an attempt (yet)
        Attempt("A3", CRITICAL, utc(5, hour=17)),  # 01:00 on March 6 in Chongqing
        *hostile,
    ])  # fmt: skip


def export(db: Path, out: Path, *args: str) -> int:
    return main(["export", "scores", "--db", str(db), "--courses", str(FIXTURES), "--out", str(out), *args])


def rows(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def by_badge(table: list[list]) -> dict[str, list]:
    return {r[0]: r for r in table[1:]}


# --- XLSX -----------------------------------------------------------------------------------------------------------


def keyed(table: list[list], columns) -> dict[str, dict]:
    """Rows by badge, each as {column key: value}: the tests name the columns they check."""
    return {r[0]: dict(zip([c.key for c in columns], r, strict=True)) for r in table[1:]}


TABLES = ["Trainees", "Attempts", "Departments"]


def test_xlsx_has_an_about_sheet_and_three_tables_with_frozen_headers_filters_widths_and_print_setup(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert export(db, out) == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["About", *TABLES]
    for name, columns in zip(TABLES, (TRAINEE_COLUMNS, ATTEMPT_COLUMNS, DEPARTMENT_COLUMNS), strict=True):
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        last = openpyxl.utils.get_column_letter(len(columns))
        assert ws.auto_filter.ref == f"A1:{last}{ws.max_row}"
        assert [c.value for c in ws[1]] == [c.en for c in columns]
        assert all(c.font.bold for c in ws[1])
        assert ws.column_dimensions["A"].width == columns[0].width
        assert ws.column_dimensions[last].width == columns[-1].width
        # printed: landscape, one page wide, the header row on every page, a page header saying what it is
        # (a fitToWidth left out is 1, the file format's default: XlsxWriter writes it only when it is not 1)
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth in (None, 1)
        assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1"
        assert f"2026-06-01 · Asia/Shanghai · {name}" in ws.oddHeader.center.text


def test_every_date_and_time_fits_its_column_so_no_spreadsheet_shows_hashes(db, tmp_path):
    """A date the column is too narrow for shows as ### in LibreOffice and WPS: the Attempts sheet's times were cut
    from ten o'clock on (17 characters for "2026-03-05 10:00:00"), 1,759 cells of a 3,000-attempt sheet."""
    out = tmp_path / "scores.xlsx"
    assert export(db, out) == 0
    wb = openpyxl.load_workbook(out)
    checked = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if not isinstance(cell.value, datetime):
                    continue
                fmt = cell.number_format.replace("\\", "")
                shown = f"{cell.value:%Y-%m-%d}" + (f" {cell.value.hour}:{cell.value:%M:%S}" if "h:mm" in fmt else "")
                width = ws.column_dimensions[cell.column_letter].width
                assert len(shown) + 1 <= width, (ws.title, cell.coordinate, shown, width)  # +1: the cell's margins
                checked += 1
    assert checked and any(
        v.hour >= 10
        for ws in wb.worksheets
        for r in ws.iter_rows(min_row=2)
        for v in (c.value for c in r)
        if isinstance(v, datetime)
    )


def test_the_about_sheet_says_when_how_and_from_what_the_sheet_was_made(db, tmp_path):
    from trainer import __version__

    out = tmp_path / "scores.xlsx"
    assert export(db, out, "--since", "2026-03-01", "--department", "冲压车间") == 0
    about = {r[0]: r[1] for r in rows(openpyxl.load_workbook(out)["About"]) if r[0]}
    assert about["certification status as of"] == "2026-06-01"
    assert about["attempts started"] == "since 2026-03-01"
    assert about["department"] == "冲压车间" and about["course"] == "all"
    assert about["time zone (dates and times)"] == "Asia/Shanghai"
    assert about["Trainer version"] == __version__
    assert re.fullmatch(r"(model \w+|rubric): 3", about["scored by (attempts)"])  # A1's two, A3's one
    assert about["course versions"] == "mini · Mini course · loaded 1.0 · played 1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", about["generated at"])


def test_xlsx_trainee_rows_have_the_right_values_and_types(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert export(db, out) == 0
    table = keyed(rows(openpyxl.load_workbook(out)["Trainees"]), TRAINEE_COLUMNS)
    a1 = table["A1"]
    assert [a1[k] for k in ("badge", "name", "plant", "department", "course", "course_title", "version")] == [
        "A1", "张伟", None, "冲压车间", "mini", "Mini course", "1.0",
    ]  # fmt: skip
    assert a1["attempts"] == 2
    assert a1["latest_date"] == datetime(2026, 3, 5)  # a real date, the site's day of the latest attempt
    assert a1["latest_score"] == 95 and a1["best_score"] == 95 and a1["passed"] == "yes"
    assert a1["valid_until"] == datetime(2027, 3, 5) and a1["status"] == "valid"
    a2 = table["A2"]
    assert a2["attempts"] == 2  # the expert run and the aborted one; the interrupted session is not an attempt
    assert a2["latest_score"] is None and a2["best_score"] == 100 and a2["passed"] == "yes"  # aborted: no score
    a3 = table["A3"]
    assert a3["latest_date"] == datetime(2026, 3, 6)  # 17:00 UTC on March 5 is March 6 in Chongqing
    assert a3["passed"] == "no" and a3["valid_until"] is None and a3["status"] == "never passed"
    for row in table.values():
        assert isinstance(row["attempts"], int)
        assert isinstance(row["latest_date"], datetime)
        assert row["best_score"] is None or isinstance(row["best_score"], int | float)


def test_xlsx_attempts_sheet_lists_every_attempt_with_its_mistakes(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert export(db, out) == 0
    keys = [c.key for c in ATTEMPT_COLUMNS]
    body = [dict(zip(keys, r, strict=True)) for r in rows(openpyxl.load_workbook(out)["Attempts"])[1:]]
    assert len(body) == 2 + 2 + 1 + len(HOSTILE_NAMES)
    a1 = [r for r in body if r["badge"] == "A1"]
    assert [r["date"] for r in a1] == [datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 5, 10, 0)]  # site's, oldest first
    critical, slow = a1
    assert [critical[k] for k in ("score", "passed", "outcome", "critical_mistakes")] == [
        60,
        "no",
        "incident",
        "HANDS_IN_DIE",
    ]
    assert [critical[k] for k in ("minor", "serious", "critical")] == [0, 0, 1]
    assert [slow[k] for k in ("score", "passed", "outcome")] == [95, "yes", "completed"] and slow[
        "critical_mistakes"
    ] is None
    assert [slow[k] for k in ("minor", "serious", "critical")] == [1, 0, 0]
    assert slow["duration"] == timedelta(seconds=39)  # active time: 35 s wait + 2 + 2
    assert slow["course_title"] == "Mini course"
    aborted = [r for r in body if r["badge"] == "A2" and r["outcome"] == "aborted"]
    assert len(aborted) == 1 and aborted[0]["score"] is None
    for r in body:
        assert isinstance(r["date"], datetime) and isinstance(r["minor"], int) and len(r["session"]) == 36
        assert r["mode"] == "exam"  # the mode column: every attempt here was played without one, as before modes


def test_xlsx_department_summary_counts_trained_passed_and_certifications(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert export(db, out) == 0
    table = {(r[1], r[2]): r[3:] for r in rows(openpyxl.load_workbook(out)["Departments"])[1:]}
    # course title, trained, passed, valid, expiring, expired, never passed
    assert table[("冲压车间", "mini")] == ["Mini course", 2, 1, 1, 0, 0, 1]
    assert table[("焊装车间", "mini")] == ["Mini course", 1, 1, 1, 0, 0, 0]
    n = len(HOSTILE_NAMES) - 1
    assert table[("+dept", "mini")] == ["Mini course", n, n, n, 0, 0, 0]


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
    table = keyed(rows(wb["Trainees"]), TRAINEE_COLUMNS)
    names = {badge: r["name"] for badge, r in table.items()}
    assert names["H0"] == HOSTILE_NAMES[0] and table["H0"]["department"] == HOSTILE_DEPARTMENT
    assert names["H1"] == "+1" and names["H2"] == "-2+3" and names["H3"] == "@SUM(A1)" and names["H4"] == "\t=1"
    assert names["H5"] in ("\r=1", "\n=1")  # XML turns a bare CR into LF; it stays text
    assert names["H7"] == "#N/A"  # text, not Excel's error value
    assert names["H8"] == "a\ufffdb"  # a control character XML cannot hold is replaced, not fatal
    hostile = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value in HOSTILE_NAMES[:5]]
    assert hostile and all(c.data_type == "s" and c.quotePrefix for c in hostile)


def test_a_name_of_two_lines_is_wrapped_in_a_row_two_lines_high(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert export(db, out) == 0
    ws = openpyxl.load_workbook(out)["Trainees"]
    (cell,) = [row[1] for row in ws.iter_rows(min_row=2) if row[0].value == "H6"]  # "\n=1"
    assert cell.alignment.wrap_text and ws.row_dimensions[cell.row].height == 30
    assert not ws.row_dimensions[2].height  # a one-line row keeps the default height


def test_xlsx_in_chinese_with_words_for_truths_and_titles(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert (
        main(["--lang", "zh", "export", "scores", "--db", str(db), "--courses", str(FIXTURES), "--out", str(out)]) == 0
    )
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["说明", "人员成绩", "考核记录", "部门汇总"]
    table = rows(wb["人员成绩"])
    a3 = keyed(table, TRAINEE_COLUMNS)["A3"]
    assert table[0][0] == "工号" and a3["status"] == "从未通过" and a3["passed"] == "否"
    assert a3["course_title"] == "小课程"
    assert keyed(table, TRAINEE_COLUMNS)["A1"]["passed"] == "是"
    assert {r[0]: r[1] for r in rows(wb["说明"]) if r[0]}["时区（日期与时间）"] == "Asia/Shanghai"


def test_bilingual_headers_put_the_sheets_language_first(db, tmp_path):
    out = tmp_path / "scores.xlsx"
    assert main(["--lang", "zh", "export", "scores", "--db", str(db), "--out", str(out), "--bilingual"]) == 0
    header = rows(openpyxl.load_workbook(out)["人员成绩"])[0]
    assert header[:3] == ["工号 / badge", "姓名 / name", "厂区 / plant"]
    csv_out = tmp_path / "scores.csv"
    assert export(db, csv_out, "--bilingual") == 0
    assert read_csv(csv_out)[0][:2] == ["badge / 工号", "name / 姓名"]


# --- CSV ------------------------------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


MARK = "\u2060"  # the invisible word joiner before text a spreadsheet program would read as something else


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
    assert a1 == [
        "A1", "张伟", "", "冲压车间", "mini", "Mini course", MARK + "1.0", "2", "2026-03-05", "95", "95", "yes",
        "2027-03-05", "valid",
    ]  # fmt: skip
    a2 = keyed(table, TRAINEE_COLUMNS)["A2"]
    assert a2["latest_score"] == "" and a2["best_score"] == "100"
    assert by_badge(table)["A3"][1] == "王芳"


def test_csv_marks_formulas_errors_and_numbers_in_text_and_replaces_control_characters(db, tmp_path):
    out = tmp_path / "scores.csv"
    assert export(db, out, "--format", "csv") == 0
    table = keyed(read_csv(out), TRAINEE_COLUMNS)
    assert table["H0"]["name"] == MARK + HOSTILE_NAMES[0] and table["H0"]["department"] == MARK + HOSTILE_DEPARTMENT
    for i in range(1, 7):
        assert table[f"H{i}"]["name"] == MARK + HOSTILE_NAMES[i]
        assert table[f"H{i}"]["department"] == MARK + "+dept"
    assert table["H7"]["name"] == MARK + "#N/A"  # Excel would read an error value
    assert table["H8"]["name"] == "a\ufffdb"  # as the XLSX holds it
    text = out.read_text(encoding="utf-8-sig")
    assert f'"{MARK}=HYPERLINK(""http://x"",""y"")"' in text  # quoted, inner quotes doubled


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
    a1 = keyed(read_csv(out), TRAINEE_COLUMNS)["A1"]
    assert a1["valid_until"] == "2027-03-05" and a1["status"] == status


# --- filters --------------------------------------------------------------------------------------------------------


def test_period_department_and_course_filters(db, tmp_path):
    out = tmp_path / "scores.csv"
    assert export(db, out, "--since", "2026-03-05", "--until", "2026-03-06") == 0
    table = keyed(read_csv(out), TRAINEE_COLUMNS)
    assert set(table) == {"A1", "A2", "A3"}
    assert table["A1"]["attempts"] == "1" and table["A2"]["attempts"] == "1"  # only March 5 and 6 (the site's days)
    assert table["A1"]["valid_until"] == "2027-03-05"  # certification still from every pass on record
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
    import tempfile
    import zipfile

    from xlsxwriter import workbook

    out = tmp_path / "scores.xlsx"
    out.write_bytes(b"the previous export")
    scratch = tmp_path / "tmp"  # where the writer's own temporary files go (one per sheet while rows stream)
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    class FullDisk(zipfile.ZipFile):
        def write(self, *args, **kwargs):  # the rows are written, then the disk fills up as the file is put together
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(workbook, "ZipFile", FullDisk)
    assert export(db, out, "--force") == 1
    err = one_line_error(capsys)
    assert str(out) in err and "No space left on device" in err
    assert out.read_bytes() == b"the previous export"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".scores")] == []
    assert list(scratch.iterdir()) == []  # no temporary file of the writer's left behind either


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


def test_the_workbook_writer_streams_rows_in_flat_memory(tmp_path):
    """Rows may come from a generator (as the attempts come from the database), and ten times the rows take no more
    memory: XlsxWriter's constant_memory mode puts each row on disk once the next one starts. (The openpyxl writer took
    lists only, and built every table first.)"""
    import tracemalloc

    from trainer.export.xlsx import write_tables
    from trainer.reports.scores import Column, Table

    columns = (Column("name", "name", "姓名", "text", 12), Column("n", "n", "数", "int", 8))

    def peak(n: int) -> int:
        rows = ((f"张伟{i}", i) for i in range(n))
        tracemalloc.start()
        write_tables([Table("t", "T", columns, rows)], tmp_path / f"{n}.xlsx")  # type: ignore[arg-type]
        used = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return used

    small, large = peak(5_000), peak(40_000)
    assert large < small * 1.5 + 1_000_000, (small, large)
    ws = openpyxl.load_workbook(tmp_path / "40000.xlsx", read_only=True)["T"]
    assert ws.max_row == 40_001
