"""The score sheet, course report and due list built from records and engine events alone (no database)."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from trainer.course.library import Library
from trainer.course.loader import load_course
from trainer.course.model import MistakeSeverity
from trainer.engine.clock import ManualClock, ms_from_seconds
from trainer.engine.session import Session
from trainer.reports import course_report, due, scores, trainee_report
from trainer.reports.attempts import attempt
from trainer.reports.certification import CertStatus
from trainer.scoring.detect import outcome_of
from trainer.sitetime import zone
from trainer.store.records import SessionRecord, SessionStatus, Trainee

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_course.yaml"
COURSE = load_course(MINI)
LIBRARY = Library({"mini": COURSE}, ())
ZONE = zone("Asia/Shanghai")  # the plant's: days are counted in it whatever the machine's zone
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # the same local day from UTC-11 to UTC+11
TRAINEES = {
    "A": Trainee("A", "张伟", "冲压", T0),
    "B": Trainee("B", "李娜", "焊装", T0),
}


def events_of(steps):
    clock = ManualClock()
    s = Session(COURSE, 0, clock=clock)
    s.roll = lambda event: False
    events = s.start()
    for step in steps:
        if isinstance(step, int | float):
            clock.advance(ms_from_seconds(step))
            events += s.tick()
        else:
            clock.advance(2000)
            events += s.tick()
            events += s.choose(step)
    if not s.ended:
        events += s.abort("trainee")
    return events


def record(sid, badge, when, events, *, status=None, score=None, passed=None, content_hash=None, course_id="mini"):
    outcome = outcome_of(events)
    kind = str(events[-1].kind)
    return SessionRecord(
        id=sid,
        badge=badge,
        course_id=course_id,
        course_version=COURSE.version,
        content_hash=content_hash or COURSE.content_hash,
        seed=0,
        lang="zh",
        status=status or SessionStatus(kind),
        started_at=when,
        ended_at=when,
        outcome=None if outcome is None else str(outcome),
        score=score,
        passed=passed,
        event_count=len(events),
    )


EXPERT = events_of(["lock", "work"])
CRITICAL = events_of(["reach"])
ABORTED = events_of(["lock"])


def sample():
    records = [
        record("s1", "A", T0, CRITICAL, score=60, passed=False),
        record("s2", "A", T0 + timedelta(days=3), EXPERT, score=100, passed=True),
        record("s3", "B", T0 + timedelta(days=1), ABORTED, score=100, passed=False),
        record("s4", "B", T0 + timedelta(days=2), EXPERT, score=100, passed=True, status=SessionStatus.VOIDED),
        record("s5", "B", T0 + timedelta(days=4), EXPERT, status=SessionStatus.INTERRUPTED),
    ]
    events = {"s1": CRITICAL, "s2": EXPERT, "s3": ABORTED, "s4": EXPERT, "s5": EXPERT}
    return records, events


def fetch(events):
    return lambda ids: [(i, events[i]) for i in ids]


def test_only_finished_sessions_are_attempts_and_aborted_ones_have_no_score():
    records, events = sample()
    sheet = scores.assemble(records, TRAINEES, LIBRARY, today=date(2026, 6, 1), zone=ZONE, events=fetch(events))
    assert [a.record.id for a in sheet.attempts] == ["s1", "s3", "s2"]  # oldest first; voided and interrupted left out
    a, b = sorted(sheet.pairs, key=lambda p: p.trainee.badge)
    assert (a.count, a.latest.score, a.best_score, a.passed, a.status) == (2, 100, 100, True, CertStatus.VALID)
    assert (b.count, b.latest.score, b.best_score, b.passed) == (1, None, None, False)
    assert b.status is CertStatus.NEVER  # the voided pass does not certify


def test_without_events_the_sheet_still_has_its_first_table():
    records, _ = sample()
    sheet = scores.assemble(records, TRAINEES, LIBRARY, today=date(2026, 6, 1), zone=ZONE)
    assert sheet.attempts is None
    table = sheet.trainee_table()
    attempts = [c.key for c in scores.TRAINEE_COLUMNS].index("attempts")
    assert [r[0] for r in table.rows] == ["A", "B"] and table.rows[0][attempts] == 2


def test_a_session_on_another_course_version_has_unknown_mistakes():
    r = record("x", "A", T0, CRITICAL, score=60, passed=False, content_hash="another version")
    other = attempt(r, CRITICAL, COURSE)
    assert other.mistakes is None and other.count(MistakeSeverity.CRITICAL) is None
    same = attempt(dataclasses.replace(r, content_hash=COURSE.content_hash), CRITICAL, COURSE)
    assert same.count(MistakeSeverity.CRITICAL) == 1 and same.codes(MistakeSeverity.CRITICAL) == "HANDS_IN_DIE"
    assert same.duration == timedelta(seconds=2)


def test_a_course_no_longer_in_the_library_has_an_unknown_certification():
    records, events = sample()
    sheet = scores.assemble(records, TRAINEES, Library({}, ()), today=date(2026, 6, 1), zone=ZONE, events=fetch(events))
    keys = [c.key for c in scores.TRAINEE_COLUMNS]
    rows = [dict(zip(keys, r, strict=True)) for r in sheet.trainee_table().rows]
    assert all(r["valid_until"] is None and r["status"] == "unknown (course not loaded)" for r in rows)
    assert all(r["course_title"] is None for r in rows)
    critical = [c.key for c in scores.ATTEMPT_COLUMNS].index("critical_mistakes")
    assert all(r[critical] is None for r in sheet.attempt_table().rows)  # mistakes unknown, not zero
    assert sheet.department_table().rows == [
        (None, "冲压", "mini", None, 1, 1, 0, 0, 0, 0),
        (None, "焊装", "mini", None, 1, 0, 0, 0, 0, 0),
    ]


def test_department_filter_and_period():
    records, events = sample()
    sheet = scores.assemble(
        records, TRAINEES, LIBRARY, today=date(2026, 6, 1), zone=ZONE, department="焊装", events=fetch(events)
    )
    assert [p.trainee.badge for p in sheet.pairs] == ["B"]


def test_course_report_from_records_and_events():
    records, events = sample()
    r = course_report.build("mini", COURSE, records, events, zone=ZONE)
    assert (r.attempts, r.passed, r.scores) == (3, 1, (60, 100))
    assert [(m.code, m.count) for m in r.mistakes] == [("HANDS_IN_DIE", 1)]


def test_time_in_states_adds_up_visits_and_stops_at_the_end():
    slow = events_of([35, "lock", "work"])
    assert course_report.time_in_states(slow) == {"begin": 39000, "done": 0}


def test_trend_is_monthly_beyond_thirteen_weeks():
    records = [
        record(f"m{i}", "A", T0 + timedelta(days=40 * i), EXPERT, score=100, passed=i % 2 == 0) for i in range(4)
    ]
    r = course_report.build("mini", COURSE, records, {}, zone=ZONE)
    assert r.trend_unit == "month"
    assert [(b.label, b.attempts, b.passed) for b in r.trend] == [
        ("2026-03", 1, 1),
        ("2026-04", 1, 0),
        ("2026-05", 1, 1),
        ("2026-06", 1, 0),
    ]
    assert r.analysed == 0 and r.mistakes == ()  # no events given: nothing to analyse


def test_a_score_of_100_falls_in_the_last_band():
    records = [record("h", "A", T0, EXPERT, score=100, passed=True), record("z", "A", T0, CRITICAL, score=0)]
    assert course_report.build("mini", COURSE, records, {}, zone=ZONE).score_bins() == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]


@pytest.mark.parametrize(
    ("today", "listed"),
    [(date(2027, 2, 2), []), (date(2027, 2, 3), [("A", 30)]), (date(2027, 3, 10), [("A", -5)])],
)
def test_due_within_days(today, listed):
    records, _ = sample()
    # A passed on 2026-03-05 (local): valid until 2027-03-05 (mini: 365 days)
    rows = due.build(records, TRAINEES, LIBRARY, today=today, within=30, zone=ZONE)
    assert [(d.trainee.badge, d.days_left) for d in rows] == listed


def test_trainee_report_reads_not_started_never_passed_and_failed():
    """A course never tried is "not started"; one tried and never passed is "never passed"; an attempt completed below
    the pass mark reads "failed", not "completed" (#18 item 6)."""
    from rich.console import Console

    from trainer.cli.report import print_trainee

    drill = dataclasses.replace(COURSE, id="drill")
    library = Library({"mini": COURSE, "drill": drill}, ())
    below = record("f1", "A", T0, EXPERT, score=70, passed=False)  # completed, 70 < 80
    report = trainee_report.build(TRAINEES["A"], [below], {}, library, today=date(2026, 6, 1), zone=ZONE)
    assert {c.course_id: c.status for c in report.courses} == {"drill": "not_started", "mini": "never"}
    assert [a.result for a in report.attempts] == ["failed"]
    console = Console(record=True, width=100)
    print_trainee(console, report, "en")
    out = console.export_text()
    assert re.search(r"drill\s+not started\s+0", out) and re.search(r"mini\s+never passed\s+1\s+70", out)
    assert re.search(r"2026-03-02 20:00\s+mini 1.0\s+\S+\s+70\s+failed\s", out) and "completed" not in out
