"""Opening a database: which one (--db, $TRAINER_DB, the user's data folder), whether it is a Trainer database this
Trainer can use, and getting it ready (the engine configured, the schema migrated, its keying read).

A file that is not a Trainer database, or is from a newer Trainer, is refused before a byte is written to it; a
read-only database is refused at open, not at the trainee's first answer.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TypeVar

import platformdirs
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from trainer import sitekey
from trainer.store import chain, dialect, migrations, schema
from trainer.store.access import Access
from trainer.store.errors import StoreError

ENV_VAR = "TRAINER_DB"
DEFAULT_LOCK_TIMEOUT = 30.0  # seconds a writer waits for another terminal's write before giving up

A = TypeVar("A", bound=Access)


def default_url() -> str:
    """The SQLite file in the user's data folder (e.g. ~/.local/share/trainer/trainer.db on Linux)."""
    folder = Path(platformdirs.user_data_dir("trainer", appauthor=False))
    return dialect.sqlite_url(folder / "trainer.db")


def resolve(url: str | os.PathLike[str] | None) -> tuple[str, bool]:
    """The URL to open and whether it is the default one. A plain path (as --db or TRAINER_DB may give) means an SQLite file."""
    chosen = os.fspath(url) if url is not None else (os.environ.get(ENV_VAR) or None)
    if chosen is None:
        return default_url(), True
    if "://" in chosen:
        return chosen, False
    return dialect.sqlite_url(Path(chosen).expanduser().absolute()), False


def open_access(
    kind: type[A],
    url: str | os.PathLike[str] | None = None,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    fsync_every_commit: bool = True,
) -> A:
    """Open (creating or upgrading if needed) the database at `url`, else $TRAINER_DB, else default_url(), as a `kind`
    (Store, or a bare Access for the store's own checks). See Store.open."""
    text, is_default = resolve(url)
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text)  # it did not parse: hide what may be a password
        raise StoreError(
            f"{shown}: not a database URL or file path; give a path such as ./trainer.db or a URL such as sqlite:///trainer.db"
        ) from exc
    path = dialect.sqlite_file(parsed)
    where = str(path) if path is not None else parsed.render_as_string(hide_password=True)
    if path is not None:
        _prepare_folder(path, create=is_default)
        identify_file(path, "database", untouched="the file was left untouched", empty_ok=True)
    try:
        engine = dialect.create_engine(parsed, lock_timeout=lock_timeout, fsync_every_commit=fsync_every_commit)
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(
            f"{where}: cannot use this database URL ({exc}); check the URL and install its driver"
        ) from exc
    try:
        found = migrations.ensure(engine)
        _check_writable(engine)
        keying = _keying(engine)
    except sitekey.SiteKeyError:
        engine.dispose()
        raise
    except migrations.ForeignDatabase as exc:
        engine.dispose()
        raise StoreError(f"{where}: not a Trainer database ({exc}); the database was left untouched") from exc
    except migrations.NewerDatabase as exc:
        engine.dispose()
        raise StoreError(f"{where}: {exc}; the database was left untouched") from exc
    except (SQLAlchemyError, OSError) as exc:
        engine.dispose()
        raise StoreError(f"{where}: cannot open the database: {dialect.explain(exc)}") from exc
    return kind(engine, where, upgraded_from=None if found == migrations.latest_version() else found, keying=keying)


def identify_file(path: Path, what: str, *, untouched: str, empty_ok: bool) -> None:
    """Refuse, without writing a byte, an SQLite file that is not a Trainer database (or an empty one, unless
    `empty_ok`: a new database starts empty) or is from a newer Trainer; `untouched` says what was left as it was."""
    try:
        probe = dialect.probe_sqlite_file(path)
        if probe.exists or not empty_ok:
            found = migrations.identify(probe.tables, probe.meta, latest=migrations.latest_version())
            if found is None and not empty_ok:
                raise migrations.ForeignDatabase("it is empty")
    except (dialect.NotADatabase, migrations.ForeignDatabase) as exc:
        raise StoreError(f"{path}: not a Trainer database ({exc}); {untouched}") from exc
    except migrations.NewerDatabase as exc:
        raise StoreError(f"{path}: {exc}; {untouched}") from exc
    except dialect.CannotRead as exc:
        raise StoreError(f"{path}: cannot read the {what} ({exc}); check the file's permissions") from exc


def _prepare_folder(path: Path, *, create: bool) -> None:
    folder = path.parent
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"{folder}: cannot create the data folder ({exc.strerror or exc}); set {ENV_VAR} or --db to a writable place"
            ) from exc
    elif not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise StoreError(
            f"{path}: cannot open the database: {folder} {what}; create it or choose another --db/{ENV_VAR}"
        )


def _check_writable(engine: Engine) -> None:
    """Fail at open, not at the trainee's first answer, if the database is read-only: write a row unchanged, roll back."""
    m = schema.meta
    with dialect.write_transaction(engine) as conn:
        conn.execute(m.update().where(m.c.key == "schema_version").values(value=m.c.value))
        conn.rollback()


def _keying(engine: Engine) -> chain.Keying:
    """How the database's record is hashed (meta['chain']); the site key is read only for a keyed database."""
    m = schema.meta
    with dialect.read_transaction(engine) as conn:
        value = conn.execute(select(m.c.value).where(m.c.key == "chain")).scalar_one_or_none()
    keyed = (value or "").startswith(chain.KEYED)
    return chain.Keying.from_meta(value, sitekey.site_key() if keyed else None)
