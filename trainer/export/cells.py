"""Text that a spreadsheet shows and never runs (formula injection, OWASP "CSV Injection").

Trainee names and departments are typed by people; a name such as `=HYPERLINK("http://x","y")` must reach Excel or WPS as
the letters it is made of. A cell is dangerous when its text starts with = + - @, a tab, a carriage return or a line feed:
spreadsheet programs read such text as a formula (or as the start of one after trimming).

- XLSX: the writer stores such text as a string cell (type forced to text, never a formula) with Excel's "quote prefix"
  style, so the text stays text even when someone edits the cell. The text itself is unchanged.
- CSV: the file has no types, so the text is prefixed with a single quote, as OWASP recommends; Excel and WPS show the quote.

Either way, characters that XML 1.0 forbids (control characters other than tab, CR and LF) cannot be stored in an XLSX
file; they are replaced by U+FFFD so that one odd name cannot stop an export.
"""

from __future__ import annotations

import re

FORMULA_STARTS = frozenset("=+-@\t\r\n")
# XML 1.0 allows tab, LF, CR and everything from U+0020 on; openpyxl refuses the rest.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
REPLACEMENT = "\ufffd"


def starts_like_formula(text: str) -> bool:
    """True when a spreadsheet could take `text` for a formula."""
    return bool(text) and text[0] in FORMULA_STARTS


def unstorable(text: str) -> bool:
    """True when `text` holds a character an XLSX file cannot (see storable())."""
    return _ILLEGAL.search(text) is not None


def storable(text: str) -> str:
    """`text` with the control characters an XLSX file cannot hold replaced by U+FFFD."""
    return _ILLEGAL.sub(REPLACEMENT, text)


def csv_text(text: str) -> str:
    """Text for a CSV field: prefixed with a single quote when it starts like a formula (OWASP), else unchanged."""
    return "'" + text if starts_like_formula(text) else text
