"""Backups that restore: `trainer db backup` and `trainer db restore`.

A backup is worth what its restore gives back, so a backup is checked before it is called one:
- SQLite: the sqlite3 backup API copies a consistent snapshot of the live database (safe while terminals write) into a
  temporary file beside the target. The copy must pass PRAGMA integrity_check and then is opened as a Trainer database
  and every session's hash chain is verified (the check `trainer sessions verify` runs). It is switched to the rollback
  journal (journal_mode=DELETE): one self-contained file, no -wal to carry along. Only then is it renamed into place
  (trainer.outfile: --force to replace a file, a stale -wal/-shm/-journal beside the target refused or removed, 0600).
  A -wal left beside the target by a program that had an older file of that name open would otherwise be replayed by
  SQLite into the new copy: another database's pages inside the backup.
- PostgreSQL: pg_dump's archive (dialect.backup_postgresql), then read back with pg_restore --list.
- Restore (SQLite): the backup is copied beside the database, checked the same way, then renamed over the database
  while an exclusive lock shows that no terminal has it open. A database that holds sessions is replaced only with
  --force; a file that is not a Trainer database is refused. PostgreSQL databases are restored with pg_restore.
The source and the target are compared as real files (symbolic links, `..`, hard links), never by their names.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from trainer import outfile
from trainer.store import dialect
from trainer.store.access import Access
from trainer.store.errors import StoreError
from trainer.store.opening import identify_file, open_access
from trainer.store.records import ChainProblem
from trainer.store.verify import verification

RESTORE_LOCK_TIMEOUT = 2.0  # seconds to wait for the database to be free before saying a program has it open


@dataclass(frozen=True)
class Checked:
    """What the check of a backup found: its sessions and the ones whose hash chain fails."""

    path: Path
    sessions: int | None  # None: not counted (a pg_dump archive is only read back, not restored)
    problems: tuple[ChainProblem, ...] = ()
    how: str = "chains verified"  # what was checked, for the command's last line


def backup(db: Access, target: str | os.PathLike[str], *, force: bool = False) -> Checked:
    """Copy the live database to `target` (a consistent snapshot, safe while terminals write), checked before it is
    put in place; an existing `target` is replaced only with `force`. See the module.

    SQLite: one self-contained database file whose integrity and hash chains were verified (the result counts its
    sessions and lists any chain that fails, as in the database). PostgreSQL: a pg_dump archive of Trainer's schema
    in the custom format, for pg_restore (pg_dump must be installed).
    """
    dest = Path(target).expanduser().absolute()
    url = db._engine.url
    if dialect.is_postgresql(url):
        try:
            return backup_postgresql(db._engine, dest, force=force)
        except dialect.BackupFailed as exc:
            raise StoreError(f"{dest}: could not back up {db._where}: {exc}") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"{dest}: could not back up {db._where}: {dialect.explain(exc)}") from exc
    if not dialect.is_sqlite(url):
        raise StoreError(
            f"{db._where}: built-in backup is for SQLite and PostgreSQL databases; use the database's own tools"
        )
    try:
        return backup_sqlite(db._engine, dialect.sqlite_file(url), dest, force=force)
    except SQLAlchemyError as exc:
        raise StoreError(f"{dest}: could not write the backup of {db._where}: {dialect.explain(exc)}") from exc


def backup_sqlite(engine: Engine, source: Path | None, target: Path, *, force: bool) -> Checked:
    """Copy the live SQLite database of `engine` (file `source`, None in memory) to `target`, checked; see the module."""
    if source is not None:
        _refuse_same(source, target, f"{target}: a backup cannot overwrite the database itself; choose another file")
    found: list[Checked] = []

    def fill(tmp: Path) -> None:
        raw = engine.raw_connection()
        try:
            live: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
            copy = sqlite3.connect(tmp)
            try:
                live.backup(copy)
            finally:
                copy.close()
        finally:
            raw.close()
        found.append(check_copy(tmp, shown=target))
        _self_contained(tmp)

    try:
        outfile.write(target, fill, "backup", force=force, private=True, companions=outfile.SQLITE_COMPANIONS)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"{target}: could not write the backup: {dialect.explain(exc)}; nothing was written") from exc
    return Checked(target, found[0].sessions, found[0].problems)


def backup_postgresql(engine: Engine, target: Path, *, force: bool) -> Checked:
    """pg_dump's archive of Trainer's schema at `target`, read back with pg_restore --list when it is installed."""
    how: list[str] = []

    def fill(tmp: Path) -> None:
        dialect.backup_postgresql(engine, tmp)
        how.append(_list_archive(tmp))

    outfile.write(target, fill, "backup", force=force, private=True)
    return Checked(target, None, (), how[0])


def check_copy(path: Path, *, shown: Path) -> Checked:
    """PRAGMA integrity_check, then every session's chain (verify.py, as `trainer sessions verify`) of an SQLite copy.

    Raises StoreError naming `shown` (the file the user knows) when the copy is damaged or not a Trainer database.
    """
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{shown}: the copy is not a readable SQLite database ({exc}); nothing was changed") from exc
    finally:
        conn.close()
    if rows != [("ok",)]:
        raise StoreError(
            f"{shown}: the copy fails SQLite's integrity check ({rows[0][0]}); nothing was changed, "
            "and the database it comes from may be damaged: run `trainer db info`"
        )
    copy = open_access(Access, path)
    try:
        found = verification(copy)  # of the whole store: it checks every session
    finally:
        copy._engine.dispose()
    return Checked(shown, found.checked, found.problems)


def _self_contained(path: Path) -> None:
    """Switch the copy to the rollback journal: one file, nothing to carry beside it (a WAL copy needs its -wal)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    finally:
        conn.close()
    if str(mode).lower() != "delete":
        raise StoreError(f"{path}: could not switch the copy to journal_mode=DELETE (it stayed {mode})")


