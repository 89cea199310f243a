"""`trainer db backup` and `trainer db restore` on SQLite, driven through the CLI as an administrator would.

A backup is one self-contained, checked file that never takes in another database's leftovers and never replaces the
database itself; a restore puts a checked backup in place of the database whole, and refuses what would lose data.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_export_support import EXPERT, course, play, register

from trainer.cli import main
from trainer.store import backup as backup_mod
from trainer.store.store import Store


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with two finished sessions."""
    path = tmp_path / "trainer.db"
    with Store.open(path) as store:
        register(store, "B1", "张伟", "冲压车间")
        play(store, course(), "B1", EXPERT)
        play(store, course(), "B1", ["lock"])
    return path


EDIT_ONE_EVENT = (
    "UPDATE events SET data = '{\"edited\": true}' WHERE rowid = (SELECT min(rowid) FROM events WHERE seq = 2)"
)


def edit_one_event(path: Path) -> None:
    """Change one stored event behind the store's back, as an intruder with sqlite3 would."""
    conn = sqlite3.connect(path)
    conn.execute(EDIT_ONE_EVENT)
    conn.commit()
    conn.close()


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def refused(code: int, err: str, *words: str) -> None:
    assert code != 0 and err.count("\n") == 1 and err.startswith("trainer: error: ") and "Traceback" not in err, err
    for word in words:
        assert word in err, err


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def sessions_in(path: Path) -> int:
    with Store.open(path) as store:
        return len(store.sessions())


