"""Text that a spreadsheet shows and never runs (formula injection, OWASP "CSV Injection").

Trainee names and departments are typed by people; a name such as `=HYPERLINK("http://x","y")` must reach Excel or WPS as
the letters it is made of. A cell is dangerous when its text starts with = + - @, a tab, a carriage return or a line feed:
spreadsheet programs read such text as a formula (or as the start of one after trimming).

- XLSX: the writer stores such text as a string cell (type forced to text, never a formula) with Excel's "quote prefix"
  style, so the text stays text even when someone edits the cell. The text itself is unchanged.
- CSV: the file has no types, and a spreadsheet program guesses one for every field, quoted or not: `000123` becomes the
  number 123, `1.0` the number 1, `TRUE` a truth value, `2026-11-01` a date, `=1+1` a formula (LibreOffice evaluates it).
  So any text such a program could take for something else (see `reads_as_other()`) is prefixed with U+2060 WORD
  JOINER, a character with no glyph and no width: the first character is then not a digit, sign, `=`, `@` or `#`, so
  Excel, WPS and LibreOffice keep the field as text and never as a formula, and show exactly what the XLSX shows.
  (OWASP's single quote did the first but not the second: every program showed the quote, and badges lost their zeros.)

Either way, characters that XML 1.0 forbids (control characters other than tab, CR and LF) cannot be stored in an XLSX
file; they are replaced by U+FFFD so that one odd name cannot stop an export, in the CSV file as in the XLSX.
"""

from __future__ import annotations

import re

FORMULA_STARTS = frozenset("=+-@\t\r\n")
# XML 1.0 allows tab, LF, CR and everything from U+0020 on; openpyxl refuses the rest.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
REPLACEMENT = "\ufffd"
# WORD JOINER: no glyph, no width; a field that starts with it is text to every spreadsheet program
TEXT_MARK = "\u2060"
# Starts a spreadsheet program reads as a number, date, time, error (#N/A) or formula, or trims (spaces); the apostrophe
# too, which a program could take for Excel's "this is text" mark and hide.
_GUESSED_STARTS = frozenset("0123456789.,+-=@#$%(¥€£'\t\r\n ")
_TRUTH_WORDS = frozenset({"TRUE", "FALSE"})


def starts_like_formula(text: str) -> bool:
    """True when a spreadsheet could take `text` for a formula."""
    return bool(text) and text[0] in FORMULA_STARTS


def unstorable(text: str) -> bool:
    """True when `text` holds a character an XLSX file cannot (see storable())."""
    return _ILLEGAL.search(text) is not None


def storable(text: str) -> str:
    """`text` with the control characters an XLSX file cannot hold replaced by U+FFFD."""
    return _ILLEGAL.sub(REPLACEMENT, text)


def reads_as_other(text: str) -> bool:
    """True when a spreadsheet program opening a CSV file could show `text` as something other than this text: a
    number (000123, 1.0, -5, 50%, (1), ¥3), a date or time (2026-11-01, 07:30), an error (#N/A), a truth value (TRUE),
    a formula (= + - @, or a tab, CR or LF before one), or text with leading spaces it would trim."""
    return bool(text) and (text[0] in _GUESSED_STARTS or text[0].isspace() or text.upper() in _TRUTH_WORDS)


def csv_text(text: str) -> str:
    """Text for a CSV field that every spreadsheet program shows as the XLSX does: control characters an XLSX cannot
    hold replaced as there (storable), and TEXT_MARK first when the text could be read as anything but text."""
    text = storable(text)
    return TEXT_MARK + text if reads_as_other(text) else text
