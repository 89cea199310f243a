"""Write the score sheet's first table (one row per trainee and course) as CSV for Excel and WPS.

UTF-8 with a byte order mark, so that Excel shows Chinese names instead of mojibake; CRLF line ends; text fields quoted,
numbers bare. Text that starts like a formula gets a leading single quote (OWASP, see cells.py). Dates are YYYY-MM-DD,
yes/no for passed, empty for unknown.
"""

from __future__ import annotations

import csv
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

from trainer import outfile
from trainer.export.cells import csv_text
from trainer.export.scores import YES_NO, ScoreSheet, Table


def write_csv(sheet: ScoreSheet, path: str | os.PathLike[str], *, lang: str = "en", force: bool = False) -> None:
    """Write the first table to `path` (a new file is private: names and scores); `force` replaces an existing file."""
    write_table(sheet.trainee_table(lang), path, force=force)


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
        return YES_NO[value][lang]
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return csv_text(str(value))
