"""The course report as one self-contained HTML page: inline CSS and inline SVG charts (svg.py), no script, nothing
fetched, so it can be mailed or opened from a USB stick on a machine with no network."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from trainer import __version__, outfile, sitetime
from trainer.reports import display, svg
from trainer.reports.attempts import SEVERITIES
from trainer.reports.course_report import CourseReport
from trainer.text import for_html as escape

CSS = """
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", system-ui, sans-serif; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; color: #1f2933; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccd; }
.sub { color: #52606d; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; }
.card { border: 1px solid #d9e2ec; border-radius: 6px; padding: .6rem 1rem; min-width: 8rem; }
.card b { display: block; font-size: 1.5rem; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { padding: .25rem .6rem; border-bottom: 1px solid #e4e7eb; }
th { text-align: left; background: #f0f4f8; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.chart text { fill: #1f2933; } .chart .head { font-weight: bold; }
.bar { fill: #2f80ed; } .line { fill: none; stroke: #2f80ed; stroke-width: 2; } .point { fill: #2f80ed; }
.grid { stroke: #e4e7eb; } .axis { stroke: #9aa5b1; } .cell { fill: #f5f7fa; }
.minor { fill: #f2c94c; } .serious { fill: #f2994a; } .critical { fill: #d64545; } .heat { fill: #d64545; }
.sev-minor { color: #8d6e00; } .sev-serious { color: #b9520b; } .sev-critical { color: #b42318; font-weight: bold; }
footer { margin-top: 2rem; color: #7b8794; font-size: .85rem; }
"""


def render(report: CourseReport, *, lang: str = "en", generated: datetime | None = None) -> str:
    r = report
    title = r.title.get(lang)
    when = (generated or sitetime.now(r.zone)).strftime("%Y-%m-%d %H:%M")
    version = f"version {r.version}" if r.version else "course not loaded"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="{}"><head><meta charset="utf-8">'.format("zh-CN" if lang == "zh" else "en"),
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}: course report</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{escape(r.course_id)} · {escape(version)} · {escape(r.period.describe())}</p>',
        '<div class="cards">',
        _card("attempts", str(r.attempts)),
        _card("passed", str(r.passed)),
        _card("pass rate", display.percent(r.pass_rate)),
        _card("mean score", display.score(r.mean_score)),
        _card("median score", display.score(r.median_score)),
        "</div>",
        *_changes(r),
    ]
    if r.attempts == 0:
        parts.append("<p>No attempts in this period.</p>")
    else:
        parts += _scores(r)
        parts += _trend(r)
        parts += _mistakes(r, lang)
        parts += _states(r, lang)
    zone = sitetime.zone_name(r.zone)
    parts.append(
        f"<footer>Trainer {escape(__version__)} · generated {escape(when)} ({escape(zone)})</footer></body></html>"
    )
    return "\n".join(parts) + "\n"


def write_html(report: CourseReport, path: str | os.PathLike[str], *, lang: str = "en", force: bool = False) -> Path:
    """Write the page to `path` (a new file is private: trainees' results); an existing file only with `force`."""
    page = render(report, lang=lang)
    return outfile.write(path, lambda tmp: tmp.write_text(page, encoding="utf-8"), "report", force=force, private=True)


def _changes(r: CourseReport) -> list[str]:
    """The voids, relabels and rescorings with another model of the report's sessions, from the audit trail."""
    if not r.changes:
        return []
    local = lambda moment: sitetime.wall(moment, r.zone).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    rows = "".join(
        f"<tr><td>{escape(c.session_id[:8])}</td><td>{escape(local(c.started_at))}</td><td>{escape(c.badge)}</td>"
        f"<td>{escape(local(c.at))}</td><td>{escape(c.who)}</td><td>{escape(c.what)}</td>"
        f"<td>{escape(c.reason) or '<i>no reason given</i>'}</td></tr>"
        for c in r.changes
    )
    return [
        "<h2>Changed by an instructor</h2>",
        "<table><tr><th>session</th><th>started</th><th>badge</th><th>when</th><th>who</th><th>what</th><th>why</th>"
        f"</tr>{rows}</table>",
    ]


def _card(label: str, value: str) -> str:
    return f'<div class="card">{escape(label)}<b>{escape(value)}</b></div>'


def _scores(r: CourseReport) -> list[str]:
    bins = r.score_bins()
    labels = [f"{i * 10}–{i * 10 + 9}" for i in range(len(bins) - 1)] + ["90–100"]
    return ["<h2>Scores</h2>", svg.columns("Scores of the scored attempts, in bands of 10", labels, bins)]


def _trend(r: CourseReport) -> list[str]:
    rows = "".join(
        f'<tr><td>{escape(b.label)}</td><td class="n">{b.attempts}</td><td class="n">{b.passed}</td>'
        f'<td class="n">{display.percent(b.pass_rate)}</td></tr>'
        for b in r.trend
    )
    chart = svg.line(
        f"Pass rate by {r.trend_unit}",
        [b.label for b in r.trend],
        [b.pass_rate for b in r.trend],
        notes=[f"{b.passed} of {b.attempts} passed ({display.percent(b.pass_rate)})" for b in r.trend],
    )
    return [
        f"<h2>Pass rate by {escape(r.trend_unit)}</h2>",
        chart,
        f"<table><tr><th>{escape(r.trend_unit)}</th><th>attempts</th><th>passed</th><th>pass rate</th></tr>{rows}</table>",
    ]


def _analysed_note(r: CourseReport) -> str:
    if r.analysed == r.attempts:
        return ""
    return (
        f'<p class="sub">From the {r.analysed} of {r.attempts} attempts played on the loaded version of the course; '
        "the others were played on another version.</p>"
    )


def _mistakes(r: CourseReport, lang: str) -> list[str]:
    out = ["<h2>Most common mistakes</h2>", _analysed_note(r)]
    if not r.mistakes:
        return [*out, "<p>No mistakes were made.</p>"]
    top = r.mistakes[:15]
    out.append(
        svg.hbars(
            "Most common mistakes",
            [m.code for m in top],
            [m.count for m in top],
            classes=[str(m.severity) for m in top],
            value_text=[f"{m.count} ({m.severity})" for m in top],
        )
    )
    rows = "".join(
        f'<tr><td>{escape(m.code)}</td><td class="sev-{escape(str(m.severity))}">{escape(str(m.severity))}</td>'
        f'<td class="n">{m.count}</td><td class="n">{display.percent(m.attempts / r.analysed if r.analysed else None)}</td>'
        f"<td>{escape(m.rule.get(lang))}</td></tr>"
        for m in r.mistakes
    )
    out.append(
        "<table><tr><th>mistake</th><th>severity</th><th>times</th><th>of attempts</th><th>rule</th></tr>"
        f"{rows}</table>"
    )
    return out


def _states(r: CourseReport, lang: str) -> list[str]:
    if not r.states:
        return []
    labels = [s.state for s in r.states]
    heat = svg.heat_map(
        "Mistakes by state and severity",
        labels,
        [str(s) for s in SEVERITIES],
        [list(s.mistakes) for s in r.states],
        col_classes=[str(s) for s in SEVERITIES],
    )
    timed = [s for s in r.states if s.median_ms is not None]
    times = svg.hbars(
        "Median time per state",
        [s.state for s in timed],
        [s.median_ms or 0 for s in timed],
        value_text=[display.duration_ms(s.median_ms) for s in timed],
    )
    rows = "".join(
        f"<tr><td>{escape(s.state)}</td><td>{escape(_short(s.title.get(lang)))}</td>"
        + "".join(f'<td class="n">{n}</td>' for n in s.mistakes)
        + f'<td class="n">{s.visited}</td><td class="n">{display.duration_ms(s.median_ms)}</td></tr>'
        for s in r.states
    )
    return [
        "<h2>Where mistakes happen</h2>",
        _analysed_note(r),
        heat,
        "<h2>Median time per state</h2>",
        times,
        "<table><tr><th>state</th><th>screen</th><th>minor</th><th>serious</th><th>critical</th><th>attempts in it</th>"
        f"<th>median time</th></tr>{rows}</table>",
    ]


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
