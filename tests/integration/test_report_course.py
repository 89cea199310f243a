"""`trainer report course`: numbers checked against a small set of sessions played through the engine into a store."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_export_support import (
    CRITICAL,
    EXPERT,
    FIXTURES,
    PRESS,
    SLOW,
    Attempt,
    Trainee,
    course,
    play,
    register,
)

from trainer.cli import main
from trainer.reports import course_report
from trainer.reports.period import ALL_DATES, Period
from trainer.scoring.judgement import read
from trainer.sitetime import zone
from trainer.store.store import Store

PRESS_EXPERT = [
    "review_energy", "notify_affected", "normal_stop",
    "isolate_electrical", "isolate_hydraulic", "isolate_air",
    "lock_electrical", "lock_hydraulic", "lock_air", "bleed_energy", "to_press",
    "wait_flywheel", "insert_blocks", "release_counterbalance", "to_controls",
    "try_start", "test_voltage", "return_neutral", "start_die_change",
    "free_slug_tool", "clamp_die",
    "remove_tools", "remove_blocks", "refit_guards", "check_clear", "to_unlock",
    "remove_own_locks", "notify_restart", "energize",
    "stop_entry", "inch_through", "single_stroke",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _plant_time(monkeypatch, at_the_plant):
    monkeypatch.setenv("TRAINER_TODAY", "2026-04-01")


def utc(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 2, 0, tzinfo=UTC)


@pytest.fixture
def db(played_db) -> Path:
    """Five attempts of the mini course in two ISO weeks (2026-W10, 2026-W11), plus one interrupted session."""
    return played_db([
        Trainee("T1", "张伟", "冲压车间"),
        Trainee("T2", "李娜", "冲压车间"),
        Trainee("T3", "王芳", "焊装车间"),
        Attempt("T1", EXPERT, utc(3, 2)),  # 100, passed; 4 s in begin
        Attempt("T2", CRITICAL, utc(3, 3)),  # 60, incident; HANDS_IN_DIE (critical) in begin; 2 s
        Attempt("T1", SLOW, utc(3, 9)),  # 95, passed; the timer ran out once (minor); 39 s in begin
        Attempt("T2", CRITICAL, utc(3, 10)),  # 60 again
        Attempt("T3", ["lock"], utc(3, 11)),  # aborted after 2 s: counted, no score
        Attempt("T3", ["lock"], utc(3, 12), finish=False),  # interrupted: not an attempt
    ])  # fmt: skip


def load(db: Path, period: Period = ALL_DATES) -> course_report.CourseReport:
    with Store.open(db) as store:
        return course_report.load(store, "mini", course(), period=period)


def test_attempts_pass_rate_and_scores(db):
    r = load(db)
    assert (r.attempts, r.passed, r.analysed) == (5, 2, 5)
    assert r.pass_rate == pytest.approx(0.4)
    assert r.scores == (100, 60, 95, 60)  # oldest first; the aborted attempt has none
    assert r.mean_score == pytest.approx(78.75)
    assert r.median_score == pytest.approx(77.5)
    assert r.score_bins() == [0, 0, 0, 0, 0, 0, 2, 0, 0, 2]


def test_most_common_mistakes_with_their_severity(db):
    r = load(db)
    assert [(m.code, str(m.severity), m.count, m.attempts) for m in r.mistakes] == [
        ("HANDS_IN_DIE", "critical", 2, 2),
        ("TIMEOUT_BEGIN", "minor", 1, 1),
    ]
    assert r.mistakes[0].rule.en == "Never"


def test_heat_map_and_median_time_per_state(db):
    r = load(db)
    states = {s.state: s for s in r.states}
    assert list(states) == ["begin"]  # done and hurt are end screens where nothing happened
    begin = states["begin"]
    assert begin.mistakes == (1, 0, 2)  # minor, serious, critical
    assert begin.visited == 5
    assert begin.median_ms == 2000  # of 4000, 2000, 39000, 2000, 2000


def test_pass_rate_over_time_by_week(db):
    r = load(db)
    assert r.trend_unit == "week"
    assert [(b.label, b.attempts, b.passed) for b in r.trend] == [("2026-W10", 2, 1), ("2026-W11", 3, 1)]


def test_since_limits_the_attempts(db):
    r = load(db, Period(since=datetime(2026, 3, 9).date(), zone=zone("Asia/Shanghai")))
    assert (r.attempts, r.passed, r.scores) == (3, 1, (95, 60))


def test_the_press_course_heat_map_matches_the_graded_lists(tmp_path):
    """Mistakes per state in the report are exactly those of each stored session's graded list, at their grade (not
    the severity the course declares: the model may grade them otherwise, and consequences folded under a root mistake
    are not counted)."""
    press = course(PRESS)
    shortcut = list(PRESS_EXPERT)
    shortcut[shortcut.index("test_voltage")] = "test_voltage_unproven"
    shortcut.remove("return_neutral")
    shortcut[shortcut.index("start_die_change")] = "start_die_change_selector_on"
    hurried = ["notify_affected", "normal_stop", "isolate_electrical", "to_press_electrical_only"]
    expected: Counter[tuple[str, str]] = Counter()
    with Store.open(tmp_path / "p.db") as store:
        register(store, "P1", "赵强", "模具车间")
        for i, steps in enumerate([PRESS_EXPERT, shortcut, hurried, shortcut]):
            durable = play(store, press, "P1", steps, at=utc(3, 2 + i))
            graded = read(store.scores(durable.id)[-1].details)
            expected.update((j.state, j.severity) for j in graded if j.counts)
        r = course_report.load(store, press.id, press)
    got = Counter()
    for s in r.states:
        for sev, n in zip(("minor", "serious", "critical"), s.mistakes, strict=True):
            if n:
                got[(s.state, sev)] = n
    assert got == expected and sum(expected.values()) >= 5
    assert r.attempts == 4 and r.passed == 1
    assert [s.state for s in r.states] == [s for s in press.states if s in {x.state for x in r.states}]  # course order
    assert all(s.median_ms is not None for s in r.states if s.visited)


# --- the command ----------------------------------------------------------------------------------------------------


def test_report_course_in_the_terminal(db, capsys):
    assert main(["report", "course", "mini", "--db", str(db), "--courses", str(FIXTURES)]) == 0
    out = capsys.readouterr().out
    assert "Mini course" in out and "40%" in out and "78.8" in out and "77.5" in out
    assert re.search(r"HANDS_IN_DIE\s+critical\s+2\s+40%", out)
    assert re.search(r"begin\s+1\s+·\s+2\s+5\s+0:02", out)
    assert re.search(r"2026-W11\s+3\s+1\s+33%", out)


def test_report_course_html_is_one_self_contained_page(db, tmp_path, capsys):
    page = tmp_path / "mini.html"
    assert main(["report", "course", "mini", "--db", str(db), "--courses", str(FIXTURES), "--html", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html.lower()
    assert not re.search(r"\b(src|href)\s*=", html)
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}
    svgs = re.findall(r"<svg .*?</svg>", html, re.DOTALL)
    assert len(svgs) == 5  # scores, pass rate, mistakes, heat map, time per state
    for svg in svgs:
        ET.fromstring(svg)  # well-formed
    assert "HANDS_IN_DIE" in html and "40%" in html and "2026-W10" in html


def test_an_unwritable_html_file_is_one_line(db, tmp_path, capsys):
    page = tmp_path / "missing" / "r.html"
    assert main(["report", "course", "mini", "--db", str(db), "--courses", str(FIXTURES), "--html", str(page)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(page) in err


def test_an_unknown_course_is_a_usage_error(db, capsys):
    assert main(["report", "course", "nope", "--db", str(db)]) == 2
    assert "no course 'nope'" in capsys.readouterr().err
