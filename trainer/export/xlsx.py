"""Write the score sheet as an XLSX workbook that Excel, WPS and LibreOffice open: an About sheet and three tables,
typed cells, no formulas.

The About sheet says what the workbook is: when it was made, as of which day, with which filters, in which time zone,
by which Trainer version, scored by what, from which course versions (ScoreSheet.about). openpyxl's write-only mode
streams rows to disk, so 100 000 attempts take seconds and little memory. Every table sheet has its header row frozen,
column widths set, an autofilter over the whole table, dates as real dates (the site's wall time, yyyy-mm-dd), durations
as [hh]:mm:ss, scores and counts as numbers, and a print setup (landscape, fit to the page's width, the header row
repeated on every page, a page header naming the sheet, its day and time zone). Text that starts like a formula is
forced to a text cell (see cells.py): openpyxl would otherwise store any string starting with = as a formula; text of
several lines is wrapped and its row made tall enough. Only such rows get cells built here; every other value goes to
openpyxl as it is, which keeps the writing as fast as a bare dump.
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
from trainer.reports.scores import ABOUT_NAME, ABOUT_TITLE, Column, ScoreSheet, Table
from trainer.sitetime import zone_name

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_ALIGN = Alignment(vertical="center", wrap_text=True)
_ERROR_CODES = frozenset(ERROR_CODES)
_WRAP = Alignment(wrap_text=True, vertical="top")
_LINE_HEIGHT = 15.0  # points per line of 11-point text

RowProgress = Callable[[int, int], None]  # (rows written, rows in all)


def write_xlsx(
    sheet: ScoreSheet,
    path: str | os.PathLike[str],
    *,
    lang: str = "en",
    progress: RowProgress | None = None,
    force: bool = False,
    bilingual: bool = False,
    extra: Sequence[Table] = (),
) -> None:
    """Write the About sheet and the tables (then `extra`: the compliance sheets) to `path` once the whole workbook is
    written; an existing file only with `force`. `bilingual`: headers in both languages, `lang`'s first."""
    tables = [*sheet.tables(lang, bilingual=bilingual), *extra]
    caption = f"{ABOUT_TITLE[lang]} · {sheet.today.isoformat()} · {zone_name(sheet.zone)}"
    write_tables(
        tables, path, progress=progress, force=force, about=(ABOUT_NAME[lang], sheet.about(lang)), caption=caption
    )


def write_tables(
    tables: list[Table],
    path: str | os.PathLike[str],
    *,
    progress: RowProgress | None = None,
    force: bool = False,
    about: tuple[str, list[tuple[str, str]]] | None = None,
    caption: str = "",
) -> None:
    """One sheet per table, in order, each with its header frozen and filtered, after the About sheet if given (its
    name and lines); `caption` heads every printed page. Written whole or not at all, and a new file readable by its
    owner only (names and scores: trainer.outfile)."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "Trainer"
    if about is not None:
        _write_about(wb, *about)
    total = sum(len(t.rows) for t in tables)
    done = 0
    for table in tables:
        ws = wb.create_sheet(table.name)
        _prepare(ws, table.columns)
        _print_setup(ws, table.name, caption)
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
                row = _as_text_cells(ws, row, texts, done + 2)
                break
            ws.append(row)
            done += 1
            if progress and done % 5000 == 0:
                progress(done, total)
        ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    outfile.write(path, wb.save, "score sheet", force=force, private=True)
    if progress:
        progress(total, total)


def _write_about(wb: Any, name: str, lines: list[tuple[str, str]]) -> None:
    """The About sheet: what the workbook is, one (what, value) line a row; values of several lines wrapped."""
    ws = wb.create_sheet(name)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 90
    _print_setup(ws, name, "")
    for n, (what, value) in enumerate(lines, start=1):
        key = _text_cell(ws, what)
        key.font = _HEADER_FONT
        cell = _text_cell(ws, value)
        cell.alignment = _WRAP
        lines_in = value.count("\n") + 1
        if lines_in > 1:
            ws.row_dimensions[n].height = _LINE_HEIGHT * lines_in
        ws.append([key, cell])


def _print_setup(ws: Any, name: str, caption: str) -> None:
    """Landscape, as wide as the page (as many pages down as it takes), the header row on every page, and a page
    header and footer that say what the printout is and which page of how many."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4, the paper of a Chinese office
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = True
    if caption:
        ws.print_title_rows = "1:1"
    ws.oddHeader.center.text = _header_footer_text(f"{caption} · {name}" if caption else name)
    ws.oddFooter.center.text = "&P / &N"


def _header_footer_text(text: str) -> str:
    return storable(text).replace("&", "&&")  # & starts a code (&P: page number) in a page header


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


def _harmful(text: str) -> bool:
    """Text openpyxl would store as a formula or an error, or that cannot be stored as it is."""
    return text[:1] in FORMULA_STARTS or text in _ERROR_CODES or unstorable(text)


def _harmless(text: str) -> bool:
    """Text openpyxl stores as it is, on one line: a plain string cell, not a formula or an error, storable in XML."""
    return not (_harmful(text) or "\n" in text or "\r" in text)


# Where one of the texts joined by line feeds starts like a formula: at the start or after a line feed (the texts hold
# none themselves: _all_harmless counts them first).
_STARTS_JOINED = re.compile(r"(?:^|\n)[=+\-@\t\r\n]")


def _all_harmless(texts: set[str]) -> bool:
    """True when every one of `texts` is _harmless(); False may be wrong (then each is looked at). One regex pass over
    them all instead of one call each: a sheet's session ids are 100 000 different texts."""
    if not texts.isdisjoint(_ERROR_CODES):
        return False
    joined = "\n".join(texts)
    if "\r" in joined or joined.count("\n") != max(len(texts) - 1, 0):  # a text of several lines: a tall row
        return False
    return _STARTS_JOINED.search(joined) is None and not unstorable(joined)


def _as_text_cells(ws: Any, row: tuple[Any, ...], texts: list[int], row_number: int) -> list[Any]:
    """The row with every risky text value made a text cell, and text of several lines wrapped in a row tall enough for
    it (a row with one hostile or multi-line name is rare: no need to be quick)."""
    out = list(row)
    lines = 1
    for i in texts:
        value = out[i]
        if value is not None and not _harmless(value):
            cell = _text_cell(ws, value)
            if _harmful(value):
                cell.quotePrefix = True  # Excel keeps it text even when someone edits the cell
            if "\n" in value or "\r" in value:
                cell.alignment = _WRAP
                lines = max(lines, len(value.splitlines()) or 1, value.count("\n") + 1)
            out[i] = cell
    if lines > 1:
        ws.row_dimensions[row_number].height = _LINE_HEIGHT * lines  # read when the row is written: set it first
    return out


def _text_cell(ws: Any, text: str) -> WriteOnlyCell:
    """A cell that holds `text` as text, whatever it starts with."""
    cell = WriteOnlyCell(ws)
    cell._value = storable(text)[:32767]  # set directly: openpyxl's own guess would make "=..." a formula
    cell.data_type = "s"
    return cell
