"""Write the score sheet's first table (one row per trainee and course) as CSV for Excel, WPS and LibreOffice.

UTF-8 with a byte order mark, so that Excel shows Chinese names instead of mojibake; CRLF line ends; text fields quoted,
numbers bare. Text a spreadsheet program could read as a number, date, error or formula (badge 000123, version 1.0,
#N/A, =...) starts with an invisible word joiner, and control characters are replaced as in the XLSX (see cells.py):
opened in LibreOffice, the file shows what the XLSX's first sheet shows. Dates are YYYY-MM-DD, yes/no (是/否) for
passed, empty for unknown. The file is the bare table, one header row, for programs to read; the XLSX's About sheet
says when and how it was made.
"""

from __future__ import annotations

import csv
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

from trainer import outfile
from trainer.export.cells import csv_text
from trainer.reports.scores import ScoreSheet, Table, yes_no


def write_csv(
    sheet: ScoreSheet, path: str | os.PathLike[str], *, lang: str = "en", force: bool = False, bilingual: bool = False
) -> None:
    """Write the first table to `path` (a new file is private: names and scores); `force` replaces an existing file."""
    write_table(sheet.trainee_table(lang, bilingual=bilingual), path, force=force)


def write_table(table: Table, path: str | os.PathLike[str], *, force: bool = False) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
            out = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC)
            out.writerow([csv_text(h) for h in table.headers])
            for row in table.rows:
                out.writerow([_field(v, table.lang) for v in row])

    outfile.write(path, write, "score sheet", force=force, private=True)


def _field(value: Any, lang: str) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value, lang)
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")  # the XLSX shows yyyy-mm-dd hh:mm too
    if isinstance(value, date):
        return value.isoformat()
    return csv_text(str(value))
