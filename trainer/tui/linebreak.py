"""Line breaking for Chinese (and mixed) text: never start a line with 。，、”」 and the like, never end one with “「.

Textual and Rich break lines at spaces and fold anything longer character by character, so a Chinese sentence (no
spaces) is cut wherever the width runs out: a line may start with `。` or end with `“`, which a Chinese reader takes for
a typesetting fault. `break_offsets` applies the rule every Chinese typesetter applies (禁则, kinsoku): when a line would
start with a closing mark, or end with an opening one, the break moves earlier, taking a character or two to the next
line. `wrap` cuts a (styled) rich Text at those places, so a widget shows it line for line (widgets/prose.py).
Latin words are never split unless longer than a line.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text

# Marks that may not begin a line: closing punctuation and brackets, and the marks that attach to what precedes them.
NO_START = frozenset("。．，、；：？！）］｝」』”’》〉】〕〗…‥・·～—%,.;:!?)]}")
# Marks that may not end a line: opening brackets and quotes.
NO_END = frozenset("（［｛「『“‘《〈【〔〖([{")

# A unit is what a line may not be cut inside: a run of Latin letters/digits (a word, with its ASCII punctuation), one
# CJK character or mark, or a run of spaces.
_UNITS = re.compile(r"[ \t]+|[!-~\u00c0-\u024f]+|.", re.DOTALL)


def break_offsets(line: str, width: int) -> list[tuple[int, int]]:
    """(start, end) of each display line of `line` (no newlines) in `width` cells; spaces at a break are dropped."""
    if width <= 0 or cell_len(line) <= width:
        return [(0, len(line))]
    units = [(m.start(), m.end(), cell_len(m.group())) for m in _UNITS.finditer(line)]
    units = [piece for unit in units for piece in _fold(line, unit, width)]
    lines: list[tuple[int, int]] = []
    current: list[tuple[int, int, int]] = []
    used = 0
    i = 0
    while i < len(units):
        start, end, cells = units[i]
        if not current and line[start:end].isspace() and lines:
            i += 1  # spaces at the start of a wrapped line: the break ate them
            continue
        if used + cells <= width or not current:
            current.append(units[i])
            used += cells
            i += 1
            continue
        if line[start:end].isspace():  # the break falls on spaces: drop them
            lines.append(_span(line, current))
            current, used = [], 0
            i += 1
            continue
        # Break before unit i, unless the next line would start with a closing mark or this one end with an opening
        # one: then move the break back, taking the last unit(s) of this line along (never leaving this line empty).
        keep = len(current)
        while keep > 1 and (
            _starts_badly(line, current[keep] if keep < len(current) else units[i])
            or line[current[keep - 1][1] - 1] in NO_END
        ):
            keep -= 1
        if keep == 1 and (
            _starts_badly(line, current[1] if len(current) > 1 else units[i]) or line[current[0][1] - 1] in NO_END
        ):
            keep = len(current)  # no better place on this line: break where the width ran out
        lines.append(_span(line, current[:keep]))
        current = current[keep:]
        used = sum(u[2] for u in current)
    if current:
        lines.append(_span(line, current))
    return lines


def _starts_badly(line: str, unit: tuple[int, int, int]) -> bool:
    return line[unit[0]] in NO_START


def _span(line: str, units: list[tuple[int, int, int]]) -> tuple[int, int]:
    start, end = units[0][0], units[-1][1]
    while end > start and line[end - 1] in " \t":
        end -= 1
    return start, end


def _fold(line: str, unit: tuple[int, int, int], width: int) -> list[tuple[int, int, int]]:
    """A unit wider than a line (a long Latin word) in pieces that fit, character by character."""
    start, end, cells = unit
    if cells <= width:
        return [unit]
    pieces, piece_start, used = [], start, 0
    for at in range(start, end):
        w = cell_len(line[at])
        if used + w > width and at > piece_start:
            pieces.append((piece_start, at, used))
            piece_start, used = at, 0
        used += w
    pieces.append((piece_start, end, used))
    return pieces


# A list mark: after it (and the spaces before it), a wrapped paragraph's next lines go on under its text.
_INDENT = re.compile(r" *(?:[•→↳-] +)?")


def indent_of(line: str) -> int:
    """Cells before a paragraph's text: its leading spaces and a list mark (`    → The right way` is 6)."""
    m = _INDENT.match(line)
    return cell_len(m.group()) if m else 0


def wrap(text: Text | str, width: int, hang: int = 0) -> Text:
    """`text` with a newline at every place a line breaks in `width` cells; styles kept. A paragraph's wrapped lines
    hang under its text (a hanging indent): under its first line's text after leading spaces and a list mark, or, for
    a paragraph that starts with neither, `hang` cells in. No indent takes more than half the width."""
    source = text if isinstance(text, Text) else Text(text)
    out = Text(end="", justify=source.justify, no_wrap=source.no_wrap, overflow=source.overflow)
    for n, paragraph in enumerate(source.split("\n", allow_blank=True)):
        if n:
            out.append("\n")
        plain = paragraph.plain
        indent = indent_of(plain) or hang
        if indent * 2 > width:
            indent = 0
        spans = break_offsets(plain, width)
        if indent and len(spans) > 1:
            first_end = spans[0][1]
            rest = first_end
            while rest < len(plain) and plain[rest] in " \t":
                rest += 1
            spans = [spans[0]] + [(rest + a, rest + b) for a, b in break_offsets(plain[rest:], width - indent)]
        for k, (start, end) in enumerate(spans):
            if k:
                out.append("\n" + " " * indent)
            out.append_text(paragraph[start:end])
    return out


def lines(text: str, width: int) -> list[str]:
    """`text` as the lines it shows in `width` cells (for tests and plain output)."""
    return wrap(text, width).plain.split("\n")
