"""The score sheet as LibreOffice opens it (headless): the CSV shows what the XLSX shows, and nothing is a formula.

A spreadsheet program guesses a type for every CSV field: the badge 000123 became the number 123, the version 1.0 the
number 1, =1+1 a formula and #N/A an error value, while the XLSX shows each as the text it is. Here LibreOffice converts
both files with its own defaults (numbers detected, formulas evaluated) and every cell must come out the same: the same
text (the CSV's invisible word joiner aside, see trainer/export/cells.py), the same type, no formula anywhere.

Skipped when soffice is missing and TRAINER_REQUIRE_SOFFICE is unset; .ci/run installs Debian's LibreOffice and sets it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from test_compliance import plant  # noqa: F401 - the fixture: a plant with a roster and requirements loaded
from test_compliance import run as run_cli
from test_export_support import (
    CRITICAL,
    EXPERT,
    FIXTURES,
    HOSTILE_NAMES,
    Attempt,
    Trainee,
)

from trainer.cli import main
from trainer.export.cells import TEXT_MARK

REQUIRE = "TRAINER_REQUIRE_SOFFICE"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
if SOFFICE is None:
    if os.environ.get(REQUIRE):
        pytest.fail(f"soffice is missing and {REQUIRE} is set (.ci/run installs libreoffice-calc-nogui)", pytrace=False)
    pytest.skip(f"soffice is missing and {REQUIRE} is unset (.ci/run installs LibreOffice)", allow_module_level=True)

# Comma, double quote, UTF-8, from line 1; the rest LibreOffice's defaults: numbers detected, formulas evaluated.
CSV_IMPORT = "CSV:44,34,76,1"
BADGES = ["000123", "0042", "1E5", "2026-11-01", "07.30", "TRUE", "B1001"]  # what a roster may hold


@pytest.fixture(autouse=True)
def _plant_time(monkeypatch, at_the_plant):
    monkeypatch.setenv("TRAINER_TODAY", "2026-06-01")


@pytest.fixture
def db(played_db) -> Path:
    at = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
    recipe = []
    for i, badge in enumerate(BADGES):
        recipe += [
            Trainee(badge, f"张{i}" if i % 2 else "#N/A", "1号车间" if i % 2 else "冲压车间"),
            Attempt(badge, EXPERT if i % 3 else CRITICAL, at),
        ]
    for i, name in enumerate(HOSTILE_NAMES):
        recipe += [Trainee(f"H{i}", name, "=cmd|' /C calc'!A0" if i == 0 else "-dept"), Attempt(f"H{i}", EXPERT, at)]
    return played_db(recipe, name="lo.db")


def convert(source: Path, fmt: str, out: Path, profile: Path, infilter: str | None = None) -> Path:
    """`soffice --headless --convert-to FMT` into `out` (a profile of its own: another LibreOffice may be running)."""
    out.mkdir(parents=True, exist_ok=True)
    args = [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore"]
    if infilter:
        args.append(f"--infilter={infilter}")
    done = subprocess.run(
        [*args, "--convert-to", fmt, "--outdir", str(out), str(source)], capture_output=True, text=True, timeout=180
    )
    made = out / (source.stem + "." + fmt.split(":")[0])
    assert done.returncode == 0 and made.exists(), f"soffice failed: {done.stdout} {done.stderr}"
    return made


def cells(ws) -> list[list[tuple[str, object, str]]]:
    """Each cell as (type, value, date format): what a reader sees, apart from fonts and widths."""
    out = []
    for row in ws.iter_rows():
        line = []
        for c in row:
            value = c.value.replace(TEXT_MARK, "") if isinstance(c.value, str) else c.value
            kind = {"n": "number", "s": "text", "d": "date", "f": "FORMULA", "b": "truth", "e": "ERROR"}[c.data_type]
            if value is None:
                kind = "empty"
            fmt = c.number_format.replace("\\", "") if kind == "date" else ""
            line.append((kind, value, fmt))
        out.append(line)
    return out


def test_the_csv_in_libreoffice_shows_what_the_xlsx_shows(db, tmp_path):
    lo = tmp_path / "lo"
    for ext in ("csv", "xlsx"):
        assert (
            main(["export", "scores", "--db", str(db), "--courses", str(FIXTURES), "--out", str(tmp_path / f"s.{ext}")])
            == 0
        )
    from_csv = openpyxl.load_workbook(convert(tmp_path / "s.csv", "xlsx", lo / "csv", lo / "profile", CSV_IMPORT))
    from_xlsx = openpyxl.load_workbook(convert(tmp_path / "s.xlsx", "xlsx", lo / "xlsx", lo / "profile"))
    csv_cells, xlsx_cells = cells(from_csv.worksheets[0]), cells(from_xlsx["Trainees"])
    assert len(csv_cells) == len(xlsx_cells) == 1 + len(BADGES) + len(HOSTILE_NAMES)
    for got, expected in zip(csv_cells, xlsx_cells, strict=True):
        assert got == expected
    kinds = {kind for row in csv_cells + xlsx_cells for kind, _, _ in row}
    assert kinds <= {"text", "number", "date", "empty"}  # no formula, no error value, no truth value
    badges = [row[0][1] for row in csv_cells[1:]]
    assert set(BADGES) <= set(badges)  # 000123 kept its zeros, 1E5 is no number, 2026-11-01 no date
    names = {row[0][1]: row[1][1] for row in csv_cells[1:]}
    assert names["000123"] == "#N/A" and names["H0"] == '=HYPERLINK("http://x","y")' and names["H8"] == "a\ufffdb"


def test_the_workbook_prints_to_pdf_in_libreoffice(db, tmp_path):
    """The print setup holds: LibreOffice renders the whole workbook (About sheet and tables, landscape) to a PDF."""
    out = tmp_path / "s.xlsx"
    assert (
        main(["--lang", "zh", "export", "scores", "--db", str(db), "--courses", str(FIXTURES), "--out", str(out)]) == 0
    )
    pdf = convert(out, "pdf", tmp_path / "pdf", tmp_path / "profile")
    data = pdf.read_bytes()
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", data)
    assert data.startswith(b"%PDF") and len(pages) >= 4  # the About sheet and three tables, a page or more each


def test_the_compliance_workbook_opens_in_libreoffice_with_its_counts_and_no_formula(plant, tmp_path, capsys):  # noqa: F811
    """HR's workbook with requirements loaded (tests/integration/test_compliance.py's plant): the Compliance sheets come
    out of LibreOffice with the values written, no formula or error anywhere, and the whole workbook prints."""
    out = tmp_path / "c.xlsx"
    code, _, err = run_cli(capsys, "export", "scores", "--out", str(out), "--db", str(plant), "--courses", str(FIXTURES))
    assert code == 0, err
    written = openpyxl.load_workbook(out)
    lo = tmp_path / "lo"
    opened = openpyxl.load_workbook(convert(out, "xlsx", lo / "x", lo / "profile"))
    for name in ("Compliance", "Compliance summary"):
        seen = cells(opened[name])
        assert {kind for row in seen for kind, _, _ in row} <= {"text", "number", "date", "empty"}
        values = [[v for _, v, _ in row] for row in seen]
        assert values == [[c.value for c in row] for row in written[name].iter_rows()]
    assert any(v == "total" for row in cells(opened["Compliance summary"]) for _, v, _ in row)
    pdf = convert(out, "pdf", tmp_path / "pdf", tmp_path / "profile")
    assert pdf.read_bytes().startswith(b"%PDF")
