"""Practice and exam from the command line, end to end: `trainer play --mode`, what certifies (report due, the score
sheet, the trainee report), `--dry-run` storing nothing, the mode's tamper evidence, and old databases' sessions."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from backends import execute, scalars
from cliproc import run_cli, trainer

from trainer.store import schema

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MINI = FIXTURES / "mini_course.yaml"


def play(tmp_path: Path, db: str, badge: str, *extra: str) -> str:
    script = tmp_path / "expert.txt"
    script.write_text("2 lock\n2 work\n", encoding="utf-8")
    run = run_cli(
        "play", str(MINI), "--badge", badge, "--name", "Ann", "--department", "Press", "--script", str(script),
        "--seed", "3", *extra, db=db,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("passed (score 100 of at least 80)"), run.stdout
    return run.stdout.split()[1]


def due(db: str) -> str:
    run = run_cli("report", "due", "--within", "400", "--courses", str(FIXTURES), db=db)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_a_practice_pass_does_not_certify_an_exam_pass_does(tmp_path, db_url):
    practice = play(tmp_path, db_url, "P1", "--mode", "practice")
    assert "P1" not in due(db_url)  # nothing to renew: practice never certified
    report = run_cli("report", "trainee", "P1", "--courses", str(FIXTURES), db=db_url).stdout
    assert "practice" in report and "valid  " not in report
    exam = play(tmp_path, db_url, "P1")  # the default: an exam
    assert "P1" in due(db_url) and "valid" in due(db_url)
    out = tmp_path / "scores.xlsx"
    run = run_cli("export", "scores", "--out", str(out), "--courses", str(FIXTURES), db=db_url)
    assert run.returncode == 0, run.stderr
    attempts = list(openpyxl.load_workbook(out)["Attempts"].values)
    mode_col = attempts[0].index("mode")
    assert {row[-1]: row[mode_col] for row in attempts[1:]} == {practice: "practice", exam: "exam"}
    assert dict(zip(*scalars_modes(db_url), strict=True)) == {practice: "practice", exam: "exam"}


def scalars_modes(db: str) -> tuple[list[str], list[str]]:
    ids = scalars(db, "SELECT id FROM sessions ORDER BY id")
    return ids, scalars(db, "SELECT mode FROM sessions ORDER BY id")


def test_xapi_passes_only_the_exam(tmp_path, db_url):
    practice = play(tmp_path, db_url, "P1", "--mode", "practice")
    exam = play(tmp_path, db_url, "P1", "--mode", "exam")
    out = tmp_path / "x.json"
    run = run_cli("export", "xapi", "--out", str(out), "--courses", str(FIXTURES), db=db_url)
    assert run.returncode == 0, run.stderr
    statements = json.loads(out.read_text(encoding="utf-8"))
    verbs = {
        (s["context"]["registration"], s["verb"]["display"]["en-US"])
        for s in statements
        if s["verb"]["display"]["en-US"] in ("passed", "failed", "scored")
    }
    assert verbs == {(practice, "scored"), (exam, "passed")}


def test_a_mode_changed_with_sql_is_caught_by_verify(tmp_path, db_url):
    practice = play(tmp_path, db_url, "P1", "--mode", "practice")
    exam = play(tmp_path, db_url, "P2", "--mode", "exam")
    assert run_cli("sessions", "verify", db=db_url).returncode == 0
    s = schema.sessions
    execute(db_url, s.update().where(s.c.id == practice).values(mode="exam"))
    run = run_cli("sessions", "verify", db=db_url)
    assert run.returncode == 1
    assert f"session {practice}: sessions.mode does not match the chain (stored exam, the chain's practice)" in (
        run.stdout.splitlines()
    ), run.stdout
    execute(
        db_url,
        s.update().where(s.c.id == practice).values(mode="practice"),
        s.update().where(s.c.id == exam).values(mode="practice"),
    )
    run = run_cli("sessions", "verify", db=db_url)
    assert run.returncode == 1 and f"session {exam}: sessions.mode does not match the chain" in run.stdout
    assert practice not in run.stdout


def test_dry_run_stores_nothing_and_needs_no_badge(tmp_path):
    script = tmp_path / "s.txt"
    script.write_text("lock\nwork\n", encoding="utf-8")
    db = tmp_path / "never.db"
    run = trainer("play", str(MINI), "--dry-run", "--mode", "practice", "--script", str(script), db=f"sqlite:///{db}")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("dry run: practice, seed ") and "played 1 started" in lines
    assert lines[-1].endswith("dry run: nothing stored, nothing counts for certification")
    assert not db.exists()
    wrong = tmp_path / "w.txt"
    wrong.write_text("fly\n", encoding="utf-8")
    run = trainer("play", str(MINI), "--dry-run", "--script", str(wrong), db=f"sqlite:///{db}")
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert f"{wrong}:1: action 'fly' is not available" in run.stderr and "nothing was stored" in run.stderr
    assert not db.exists()


def test_sessions_of_a_version_4_database_are_exams_and_still_verify(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    sid = play(tmp_path, url, "P1")
    # Back to version 4 as it was: no mode column (an exam's genesis is the same as before modes), nor the roster's.
    execute(
        url,
        ("ALTER TABLE sessions DROP COLUMN mode", {}),
        *((f"ALTER TABLE trainees DROP COLUMN {column}", {}) for column in ("role", "plant", "hire_date", "merged_into")),
        ("DROP TABLE requirements", {}),
        ("DROP TABLE features", {}),
        ("UPDATE meta SET value = '4' WHERE key = 'schema_version'", {}),
    )
    run = run_cli("db", "upgrade", db=url)
    assert run.returncode == 0 and "upgraded from schema version 4 to" in run.stdout, run.stdout + run.stderr
    assert scalars(url, "SELECT mode FROM sessions") == ["exam"]
    assert run_cli("sessions", "verify", db=url).returncode == 0
    assert sid[:8] in run_cli("sessions", "list", db=url).stdout and "P1" in due(url)


def test_hidden_fault_values_vary_by_seed_and_are_stored_and_shown(tmp_path, db_url):
    course = tmp_path / "curtain.yaml"  # a light curtain that may be faulty: curtain_ok drawn from [true, false]
    course.write_text((FIXTURES / "hidden_fault.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    script = tmp_path / "s.txt"
    script.write_text("test\n", encoding="utf-8")
    drawn = {}
    for seed in range(8):
        run = run_cli(
            "play", str(course), "--badge", "H1", "--name", "Ann", "--department", "Press", "--script", str(script),
            "--seed", str(seed), "--mode", "practice", db=db_url,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        sid = run.stdout.split()[1]
        first = scalars(db_url, "SELECT data FROM events WHERE session_id = :s AND seq = 1", s=sid)[0]
        drawn[sid] = json.loads(first)["hidden"]["curtain_ok"]
        shown = run_cli("sessions", "show", sid, "--courses", str(tmp_path), db=db_url)
        assert f"hidden faults: curtain_ok={str(drawn[sid]).lower()}" in shown.stdout, shown.stdout + shown.stderr
        assert "practice" in shown.stdout
    assert set(drawn.values()) == {True, False}
    assert run_cli("sessions", "verify", db=db_url).returncode == 0
