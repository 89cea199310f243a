"""`trainer db copy`: whole databases built by playing courses, copied SQLite -> the other backend -> SQLite, merged
from two plants whose badges collide, interrupted by SIGKILL and resumed, and tampered with after the copy.

The target runs on every backend (`db_url`: an SQLite file, and a PostgreSQL schema when TRAINER_TEST_DB is set); the
sources are SQLite files, as a plant's training PC has them.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from backends import _engine, execute, scalars
from cliproc import ROOT, run_cli
from sqlalchemy import select, text
from test_export_support import EXPERT, course, play, register
from test_store_migrations import _database_at
from test_tamper_evidence import TAMPERS, record

from trainer import pins
from trainer.store import copy as copy_mod
from trainer.store import schema, sweep
from trainer.store.store import Store


def sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


def plant(tmp_path: Path, name: str) -> Path:
    """A plant's database: one session of each kind (record()), a label, a PIN, a setting; trainees B1 and B2."""
    path = tmp_path / f"{name}.db"
    ids = record(sqlite(path))
    with Store.open(path) as store:
        store.set_labels(ids["failed"], "inst", {"m1": "serious"})
        store.set_pin("B1", pins.hash_pin("4821"), "trainee")
        store.set_setting("trainee.pins", "on")
    return path


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table but meta, every row in primary key order, as SQLAlchemy reads it (independent of the copy's reads)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in schema.metadata.sorted_tables
                if t.name != "meta"
            }
    finally:
        engine.dispose()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy(*args: str) -> subprocess.CompletedProcess[str]:
    run = run_cli("db", "copy", *args)
    assert "Traceback" not in run.stderr, run.stderr
    return run


def this_run(stdout: str) -> dict[str, int]:
    """The summary's `this run` column: rows copied by the run, per table."""
    found = {}
    for line in stdout.splitlines():
        m = re.fullmatch(r"(\w+)\s+(\d+)\s+(\d+)\s+(\d+)", line.strip())
        if m:
            found[m[1]] = int(m[4])
    return found


def verify(url: str) -> subprocess.CompletedProcess[str]:
    return run_cli("sessions", "verify", "--db", url)


