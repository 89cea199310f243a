"""The audit trail and the instructor password, driven as a user does: each record-changing command leaves exactly one
row per session, in the same transaction as its change; wrong instructor passwords make the next try wait, kept in the
database; replacing the password needs the old one or a recorded --reset."""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_model_cli import store_simulated
from test_store_migrations import _database_at

from trainer.cli import main
from trainer.instructor_password import SETTING, check_password, hash_password
from trainer.store import Store, audit
from trainer.store.audit import Act, Actor

PRESS_ID = "press-loto-die-change"


class WallClock:
    """The store's UTC clock, moved by the test: waits are checked without sleeping."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> WallClock:
    clock = WallClock()
    monkeypatch.setattr("trainer.store.access.utcnow", clock)
    return clock


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "t.db"
    monkeypatch.setenv("TRAINER_DB", str(path))
    monkeypatch.setenv("TRAINER_MODEL", "rubric")
    monkeypatch.delenv("TRAINER_COURSES", raising=False)
    return path


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> tuple:
    """`trainer ARGS` in this process (so the test's clock applies), standard input not a terminal."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        code = main(list(args))
    except SystemExit as exc:  # a usage error, found while parsing
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def trail(db: Path, **filters: object) -> list[audit.AuditRecord]:
    with Store.open(db) as store:
        return store.audit_trail(**filters)  # type: ignore[arg-type]


def set_first_password(db: Path) -> None:
    with Store.open(db) as store:
        store.set_instructor_password(SETTING, hash_password("correct horse"))


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def interrupted_session(db: Path) -> str:
    """A session of the press course whose process died after its first steps: an instructor may void it."""
    sid = store_simulated(db, 1, 5)[0]
    with Store.open(db) as store:
        record = store.session(sid)
        orphan = store.create_session(record.badge, PRESS_ID, record.course_version, record.content_hash, 7, "en")
        store.append(orphan.id, [s.event for s in store.events(sid)][:2])
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE sessions SET owner_pid = ? WHERE id = ?", (dead_pid(), orphan.id))
    return orphan.id


# --- the instructor password --------------------------------------------------------------------------------------


def test_wrong_passwords_make_a_growing_wait_that_is_enforced_and_recorded(db, wall, capsys, monkeypatch):
    set_first_password(db)
    start = wall.now
    codes = []
    for expected in (
        "trainer: error: wrong instructor password",
        "trainer: error: wrong instructor password",
        "trainer: error: wrong instructor password (3 in a row): wait 1 s before the next try",
    ):
        code, _, err = run(capsys, monkeypatch, "instructor", stdin="wrong horse\n")
        codes.append(code)
        assert err.strip() == expected
    # Too early, even with the right password: refused unchecked, with how long to wait, and itself recorded.
    wall.now += timedelta(milliseconds=400)
    code, _, err = run(capsys, monkeypatch, "instructor", stdin="correct horse\n")
    assert code == 1 and err.startswith("trainer: error: too many wrong instructor passwords: wait 1 s")
    waits = []
    for _ in range(6):  # each failure after the wait doubles it, up to 60 s
        wall.now += timedelta(seconds=60)
        code, _, err = run(capsys, monkeypatch, "instructor", stdin="wrong horse\n")
        waits.append(err.split("wait ")[1].split(" s")[0])
    assert codes == [1, 1, 1] and waits == ["2", "4", "8", "16", "32", "60"]
    rows = trail(db)
    assert [r.action for r in rows] == [
        "instructor.password_set",
        *["instructor.login_failed"] * 3,
        "instructor.login_refused",
        *["instructor.login_failed"] * 6,
    ]
    me = Actor.here()
    assert {(r.actor, r.host) for r in rows} == {(me.user, me.host)}
    assert rows[1].at == start and rows[4].detail["wait_ms"] == 600


def test_the_wait_survives_a_new_process(db, wall):
    """Failures recorded by one process make another, started afterwards, wait: nothing is kept in memory."""
    set_first_password(db)
    wall.now = datetime.now(UTC) - timedelta(seconds=31)  # 8 failures, each once the wait after the previous is over
    with Store.open(db) as store:
        for _ in range(8):  # the 8th in a row ends now: 32 s to wait, longer than a slow machine takes to start
            done = store.instructor_sign_in(SETTING, lambda stored: check_password("wrong horse", stored))
            assert not done.refused
            wall.now += timedelta(milliseconds=done.wait_ms)
    env = {**os.environ, "TRAINER_DB": str(db), "TRAINER_MODEL": "rubric"}
    done = subprocess.run(
        [sys.executable, "-m", "trainer", "instructor"],
        input="correct horse\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("trainer: error: too many wrong instructor passwords: wait"), done.stderr
    assert trail(db)[-1].action == "instructor.login_refused"


def test_guesses_in_parallel_are_checked_one_at_a_time(db, wall):
    """Six guesses at the same instant from six connections: three are checked, then the wait refuses the rest."""
    set_first_password(db)
    gate = threading.Barrier(6)

    def guess() -> None:
        with Store.open(db) as store:
            gate.wait()
            store.instructor_sign_in(SETTING, lambda stored: check_password("wrong horse", stored), now=wall.now)

    threads = [threading.Thread(target=guess) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    actions = [r.action for r in trail(db)][1:]
    assert sorted(actions) == ["instructor.login_failed"] * 3 + ["instructor.login_refused"] * 3


def test_a_success_resets_the_count(db, wall):
    set_first_password(db)
    with Store.open(db) as store:
        check = lambda pw: lambda stored: check_password(pw, stored)  # noqa: E731
        for _ in range(3):
            store.instructor_sign_in(SETTING, check("wrong horse"))
        wall.now += timedelta(seconds=1)
        assert store.instructor_sign_in(SETTING, check("correct horse")).ok
        for _ in range(2):  # two more typos cost nothing: the count started again
            assert store.instructor_sign_in(SETTING, check("wrong horse")).wait_ms == 0


def test_replacing_the_password_needs_the_old_one(db, wall, capsys, monkeypatch):
    set_first_password(db)
    code, _, err = run(capsys, monkeypatch, "instructor", "set-password", "--stdin", stdin="new password 1\n")
    assert code == 1 and "no password given" in err  # one line: the current one, no new one
    code, _, err = run(
        capsys, monkeypatch, "instructor", "set-password", "--stdin", stdin="wrong horse\nnew password 1\n"
    )
    assert code == 1 and err.strip() == "trainer: error: wrong current instructor password; nothing was changed"
    with Store.open(db) as store:
        assert check_password("correct horse", store.get_setting(SETTING) or "")
    code, out, _ = run(
        capsys, monkeypatch, "instructor", "set-password", "--stdin", stdin="correct horse\nnew password 1\n"
    )
    assert code == 0 and out.strip() == "Instructor password set."
    with Store.open(db) as store:
        assert check_password("new password 1", store.get_setting(SETTING) or "")
    rows = trail(db)
    assert [r.action for r in rows] == [
        "instructor.password_set",
        "instructor.login_failed",  # a wrong current password is a failed sign-in: same wait, same record
        "instructor.login_ok",
        "instructor.password_set",
    ]
    assert rows[1].detail["via"] == "set-password"


def test_a_reset_needs_a_reason_and_is_recorded_with_the_os_user(db, wall, capsys, monkeypatch):
    set_first_password(db)
    code, _, err = run(capsys, monkeypatch, "instructor", "set-password", "--stdin", "--reset", stdin="x\n")
    assert code == 2 and "--reset needs --reason" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run(
        capsys,
        monkeypatch,
        "instructor",
        "set-password",
        "--stdin",
        "--reset",
        "--reason",
        "Li forgot it; ticket 4411",
        stdin="new password 2\n",
    )
    assert code == 0 and "reset" in out
    with Store.open(db) as store:
        assert check_password("new password 2", store.get_setting(SETTING) or "")
    last = trail(db)[-1]
    assert (last.action, last.reason, last.actor) == (
        "instructor.password_reset",
        "Li forgot it; ticket 4411",
        Actor.here().user,
    )
    code, out, _ = run(capsys, monkeypatch, "audit", "list", "--action", "instructor.password_reset")
    assert code == 0 and "Li forgot it" in out and Actor.here().user in out


# --- record-changing commands ---------------------------------------------------------------------------------------


def test_void_needs_a_reason_and_leaves_one_row_shown_by_sessions_show(db, capsys, monkeypatch):
    sid = interrupted_session(db)
    code, _, err = run(capsys, monkeypatch, "sessions", "void", sid[:8])
    assert code == 2 and "--reason" in err and len(err.strip().splitlines()) == 1
    assert trail(db) == []
    code, out, _ = run(capsys, monkeypatch, "sessions", "void", sid[:8], "--reason", "power cut at line 3")
    assert code == 0
    (row,) = trail(db)
    assert (row.action, row.session_id, row.reason, row.actor) == (
        "session.void",
        sid,
        "power cut at line 3",
        Actor.here().user,
    )
    assert row.detail["status"] == ["interrupted", "voided"]
    code, out, _ = run(capsys, monkeypatch, "sessions", "show", sid[:8])
    assert code == 0 and "voided (was interrupted, by instructor)" in out
    assert f"by {Actor.here().user}@" in out and "power cut at line 3" in out


def test_a_void_whose_audit_row_fails_is_not_made(db, monkeypatch):
    sid = interrupted_session(db)

    def broken(conn, rows):  # the row cannot be written (a full disk, say): the change must not happen either
        raise OSError("disk full")

    monkeypatch.setattr(audit, "write", broken)
    with Store.open(db) as store, pytest.raises(Exception, match="disk full"):
        store.void(sid, "power cut", "instructor")
    monkeypatch.undo()
    with Store.open(db) as store:
        assert str(store.session(sid).status) == "interrupted"
        assert store.audit_trail() == []


def _mistaken_session(db: Path) -> tuple[str, list[str]]:
    ids = store_simulated(db, 10, 3)
    with Store.open(db) as store:
        for sid in ids:
            mistakes = [d["mistake"] for d in json.loads(store.scores(sid)[-1].details)]
            if len(mistakes) >= 2:
                return sid, mistakes
    raise AssertionError("no simulated session with two mistakes")


def test_label_and_label_import_leave_one_row_each_and_the_reports_show_them(db, tmp_path, capsys, monkeypatch):
    sid, mistakes = _mistaken_session(db)
    code, _, _ = run(
        capsys,
        monkeypatch,
        "label",
        "--session",
        sid[:8],
        "--labeller",
        "ann",
        "--reason",
        "second look at the video",
        stdin="3\n" * len(mistakes),
    )
    assert code == 0
    (row,) = trail(db)
    assert (row.action, row.session_id, row.reason) == ("label.set", sid, "second look at the video")
    assert row.detail["labels"]["ann"][mistakes[0]] == [None, "critical"]

    out_file = tmp_path / "labels.jsonl"
    assert run(capsys, monkeypatch, "label", "export", "--out", str(out_file))[0] == 0
    line = json.loads(out_file.read_text())
    for m in line["mistakes"]:
        m["labels"] = [{"severity": "minor", "labeller": "ann"}]
    out_file.write_text(json.dumps(line) + "\n")
    code, _, _ = run(capsys, monkeypatch, "label", "import", str(out_file), "--reason", "panel review")
    assert code == 0
    rows = trail(db)
    assert [r.action for r in rows] == ["label.set", "label.import"]
    assert rows[1].detail["file"] == str(out_file) and rows[1].detail["labels"]["ann"][mistakes[0]] == [
        "critical",
        "minor",
    ]

    code, out, _ = run(capsys, monkeypatch, "report", "course", PRESS_ID)
    assert code == 0 and "Changed by an instructor" in out and "panel review" in out and "relabelled" in out
    with Store.open(db) as store:
        badge = store.session(sid).badge
    code, out, _ = run(capsys, monkeypatch, "report", "trainee", badge)
    assert code == 0 and "second look at the video" in out
    assert re.search(rf"✎ 2.*{sid[:6]}", out)  # the attempt is marked in the list
    html = tmp_path / "r.html"
    code, _, _ = run(capsys, monkeypatch, "report", "course", PRESS_ID, "--html", str(html))
    page = html.read_text(encoding="utf-8")
    assert code == 0 and "Changed by an instructor" in page and "panel review" in page and Actor.here().user in page


def test_a_label_import_whose_audit_row_fails_stores_no_label(db, tmp_path, capsys, monkeypatch):
    sid, _ = _mistaken_session(db)
    out_file = tmp_path / "labels.jsonl"
    assert run(capsys, monkeypatch, "label", "export", "--out", str(out_file), "--all")[0] == 0
    lines = [json.loads(x) for x in out_file.read_text().splitlines()]
    for line in lines:
        for m in line["mistakes"]:
            m["labels"] = [{"severity": "minor", "labeller": "bo"}]
    out_file.write_text("".join(json.dumps(x) + "\n" for x in lines))

    def broken(conn, rows):
        raise OSError("disk full")

    monkeypatch.setattr(audit, "write", broken)
    code, _, err = run(capsys, monkeypatch, "label", "import", str(out_file))
    assert code == 1 and "disk full" in err and "nothing was changed" in err
    monkeypatch.undo()
    with Store.open(db) as store:
        assert store.labels() == [] and store.audit_trail() == []


def test_score_with_another_model_leaves_one_row_with_old_and_new_score(db, capsys, monkeypatch):
    monkeypatch.setenv("TRAINER_MODEL", "rubric")
    sid, _ = _mistaken_session(db)
    with Store.open(db) as store:
        before = store.session(sid).score
    code, out, _ = run(
        capsys, monkeypatch, "score", "--session", sid[:8], "--model", "rubric", "--reason", "compare with rubric"
    )
    assert code == 0
    (row,) = trail(db)
    assert (row.action, row.session_id, row.reason) == ("score.model", sid, "compare with rubric")
    assert row.detail["model"] == "rubric" and row.detail["score"][0] == before
    code, out, _ = run(capsys, monkeypatch, "sessions", "show", sid[:8])
    assert "rescored with another model rubric" in out and "compare with rubric" in out


def test_a_routine_rescoring_with_the_current_model_is_one_row_that_counts_the_sessions(db, capsys, monkeypatch):
    store_simulated(db, 4, 3)
    code, _, _ = run(capsys, monkeypatch, "score", "--all", "--reason", "new model installed")
    assert code == 0
    (row,) = trail(db)
    assert (row.action, row.session_id, row.detail["sessions"], row.reason) == (
        "score.rescore",
        None,
        4,
        "new model installed",
    )
    code, out, _ = run(capsys, monkeypatch, "audit", "list")
    assert "rescored 4 session(s) with rubric" in out


def test_a_rescoring_whose_audit_row_fails_stores_no_score(db, capsys, monkeypatch):
    sid, _ = _mistaken_session(db)
    with Store.open(db) as store:
        scorings = len(store.scores(sid))

    def broken(*args, **kwargs):  # the row cannot be made: the scores must not be stored either
        raise OSError("disk full")

    monkeypatch.setattr(audit, "row", broken)
    code, _, err = run(capsys, monkeypatch, "score", "--session", sid[:8], "--model", "rubric")
    assert code == 1 and "disk full" in err
    monkeypatch.undo()
    with Store.open(db) as store:
        assert len(store.scores(sid)) == scorings and store.audit_trail() == []


def test_audit_list_filters_by_action_session_and_date(db, capsys, monkeypatch):
    sid = interrupted_session(db)
    set_first_password(db)
    assert run(capsys, monkeypatch, "sessions", "void", sid, "--reason", "drill")[0] == 0
    code, out, _ = run(capsys, monkeypatch, "audit", "list")
    assert code == 0 and "session.void" in out and "instructor.password_set" in out
    code, out, _ = run(capsys, monkeypatch, "audit", "list", "--session", sid[:8])
    assert "session.void" in out and "password" not in out
    code, out, _ = run(capsys, monkeypatch, "audit", "list", "--action", "session.void")
    assert "drill" in out and "password" not in out
    code, out, _ = run(capsys, monkeypatch, "audit", "list", "--since", "2999-01-01")
    assert code == 0 and "no such rows" in out


def test_a_version_3_database_gets_the_audit_table(db):
    _database_at(f"sqlite:///{db}", 3)
    with Store.open(db) as store:
        assert store.upgraded_from == 3
        store.record(audit.DB_RESTORE, act=Act("test"))
        assert [r.action for r in store.audit_trail()] == ["db.restore"]


def test_repairs_and_restores_are_recorded(db, tmp_path, capsys, monkeypatch):
    from test_unscored_repair import FIXTURES, finished_unscored

    sid = finished_unscored(str(db))
    monkeypatch.setenv("TRAINER_COURSES", str(FIXTURES))
    code, _, _ = run(capsys, monkeypatch, "sessions", "verify", "--repair")
    assert code == 0
    (row,) = trail(db)
    assert (row.action, row.session_id, row.detail["via"], row.detail["score"]) == (
        "score.repair",
        sid,
        "verify --repair",
        [None, 100.0],
    )
    backup = tmp_path / "backup.db"
    assert run(capsys, monkeypatch, "db", "backup", str(backup))[0] == 0
    code, _, err = run(
        capsys, monkeypatch, "db", "restore", str(backup), "--force", "--reason", "disk replaced on line 2"
    )
    assert code == 0, err
    last = trail(db)[-1]
    assert (last.action, last.reason, last.detail["source"], last.detail["replaced_sessions"]) == (
        "db.restore",
        "disk replaced on line 2",
        str(backup),
        1,
    )
