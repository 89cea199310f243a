"""Write the score sheet as an XLSX workbook that Excel and WPS open: three sheets, typed cells, no formulas.

openpyxl's write-only mode streams rows to disk, so 100 000 attempts take seconds and little memory. Every sheet has its
header row frozen, column widths set, an autofilter over the whole table, dates as real dates (local time, openpyxl's
yyyy-mm-dd formats), durations as [hh]:mm:ss, scores and counts as numbers. Text that starts like a formula is forced to a
text cell (see cells.py): openpyxl would otherwise store any string starting with = as a formula. Only such rows get
cells built here; every other value goes to openpyxl as it is, which keeps the writing as fast as a bare dump.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from trainer import outfile
from trainer.export.cells import FORMULA_STARTS, storable, unstorable
from trainer.export.scores import Column, ScoreSheet, Table

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_ALIGN = Alignment(vertical="center", wrap_text=True)
_ERROR_CODES = frozenset(ERROR_CODES)

RowProgress = Callable[[int, int], None]  # (rows written, rows in all)


def write_xlsx(
    sheet: ScoreSheet,
    path: str | os.PathLike[str],
    *,
    lang: str = "en",
    progress: RowProgress | None = None,
    force: bool = False,
    extra: Sequence[Table] = (),
) -> None:
    """Write the three tables (then `extra`: the compliance sheets) to `path` once the whole workbook is written; an
    existing file only with `force`."""
    tables = [sheet.trainee_table(lang), sheet.attempt_table(lang), sheet.department_table(lang), *extra]
    write_tables(tables, path, progress=progress, force=force)


def write_tables(
    tables: list[Table], path: str | os.PathLike[str], *, progress: RowProgress | None = None, force: bool = False
) -> None:
    """One sheet per table, in order, each with its header frozen and filtered; written whole or not at all, and a new
    file readable by its owner only (names and scores: trainer.outfile)."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "Trainer"
    total = sum(len(t.rows) for t in tables)
    done = 0
    for table in tables:
        ws = wb.create_sheet(table.name)
        _prepare(ws, table.columns)
        ws.append([_header(ws, title) for title in table.headers])
        # Text columns whose every value is harmless (most, most days) need no look at each row.
        texts = [i for i, c in enumerate(table.columns) if c.kind == "text"]
        texts = [i for i in texts if not _all_harmless({row[i] for row in table.rows} - {None, ""})]
        plain: set[str] = set()  # texts already seen to be harmless: names and courses repeat on many rows
        for row in table.rows:
            for i in texts:
                value = row[i]
                if value is None or value in plain:
                    continue
                if _harmless(value):
                    plain.add(value)
                    continue
                row = _as_text_cells(ws, row, texts)
                break
            ws.append(row)
            done += 1
            if progress and done % 5000 == 0:
                progress(done, total)
        ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    outfile.write(path, wb.save, "score sheet", force=force, private=True)
    if progress:
        progress(total, total)


def _prepare(ws: Any, columns: tuple[Column, ...]) -> None:
    """What write-only mode needs before the first row: widths and the frozen header."""
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = "A2"


def _header(ws: Any, title: str) -> WriteOnlyCell:
    cell = _text_cell(ws, title)
    cell.font = _HEADER_FONT
    cell.fill = _HEADER_FILL
    cell.alignment = _HEADER_ALIGN
    return cell


def _harmless(text: str) -> bool:
    """Text openpyxl stores as it is: a plain string cell, not a formula or an error, and storable in XML."""
    return not (text[:1] in FORMULA_STARTS or text in _ERROR_CODES or unstorable(text))


# Where one of the texts joined by line feeds may start like a formula: at the start or after a line feed. A match is
# not always a risky value (a value may hold a line feed itself), only a reason to look at each value.
_STARTS_JOINED = re.compile(r"(?:^|\n)[=+\-@\t\r\n]")


def _all_harmless(texts: set[str]) -> bool:
    """True when every one of `texts` is _harmless(); False may be wrong (then each is looked at). One regex pass over
    them all instead of one call each: a sheet's session ids are 100 000 different texts."""
    if not texts.isdisjoint(_ERROR_CODES):
        return False
    joined = "\n".join(texts)  # a line feed is storable and no formula start hides behind it unseen (see above)
    return _STARTS_JOINED.search(joined) is None and not unstorable(joined)


def _as_text_cells(ws: Any, row: tuple[Any, ...], texts: list[int]) -> list[Any]:
    """The row with every risky text value made a text cell (a row with one hostile name is rare: no need to be quick)."""
    out = list(row)
    for i in texts:
        value = out[i]
        if value is not None and not _harmless(value):
            cell = _text_cell(ws, value)
            cell.quotePrefix = True  # Excel keeps it text even when someone edits the cell
            out[i] = cell
    return out


def _text_cell(ws: Any, text: str) -> WriteOnlyCell:
    """A cell that holds `text` as text, whatever it starts with."""
    cell = WriteOnlyCell(ws)
    cell._value = storable(text)[:32767]  # set directly: openpyxl's own guess would make "=..." a formula
    cell.data_type = "s"
    return cell
