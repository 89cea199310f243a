"""certification.Passes keeps one pass and one tried session per trainee and course instead of every session (the HR
sheets read 100 000 sessions as a stream): what the certification rule and the compliance cells make of what it keeps
must be what they make of all the sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from trainer.reports.certification import certification, passes_of
from trainer.store.records import SessionRecord, SessionStatus

ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 1, 1, tzinfo=UTC)

session = st.builds(
    lambda n, badge, course, status, passed, mode, hours, ended: SessionRecord(
        id=f"s{n}",
        badge=badge,
        course_id=course,
        course_version="1",
        content_hash="h",
        seed=0,
        lang="zh",
        status=status,
        started_at=T0 + timedelta(hours=hours),
        ended_at=T0 + timedelta(hours=hours + 1) if ended else None,
        outcome=None,
        score=None,
        passed=passed,
        event_count=1,
        mode=mode,
    ),
    st.integers(0, 10**6),
    st.sampled_from(["A", "B"]),
    st.sampled_from(["mini", "drill"]),
    st.sampled_from(list(SessionStatus)),
    st.sampled_from([True, False, None]),
    st.sampled_from(["exam", "practice"]),
    st.integers(0, 24 * 800),
    st.booleans(),
)


@given(st.lists(session, max_size=30), st.integers(0, 800))
def test_what_passes_keeps_gives_the_certification_and_tried_of_all_sessions(sessions, days):
    today = date(2026, 1, 1) + timedelta(days=days)
    passes = passes_of(sessions)
    for badge in ("A", "B"):
        for course in ("mini", "drill"):
            mine = [s for s in sessions if (s.badge, s.course_id) == (badge, course)]
            kept = passes.sessions(badge, course)
            assert set(kept) <= set(mine) and len(kept) <= 2
            assert passes.certification(badge, course, 365, today, zone=ZONE) == certification(
                mine, 365, today, zone=ZONE
            )
            tried = any(s.status is not SessionStatus.VOIDED for s in mine)
            assert any(s.status is not SessionStatus.VOIDED for s in kept) == tried
