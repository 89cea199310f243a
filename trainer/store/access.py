"""What every part of the store needs to reach the database: the engine, the name messages give it, how its record is
hashed, and transactions that turn database and OS errors into one-line StoreErrors.

Store (store.py) is an Access; each concern (trainees.py, sessions.py, reads.py, scores.py, ...) is a module of plain
functions that take one as their first argument. The underscored names are the store package's own: the CLI, the app
and the exports use Store's methods, never these.

`utcnow` is the store's one clock: every module reads it through this module (`access.utcnow()`), so a test moves
every timestamp the store writes by patching `trainer.store.access.utcnow`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select
from sqlalchemy.exc import SQLAlchemyError

from trainer import sitekey
from trainer.store import audit, chain, dialect, schema
from trainer.store.errors import StoreError


def utcnow() -> datetime:
    return datetime.now(UTC)


class Access:
    """One open database. Made by Store.open() (opening.py), which checks the file, configures the engine and migrates
    the schema first."""

    def __init__(
        self, engine: Engine, where: str, *, upgraded_from: int | None = None, keying: chain.Keying | None = None
    ) -> None:
        self._engine = engine
        self._keying = keying or chain.Keying()  # how this database's record is hashed (meta['chain'], chain.py)
        self._where = where  # the file path, or the URL with its password hidden: how messages name the database
        # What open() found: None if the schema was current, 0 if the database was empty (created), else the old version.
        self.upgraded_from = upgraded_from
        self._heads: dict[str, tuple[int, str]] = {}  # session id -> (event_count, head_hash) this store last wrote

    # --- transactions ---------------------------------------------------------------------------------------------------

    @contextmanager
    def _writing(
        self, action: str, *, undone: str = "nothing was changed", session: str | None = None
    ) -> Iterator[Connection]:
        """A write transaction; database and OS errors become one-line StoreErrors (after the rollback).

        `session`: the id of the session this write changes. Its row is locked as the transaction starts, so writes to
        one session never interleave (PostgreSQL; SQLite's write lock covers the whole file) and a busy or locked start
        is retried (dialect.write_transaction).
        """

        def lock(conn: Connection) -> None:
            conn.execute(select(schema.sessions.c.id).where(schema.sessions.c.id == session).with_for_update())

        # SQLite's BEGIN IMMEDIATE already locks the whole file: no row lock to take (one query less per append)
        row_lock = session is not None and not dialect.is_sqlite(self._engine.url)
        with writing(self._engine, self._where, action, undone=undone, prepare=lock if row_lock else None) as conn:
            yield conn

    @contextmanager
    def _reading(self, action: str) -> Iterator[Connection]:
        try:
            with dialect.read_transaction(self._engine) as conn:
                yield conn
        except StoreError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"{self._where}: could not {action}: {dialect.explain(exc)}") from exc

    # --- who may write, and who acts -------------------------------------------------------------------------------------

    @property
    def writable(self) -> bool:
        """False for a keyed database opened without its site key: it can be read and verified, not written."""
        return self._keying.can_hash

    def _hasher(self, action: str) -> chain.Keying:
        """The keying to hash a write with; a keyed database without its key takes no writes (they could not be verified)."""
        keying = self._keying
        if not keying.can_hash:
            raise StoreError(
                f"{self._where}: cannot {action}: this database's record is keyed with site key {keying.key_id}, and "
                f"this process does not have it; set {sitekey.ENV_VAR} to that key's file"
            )
        return keying

    def _reason(self, reason: str) -> str:
        try:
            return audit.clean_reason(reason)
        except ValueError as exc:
            raise StoreError(f"{self._where}: {exc}; nothing was changed") from None

    def _act(self, act: audit.Act | None) -> audit.Act:
        """`act` with its reason checked and its actor known (looked up once, however many rows it signs)."""
        act = act or audit.Act()
        return audit.Act(self._reason(act.reason), act.actor or audit.Actor.here())

    # --- look-ups every concern makes -----------------------------------------------------------------------------------

    def _find(self, conn: Connection, id_or_prefix: str, *, lock: bool = False) -> Row[Any]:
        """The session row with this id, or the only one whose id starts with it.

        `lock` (in a write): lock the row until the transaction ends and return it as committed after any write that held
        it, so a claim or void decides on the session's latest state (PostgreSQL: SELECT ... FOR UPDATE).
        """
        s = schema.sessions
        key = id_or_prefix.strip().lower()  # uuid4 text is lower case; LIKE is case-insensitive on SQLite only
        if not key:
            raise StoreError(f"{self._where}: give a session id (or its first characters)")
        row = conn.execute(select(s).where(s.c.id == key)).one_or_none()
        if row is None:
            rows = conn.execute(select(s).where(s.c.id.startswith(key, autoescape=True)).limit(2)).all()
            if not rows:
                raise StoreError(f"{self._where}: no session {key}; list sessions to find its id")
            if len(rows) > 1:
                count = conn.execute(
                    select(func.count()).select_from(s).where(s.c.id.startswith(key, autoescape=True))
                ).scalar_one()
                raise StoreError(f"{self._where}: {count} sessions start with {key}; give more characters of the id")
            row = rows[0]
        if lock:
            row = conn.execute(select(s).where(s.c.id == row.id).with_for_update()).one()
        return row

    def _aliases(self, conn: Connection) -> dict[str, str]:
        """Merged badge -> the badge it now counts as (followed to the end: merges never form a cycle)."""
        t = schema.trainees
        direct = {
            str(row.badge): str(row.merged_into)
            for row in conn.execute(select(t.c.badge, t.c.merged_into).where(t.c.merged_into.is_not(None)))
        }
        resolved = {}
        for badge in direct:
            target, seen = direct[badge], {badge}
            while target in direct and target not in seen:
                seen.add(target)
                target = direct[target]
            resolved[badge] = target
        return resolved


@contextmanager
def writing(
    engine: Engine,
    where: str,
    action: str,
    *,
    undone: str = "nothing was changed",
    prepare: Callable[[Connection], object] | None = None,
) -> Iterator[Connection]:
    """A write transaction on `engine` (dialect.write_transaction: retried while busy) whose database and OS errors
    become one StoreError line: "`where`: could not `action`: why (`undone`)". Store's writes and `trainer db copy`'s
    batches (copy.py) both go through it."""
    try:
        with dialect.write_transaction(engine, prepare=prepare) as conn:
            yield conn
    except StoreError:
        raise
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"{where}: could not {action}: {dialect.explain(exc)} ({undone})") from exc
