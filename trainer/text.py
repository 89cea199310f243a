"""Text typed by people or read from files, on its way to a terminal or a page: which characters may not pass.

A name holding ESC sequences (`\\x1b]0;...` sets the window title, `\\x1b[2J` clears the screen) would act on the
instructor's terminal when printed; a bidi override (U+202E) makes text read in another order than it is stored (the
"Trojan Source" trick), so a badge or a course text could show one thing and mean another. Such characters are refused
where text comes in (sign-in, `trainer play`, `course check`) and shown as visible escapes wherever stored text goes out,
whatever an older version let in.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Unicode's explicit bidi formatting characters: embeddings, overrides, isolates and the marks.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Control (Cc), unassigned/private/surrogate (Cn, Co, Cs) and line/paragraph separators (Zl, Zp). Format characters
# (Cf) other than the bidi controls stay: the zero-width joiner is part of ordinary emoji and Indic text.
_REFUSED_CATEGORIES = frozenset({"Cc", "Co", "Cs", "Zl", "Zp"})


def is_unsafe(char: str, *, newlines: bool = False) -> bool:
    """True for a character that must not reach a terminal as it is (newline and tab allowed when `newlines`)."""
    if newlines and char in "\n\t":
        return False
    return char in BIDI_CONTROLS or unicodedata.category(char) in _REFUSED_CATEGORIES


def first_unsafe(text: str, *, newlines: bool = False) -> int | None:
    """The index of the first unsafe character in `text`, or None when there is none."""
    for index, char in enumerate(text):
        if (char < " " or char > "~") and is_unsafe(char, newlines=newlines):
            return index
    return None


def describe(char: str) -> str:
    """U+202E (RIGHT-TO-LEFT OVERRIDE): how an error message names a character it cannot show."""
    return f"U+{ord(char):04X}" + (f" ({unicodedata.name(char)})" if unicodedata.name(char, "") else "")


_ESCAPE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")


def shown(text: str) -> str:
    """`text` safe to print: every control, bidi or separator character becomes a visible escape such as `\\x1b`."""
    return _ESCAPE.sub(_escape_one, text) if _ESCAPE.search(text) else text


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_html(text: str) -> str:
    """`text` for a web page: HTML-escaped, with control and bidi characters shown as escapes (see shown())."""
    return html.escape(shown(text))
