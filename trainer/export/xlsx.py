"""Write the score sheet (and the other HR workbooks) as XLSX files that Excel, WPS and LibreOffice open: an About sheet
and tables, typed cells, no formulas.

The About sheet says what the workbook is: when it was made, as of which day, with which filters, in which time zone,
by which Trainer version, scored by what, from which course versions (ScoreSheet.about). XlsxWriter writes in its
constant_memory mode: each row goes to a temporary file as soon as the next one starts, so a sheet of 100 000 attempts
takes no more memory than one of a thousand, and rows can be streamed from the database as they are read (a Sheet takes
them one at a time, in order, and never goes back). Every table sheet has its header row frozen, column widths set, an
autofilter over the whole table, dates as real dates (the site's wall time: yyyy-mm-dd, yyyy-mm-dd h:mm:ss), durations
as [hh]:mm:ss, scores and counts as numbers, and a print setup (landscape, A4, fit to the page's width, the header row
repeated on every page, a page header naming the sheet, its day and time zone).

No cell is ever a formula: XlsxWriter's options that would turn strings into formulas, numbers or links are off, and
every text goes through write_string() (cells.py). Text that starts like a formula or reads as an error value gets
Excel's quote prefix, so it stays text even when someone edits the cell; text of several lines is wrapped and its row
made tall enough; control characters an XLSX cannot hold are replaced (cells.storable).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, tzinfo
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from trainer import outfile
from trainer.export.cells import FORMULA_STARTS, storable, unstorable
from trainer.export.readahead import attempt_rows
from trainer.reports.scores import (
    ABOUT_NAME,
    ABOUT_TITLE,
    Column,
    Scan,
    ScoreSheet,
    Table,
    table_head,
)
from trainer.sitetime import zone_name

RowProgress = Callable[[int, int], None]  # (rows written, rows in all)

_LINE_HEIGHT = 15.0  # points per line of 11-point text
_DIGIT_PIXELS = 7  # one character of a column's width: the default font's digit, in pixels
_BOOK_OPTIONS = {
    "constant_memory": True,  # rows streamed to disk: memory flat in the number of rows
    "strings_to_formulas": False,  # never a formula, whatever a name starts with
    "strings_to_numbers": False,  # a badge 000123 stays text
    "strings_to_urls": False,  # no link either
}
# Excel's error values: text that equals one is stored as text with the quote prefix, never shown as an error.
_ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
# Text that needs a look (one search per text): a formula start or #, a line break, or a character XML cannot hold.
_RISKY = re.compile(r"^[=+\-@\t\r\n#]|[\n\r\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMATS = {
    "header": {"bold": True, "bg_color": "#DDEBF7", "pattern": 1, "text_wrap": True, "valign": "vcenter"},
    "key": {"bold": True},
    "wrap": {"text_wrap": True, "valign": "top"},
    "quoted": {"quote_prefix": True},
    "quoted_wrap": {"quote_prefix": True, "text_wrap": True, "valign": "top"},
    "date": {"num_format": "yyyy-mm-dd"},
    "datetime": {"num_format": "yyyy-mm-dd h:mm:ss"},
    "duration": {"num_format": "[hh]:mm:ss"},
}


def write_xlsx(
    scan: Scan,
    path: str | os.PathLike[str],
    *,
    lang: str = "en",
    progress: RowProgress | None = None,
    force: bool = False,
    bilingual: bool = False,
    extra: Sequence[Table] = (),
) -> ScoreSheet:
    """Write the score workbook of `scan` to `path` (an existing file only with `force`): the About sheet, the
    Trainees, Attempts and Departments tables, then `extra` (the compliance sheets). The attempts are written as they
    are read from the database; the sheets that sum them up (About, Trainees, Departments: placed before and after it)
    are filled once they are all read. `bilingual`: headers in both languages, `lang`'s first. Returns the sheet's
    summary (what the Trainees and Departments tables were made of)."""
    done: list[ScoreSheet] = []

    def fill(book: Book) -> None:
        about = book.about_sheet(ABOUT_NAME[lang])
        heads = [table_head(key, lang, bilingual=bilingual) for key in ("trainees", "attempts", "departments")]
        trainees, attempts, departments = (book.sheet(head) for head in heads)
        others = [book.sheet(table) for table in extra]
        with attempt_rows(scan, lang, progress) as feed:  # read ahead in another process when that is faster
            attempts.write_rows(feed.rows)
            sheet = feed.sheet()
        trainees.write_rows(sheet.trainee_table(lang, bilingual=bilingual).rows)
        departments.write_rows(sheet.department_table(lang, bilingual=bilingual).rows)
        for table, written in zip(extra, others, strict=True):
            written.write_rows(table.rows)
        about.write_lines(sheet.about(lang))
        done.append(sheet)

    write_book(path, fill, what="score sheet", force=force, caption=caption(scan.today, scan.zone, lang))
    return done[0]


def caption(today: date, zone: tzinfo, lang: str) -> str:
    """What heads every printed page of the score workbook: its title, day and time zone."""
    return f"{ABOUT_TITLE[lang]} · {today.isoformat()} · {zone_name(zone)}"


def write_tables(
    tables: Sequence[Table],
    path: str | os.PathLike[str],
    *,
    progress: RowProgress | None = None,
    force: bool = False,
    about: tuple[str, list[tuple[str, str]]] | None = None,
    caption: str = "",
) -> None:
    """One sheet per table, in order, each with its header frozen and filtered, after the About sheet if given (its
    name and lines); `caption` heads every printed page. A table's rows may be any iterable (read once, as written).
    Written whole or not at all, and a new file readable by its owner only (names and scores: trainer.outfile)."""

    def fill(book: Book) -> None:
        about_sheet = book.about_sheet(about[0]) if about is not None else None
        sheets = [book.sheet(table) for table in tables]
        if about_sheet is not None and about is not None:
            about_sheet.write_lines(about[1])
        total = sum(len(t.rows) for t in tables if isinstance(t.rows, Sequence))
        for table, sheet in zip(tables, sheets, strict=True):
            sheet.write_rows(table.rows, progress=progress, total=total)
        if progress:
            progress(total, total)

    write_book(path, fill, what=_what(tables), force=force, caption=caption)


def _what(tables: Sequence[Table]) -> str:
    return "overdue list" if [t.key for t in tables] == ["overdue"] else "score sheet"


def write_book(
    path: str | os.PathLike[str], fill: Callable[[Book], None], *, what: str, force: bool = False, caption: str = ""
) -> None:
    """Call `fill(book)` to add and fill the sheets of a new workbook, then put it in place of `path` (trainer.outfile:
    a temporary file renamed, private to its owner, nothing left behind on a full disk). XlsxWriter's own temporary
    files (one per sheet) go to a folder of their own, removed whatever happens."""

    def write(tmp: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="trainer-xlsx-") as scratch:
            wb = xlsxwriter.Workbook(str(tmp), {**_BOOK_OPTIONS, "tmpdir": scratch})
            try:
                wb.set_properties({"author": "Trainer"})
                fill(Book(wb, caption))
                wb.close()
            except FileCreateError as exc:  # XlsxWriter's wrapper of the OSError that stopped it (ENOSPC...)
                cause = exc.args[0] if exc.args else None
                raise cause if isinstance(cause, OSError) else OSError(str(exc)) from None
            finally:
                if not wb.fileclosed:  # failed: no file to finish (its sheets' temporary files go with `scratch`)
                    _abandon(wb)

    outfile.write(path, write, what, force=force, private=True)


def _abandon(wb: Any) -> None:
    """Forget a workbook that failed half-way: close its sheets' temporary files and keep XlsxWriter's destructor from
    raising about an unclosed workbook."""
    for ws in wb.worksheets():
        fh = getattr(ws, "row_data_fh", None)
        if fh is not None and not fh.closed:
            fh.close()
    wb.fileclosed = True


class Book:
    """A workbook being written: its sheets are added in the order they show, then filled in any order (each sheet's
    own rows in order)."""

    def __init__(self, wb: Any, caption: str) -> None:
        self._wb = wb
        self.caption = caption
        self.formats = {name: wb.add_format(spec) for name, spec in _FORMATS.items()}

    def about_sheet(self, name: str) -> AboutSheet:
        ws = self._wb.add_worksheet(name)
        ws.set_column_pixels(0, 0, 30 * _DIGIT_PIXELS)
        ws.set_column_pixels(1, 1, 90 * _DIGIT_PIXELS)
        _print_setup(ws, name, "")
        return AboutSheet(ws, self.formats)

    def sheet(self, table: Table) -> Sheet:
        """A table's sheet with its widths, frozen header row and print setup; rows come with Sheet.write_rows()."""
        ws = self._wb.add_worksheet(table.name)
        for i, c in enumerate(table.columns):
            ws.set_column_pixels(i, i, round(c.width * _DIGIT_PIXELS))  # c.width characters exactly, as written before
        ws.freeze_panes(1, 0)
        _print_setup(ws, table.name, self.caption)
        header = self.formats["header"]
        for i, title in enumerate(table.headers):
            ws.write_string(0, i, _cell_text(title), header)
        return Sheet(ws, table.columns, self.formats)


