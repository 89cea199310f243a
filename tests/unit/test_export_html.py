"""The HTML course report and its SVG charts: one self-contained page, every text escaped, well-formed SVG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date

from trainer.course.model import MistakeSeverity, Text
from trainer.reports import display, svg
from trainer.reports.course_report import Bucket, CourseReport, MistakeCount, StateRow
from trainer.reports.html_report import render
from trainer.reports.period import Period

EVIL = '<script>alert("x")</script> & </svg>'


def report(**changes) -> CourseReport:
    base = dict(
        course_id="evil",
        title=Text(zh="危险" + EVIL, en="Danger " + EVIL),
        version="1.0",
        period=Period(since=date(2026, 3, 1), zone=UTC),
        attempts=4,
        passed=3,
        scores=(100.0, 95.0, 60.0, 88.5),
        analysed=4,
        mistakes=(MistakeCount("CODE_<b>", MistakeSeverity.CRITICAL, 2, 1, Text(en=EVIL, zh=EVIL)),),
        states=(StateRow("s<1>", Text(en=EVIL), (1, 0, 2), 4, 61_000.0),),
        trend=(Bucket("2026-W10", date(2026, 3, 2), 2, 1), Bucket("2026-W11", date(2026, 3, 9), 2, 2)),
        trend_unit="week",
        zone=UTC,
    )
    base.update(changes)
    return CourseReport(**base)


def test_the_page_is_self_contained_and_escapes_course_texts():
    html = render(report())
    assert "<script" not in html and "</svg> &" not in html
    assert "&lt;script&gt;" in html and "CODE_&lt;b&gt;" in html
    assert not re.search(r"\b(src|href)\s*=", html)
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}
    for chart in re.findall(r"<svg .*?</svg>", html, re.DOTALL):
        ET.fromstring(chart)
    assert "75%" in html and "85.9" in html and "91.8" in html and "1:01" in html  # pass rate, mean, median, time


def test_a_report_without_attempts_says_so():
    html = render(report(attempts=0, passed=0, scores=(), analysed=0, mistakes=(), states=(), trend=()))
    assert "No attempts in this period." in html and "<svg" not in html


def test_charts_survive_odd_input():
    for chart in (
        svg.hbars("t", [], []),
        svg.hbars("t", ["王" * 80, "<&>"], [0, 0]),
        svg.columns("t", ["a"], [0]),
        svg.line("t", ["only"], [1.5]),
        svg.line("t", [f"2026-W{i:02d}" for i in range(40)], [i / 40 for i in range(40)]),
        svg.heat_map("t", ["r"], ["c1", "c2"], [[0, 0]]),
    ):
        ET.fromstring(chart)


def test_display_formats():
    assert display.score(None) == "–" and display.score(95.0) == "95" and display.score(88.54) == "88.5"
    assert display.percent(0.4) == "40%" and display.percent(None) == "–"
    assert display.duration_ms(2000) == "0:02" and display.duration_ms(3_725_000) == "1:02:05"
    assert display.sparkline([0, 50, 100]) == "▁▅█"
    assert display.change(40.0) == "+40" and display.change(-5) == "-5"