def test_a_played_database_goes_to_the_other_backend_and_back_whole_and_verified(tmp_path: Path, db_url: str) -> None:
    source = plant(tmp_path, "plant1")
    before = digest(source)
    run = copy("--from", str(source), "--to", db_url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "verified: 6 session(s)" in run.stdout and run.stderr == ""
    assert digest(source) == before  # opened read-only, never changed
    assert verify(db_url).returncode == 0
    back = tmp_path / "back.db"
    run = copy("--from", db_url, "--to", str(back))
    assert run.returncode == 0, run.stdout + run.stderr
    original, there, returned = dump(sqlite(source)), dump(db_url), dump(sqlite(back))
    assert original == there == returned
    assert len(original["events"]) > 30 and original["labels"] and original["trainee_pins"] and original["audit"]
    # the copies are working databases: a terminal pointed at them plays on, and its record verifies
    for url in (db_url, sqlite(back)):
        with Store.open(url) as store:
            played = play(store, course(), "B2", EXPERT)
            assert store.session(played.id).status == "completed"
            assert store.verify() == []


def test_a_second_run_copies_nothing_twice_and_takes_what_arrived_since(tmp_path: Path, db_url: str) -> None:
    source = plant(tmp_path, "plant1")
    assert copy("--from", str(source), "--to", db_url).returncode == 0
    again = copy("--from", str(source), "--to", db_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert set(this_run(again.stdout).values()) == {0}, again.stdout
    events_before = len(dump(sqlite(source))["events"])
    with Store.open(source) as store:  # the terminals play on while the copy is being made
        played = play(store, course(), "B1", EXPERT)
        store.set_labels(played.id, "inst", {"m1": "minor"})
        store.clear_pin("B1")
        register(store, "B3", "Cai Hong", "Welding")
    last = copy("--from", str(source), "--to", db_url)
    assert last.returncode == 0, last.stdout + last.stderr
    copied = this_run(last.stdout)
    assert copied["sessions"] == 1 and copied["trainees"] == 1 and copied["labels"] == 1
    assert copied["events"] == len(dump(sqlite(source))["events"]) - events_before > 0
    assert dump(sqlite(source)) == dump(db_url)  # the PIN cleared on the source is gone from the target too


def test_a_copy_killed_halfway_resumes_where_it_stopped(tmp_path: Path, db_url: str) -> None:
    source = plant(tmp_path, "plant1")
    # `trainer db copy` with one session per batch, killed (SIGKILL: no clean-up of any kind) after its third batch
    killer = textwrap.dedent(
        f"""
        import os, signal, sys
        from trainer.store import copy
        copy.SESSION_BATCH = 1
        batch = copy._session_batch
        done = []
        def dying(run, rows):
            batch(run, rows)
            done.append(1)
            if len(done) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        copy._session_batch = dying
        from trainer.cli import main
        sys.exit(main(["db", "copy", "--from", {str(source)!r}, "--to", {db_url!r}]))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "TRAINER_DB"}
    killed = subprocess.run(
        [sys.executable, "-c", killer], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    half = dump(db_url)
    whole = dump(sqlite(source))
    assert 0 < len(half["sessions"]) < len(whole["sessions"]) and half["ledger"] == []
    resumed = copy("--from", str(source), "--to", db_url)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    copied = this_run(resumed.stdout)
    assert copied["sessions"] == len(whole["sessions"]) - len(half["sessions"])
    assert copied["events"] == len(whole["events"]) - len(half["events"])
    assert dump(db_url) == whole


def test_a_tampered_target_fails_verification_naming_the_session(tmp_path: Path, db_url: str) -> None:
    source = plant(tmp_path, "plant1")
    assert copy("--from", str(source), "--to", db_url).returncode == 0
    sid = scalars(db_url, "SELECT session_id FROM events WHERE seq = 2 ORDER BY session_id LIMIT 1")[0]
    execute(db_url, ("UPDATE events SET data = '{\"edited\": true}' WHERE session_id = :sid AND seq = 2", {"sid": sid}))
    run = copy("--from", str(source), "--to", db_url)
    assert run.returncode == 1
    errors = run.stderr.splitlines()
    assert errors == [
        f"trainer: error: session {sid}: event 2: event 2 was altered: its content does not match its hash"
    ]
    assert "verification failed: 1 difference(s)" in run.stdout


def test_a_target_rolled_back_behind_the_copys_back_is_a_difference_of_heads(tmp_path: Path, db_url: str) -> None:
    source = plant(tmp_path, "plant1")
    assert copy("--from", str(source), "--to", db_url).returncode == 0
    with Store.open(source) as store:
        played = play(store, course(), "B1", EXPERT)
    # the source's new session reaches the target, then its last event vanishes there (the row rolled back with it)
    assert copy("--from", str(source), "--to", db_url).returncode == 0
    execute(
        db_url,
        ("DELETE FROM scores WHERE session_id = :sid", {"sid": played.id}),
        ("DELETE FROM events WHERE session_id = :sid AND seq = 1", {"sid": played.id}),
    )
    run = copy("--from", str(source), "--to", db_url)
    assert run.returncode == 1 and all(line.startswith("trainer: error: ") for line in run.stderr.splitlines())
    assert any(played.id in line for line in run.stderr.splitlines()), run.stderr


def test_a_target_with_other_records_is_refused_and_left_alone(tmp_path: Path, db_url: str) -> None:
    first, second = plant(tmp_path, "plant1"), plant(tmp_path, "plant2")
    assert copy("--from", str(first), "--to", db_url).returncode == 0
    held = dump(db_url)
    run = copy("--from", str(second), "--to", db_url)
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "already holds other records" in run.stderr
    assert "--merge --plant" in run.stderr and dump(db_url) == held


def test_two_plants_merge_with_colliding_badges_kept_apart_and_every_chain_verifies(
    tmp_path: Path, db_url: str
) -> None:
    first, second = plant(tmp_path, "plant1"), plant(tmp_path, "plant2")
    a = copy("--from", str(first), "--to", db_url, "--merge", "--plant", "cq1")
    b = copy("--from", str(second), "--to", db_url, "--merge", "--plant", "cq2")
    assert a.returncode == b.returncode == 0, a.stdout + a.stderr + b.stdout + b.stderr
    assert "badges used by another plant, kept apart: B1 -> B1@cq2, B2 -> B2@cq2" in b.stdout
    checked = verify(db_url)
    assert checked.returncode == 0, checked.stdout
    assert "12 session(s) checked, 0 failed verification" in checked.stdout
    trainees = {tuple(r) for r in _rows(db_url, "SELECT badge, plant, name FROM trainees ORDER BY badge")}
    assert trainees == {
        ("B1", "cq1", "Ann Lee"),
        ("B2", "cq1", "Bo Chen"),
        ("B1@cq2", "cq2", "Ann Lee"),
        ("B2@cq2", "cq2", "Bo Chen"),
    }
    # each plant's sessions are its own trainees', with the same chains as on the plant's PC
    for path, suffix in ((first, ""), (second, "@cq2")):
        for sid, badge, head in _rows(sqlite(path), "SELECT id, badge, head_hash FROM sessions"):
            assert _rows(db_url, f"SELECT badge, head_hash FROM sessions WHERE id = '{sid}'") == [
                (badge + suffix, head)
            ]
    with Store.open(first) as store:  # plant 1 plays on; the next run of its merge brings only that
        play(store, course(), "B1", EXPERT)
    again = copy("--from", str(first), "--to", db_url, "--merge", "--plant", "cq1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert this_run(again.stdout)["sessions"] == 1 and this_run(again.stdout)["trainees"] == 0
    assert verify(db_url).returncode == 0
    # the rename is evidence too: giving a merged session back its old badge with SQL is a finding naming it
    sid = _rows(sqlite(second), "SELECT id FROM sessions ORDER BY id LIMIT 1")[0][0]
    execute(db_url, ("UPDATE sessions SET badge = 'B1' WHERE id = :sid", {"sid": sid}))
    tampered = verify(db_url)
    assert tampered.returncode == 1 and f"session {sid}: sessions.badge does not match the chain" in tampered.stdout


def test_a_merged_database_copies_whole_but_is_not_merged_again(tmp_path: Path, db_url: str) -> None:
    first, second = plant(tmp_path, "plant1"), plant(tmp_path, "plant2")
    for path, name in ((first, "cq1"), (second, "cq2")):
        assert copy("--from", str(path), "--to", db_url, "--merge", "--plant", name).returncode == 0
    whole = tmp_path / "group.db"
    run = copy("--from", db_url, "--to", str(whole))  # e.g. the group's database moved back to one file
    assert run.returncode == 0, run.stdout + run.stderr
    assert dump(sqlite(whole)) == dump(db_url) and verify(sqlite(whole)).returncode == 0
    again = copy("--from", str(whole), "--to", str(tmp_path / "other.db"), "--merge", "--plant", "group")
    assert again.returncode == 1 and "merged plants already" in again.stderr and again.stderr.count("\n") == 1


def test_settings_a_merge_keeps_the_targets_and_a_copy_makes_them_the_sources(tmp_path: Path, db_url: str) -> None:
    """A merge adds the settings the target lacks and leaves its own values; a copy into a target with settings
    but no records leaves it with the source's settings only."""
    source = plant(tmp_path, "plant1")  # trainee.pins = on
    with Store.open(source) as store:
        store.set_settings({"site.time_zone": "Asia/Shanghai", "report.title": "Plant 1"})
        theirs = store.settings_under("")
    ours = {"site.time_zone": "Europe/Berlin", "group.only": "yes"}
    with Store.open(db_url) as store:
        store.set_settings(ours)
    assert copy("--from", str(source), "--to", db_url, "--merge", "--plant", "cq1").returncode == 0
    with Store.open(db_url) as store:
        assert store.settings_under("") == {**theirs, **ours}
    other = tmp_path / "other.db"
    with Store.open(other) as store:
        store.set_settings(ours)
    assert copy("--from", str(source), "--to", str(other)).returncode == 0
    with Store.open(other) as store:
        assert store.settings_under("") == theirs


def test_one_database_cannot_be_merged_under_two_plants(tmp_path: Path, db_url: str) -> None:
    first = plant(tmp_path, "plant1")
    assert copy("--from", str(first), "--to", db_url, "--merge", "--plant", "cq1").returncode == 0
    run = copy("--from", str(first), "--to", db_url, "--merge", "--plant", "cq9")
    assert run.returncode == 1 and "merged into it as plant cq1" in run.stderr and run.stderr.count("\n") == 1


def test_bad_requests_are_one_line(tmp_path: Path) -> None:
    source = plant(tmp_path, "plant1")
    cases = [
        (["--from", str(tmp_path / "none.db"), "--to", str(tmp_path / "t.db")], "no such database file"),
        (["--from", str(source), "--to", str(source)], "the same database"),
        (["--from", str(source), "--to", str(tmp_path / "t.db"), "--merge"], "--merge needs --plant"),
        (["--from", str(source), "--to", str(tmp_path / "t.db"), "--merge", "--plant", "a b"], "short name"),
    ]
    for args, words in cases:
        run = copy(*args)
        assert run.returncode != 0 and run.stderr.count("\n") == 1 and words in run.stderr, (args, run.stderr)


def test_an_older_source_is_refused_untouched(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    _database_at(sqlite(old), 4)
    before = digest(old)
    run = copy("--from", str(old), "--to", str(tmp_path / "t.db"))
    assert run.returncode == 1 and "schema version 4" in run.stderr and "trainer db upgrade" in run.stderr
    assert digest(old) == before


def test_version_5_gives_trainees_a_plant(db_url: str) -> None:
    """The schema step of the merge (Step 5, migrations._trainee_plant): a version 4 database gets trainees.plant,
    NULL for the trainees it has."""
    _database_at(db_url, 4)
    execute(
        db_url,
        (
            "INSERT INTO trainees (badge, name, department, created_at) VALUES ('B1', 'A', 'P', :t)",
            {"t": "2026-01-01 00:00:00"},
        ),
    )
    Store.open(db_url).close()
    assert _rows(db_url, "SELECT badge, plant FROM trainees") == [("B1", None)]


LEDGER_TAMPERS = {
    "ledger entry removed": "DELETE FROM ledger WHERE seq = 5",
    "ledger entry altered": "UPDATE ledger SET event_count = event_count + 1 WHERE seq = 9",
    "trainee renamed": "UPDATE trainees SET name = 'Someone' WHERE badge = 'B2'",
    "untouched": "",
}


@pytest.mark.parametrize("case", sorted([*TAMPERS, *LEDGER_TAMPERS]))
def test_the_paged_verification_finds_what_sessions_verify_finds(db_url: str, case: str) -> None:
    """The copy verifies its target page by page (sweep.py, memory flat in the number of events): the same findings
    as Store.verification(), which `trainer sessions verify` prints, for every tamper that test_tamper_evidence makes."""
    ids = record(db_url)
    if case in TAMPERS:
        execute(db_url, *TAMPERS[case][0](ids))
    elif LEDGER_TAMPERS[case]:
        execute(db_url, (LEDGER_TAMPERS[case], {}))
    with Store.open(db_url) as store:
        whole = store.verification()
        paged = sweep.verify(store._engine, store._keying)
    assert set(paged.problems) == set(whole.problems) and (case == "untouched") == (not whole.problems)
    assert (paged.checked, paged.legacy, paged.ledger_entries, paged.ledger_head) == (
        whole.checked,
        whole.legacy,
        whole.ledger_entries,
        whole.ledger_head,
    )


def test_every_table_has_a_way_to_be_copied() -> None:
    """A table a later schema adds is copied by primary key (copy.py); this names it, so that whoever adds it decides
    whether that is right (rows that only grow, or that belong to a plant, need their own way)."""
    assert {t.name for t in schema.metadata.sorted_tables} == set(copy_mod.KNOWN)


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()