def leave_a_stale_wal(path: Path) -> None:
    """What a program that had `path` open in WAL mode leaves when it dies: a -wal holding a commit not in the file."""
    code = textwrap.dedent(
        f"""
        import os, sqlite3
        conn = sqlite3.connect({str(path)!r}, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("CREATE TABLE intruder (x)")
        conn.execute("INSERT INTO intruder VALUES (1), (2)")
        os._exit(0)  # no close: no checkpoint, the -wal stays
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert Path(f"{path}-wal").stat().st_size > 0


# --- backup ---------------------------------------------------------------------------------------------------------------


def test_a_backup_is_one_checked_private_file_in_rollback_mode(db, tmp_path, capsys):
    target = tmp_path / "copy.db"
    code, out, err = cli(capsys, "db", "backup", str(target), "--db", str(db))
    assert code == 0, err
    assert out == f"backup written: {target} (2 sessions, chains verified)\n"
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file: nothing to carry beside it
    conn.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("copy", ".copy"))) == ["copy.db"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # trainees' names and results
    assert sessions_in(target) == 2


def test_a_stale_wal_beside_the_target_never_gets_into_the_backup(db, tmp_path, capsys):
    target = tmp_path / "copy.db"
    assert cli(capsys, "db", "backup", str(target), "--db", str(db))[0] == 0
    leave_a_stale_wal(target)
    before = target.read_bytes()
    code, _, err = cli(capsys, "db", "backup", str(target), "--db", str(db))
    refused(code, err, str(target), "--force")
    assert target.read_bytes() == before
    Path(f"{target}-shm").unlink(missing_ok=True)
    code, _, err = cli(capsys, "db", "backup", str(target), "--db", str(db))  # only the -wal is left: refused too
    refused(code, err, "copy.db-wal", "--force")

    code, out, err = cli(capsys, "db", "backup", str(target), "--db", str(db), "--force")
    assert code == 0 and "2 sessions, chains verified" in out, err
    assert not Path(f"{target}-wal").exists() and not Path(f"{target}-shm").exists()
    assert "intruder" not in tables(target)
    assert "intruder" not in tables(target)  # opening it twice replays nothing either
    assert sessions_in(target) == 2


def test_a_stale_wal_without_its_file_is_refused_too(db, tmp_path, capsys):
    target = tmp_path / "copy.db"
    assert cli(capsys, "db", "backup", str(target), "--db", str(db))[0] == 0
    leave_a_stale_wal(target)
    target.unlink()
    code, _, err = cli(capsys, "db", "backup", str(target), "--db", str(db))
    refused(code, err, "copy.db-wal")
    assert not target.exists()


@pytest.mark.parametrize("spelling", ["dotdot", "symlink", "hardlink", "wal"])
def test_a_backup_never_replaces_the_database_itself(db, tmp_path, capsys, spelling):
    (tmp_path / "x").mkdir()
    target = {
        "dotdot": tmp_path / "x" / ".." / db.name,
        "symlink": tmp_path / "link.db",
        "hardlink": tmp_path / "hard.db",
        "wal": Path(f"{db}-wal"),
    }[spelling]
    if spelling == "symlink":
        target.symlink_to(db)
    if spelling == "hardlink":
        os.link(db, target)
    before = db.read_bytes()
    code, _, err = cli(capsys, "db", "backup", str(target), "--db", str(db), "--force")
    refused(code, err, "the database itself")
    assert db.read_bytes() == before and sessions_in(db) == 2


def test_a_damaged_copy_is_not_reported_as_a_backup(db, tmp_path, capsys, monkeypatch):
    check = backup_mod.check_copy

    def damaged(path, *, shown):
        with open(path, "r+b") as f:  # the copy gets garbage in its second page (the disk or the copy went wrong)
            f.seek(4096)
            f.write(b"\xff" * 4096)
        return check(path, shown=shown)

    monkeypatch.setattr(backup_mod, "check_copy", damaged)
    target = tmp_path / "copy.db"
    code, out, err = cli(capsys, "db", "backup", str(target), "--db", str(db))
    refused(code, err, str(target))
    assert "backup written" not in out and not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".copy")] == []


def test_a_broken_chain_is_reported_and_the_copy_kept(db, tmp_path, capsys):
    edit_one_event(db)
    target = tmp_path / "copy.db"
    code, out, _ = cli(capsys, "db", "backup", str(target), "--db", str(db))
    assert code == 1
    assert "event 2" in out and "fail chain verification, in the database too" in out.splitlines()[-1]
    assert target.exists()


# --- restore --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def backup(db, tmp_path, capsys) -> Path:
    target = tmp_path / "backup.db"
    assert cli(capsys, "db", "backup", str(target), "--db", str(db))[0] == 0
    return target


def test_restore_brings_a_backup_back_as_a_new_database(backup, tmp_path, capsys):
    database = tmp_path / "restored" / "trainer.db"
    database.parent.mkdir()
    code, out, err = cli(capsys, "db", "restore", str(backup), "--db", str(database))
    assert code == 0, err
    assert out == f"restored {backup} to {database}: 2 sessions, chains verified\n"
    assert sessions_in(database) == 2
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert sorted(p.name for p in database.parent.iterdir()) == ["trainer.db"]
    code, out, _ = cli(capsys, "sessions", "verify", "--db", str(database))
    assert code == 0 and "2 session(s) checked, 0 failed" in out


def test_restore_replaces_a_database_with_sessions_only_with_force(db, backup, capsys):
    with Store.open(db) as store:
        play(store, course(), "B1", EXPERT)  # after the backup
    os.chmod(db, 0o640)
    before = db.read_bytes()
    code, _, err = cli(capsys, "db", "restore", str(backup), "--db", str(db))
    refused(code, err, str(db), "holds 3 session(s)", "--force")
    assert db.read_bytes() == before

    code, out, err = cli(capsys, "db", "restore", str(backup), "--db", str(db), "--force")
    assert code == 0 and "it replaced 3 sessions" in out, err
    assert sessions_in(db) == 2
    assert stat.S_IMODE(db.stat().st_mode) == 0o640  # the database keeps its permissions


def test_restore_handles_the_databases_wal(db, backup, capsys):
    leave_a_stale_wal(db)  # the database was in use when its program died: its -wal holds a commit
    code, out, err = cli(capsys, "db", "restore", str(backup), "--db", str(db), "--force")
    assert code == 0, err
    assert not Path(f"{db}-wal").exists() and "intruder" not in tables(db)
    assert sessions_in(db) == 2


def test_restore_refuses_while_a_program_has_the_database_open(db, backup, capsys):
    code = textwrap.dedent(
        f"""
        import sys, time
        from trainer.store.store import Store
        with Store.open({str(db)!r}) as store:
            store.sessions()
            print("open", flush=True)
            sys.stdin.read()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    terminal = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    try:
        assert terminal.stdout is not None and terminal.stdout.readline() == b"open\n"
        before = db.read_bytes()
        code_, _, err = cli(capsys, "db", "restore", str(backup), "--db", str(db), "--force")
        refused(code_, err, "a program has the database open")
        assert db.read_bytes() == before
    finally:
        terminal.communicate(b"", timeout=60)


@pytest.mark.parametrize("kind", ["text", "other", "empty", "missing"])
def test_restore_refuses_a_file_that_is_not_a_trainer_backup(db, tmp_path, capsys, kind):
    source = tmp_path / f"{kind}.db"
    if kind == "text":
        source.write_text("not a database\n" * 20)
    if kind == "other":
        conn = sqlite3.connect(source)
        conn.execute("CREATE TABLE accounts (id)")
        conn.commit()
        conn.close()
    if kind == "empty":
        source.write_bytes(b"")
    before = db.read_bytes()
    code, _, err = cli(capsys, "db", "restore", str(source), "--db", str(db), "--force")
    refused(code, err, str(source))
    assert db.read_bytes() == before


def test_restore_refuses_a_backup_whose_chains_fail_without_force(backup, tmp_path, capsys):
    edit_one_event(backup)
    database = tmp_path / "new.db"
    code, _, err = cli(capsys, "db", "restore", str(backup), "--db", str(database))
    refused(code, err, "fail chain verification", "--force")
    assert not database.exists()
    code, out, _ = cli(capsys, "db", "restore", str(backup), "--db", str(database), "--force")
    assert code == 0 and "1 fail chain verification (restored with --force)" in out and database.exists()


def test_restore_refuses_the_database_itself(db, capsys):
    code, _, err = cli(capsys, "db", "restore", str(db), "--db", str(db), "--force")
    refused(code, err, "the database itself")


def test_restore_on_postgresql_says_how_in_one_line(backup, capsys):
    code, _, err = cli(capsys, "db", "restore", str(backup), "--db", "postgresql://trainer:secret@db.example/trainer")
    refused(code, err, "pg_restore")
    assert "secret" not in err