class AboutSheet:
    """The About sheet: what the workbook is, one (what, value) line a row; values of several lines wrapped."""

    def __init__(self, ws: Any, formats: dict[str, Any]) -> None:
        self._ws = ws
        self._formats = formats

    def write_lines(self, lines: Iterable[tuple[str, str]]) -> None:
        ws, key, wrap = self._ws, self._formats["key"], self._formats["wrap"]
        for n, (what, value) in enumerate(lines):
            lines_in = value.count("\n") + 1
            if lines_in > 1:
                ws.set_row(n, _LINE_HEIGHT * lines_in)
            ws.write_string(n, 0, _cell_text(what), key)
            if value:
                ws.write_string(n, 1, _cell_text(value), wrap)
            else:
                ws.write_blank(n, 1, None, wrap)


class Sheet:
    """One table's sheet, written row after row (XlsxWriter's constant_memory mode cannot go back to an earlier row)."""

    def __init__(self, ws: Any, columns: Sequence[Column], formats: dict[str, Any]) -> None:
        self._ws = ws
        self._formats = formats
        self._width = len(columns)
        self.rows = 0  # table rows written so far (the header is row 0)
        self._tall = (0, 0.0)  # the last row made taller, and its height
        # Per column, how its values are written: typed, so no value is ever guessed (no type test per value either).
        self._texts = tuple(i for i, c in enumerate(columns) if c.kind not in _TYPED)
        self._typed = tuple((i, _writer(ws, c.kind, formats)) for i, c in enumerate(columns) if c.kind in _TYPED)
        ws.autofilter(0, 0, 0, len(columns) - 1)

    def write_rows(
        self, rows: Iterable[Sequence[Any]], *, progress: RowProgress | None = None, total: int = 0, every: int = 5000
    ) -> None:
        """Append `rows` (values in column order, None for an empty cell); `progress(rows written, total)` every
        `every` rows."""
        ws = self._ws
        string, safe_text = _fast(ws, "string"), self._write_text
        texts, typed = self._texts, self._typed
        seen: dict[str, bool] = {}  # text -> plain: names, departments and courses repeat on many rows
        n = self.rows
        for row in rows:
            n += 1
            for i in texts:  # XlsxWriter puts a row's cells in column order itself
                value = row[i]
                if not value and (value is None or value == ""):  # an empty text is an empty cell
                    continue
                plain = seen.get(value)
                if plain is None:
                    try:
                        plain = _plain(value)
                    except TypeError:  # not text after all: written as what it is (never a formula: options off)
                        ws.write(n, i, value)
                        continue
                    if len(seen) < _SEEN:
                        seen[value] = plain
                if plain:
                    string(n, i, value)
                else:
                    safe_text(n, i, value)
            for i, write in typed:
                value = row[i]
                if value is not None:
                    write(n, i, value)
            if progress and n % every == 0:
                progress(n, total)
        self.rows = n
        ws.autofilter(0, 0, n, self._width - 1)

    def _write_text(self, row: int, col: int, value: str) -> None:
        """Text that could be taken for a formula or an error, that holds a line break, or a character XML cannot."""
        # quoted as the writer always has: a formula start, an error value, or a character that had to be replaced
        quoted = value[:1] in FORMULA_STARTS or value in _ERROR_CODES or unstorable(value)
        lines = max(len(value.splitlines()) or 1, value.count("\n") + 1)
        # A line break is stored as a line feed: what an XML reader made of a bare CR before (XlsxWriter would keep it
        # as the escape _x000D_, which not every reader turns back)
        text = _cell_text(value).replace("\r\n", "\n").replace("\r", "\n")
        if lines > 1:  # the row's tallest text sets its height; the row is still open (written when the next starts)
            height = max(_LINE_HEIGHT * lines, self._tall[1] if self._tall[0] == row else 0)
            self._tall = (row, height)
            self._ws.set_row(row, height)
        wrap = "\n" in text
        fmt = self._formats[("quoted_wrap" if wrap else "quoted") if quoted else "wrap"] if quoted or wrap else None
        self._ws.write_string(row, col, text, fmt)