def _list_archive(archive: Path) -> str:
    """Read a pg_dump archive's table of contents back; what was checked, for the command's message."""
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        return "not read back: pg_restore is not installed"
    try:
        done = subprocess.run([pg_restore, "--list", str(archive)], capture_output=True, text=True, check=False)
    except OSError as exc:
        return f"not read back: cannot run {pg_restore}: {exc.strerror or exc}"
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        raise StoreError(f"pg_restore cannot read the archive pg_dump wrote: {lines[0] if lines else done.returncode}")
    return "archive read back with pg_restore --list"


# --- restore --------------------------------------------------------------------------------------------------------------


def restore_sqlite(backup: Path, database: Path, *, force: bool) -> tuple[Checked, int | None]:
    """Put the checked backup `backup` in place of the SQLite database `database`; see the module.

    Returns what the check found and how many sessions the replaced database held (None: there was none, or it was not
    a Trainer database). Raises StoreError (or outfile.OutputError) before changing anything.
    """
    _check_backup_file(backup)
    _refuse_same(backup, database, f"{backup}: this is the database itself; give a backup file")
    found: list[Checked] = []
    held = _holds(database)
    if held.data and not force:
        raise StoreError(f"{database}: {held.data}; add --force to replace it with the backup {backup}")
    with _exclusive(database):

        def fill(tmp: Path) -> None:
            shutil.copyfile(backup, tmp)
            checked = check_copy(tmp, shown=backup)
            if checked.problems and not force:
                first = checked.problems[0]
                raise StoreError(
                    f"{backup}: {len(checked.problems)} session(s) fail chain verification (session "
                    f"{first.session_id} event {first.seq}: {first.reason}); add --force to restore it anyway"
                )
            _self_contained(tmp)
            found.append(checked)

        # force=True: whether the database may be replaced was decided above, by what it holds
        try:
            outfile.write(database, fill, "database", force=True, private=True, companions=outfile.SQLITE_COMPANIONS)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{database}: could not restore {backup}: {dialect.explain(exc)}") from exc
    return found[0], held.sessions


def _check_backup_file(backup: Path) -> None:
    """A regular file that is a Trainer database, with nothing beside it that a byte copy would leave out."""
    if not backup.is_file():
        what = "is not a regular file" if backup.exists() else "does not exist"
        raise StoreError(f"{backup}: the backup {what}; give the file `trainer db backup` wrote")
    for suffix in ("-wal", "-journal"):
        beside = Path(f"{backup}{suffix}")
        if beside.exists() and beside.stat().st_size > 0:
            raise StoreError(
                f"{backup}: {beside.name} is beside it, so the file alone is not the whole database; close the "
                "program that has it open (or open and close it once with sqlite3) and restore again"
            )
    identify_file(backup, "backup", untouched="nothing was changed", empty_ok=False)


@dataclass(frozen=True)
class _Held:
    data: str = ""  # what the database holds that a restore would destroy, in words; "" for nothing
    sessions: int | None = None


def _is_file_with_data(database: Path) -> bool:
    """A non-empty regular file; anything else (nothing, a link, a device) outfile refuses or creates in its own words."""
    return not database.is_symlink() and database.is_file() and database.stat().st_size > 0


def _holds(database: Path) -> _Held:
    """What the database holds, read without changing it (a refused restore leaves it as it was)."""
    if not _is_file_with_data(database):
        return _Held()
    try:
        conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=RESTORE_LOCK_TIMEOUT)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return _Held()
            if "sessions" not in tables or "meta" not in tables:
                return _Held(f"it is not a Trainer database (tables: {', '.join(sorted(tables)[:5])})")
            count = int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return _Held(f"it is not a Trainer database or cannot be read ({exc})")
    return _Held(f"it holds {count} session(s)" if count else "", count)


@contextmanager
def _exclusive(database: Path) -> Iterator[None]:
    """Hold the database's exclusive lock until the restored file is in place; refuse if a program has it open.

    Switching to journal_mode=DELETE needs every other connection closed (a terminal keeps one open while it runs) and
    folds the -wal into the file; BEGIN EXCLUSIVE then keeps new connections out.
    """
    if not _is_file_with_data(database):
        yield
        return
    conn = sqlite3.connect(database, timeout=RESTORE_LOCK_TIMEOUT, isolation_level=None)
    try:
        try:
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    f"{database}: a program has the database open (a terminal or `trainer serve`?); stop it and "
                    "restore again; nothing was changed"
                ) from exc
        except sqlite3.DatabaseError:
            pass  # not a database (damaged): nothing to lock or fold in; --force replaces it
        yield
    finally:
        conn.close()


def _refuse_same(a: Path, b: Path, message: str) -> None:
    """Refuse when `a` and `b` are one file, or `b` is one of `a`'s journals, however the paths are spelled."""
    real_a, real_b = os.path.realpath(a), os.path.realpath(b)
    same = real_a == real_b or any(real_b == real_a + s or real_a == real_b + s for s in outfile.SQLITE_COMPANIONS)
    if not same and os.path.exists(a) and os.path.exists(b):
        same = os.path.samefile(a, b)  # hard links, bind mounts
    if same:
        raise StoreError(message)
