"""`trainer report trainee` and `trainer report due`, on sessions played through the engine at known dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from test_export_support import (
    CRITICAL,
    EXPERT,
    FIXTURES,
    SLOW,
    Attempt,
    Trainee,
)

from trainer.cli import main
from trainer.course.library import load_library
from trainer.reports import due, trainee_report
from trainer.reports.certification import CertStatus
from trainer.store.store import Store

pytestmark = pytest.mark.usefixtures("at_the_plant")


@pytest.fixture
def db(played_db) -> Path:
    return played_db([
        Trainee("T1", "张伟", "冲压车间"),
        Trainee("T2", "李娜", "焊装车间"),
        Trainee("T3", "[bold]王芳[/]", "冲压车间"),  # rich markup in a name must be shown, not obeyed
        Attempt("T1", CRITICAL, datetime(2026, 3, 2, 2, tzinfo=UTC)),  # 60
        Attempt("T1", SLOW, datetime(2026, 3, 4, 2, tzinfo=UTC)),  # 95
        Attempt("T1", EXPERT, datetime(2026, 3, 9, 2, tzinfo=UTC)),  # 100: valid until 2027-03-09
        Attempt("T2", EXPERT, datetime(2026, 1, 10, 2, tzinfo=UTC)),  # valid until 2027-01-10
        Attempt("T3", CRITICAL, datetime(2026, 3, 9, 2, tzinfo=UTC)),  # never passed
    ])  # fmt: skip


def test_trainee_report_lists_attempts_trend_and_every_courses_status(db):
    library = load_library([FIXTURES])
    with Store.open(db) as store:
        r = trainee_report.load(store, "T1", library, today=date(2027, 2, 20))
    assert [a.score for a in r.attempts] == [100, 95, 60]  # newest first
    mini = next(c for c in r.courses if c.course_id == "mini")
    assert mini.scores == (60, 95, 100) and mini.change == 40 and mini.best == 100
    assert mini.cert.status is CertStatus.EXPIRING and mini.cert.valid_until == date(2027, 3, 9)
    drill = next(c for c in r.courses if c.course_id == "drill")
    assert drill.attempts == () and drill.cert.status is CertStatus.NEVER and drill.status == "not_started"
    assert mini.status == "expiring"


def test_report_trainee_command(db, monkeypatch, capsys):
    monkeypatch.setenv("TRAINER_TODAY", "2026-06-01")
    assert main(["report", "trainee", "T1", "--db", str(db), "--courses", str(FIXTURES)]) == 0
    out = capsys.readouterr().out
    assert "张伟" in out and "冲压车间" in out
    assert re.search(r"mini\s+valid\s+2027-03-09\s+3\s+100\s+\S+ \+40", out)
    assert re.search(r"drill\s+not started", out)  # never tried: not "never passed" (#18 item 6)
    lines = [line for line in out.splitlines() if re.match(r"\s*2026-03-\d\d \d\d:\d\d", line)]
    assert [line.split()[0] for line in lines] == ["2026-03-09", "2026-03-04", "2026-03-02"]
    assert re.search(r"2026-03-02 10:00\s+mini 1.0\s+0:02\s+60\s+incident\s+0/0/1", out)
    assert "mistakes: minor/serious/critical" in out
    assert re.search(r"2026-03-04 10:00\s+mini 1.0\s+0:39\s+95\s+passed\s+1/0/0", out)


def test_rich_markup_in_a_name_is_printed_as_typed(db, monkeypatch, capsys):
    monkeypatch.setenv("TRAINER_TODAY", "2026-06-01")
    assert main(["report", "trainee", "T3", "--db", str(db), "--courses", str(FIXTURES)]) == 0
    assert "[bold]王芳[/]" in capsys.readouterr().out


def test_an_unknown_badge_is_a_usage_error(db, capsys):
    assert main(["report", "trainee", "NOBODY", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "NOBODY" in err


def test_due_lists_expiring_and_expired_soonest_first(db):
    library = load_library([FIXTURES])
    with Store.open(db) as store:
        rows = due.load(store, library, today=date(2027, 2, 20), within=30)
    assert [(d.trainee.badge, d.status, d.valid_until, d.days_left) for d in rows] == [
        ("T2", CertStatus.EXPIRED, date(2027, 1, 10), -41),
        ("T1", CertStatus.EXPIRING, date(2027, 3, 9), 17),
    ]
    with Store.open(db) as store:
        assert due.load(store, library, today=date(2027, 2, 20), within=10, department="冲压车间") == []
        assert [d.trainee.badge for d in due.load(store, library, today=date(2026, 6, 1), within=400)] == ["T2", "T1"]


def test_report_due_command(db, monkeypatch, capsys):
    monkeypatch.setenv("TRAINER_TODAY", "2027-02-20")
    assert main(["report", "due", "--db", str(db), "--courses", str(FIXTURES)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"T2\s+李娜\s+焊装车间\s+mini\s+2027-01-10\s+-41\s+expired", out)
    assert re.search(r"T1\s+张伟\s+冲压车间\s+mini\s+2027-03-09\s+17\s+expiring", out)
    assert out.index("T2") < out.index("T1")
    monkeypatch.setenv("TRAINER_TODAY", "2026-06-01")
    assert main(["report", "due", "--within", "30", "--db", str(db), "--courses", str(FIXTURES)]) == 0
    assert "Nobody's certification ends within 30 days" in capsys.readouterr().out


def test_a_bad_today_is_one_line(db, monkeypatch, capsys):
    monkeypatch.setenv("TRAINER_TODAY", "tomorrow")
    assert main(["report", "due", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "TRAINER_TODAY" in err