def _plain(text: str) -> bool:
    """True when `text` can be written as it is: no formula start, error value, line break or character XML cannot
    hold (cells.unstorable's characters; one regex search for most texts, those starting with # looked at again)."""
    match = _RISKY.search(text)
    if match is not None:
        if match.group() != "#" or text in _ERROR_CODES:
            return False
        if _RISKY.search(text, 1) is not None:  # a # and then a line break (^ matches at the very start only)
            return False
    return True


_TYPED = frozenset({"int", "number", "date", "datetime", "duration"})


_SEEN = 4096  # texts remembered per sheet (its session ids are all different: past this many, each is looked at)


def _fast(ws: Any, kind: str) -> Callable[..., Any]:
    """XlsxWriter's typed cell writer without its public method's check for "A1"-style arguments (what write_row() calls
    for each cell: the floor the bench measures against); the public method if a version lacks it."""
    return getattr(ws, f"_write_{kind}", None) or getattr(ws, f"write_{kind}")


def _writer(ws: Any, kind: str, formats: dict[str, Any]) -> Callable[[int, int, Any], Any]:
    """How a column of numbers or dates is written: numbers as numbers, dates as dates (text columns, and the truth
    words 是/否 of bool columns, are written as text by Sheet.write_rows)."""
    if kind == "int":
        return _fast(ws, "number")
    number = _fast(ws, "number")
    if kind == "number":
        return lambda r, c, v: number(r, c, v) if math.isfinite(v) else None  # no NaN: XlsxWriter refuses it
    fmt, moment = formats[kind], _fast(ws, "datetime")
    return lambda r, c, v: moment(r, c, v, fmt)


def _cell_text(text: str) -> str:
    """`text` as a cell can hold it: control characters replaced, at most Excel's 32,767 characters."""
    return storable(text)[:32767]


def _print_setup(ws: Any, name: str, caption: str) -> None:
    """Landscape, as wide as the page (as many pages down as it takes), the header row on every page, and a page
    header and footer that say what the printout is and which page of how many."""
    ws.set_landscape()
    ws.set_paper(9)  # A4, the paper of a Chinese office
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(0)  # gridlines printed, as on screen
    if caption:
        ws.repeat_rows(0)
    ws.set_header("&C" + _header_footer_text(f"{caption} · {name}" if caption else name))
    ws.set_footer("&C&P / &N")


def _header_footer_text(text: str) -> str:
    """Text for a page header: & starts a code there (&P: page number), and Excel takes at most 255 characters."""
    return storable(text).replace("&", "&&")[:250]
