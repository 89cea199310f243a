"""Small charts as inline SVG text, for reports that must be one self-contained file: no script, no library, no fetch.

Each function returns an `<svg>` element sized in CSS pixels, with a <title> for screen readers, and every piece of
text escaped. Colours come from CSS classes (see html_report.py's style sheet), so a page can restyle them.
"""

from __future__ import annotations

from collections.abc import Sequence

from trainer.text import for_html as escape

FONT = 12  # px
CHAR = 7.0  # rough width of one Latin character at FONT px; CJK characters count double


def text_width(text: str) -> float:
    return sum(CHAR * (2 if ord(ch) > 0x2E80 else 1) for ch in text)


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-size="{FONT}"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _fit(text: str, width: float) -> str:
    """`text`, cut with an ellipsis to fit `width` px."""
    if text_width(text) <= width:
        return text
    out = ""
    for ch in text:
        if text_width(out + ch + "…") > width:
            break
        out += ch
    return out + "…"


def hbars(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    value_text: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
    width: int = 640,
    label_width: int = 220,
    row: int = 22,
) -> str:
    """Horizontal bars, one per label, longest = the largest value; `value_text` is printed after each bar."""
    shown = value_text or [f"{v:g}" for v in values]
    top = max(values, default=0) or 1
    bar_space = width - label_width - 70
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = i * row
        length = bar_space * value / top
        cls = classes[i] if classes else "bar"
        body.append(
            f'<text x="{label_width - 6}" y="{y + row * 0.68:.1f}" text-anchor="end">{escape(_fit(label, label_width - 10))}</text>'
            f'<rect class="{escape(cls)}" x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" rx="2">'
            f"<title>{escape(label)}: {escape(shown[i])}</title></rect>"
            f'<text x="{label_width + length + 5:.1f}" y="{y + row * 0.68:.1f}">{escape(shown[i])}</text>'
        )
    return _svg(width, max(row, row * len(labels)), title, body)


def columns(title: str, labels: Sequence[str], values: Sequence[float], *, width: int = 640, height: int = 200) -> str:
    """Vertical columns (a histogram): labels under the columns, counts above them."""
    n = max(1, len(labels))
    left, bottom, top_pad = 10, 22, 18
    slot = (width - left * 2) / n
    peak = max(values, default=0) or 1
    usable = height - bottom - top_pad
    body = [f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = usable * value / peak
        x = left + i * slot
        y = height - bottom - h
        body.append(
            f'<rect class="bar" x="{x + 3:.1f}" y="{y:.1f}" width="{slot - 6:.1f}" height="{h:.1f}" rx="2">'
            f"<title>{escape(label)}: {value:g}</title></rect>"
            f'<text x="{x + slot / 2:.1f}" y="{height - 6}" text-anchor="middle">{escape(label)}</text>'
        )
        if value:
            body.append(f'<text x="{x + slot / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{value:g}</text>')
    return _svg(width, height, title, body)


def line(
    title: str,
    labels: Sequence[str],
    rates: Sequence[float],
    *,
    notes: Sequence[str] | None = None,
    width: int = 640,
    height: int = 220,
) -> str:
    """A line of fractions (0..1) over labelled periods, with a 0-100 % axis; `notes` become each point's tooltip."""
    left, right, top, bottom = 44, 16, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(labels)
    step = plot_w / max(1, n - 1)
    body = []
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        body.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>'
        )
    points = [
        (left + (i * step if n > 1 else plot_w / 2), top + plot_h * (1 - max(0.0, min(1.0, r))))
        for i, r in enumerate(rates)
    ]
    if len(points) > 1:
        body.append('<polyline class="line" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
    every = max(1, -(-n * 60 // plot_w))  # label every k-th period so labels (about 60 px) do not overlap
    for i, ((x, y), label) in enumerate(zip(points, labels, strict=True)):
        note = notes[i] if notes else f"{rates[i]:.0%}"
        body.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4"><title>{escape(label)}: {escape(note)}</title></circle>'
        )
        if i % every == 0 or i == n - 1:
            body.append(f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle">{escape(label)}</text>')
    return _svg(width, height, title, body)


def heat_map(
    title: str,
    rows: Sequence[str],
    cols: Sequence[str],
    values: Sequence[Sequence[int]],
    *,
    col_classes: Sequence[str] | None = None,
    label_width: int = 220,
    cell: int = 64,
    row: int = 24,
) -> str:
    """A grid of counts: each cell shaded by its count relative to the largest, with the count written in it."""
    peak = max((v for r in values for v in r), default=0) or 1
    width = label_width + cell * len(cols) + 4
    height = row * (len(rows) + 1) + 4
    body = []
    for j, col in enumerate(cols):
        x = label_width + j * cell + cell / 2
        body.append(f'<text x="{x:.1f}" y="{row * 0.7:.1f}" text-anchor="middle" class="head">{escape(col)}</text>')
    for i, label in enumerate(rows):
        y = row * (i + 1)
        body.append(
            f'<text x="{label_width - 6}" y="{y + row * 0.68:.1f}" text-anchor="end">{escape(_fit(label, label_width - 10))}</text>'
        )
        for j, value in enumerate(values[i]):
            x = label_width + j * cell
            opacity = 0.08 + 0.92 * value / peak if value else 0.0
            cls = col_classes[j] if col_classes else "heat"
            body.append(
                f'<rect class="cell" x="{x + 1}" y="{y + 1}" width="{cell - 2}" height="{row - 2}"/>'
                f'<rect class="{escape(cls)}" x="{x + 1}" y="{y + 1}" width="{cell - 2}" height="{row - 2}" '
                f'fill-opacity="{opacity:.2f}"><title>{escape(label)}, {escape(cols[j])}: {value}</title></rect>'
            )
            if value:
                body.append(
                    f'<text x="{x + cell / 2:.1f}" y="{y + row * 0.68:.1f}" text-anchor="middle">{value}</text>'
                )
    return _svg(width, height, title, body)
