"""The durable session store: the one API the CLI, the terminal app and the exports use to keep and read sessions.

Everything goes through SQLAlchemy Core and is returned as the frozen records of records.py, on SQLite or PostgreSQL.
Backend-specific behaviour (SQLite's WAL, fsync and locking; PostgreSQL's isolation and row locks; retries; backups) is
in dialect.py; the schema in schema.py and migrations.py; the hash chain in chain.py;
the "is its owner still running?" rule in liveness.py.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Self
from uuid import uuid4

import platformdirs
from sqlalchemy import Connection, Engine, Row, bindparam, case, func, null, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from trainer import people, sitekey
from trainer.course.model import MistakeSeverity
from trainer.engine.events import TERMINAL_KINDS, Event, EventKind, canonical_json
from trainer.store import audit, chain, dialect, evidence, migrations, schema
from trainer.store import backup as backup_mod
from trainer.store.errors import StoreError
from trainer.store.liveness import Owner, owner_alive
from trainer.store.records import (
    AttemptFacts,
    ChainProblem,
    FinishedSession,
    LabelRecord,
    MistakeMade,
    PinAttempt,
    PinResult,
    Requirement,
    RosterEntry,
    ScoreRecord,
    SessionRecord,
    SessionStatus,
    StoredEvent,
    StoredFeatures,
    Trainee,
    Verification,
)

ENV_VAR = "TRAINER_DB"
DEFAULT_LOCK_TIMEOUT = 30.0  # seconds a writer waits for another terminal's write before giving up

_TERMINAL_STATUS = {
    EventKind.COMPLETED: SessionStatus.COMPLETED,
    EventKind.FAILED: SessionStatus.FAILED,
    EventKind.ABORTED: SessionStatus.ABORTED,
}
_FINISHED = frozenset(_TERMINAL_STATUS.values())
_GRADES = ("none", "minor", "serious", "critical")  # an instructor's severities (trainer.scoring.features.GRADES)


def default_url() -> str:
    """The SQLite file in the user's data folder (e.g. ~/.local/share/trainer/trainer.db on Linux)."""
    folder = Path(platformdirs.user_data_dir("trainer", appauthor=False))
    return dialect.sqlite_url(folder / "trainer.db")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _resolve(url: str | os.PathLike[str] | None) -> tuple[str, bool]:
    """The URL to open and whether it is the default one. A plain path (as --db or TRAINER_DB may give) means an SQLite file."""
    chosen = os.fspath(url) if url is not None else (os.environ.get(ENV_VAR) or None)
    if chosen is None:
        return default_url(), True
    if "://" in chosen:
        return chosen, False
    return dialect.sqlite_url(Path(chosen).expanduser().absolute()), False


class Store:
    """Trainees, sessions and their hash-chained events in one database. Open with Store.open(); use as a context manager.

    Every write is one transaction that has committed (and, on SQLite, reached the disk) when the method returns. A failed
    write raises StoreError and changes nothing, so the caller can retry the same call.
    """

    default_url = staticmethod(default_url)

    def __init__(
        self, engine: Engine, where: str, *, upgraded_from: int | None = None, keying: chain.Keying | None = None
    ) -> None:
        """Use Store.open(): it checks the file, configures the engine and migrates the schema first."""
        self._engine = engine
        self._keying = keying or chain.Keying()  # how this database's record is hashed (meta['chain'], chain.py)
        self._where = where  # the file path, or the URL with its password hidden: how messages name the database
        # What open() found: None if the schema was current, 0 if the database was empty (created), else the old version.
        self.upgraded_from = upgraded_from
        self._heads: dict[str, tuple[int, str]] = {}  # session id -> (event_count, head_hash) this store last wrote

    # --- opening and closing ------------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        url: str | os.PathLike[str] | None = None,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        fsync_every_commit: bool = True,
    ) -> Store:
        """Open (creating or upgrading if needed) the database at `url`, else $TRAINER_DB, else default_url().

        `url` is any SQLAlchemy URL or a plain file path (an SQLite file). `fsync_every_commit=False` trades the last commits
        before a power loss for speed: only for benchmarks and throwaway databases.
        """
        text, is_default = _resolve(url)
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
            _check_file(path)
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
        return cls(engine, where, upgraded_from=None if found == migrations.latest_version() else found, keying=keying)

    def describe(self) -> str:
        """The database's URL with any password hidden (for `trainer db info` and logs)."""
        return self._engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Close every connection (on SQLite the last one checkpoints the WAL into the main file)."""
        self._engine.dispose()

    def forget_connections(self, *, close: bool = True) -> None:
        """Drop the idle pooled connections; the store opens new ones when next used. For worker processes made by
        fork(): the parent calls it before forking (close=True: no connection is shared), each child first thing
        (close=False: whatever it inherited is left alone, never used or closed by two processes)."""
        self._engine.dispose(close=close)

    @property
    def in_memory(self) -> bool:
        """An SQLite database in memory: it lives in this process only, no other process can read it."""
        return dialect.is_sqlite(self._engine.url) and dialect.sqlite_file(self._engine.url) is None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def diagnostics(self) -> dict[str, str]:
        """The backend's durability settings in force (SQLite: journal_mode, synchronous, busy_timeout, foreign_keys)."""
        with self._reading("read its settings") as conn:
            return dialect.durability_settings(conn)

    def backup(self, target: str | os.PathLike[str], *, force: bool = False) -> backup_mod.Checked:
        """Copy the live database to `target` (a consistent snapshot, safe while terminals write), checked before it is
        put in place; an existing `target` is replaced only with `force`. See store/backup.py.

        SQLite: one self-contained database file whose integrity and hash chains were verified (the result counts its
        sessions and lists any chain that fails, as in the database). PostgreSQL: a pg_dump archive of Trainer's schema
        in the custom format, for pg_restore (pg_dump must be installed).
        """
        dest = Path(target).expanduser().absolute()
        if dialect.is_postgresql(self._engine.url):
            try:
                return backup_mod.backup_postgresql(self._engine, dest, force=force)
            except dialect.BackupFailed as exc:
                raise StoreError(f"{dest}: could not back up {self._where}: {exc}") from exc
            except (SQLAlchemyError, OSError) as exc:
                raise StoreError(f"{dest}: could not back up {self._where}: {dialect.explain(exc)}") from exc
        if not dialect.is_sqlite(self._engine.url):
            raise StoreError(
                f"{self._where}: built-in backup is for SQLite and PostgreSQL databases; use the database's own tools"
            )
        try:
            return backup_mod.backup_sqlite(self._engine, dialect.sqlite_file(self._engine.url), dest, force=force)
        except SQLAlchemyError as exc:
            raise StoreError(f"{dest}: could not write the backup of {self._where}: {dialect.explain(exc)}") from exc

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

        try:
            # SQLite's BEGIN IMMEDIATE already locks the whole file: no row lock to take (one query less per append)
            row_lock = session is not None and not dialect.is_sqlite(self._engine.url)
            with dialect.write_transaction(self._engine, prepare=lock if row_lock else None) as conn:
                yield conn
        except StoreError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"{self._where}: could not {action}: {dialect.explain(exc)} ({undone})") from exc

    @contextmanager
    def _reading(self, action: str) -> Iterator[Connection]:
        try:
            with dialect.read_transaction(self._engine) as conn:
                yield conn
        except StoreError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"{self._where}: could not {action}: {dialect.explain(exc)}") from exc

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

    # --- trainees -------------------------------------------------------------------------------------------------------

    def upsert_trainee(self, badge: str, name: str, department: str) -> Trainee:
        """Register a trainee or update their name and department (the badge id is the key and never changes).

        The three are checked first (trainer.people): whatever screen or command typed them, nothing a terminal would
        act on, and nothing longer than a sheet's column, is stored.
        """
        badge, name, department = people.badge(badge), people.name(name), people.department(department)
        t = schema.trainees
        keying = self._hasher(f"save trainee {badge}")
        with self._writing(f"save trainee {badge}") as conn:
            before = conn.execute(select(t.c.name, t.c.department).where(t.c.badge == badge)).one_or_none()
            values = {"badge": badge, "name": name, "department": department, "created_at": _utcnow()}
            dialect.upsert(conn, t, values, update=("name", "department"))
            saved = conn.execute(select(t).where(t.c.badge == badge)).one()
            if before is None or tuple(before) != (saved.name, saved.department):  # the ledger keeps every change
                _enter(conn, keying, [_trainee_entry(keying, saved)])
        return _trainee(saved)

    def get_trainee(self, badge: str) -> Trainee | None:
        """The trainee with this badge; for a badge merged into another (`trainer trainees merge`), that other one:
        an old card still signs its holder in as the trainee they are now recorded as."""
        t = schema.trainees
        with self._reading(f"read trainee {badge}") as conn:
            row = conn.execute(select(t).where(t.c.badge == badge.strip())).one_or_none()
            seen = set()
            while row is not None and row.merged_into is not None and row.badge not in seen:
                seen.add(row.badge)
                row = conn.execute(select(t).where(t.c.badge == row.merged_into)).one_or_none()
        return None if row is None else _trainee(row)

    def trainees(self, *, merged: bool = False) -> list[Trainee]:
        """Every registered trainee, by badge id (for reports and exports); badges merged into another are left out
        (their sessions are read as that other trainee's) unless `merged`."""
        t = schema.trainees
        query = select(t).order_by(t.c.badge)
        if not merged:
            query = query.where(t.c.merged_into.is_(None))
        with self._reading("list trainees") as conn:
            rows = conn.execute(query).all()
        return [_trainee(row) for row in rows]

    # --- the roster and the requirements (schema version 5; docs/hr.md) -------------------------------------------------

    def import_trainees(
        self, entries: Sequence[tuple[str, RosterEntry]], *, act: audit.Act | None = None, source: str = ""
    ) -> dict[str, str]:
        """Create or update the trainees of HR's roster in one transaction: all or nothing. `entries`: (where in the
        file, e.g. "roster.csv:3", the entry). Each trainee created or changed gets a trainee.import row in the audit
        trail (old -> new of each field) and a ledger entry; one listed the same as stored is left alone. A role,
        plant or hire date the roster leaves empty is kept as stored. Returns badge -> "new", "changed" or "same"."""
        t = schema.trainees
        keying = self._hasher(f"import the roster {source}")
        act = self._act(act)
        now = _utcnow()
        outcome: dict[str, str] = {}
        with self._writing(f"import the roster {source}") as conn:
            trail, ledger = [], []
            for where, entry in entries:
                row = conn.execute(select(t).where(t.c.badge == entry.badge)).one_or_none()
                if row is not None and row.merged_into is not None:
                    raise StoreError(
                        f"{where}: badge {entry.badge} was merged into {row.merged_into}; list {row.merged_into} "
                        "instead (nothing was imported)"
                    )
                wanted = {"name": entry.name, "department": entry.department}
                for key in ("role", "plant", "hire_date"):
                    value = getattr(entry, key)
                    if value is not None:
                        wanted[key] = value
                if row is None:
                    conn.execute(t.insert().values(badge=entry.badge, created_at=now, **wanted))
                    changes = {key: [None, _jsonable(value)] for key, value in wanted.items()}
                    outcome[entry.badge] = "new"
                else:
                    changes = {
                        key: [_jsonable(getattr(row, key)), _jsonable(value)]
                        for key, value in wanted.items()
                        if getattr(row, key) != value
                    }
                    if not changes:
                        outcome[entry.badge] = "same"
                        continue
                    conn.execute(t.update().where(t.c.badge == entry.badge).values(**wanted))
                    outcome[entry.badge] = "changed"
                saved = conn.execute(select(t).where(t.c.badge == entry.badge)).one()
                ledger.append(_trainee_entry(keying, saved))
                detail = {"badge": entry.badge, "file": source, "new": row is None, "changes": changes}
                trail.append(audit.row(audit.TRAINEE_IMPORT, act=act, at=now, detail=detail))
            if ledger:
                _enter(conn, keying, ledger)
            audit.write(conn, trail)
        return outcome

    def edit_trainee(self, badge: str, changes: Mapping[str, Any], *, act: audit.Act | None = None) -> Trainee:
        """Correct a trainee's name, department, role, plant or hire date (`changes`: field -> new value, None to
        clear role, plant or hire date), audited (trainee.edit: old -> new) and entered in the ledger."""
        t = schema.trainees
        allowed = ("name", "department", "role", "plant", "hire_date")
        unknown = sorted(set(changes) - set(allowed))
        if unknown:
            raise ValueError(f"cannot edit {', '.join(unknown)}")
        keying = self._hasher(f"edit trainee {badge}")
        act = self._act(act)
        now = _utcnow()
        with self._writing(f"edit trainee {badge}") as conn:
            row = conn.execute(select(t).where(t.c.badge == badge)).one_or_none()
            if row is None:
                raise StoreError(f"{self._where}: no trainee with badge {badge}; check the badge")
            if row.merged_into is not None:
                raise StoreError(f"badge {badge} was merged into {row.merged_into}; edit {row.merged_into} instead")
            moved = {
                key: [_jsonable(getattr(row, key)), _jsonable(value)]
                for key, value in changes.items()
                if getattr(row, key) != value
            }
            if moved:
                conn.execute(t.update().where(t.c.badge == badge).values(**{k: changes[k] for k in moved}))
                saved = conn.execute(select(t).where(t.c.badge == badge)).one()
                _enter(conn, keying, [_trainee_entry(keying, saved)])
                detail = {"badge": badge, "changes": moved}
                audit.write(conn, [audit.row(audit.TRAINEE_EDIT, act=act, at=now, detail=detail)])
            row = conn.execute(select(t).where(t.c.badge == badge)).one()
        return _trainee(row)

    def merge_trainees(self, old: str, new: str, *, act: audit.Act | None = None) -> int:
        """Merge the duplicate badge `old` into `new`: from now on `old`'s sessions are read as `new`'s (reports,
        certifications, compliance) and `old` signs in as `new`. Nothing of the history is rewritten: each session
        keeps the badge its hash chain was started with (chain.identity), so `trainer sessions verify` still holds;
        `old`'s row stays, marked merged_into = `new` (audited: trainee.merge; in the ledger). Badges merged into
        `old` before now point to `new` too. `old`'s PIN is forgotten. Returns how many sessions `old` had."""
        t, s = schema.trainees, schema.sessions
        if old == new:
            raise StoreError(f"cannot merge badge {old} into itself")
        keying = self._hasher(f"merge trainee {old} into {new}")
        act = self._act(act)
        now = _utcnow()
        with self._writing(f"merge trainee {old} into {new}") as conn:
            rows = {r.badge: r for r in conn.execute(select(t).where(t.c.badge.in_([old, new])))}
            for badge in (old, new):
                if badge not in rows:
                    raise StoreError(f"{self._where}: no trainee with badge {badge}; check the badge")
                if rows[badge].merged_into is not None:
                    raise StoreError(f"badge {badge} was already merged into {rows[badge].merged_into}")
            moving = [old, *conn.execute(select(t.c.badge).where(t.c.merged_into == old).order_by(t.c.badge)).scalars()]
            conn.execute(t.update().where(t.c.badge.in_(moving)).values(merged_into=new))
            conn.execute(schema.trainee_pins.delete().where(schema.trainee_pins.c.badge.in_(moving)))
            entries = [
                _trainee_entry(keying, row)
                for row in conn.execute(select(t).where(t.c.badge.in_(moving)).order_by(t.c.badge))
            ]
            _enter(conn, keying, entries)
            count = conn.execute(select(func.count()).select_from(s).where(s.c.badge.in_(moving))).scalar_one()
            a, b = rows[old], rows[new]
            detail = {
                "badge": old,
                "into": new,
                "sessions": int(count),
                "also": moving[1:],
                "old": {"name": a.name, "department": a.department},
                "new": {"name": b.name, "department": b.department},
            }
            audit.write(conn, [audit.row(audit.TRAINEE_MERGE, act=act, at=now, detail=detail)])
        return int(count)

    def set_requirements(
        self, wanted: Sequence[Requirement], *, today: date, act: audit.Act | None = None, source: str = ""
    ) -> dict[str, list[str]]:
        """Replace the requirements with `wanted` (HR's file is the whole truth) in one transaction, audited
        (requirements.load: what was added, removed, changed) and entered in the ledger whole. A requirement loaded
        before keeps its `since`; a new one starts `today`. Returns {"added": [...], "removed": [...], "changed": [...]}."""
        r = schema.requirements
        keying = self._hasher("load the requirements")
        act = self._act(act)
        now = _utcnow()
        with self._writing("load the requirements") as conn:
            before = {(x.department, x.role, x.course_id): x for x in conn.execute(select(r))}
            rows = []
            for req in wanted:
                was = before.get(req.key)
                since = was.since if was is not None else today
                rows.append({**_requirement_row(req), "since": since})
            keys = {req.key for req in wanted}
            moved = {
                "added": sorted(_said(k) for k in keys - set(before)),
                "removed": sorted(_said(k) for k in set(before) - keys),
                "changed": sorted(
                    f"{_said(req.key)}: {before[req.key].first_days} -> {req.first_days} days"
                    for req in wanted
                    if req.key in before and before[req.key].first_days != req.first_days
                ),
            }
            conn.execute(r.delete())
            if rows:
                conn.execute(r.insert(), rows)
            facts = chain.requirements_facts(rows)
            _enter(
                conn,
                keying,
                [("requirements", "requirements", 0, chain.record_hash(keying, "requirements", facts), facts)],
            )
            detail = {"file": source, "count": len(rows), **moved}
            audit.write(conn, [audit.row(audit.REQUIREMENTS_LOAD, act=act, at=now, detail=detail)])
        return moved

    def requirements(self) -> list[Requirement]:
        """The requirements as last loaded, by course, department and role."""
        r = schema.requirements
        with self._reading("read the requirements") as conn:
            rows = conn.execute(select(r).order_by(r.c.course_id, r.c.department, r.c.role)).all()
        return [Requirement(x.department, x.role, x.course_id, x.first_days, x.since) for x in rows]

    def _aliases(self, conn: Connection) -> dict[str, str]:
        """Merged badge -> the badge it now counts as (followed to the end: merges never form a cycle)."""
        t = schema.trainees
        direct = dict(conn.execute(select(t.c.badge, t.c.merged_into).where(t.c.merged_into.is_not(None))).all())
        resolved = {}
        for badge in direct:
            target, seen = direct[badge], {badge}
            while target in direct and target not in seen:
                seen.add(target)
                target = direct[target]
            resolved[badge] = target
        return resolved

    # --- sessions -------------------------------------------------------------------------------------------------------

    def create_session(
        self,
        badge: str,
        course_id: str,
        course_version: str,
        content_hash: str,
        seed: int,
        lang: str,
        mode: str = chain.EXAM,
    ) -> SessionRecord:
        """Start a session for a registered trainee, owned by this process (only the owner may append). `mode`:
        practice or exam (only an exam certifies), bound into the session's genesis."""
        if mode not in ("practice", "exam"):
            raise ValueError(f"mode {mode!r}: a session is played as practice or exam")
        s = schema.sessions
        session_id = str(uuid4())
        now = _utcnow()
        owner = Owner.this_process()
        keying = self._hasher(f"start a session for badge {badge}")
        named = {
            "badge": badge,
            "course_id": course_id,
            "course_version": course_version,
            "content_hash": content_hash,
            "seed": int(seed),
            "lang": lang,
            "started_at": now,
            "mode": mode,
        }
        # The session's identity is bound into its genesis (its first event links to it) and kept in the ledger.
        facts = chain.identity(session_id, named)
        first = chain.genesis(keying, facts)
        with self._writing(f"start a session for badge {badge}") as conn:
            known = conn.execute(
                select(schema.trainees.c.merged_into).where(schema.trainees.c.badge == badge)
            ).one_or_none()
            if known is None:
                raise StoreError(f"{self._where}: no trainee with badge {badge}; register the trainee first")
            if known.merged_into is not None:
                raise StoreError(f"{self._where}: badge {badge} was merged into {known.merged_into}; use that badge")
            conn.execute(
                s.insert().values(
                    id=session_id,
                    **named,
                    status=SessionStatus.IN_PROGRESS.value,
                    event_count=0,
                    head_hash=first,
                    owner_host=owner.host,
                    owner_pid=owner.pid,
                    heartbeat_at=now,
                )
            )
            _enter(conn, keying, [("start", session_id, 0, first, canonical_json(facts))])
            row = conn.execute(select(s).where(s.c.id == session_id)).one()
        return _session(row, now)

    def append(
        self, session_id: str, events: Sequence[Event], *, score: Mapping[str, Any] | None = None
    ) -> list[StoredEvent]:
        """Store the next events of a session in one transaction and return them chained. Durable when this returns.

        The events must continue the session's sequence (event_count + 1, + 2, ...). A terminal event (completed, failed,
        aborted) may only come last; it finishes the session. `score` (a scoring as add_scores takes it; only with a
        terminal event) is stored in the same transaction and becomes the session's score: a session is never finished
        without it, whenever the process dies; its "features" (see add_scores), if given, are stored with it. On any
        failure nothing is stored and the same call can be retried.
        """
        batch = list(events)
        if not batch:
            return []
        short = session_id[:8]
        terminal = [i for i, e in enumerate(batch) if e.kind in TERMINAL_KINDS]
        if terminal and terminal != [len(batch) - 1]:
            raise StoreError(
                f"{self._where}: session {short}: a {batch[terminal[0]].kind} event must be the session's last event"
            )
        if score is not None and not terminal:
            raise ValueError(f"session {short}: a score is stored only with the session's terminal event")
        keying = self._hasher(f"store events of session {short}")
        now = _utcnow()
        scoring = None if score is None else _scoring_row({**score, "session_id": session_id}, now)
        features = None if score is None else score.get("features")
        # The head this store wrote last is usually still the head (a session has one owner). Chaining from it before the
        # write lock is taken keeps the lock short when terminals write at once; the UPDATE checks it still holds, and
        # when it does not, the head is read under the lock and checked as always.
        known = self._heads.get(session_id)
        guess = chained = None
        if known is not None and [e.seq for e in batch] == list(range(known[0] + 1, known[0] + 1 + len(batch))):
            guess = chain.link(keying, session_id, known[1], batch, now)
            chained = _chained_scoring(keying, guess[-1].hash, scoring)
        with self._writing(
            f"store {len(batch)} event(s) of session {short}", undone="nothing was stored; retry", session=session_id
        ) as conn:
            stored = guess
            if (
                guess is None
                or conn.execute(_APPEND_UPDATE_IF_HEAD, self._head_update(guess, known, chained)).rowcount != 1
            ):
                stored, chained = self._append_checked(conn, keying, session_id, batch, now, scoring)
            conn.execute(_APPEND_EVENTS, [_event_row(item) for item in stored])
            if chained is not None:
                conn.execute(_APPEND_SCORE, chained)
            if features is not None:
                conn.execute(_APPEND_FEATURES, _features_row(keying, stored[-1].hash, session_id, features))
            # The ledger keeps the session's new head: rolling the session back to an earlier one no longer matches it.
            head = stored[-1].hash if chained is None else chained["hash"]
            _enter(conn, keying, [("head", session_id, stored[-1].event.seq, head, None)])
        if terminal:
            self._heads.pop(session_id, None)
        else:
            self._heads[session_id] = (stored[-1].event.seq, stored[-1].hash)
        return stored

    def _append_checked(
        self,
        conn: Connection,
        keying: chain.Keying,
        session_id: str,
        batch: list[Event],
        now: datetime,
        scoring: dict[str, Any] | None,
    ) -> tuple[list[StoredEvent], dict[str, Any] | None]:
        """append()'s checks against the session row as stored, and its update; the chained events and scoring (not yet
        inserted)."""
        short = session_id[:8]
        row = conn.execute(_APPEND_HEAD, {"b_id": session_id}).one_or_none()
        if row is None:
            raise StoreError(f"{self._where}: no session {session_id}; check the session id")
        if row.status != SessionStatus.IN_PROGRESS:
            raise StoreError(f"{self._where}: session {short} is {row.status} and takes no more events")
        owner = Owner(row.owner_host, row.owner_pid)
        if owner != Owner.this_process():
            raise StoreError(
                f"{self._where}: session {short} belongs to process {owner.pid} on {owner.host}; claim it before adding events"
            )
        expected = list(range(row.event_count + 1, row.event_count + 1 + len(batch)))
        got = [ev.seq for ev in batch]
        if got != expected:
            raise StoreError(
                f"{self._where}: session {short}: events must continue at seq {expected[0]} without gaps, got {_seqs(got)}"
            )
        stored = chain.link(keying, session_id, row.head_hash, batch, now)
        chained = _chained_scoring(keying, stored[-1].hash, scoring)
        conn.execute(_APPEND_UPDATE, self._head_update(stored, None, chained))
        return stored, chained

    @staticmethod
    def _head_update(
        stored: list[StoredEvent], known: tuple[int, str] | None = None, scoring: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The session row's new values after `stored` (and, with `known`, the head it must still have: the b_ keys;
        with `scoring`, chained, the score it finishes with)."""
        last = stored[-1]
        values: dict[str, Any] = {
            "b_id": last.session_id,
            "event_count": last.event.seq,
            "head_hash": last.hash,
            "heartbeat_at": last.utc,
        }
        if last.event.kind in TERMINAL_KINDS:
            outcome = last.event.data.get("outcome")
            values.update(
                status=_TERMINAL_STATUS[last.event.kind].value,
                outcome=None if outcome is None else str(outcome),
                ended_at=last.utc,
            )
        if scoring is not None:
            values.update(score=scoring["score"], passed=scoring["passed"], score_hash=scoring["hash"])
        if known is not None:
            owner = Owner.this_process()
            values.update(b_count=known[0], b_head=known[1], b_host=owner.host, b_pid=owner.pid)
        return values

    def heartbeat(self, session_id: str) -> None:
        """Tell other hosts this process still runs the session (appends do it too; call it while a trainee reads a long page)."""
        s = schema.sessions
        owner = Owner.this_process()
        with self._writing(f"refresh session {session_id[:8]}", session=session_id) as conn:
            done = conn.execute(
                s.update()
                .where(
                    s.c.id == session_id,
                    s.c.owner_host == owner.host,
                    s.c.owner_pid == owner.pid,
                    s.c.status == SessionStatus.IN_PROGRESS.value,
                )
                .values(heartbeat_at=_utcnow())
            )
            if done.rowcount != 1:
                raise StoreError(
                    f"{self._where}: session {session_id[:8]} is no longer run by this process (finished, voided or claimed elsewhere)"
                )

    def release(self, session_id: str) -> None:
        """Give up a session this process runs (the trainee quit mid-way): it is interrupted at once, ready to resume."""
        s = schema.sessions
        owner = Owner.this_process()
        with self._writing(f"release session {session_id[:8]}", session=session_id) as conn:
            conn.execute(
                s.update()
                .where(
                    s.c.id == session_id,
                    s.c.owner_host == owner.host,
                    s.c.owner_pid == owner.pid,
                    s.c.status == SessionStatus.IN_PROGRESS.value,
                )
                .values(owner_host="", owner_pid=0)
            )

    def events(self, session_id: str) -> list[StoredEvent]:
        """A session's stored events in seq order (not verified: see verify())."""
        with self._reading(f"read the events of session {session_id[:8]}") as conn:
            if conn.execute(select(schema.sessions.c.id).where(schema.sessions.c.id == session_id)).first() is None:
                raise StoreError(f"{self._where}: no session {session_id}; check the session id")
            rows = conn.execute(_events_query(session_id)).all()
        try:
            return [_stored_event(row) for row in rows]
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"{self._where}: session {session_id[:8]} has an unreadable event ({exc}); run `trainer sessions verify`"
            ) from exc

    def events_of(self, session_ids: Sequence[str], *, chunk: int = 1000) -> Iterator[tuple[str, list[Event]]]:
        """The events of many sessions, for reports and exports: (session id, its events in seq order) for each id, in
        the order given; a session without events (or unknown) gets an empty list.

        One query per `chunk` sessions instead of one per session, and only what the engine's Event holds (no hashes):
        reading 100 000 sessions this way takes seconds. Not verified: see verify().
        """
        for sid, rows in self.event_rows_of(session_ids, chunk=chunk):
            yield sid, [Event(*row) for row in rows]

    def event_rows_of(self, session_ids: Sequence[str], *, chunk: int = 1000) -> Iterator[tuple[str, list[EventTuple]]]:
        """events_of() with each event as a plain tuple (seq, t_ms, kind, state, action, data) in Event's field order:
        for bulk readers (`trainer score --all` reads millions of events; trainer.scoring.detect.detect_rows takes these).

        The rows come straight from the driver (no SQLAlchemy Row per event), and events with the same data share one
        read-only mapping. Not verified: see verify().
        """
        e = schema.events
        ids = list(dict.fromkeys(session_ids))
        query = select(e.c.session_id, e.c.seq, e.c.t_ms, e.c.kind, e.c.state, e.c.action, e.c.data)
        kinds = {k.value: k for k in EventKind}
        parsed = _PARSED_DATA
        for first in range(0, len(ids), chunk):
            part = ids[first : first + chunk]
            with self._reading(f"read the events of {len(part)} session(s)") as conn:
                rows = _driver_rows(conn, query.where(e.c.session_id.in_(part)).order_by(e.c.session_id, e.c.seq))
            if len(parsed) > 100_000:
                parsed.clear()
            grouped: dict[str, list[EventTuple]] = {sid: [] for sid in part}
            sid, seq = "", 0
            try:
                for sid, seq, t_ms, kind, state, action, data in rows:
                    mapping = parsed.get(data)
                    if mapping is None:
                        mapping = parsed[data] = MappingProxyType(json.loads(data))
                    grouped[sid].append((seq, t_ms, kinds[kind], state, action, mapping))
            except (ValueError, KeyError, TypeError) as exc:
                raise StoreError(
                    f"{self._where}: session {sid[:8]} has an unreadable event {seq} ({exc}); run `trainer sessions verify`"
                ) from exc
            yield from grouped.items()

    def session(self, session_id_or_prefix: str) -> SessionRecord:
        """One session by id or by a unique prefix of it (as the CLI shows 8 characters)."""
        with self._reading(f"read session {session_id_or_prefix}") as conn:
            row = self._find(conn, session_id_or_prefix)
            aliases = self._aliases(conn)
        return _as_merged([_session(row, _utcnow())], aliases)[0]

    def sessions(
        self,
        badge: str | None = None,
        course_id: str | None = None,
        since: datetime | None = None,
        status: SessionStatus | None = None,
        *,
        newest_first: bool = True,
    ) -> list[SessionRecord]:
        """Sessions matching every filter given, newest first. `since` is timezone-aware and compared with started_at.

        `newest_first=False` leaves them in no particular order, for callers that sort them their own way: ordering
        100 000 sessions costs the database as much again as reading them.
        """
        s = schema.sessions
        query = select(*_RECORD_COLUMNS)
        if newest_first:
            query = query.order_by(s.c.started_at.desc(), s.c.id)
        if course_id is not None:
            query = query.where(s.c.course_id == course_id)
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("sessions(since=...) needs a timezone-aware datetime")
            query = query.where(s.c.started_at >= since)
        if status is not None:
            # interrupted is in_progress with a dead owner: select in_progress, then tell them apart below
            stored = SessionStatus.IN_PROGRESS if status is SessionStatus.INTERRUPTED else status
            query = query.where(s.c.status == stored.value)
        with self._reading("list sessions") as conn:
            aliases = self._aliases(conn)
            if badge is not None:  # with the sessions of the badges merged into it
                query = query.where(s.c.badge.in_([badge, *(old for old, new in aliases.items() if new == badge)]))
            rows, to_utc = _driver_rows(conn, query), _timestamps(conn)
        now = _utcnow()
        records = _as_merged([_session(row, now, to_utc) for row in rows], aliases)
        return records if status is None else [r for r in records if r.status is status]

    def finished_sessions(self, since: datetime | None = None, *, newest_first: bool = True) -> list[FinishedSession]:
        """The completed, failed and aborted sessions (started since `since`, timezone-aware), newest first as sessions()
        lists them, with only what rescoring needs: a fifth of sessions()' time on 100 000 sessions. `newest_first=False`
        leaves them in no particular order (rescoring them all needs none, and sorting costs the database half again)."""
        s = schema.sessions
        query = select(
            s.c.id, s.c.course_id, s.c.course_version, s.c.content_hash, s.c.status, s.c.score, s.c.passed
        ).where(s.c.status.in_(sorted(status.value for status in _FINISHED)))
        if newest_first:
            query = query.order_by(s.c.started_at.desc(), s.c.id)
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("finished_sessions(since=...) needs a timezone-aware datetime")
            query = query.where(s.c.started_at >= since)
        with self._reading("list the finished sessions") as conn:
            rows = _driver_rows(conn, query)  # no column here needs converting but the flag, done below
        statuses = {status.value: status for status in _FINISHED}
        return [
            FinishedSession(
                sid, course_id, version, content_hash, statuses[status], score, None if passed is None else bool(passed)
            )
            for sid, course_id, version, content_hash, status, score, passed in rows
        ]

    def claim(self, session_id: str) -> SessionRecord:
        """Take over an interrupted session so this process can resume it (append to it).

        Refused for finished or voided sessions and for sessions whose owner is still running elsewhere. Claiming a session
        this process already owns is a no-op.
        """
        s = schema.sessions
        now = _utcnow()
        me = Owner.this_process()
        with self._writing(f"claim session {session_id[:8]}") as conn:
            row = self._find(conn, session_id, lock=True)
            current = _session(row, now)
            owner = Owner(row.owner_host, row.owner_pid)
            if current.status in _FINISHED or current.status is SessionStatus.VOIDED:
                raise StoreError(f"{self._where}: session {row.id[:8]} is {current.status} and cannot be resumed")
            if current.status is SessionStatus.IN_PROGRESS and owner != me:
                raise StoreError(
                    f"{self._where}: session {row.id[:8]} is still in progress in process {owner.pid} on {owner.host}; close it there first"
                )
            conn.execute(
                s.update().where(s.c.id == row.id).values(owner_host=me.host, owner_pid=me.pid, heartbeat_at=now)
            )
            row = conn.execute(select(s).where(s.c.id == row.id)).one()
        return _session(row, now)

    def void(self, session_id: str, reason: str, by: str, *, act: audit.Act | None = None) -> SessionRecord:
        """Set an interrupted session aside (it will not be resumed or scored), recording why and by whom: on the
        session, and in the audit trail (the OS user, host and terminal of `act`, else this process's)."""
        s = schema.sessions
        reason = self._reason(reason)
        if not reason:
            raise StoreError(f"{self._where}: give a reason for voiding session {session_id[:8]}")
        now = _utcnow()
        keying = self._hasher(f"void session {session_id[:8]}")
        with self._writing(f"void session {session_id[:8]}") as conn:
            row = self._find(conn, session_id, lock=True)
            current = _session(row, now)
            if current.status is SessionStatus.VOIDED:
                raise StoreError(f"{self._where}: session {row.id[:8]} is already voided")
            if current.status in _FINISHED:
                raise StoreError(
                    f"{self._where}: session {row.id[:8]} is {current.status}; finished sessions cannot be voided"
                )
            if current.status is SessionStatus.IN_PROGRESS:
                raise StoreError(
                    f"{self._where}: session {row.id[:8]} is still in progress in process {row.owner_pid} on {row.owner_host}; it can be voided once interrupted"
                )
            conn.execute(
                s.update()
                .where(s.c.id == row.id)
                .values(status=SessionStatus.VOIDED.value, void_reason=reason, voided_by=by, voided_at=now)
            )
            detail = {"status": [str(current.status), SessionStatus.VOIDED.value], "by": by}
            trail_act = audit.Act(reason, act.actor if act else None)  # the reason given is the void's reason
            audit.write(conn, [audit.row(audit.SESSION_VOID, act=trail_act, at=now, session_id=row.id, detail=detail)])
            facts = canonical_json({"reason": reason.strip(), "by": by, "at": chain.utc_text(now)})
            _enter(conn, keying, [("void", row.id, row.event_count, row.score_hash or row.head_hash, facts)])
            row = conn.execute(select(s).where(s.c.id == row.id)).one()
        return _session(row, now)

    def verify(self, session_id: str | None = None) -> list[ChainProblem]:
        """verification()'s findings: none when the record is intact."""
        return list(self.verification(session_id).problems)

    def verification(self, session_id: str | None = None) -> Verification:
        """Check the record of one session (id or unique prefix) or of the whole store against its hashes (chain.py,
        evidence.py): each session's events, identity, scorings, derived fields and stored features, and its head
        against the ledger;
        for the whole store also the ledger itself, the sessions and trainees it names, and every trainee.

        One snapshot (a read transaction) for all of it. A keyed database read without its key is checked for
        structure (links, numbering, fields against the chain and the ledger), not authenticity (no hash recomputed).
        """
        s, h, t, led = schema.sessions, schema.scores, schema.trainees, schema.ledger
        keying = self._keying
        problems: list[ChainProblem] = []
        legacy = 0
        with self._reading("verify sessions") as conn:
            if session_id is None:
                rows = conn.execute(select(s).order_by(s.c.started_at, s.c.id)).all()
                entries = [evidence.Entry(*r) for r in conn.execute(select(led).order_by(led.c.seq))]
                problems += evidence.check_ledger(entries, keying, whole=True)
                size, tail = len(entries), (entries[-1].hash if entries else "")
            else:
                rows = [self._find(conn, session_id)]
                query = select(led).where(led.c.subject == rows[0].id).order_by(led.c.seq)
                entries = [evidence.Entry(*r) for r in conn.execute(query)]
                problems += evidence.check_ledger(entries, keying, whole=False)
                size = conn.execute(select(func.count()).select_from(led)).scalar_one()
                tail = conn.execute(_LEDGER_TAIL).first()
                tail = "" if tail is None else str(tail[1])
            mine: dict[str, list[evidence.Entry]] = {}
            for e in entries:
                if e.kind in evidence.SESSION_KINDS:
                    mine.setdefault(e.subject, []).append(e)
            for first in range(0, len(rows), 500):
                part = rows[first : first + 500]
                scorings: dict[str, list[Any]] = {}  # the scorings of 500 sessions in one query, not one each
                query = select(h).where(h.c.session_id.in_([row.id for row in part])).order_by(h.c.session_id, h.c.id)
                for scoring in conn.execute(query):
                    scorings.setdefault(scoring.session_id, []).append(scoring._mapping)
                f = schema.features
                kept = {
                    r.session_id: r._mapping
                    for r in conn.execute(select(f).where(f.c.session_id.in_([row.id for row in part])))
                }
                for row in part:
                    own = mine.get(row.id, [])
                    legacy += bool(own) and own[0].kind == "legacy"
                    stored, unreadable = _read_events(conn.execute(_events_query(row.id)).all())
                    problems += evidence.check_session(
                        row._mapping, stored, unreadable, scorings.get(row.id, []), own, keying
                    )
                    if row.id in kept:
                        problems += evidence.check_features(row._mapping, kept[row.id], keying)
            if session_id is None:
                problems += evidence.missing_sessions({row.id for row in rows}, entries)
                problems += evidence.check_trainees([r._mapping for r in conn.execute(select(t))], entries)
                required = [r._mapping for r in conn.execute(select(schema.requirements))]
                problems += evidence.check_requirements(required, entries)
        return Verification(
            problems=tuple(problems),
            checked=len(rows),
            legacy=legacy,
            keying=keying.meta_value(),
            authenticated=keying.can_hash,
            ledger_entries=size,
            ledger_head=tail,
        )

    # --- settings -------------------------------------------------------------------------------------------------------

    def get_setting(self, key: str) -> str | None:
        t = schema.settings
        with self._reading(f"read setting {key}") as conn:
            return conn.execute(select(t.c.value).where(t.c.key == key)).scalar_one_or_none()

    def set_setting(self, key: str, value: str) -> None:
        t = schema.settings
        with self._writing(f"save setting {key}") as conn:
            dialect.upsert(conn, t, {"key": key, "value": value}, update=("value",))

    def settings_under(self, prefix: str) -> dict[str, str]:
        """Every setting whose key starts with `prefix` (a family of rows, e.g. an LRS ledger's, one per session)."""
        t = schema.settings
        with self._reading(f"read settings {prefix}*") as conn:
            rows = conn.execute(select(t.c.key, t.c.value).where(t.c.key.startswith(prefix, autoescape=True)))
            return {str(k): str(v) for k, v in rows}

    def set_settings(self, values: Mapping[str, str]) -> None:
        """Save several settings in one transaction: all or none."""
        t = schema.settings
        with self._writing(f"save {len(values)} setting(s)") as conn:
            for key, value in values.items():
                dialect.upsert(conn, t, {"key": key, "value": value}, update=("value",))

    def change_setting(self, key: str, value: str, *, act: audit.Act | None = None) -> str | None:
        """Set a site setting an administrator chose (`trainer db set`) and record the change, old and new value, in
        the audit trail in the same transaction: a time zone moves expiry dates, so who changed it must be known.
        Returns the old value (None: it was unset)."""
        t = schema.settings
        with self._writing(f"save setting {key}") as conn:
            old = conn.execute(select(t.c.value).where(t.c.key == key)).scalar_one_or_none()
            dialect.upsert(conn, t, {"key": key, "value": value}, update=("value",))
            detail = {"key": key, "old": old, "new": value}
            audit.write(conn, [audit.row(audit.SETTING_SET, act=self._act(act), at=_utcnow(), detail=detail)])
        return old

    # --- the audit trail and the instructor password (schema version 4; see audit.py) ------------------------------------

    def audit_trail(
        self, *, since: datetime | None = None, action: str | None = None, session: str | None = None
    ) -> list[audit.AuditRecord]:
        """The audit trail, oldest first: rows at or after `since`, of `action`, about `session` (id or unique prefix)."""
        with self._reading("read the audit trail") as conn:
            ids = None if session is None else [self._find(conn, session).id]
            return audit.read(conn, since=since, action=action, session_ids=ids)

    def audit_of(self, session_ids: Sequence[str], actions: Sequence[str] | None = None) -> list[audit.AuditRecord]:
        """The audit rows about these sessions (of these actions, if given), oldest first (for reports)."""
        with self._reading("read the audit trail") as conn:
            return audit.read(conn, session_ids=session_ids, actions=actions)

    def record(self, action: str, *, act: audit.Act | None = None, detail: Mapping[str, Any] | None = None) -> None:
        """An audit row for an act that is not a change of this store's rows (a restore of the whole database)."""
        row = audit.row(action, act=self._act(act), at=_utcnow(), detail=detail)
        with self._writing(f"record {action} in the audit trail") as conn:
            audit.write(conn, [row])

    def instructor_sign_in(
        self, key: str, check: Callable[[str], bool], *, now: datetime | None = None, act: audit.Act | None = None
    ) -> audit.Attempt:
        """Check the instructor password stored at setting `key` with `check(stored_hash)`, unless the wait after
        earlier failures is not over; the attempt is recorded in the trail in the same transaction. See audit.py."""
        with self._writing("check the instructor password", undone="the attempt was not counted") as conn:
            try:
                return audit.attempt(conn, key, check, now=now or _utcnow(), act=act)
            except LookupError:
                raise StoreError("no instructor password is set; run `trainer instructor set-password` first") from None

    def set_instructor_password(
        self,
        key: str,
        new_hash: str,
        *,
        old: Callable[[str], bool] | None = None,
        reset: bool = False,
        act: audit.Act | None = None,
        now: datetime | None = None,
    ) -> audit.Attempt:
        """Store the instructor password's new hash at setting `key`: the first freely; a replacement after `old`
        accepts the current one (checked and throttled as a sign-in) or with `reset` and a reason. Recorded in the
        trail with the change; when the old password is refused nothing changes but the failure is recorded."""
        act = self._act(act)
        try:
            with self._writing("save the instructor password") as conn:
                return audit.set_password(conn, key, new_hash, old=old, reset=reset, now=now or _utcnow(), act=act)
        except ValueError as exc:
            raise StoreError(f"{exc}; nothing was changed") from None

    def _reason(self, reason: str) -> str:
        try:
            return audit.clean_reason(reason)
        except ValueError as exc:
            raise StoreError(f"{self._where}: {exc}; nothing was changed") from None

    def _act(self, act: audit.Act | None) -> audit.Act:
        """`act` with its reason checked and its actor known (looked up once, however many rows it signs)."""
        act = act or audit.Act()
        return audit.Act(self._reason(act.reason), act.actor or audit.Actor.here())

    # --- trainee PINs (schema version 4) ---------------------------------------------------------------------------------

    def has_pin(self, badge: str) -> bool:
        t = schema.trainee_pins
        with self._reading(f"read the PIN of {badge}") as conn:
            return conn.execute(select(t.c.badge).where(t.c.badge == badge)).first() is not None

    def set_pin(self, badge: str, pin_hash: str, by: str) -> None:
        """Give a registered trainee this PIN (its hash, trainer.pins.hash_pin), forgetting any wrong guesses."""
        t = schema.trainee_pins
        with self._writing(f"save the PIN of {badge}") as conn:
            if conn.execute(select(schema.trainees.c.badge).where(schema.trainees.c.badge == badge)).first() is None:
                raise StoreError(f"{self._where}: no trainee with badge {badge}; they sign in once first")
            values = {"pin_hash": pin_hash, "set_at": _utcnow(), "set_by": by, "failures": 0, "retry_at": None}
            dialect.upsert(conn, t, {"badge": badge, **values}, update=tuple(values))

    def clear_pin(self, badge: str) -> bool:
        """Forget a trainee's PIN (they choose a new one at their next sign-in); whether there was one."""
        t = schema.trainee_pins
        with self._writing(f"clear the PIN of {badge}") as conn:
            return conn.execute(t.delete().where(t.c.badge == badge)).rowcount > 0

    def try_pin(
        self,
        badge: str,
        matches: Callable[[str], bool],
        wait_ms: Callable[[int], int],
        now: datetime | None = None,
    ) -> PinAttempt:
        """Check a typed PIN against the stored hash (`matches(pin_hash)`), unless a wait after wrong ones runs.

        One write transaction, so tabs guessing at once still count every guess; `wait_ms(failures)` is the delay after
        that many wrong PINs in a row (trainer.pins.wait_ms). A right PIN forgets the wrong ones.
        """
        t = schema.trainee_pins
        now = now or _utcnow()
        with self._writing(f"check the PIN of {badge}") as conn:
            row = conn.execute(select(t.c.pin_hash, t.c.failures, t.c.retry_at).where(t.c.badge == badge)).one_or_none()
            if row is None:
                return PinAttempt(PinResult.NO_PIN)
            if row.retry_at is not None and now < row.retry_at:
                return PinAttempt(PinResult.WAIT, -(-(row.retry_at - now) // timedelta(milliseconds=1)))
            if matches(row.pin_hash):
                conn.execute(t.update().where(t.c.badge == badge).values(failures=0, retry_at=None))
                return PinAttempt(PinResult.RIGHT)
            failures = row.failures + 1
            wait = wait_ms(failures)
            retry = now + timedelta(milliseconds=wait) if wait else None
            conn.execute(t.update().where(t.c.badge == badge).values(failures=failures, retry_at=retry))
            return PinAttempt(PinResult.WRONG, wait)

    # --- labels and scores (schema version 2) ---------------------------------------------------------------------------

    def set_labels(
        self, session_id: str, labeller: str, severities: Mapping[str, str], *, act: audit.Act | None = None
    ) -> int:
        """Save one labeller's severities for mistakes of a session (mistake id -> none|minor|serious|critical), with
        one label.set row in the audit trail (old -> new severity of each mistake).

        A mistake this labeller had already labelled gets the new severity. Returns how many labels were written.
        """
        return self.import_labels([(session_id, labeller, severities)], act=act, action=audit.LABEL_SET)

    def import_labels(
        self,
        labels: Sequence[tuple[str, str, Mapping[str, str]]],
        *,
        act: audit.Act | None = None,
        action: str = audit.LABEL_IMPORT,
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        """set_labels() for several (session, labeller, severities) in one transaction: all or nothing, one audit row
        per session (`action`, with `detail` added to each). Returns how many labels were written."""
        if not labels:
            return 0
        t = schema.labels
        act = self._act(act)
        wanted = [(sid, labeller.strip(), severities) for sid, labeller, severities in labels]
        if any(not labeller for _, labeller, _ in wanted):
            raise StoreError(f"{self._where}: a label needs the labeller's id")
        bad = sorted({v for _, _, severities in wanted for v in severities.values() if v not in _GRADES})
        if bad:
            raise StoreError(f"{self._where}: severity {bad[0]!r} is not one of {', '.join(_GRADES)}")
        now = _utcnow()
        written = 0
        shown = wanted[0][0][:8] if len(wanted) == 1 else f"{len({sid for sid, _, _ in wanted})} sessions"
        with self._writing(f"save labels of {'session ' if len(wanted) == 1 else ''}{shown}") as conn:
            changes: dict[
                str, dict[str, dict[str, list[str | None]]]
            ] = {}  # session -> labeller -> mistake -> old, new
            for session_id, labeller, severities in wanted:
                row = self._find(conn, session_id)
                mine = changes.setdefault(row.id, {}).setdefault(labeller, {})
                for mistake_id, severity in severities.items():
                    key = (t.c.session_id == row.id, t.c.mistake_id == mistake_id, t.c.labeller == labeller)
                    old = conn.execute(select(t.c.severity).where(*key)).scalar_one_or_none()
                    if old is None:
                        conn.execute(
                            t.insert().values(
                                session_id=row.id,
                                mistake_id=mistake_id,
                                labeller=labeller,
                                severity=severity,
                                labelled_at=now,
                            )
                        )
                    else:
                        conn.execute(t.update().where(*key).values(severity=severity, labelled_at=now))
                    mine[mistake_id] = [mine.get(mistake_id, [old])[0], severity]
                    written += 1
            audit.write(
                conn,
                [
                    audit.row(action, act=act, at=now, session_id=sid, detail={**(detail or {}), "labels": by})
                    for sid, by in changes.items()
                ],
            )
        return written

    def labels(self, session_id: str | None = None) -> list[LabelRecord]:
        """Labels of one session (id or unique prefix) or of all sessions, by session, mistake and labeller."""
        t = schema.labels
        query = select(t).order_by(t.c.session_id, t.c.mistake_id, t.c.labeller)
        with self._reading("read labels") as conn:
            if session_id is not None:
                query = query.where(t.c.session_id == self._find(conn, session_id).id)
            rows = conn.execute(query).all()
        return [LabelRecord(r.session_id, r.mistake_id, r.labeller, r.severity, r.labelled_at) for r in rows]

    def add_scores(
        self,
        scores: Sequence[Mapping[str, Any]],
        *,
        act: audit.Act | None = None,
        action: str = audit.SCORE_RESCORE,
        detail: Mapping[str, Any] | None = None,
        per_session: bool = True,
    ) -> None:
        """Record scorings of sessions in one transaction, each becoming its session's current score.

        Each mapping holds session_id, scorer, score, passed, reason, review and details (a JSON-able list, or its
        canonical JSON text). Earlier scorings stay in the history (scores()). All or nothing: an unknown session id
        stores none of them. Two statements for the lot (executemany), however many there are.

        A mapping may also hold "features": {"feature_set", "content_hash", "mistakes"} (the features the scoring was
        computed from, see stored_features()): they replace the session's stored features, in the same transaction.

        With `act` (a rescoring someone asked for), each scoring also gets an audit row (`action`; its detail: the
        scorer, old -> new score and verdict, and `detail`) in the same transaction; with per_session=False the
        transaction gets one row instead, that counts the sessions (a routine rescoring of thousands with the current
        model: each session's scores history already shows it).
        """
        if not scores:
            return
        s, h = schema.sessions, schema.scores
        keying = self._hasher(f"save {len(scores)} score(s)")
        now = _utcnow()
        rows = [_scoring_row(x, now) for x in scores]
        # In session id order (stable: of two scorings of one session, the one given last stays the current score): each
        # statement then walks the indexes on session ids in order, a sixth less time than in the order given.
        rows.sort(key=lambda r: r["session_id"])
        update = (
            s.update()
            .where(s.c.id == bindparam("b_id"))
            .values(score=bindparam("b_score"), passed=bindparam("b_passed"), score_hash=bindparam("b_hash"))
        )
        heads_of = select(s.c.id, s.c.event_count, s.c.head_hash, s.c.score_hash).with_for_update()
        trail = self._act(act) if act is not None else None
        with self._writing(f"save {len(rows)} score(s)") as conn:
            each = trail is not None and per_session
            old = _current_scores(conn, [r["session_id"] for r in rows]) if each else {}  # before they are replaced
            # Each scoring is chained after its session's head (its last scoring, else its last event), read locked.
            ids = list(dict.fromkeys(r["session_id"] for r in rows))
            heads: dict[str, tuple[int, str]] = {}
            event_heads: dict[str, str] = {}
            for first in range(0, len(ids), 900):
                for sid, count, head, score_head in _driver_rows(
                    conn, heads_of.where(s.c.id.in_(ids[first : first + 900]))
                ):
                    heads[sid] = (count, score_head or head)
                    event_heads[sid] = head
            unknown = next((i for i in ids if i not in heads), None)
            if unknown is not None:
                raise StoreError(f"{self._where}: no session {unknown}; check the session id")
            chained, entries = [], []
            for row in rows:
                sid = row["session_id"]
                count, prev = heads[sid]
                linked = _linked(keying, prev, row)
                heads[sid] = (count, linked["hash"])
                chained.append(linked)
                entries.append(("head", sid, count, linked["hash"], None))
            last = {row["session_id"]: row for row in chained}  # each session's row takes its last scoring
            _driver_executemany(
                conn,
                update,
                [
                    {"b_id": sid, "b_score": r["score"], "b_passed": r["passed"], "b_hash": r["hash"]}
                    for sid, r in last.items()
                ],
            )
            _driver_executemany(conn, h.insert(), chained)
            features = {x["session_id"]: x["features"] for x in scores if x.get("features") is not None}
            if features:
                f = schema.features
                replaced = list(features)
                for first in range(0, len(replaced), 900):
                    conn.execute(f.delete().where(f.c.session_id.in_(replaced[first : first + 900])))
                _driver_executemany(
                    conn,
                    f.insert(),
                    [_features_row(keying, event_heads[sid], sid, given) for sid, given in features.items()],
                )
            _enter(conn, keying, entries)
            if each:
                assert trail is not None
                _driver_executemany(
                    conn, schema.audit.insert(), [_scoring_audit(r, old, action, trail, now, detail) for r in rows]
                )
            elif trail is not None:
                count = {**(detail or {}), "sessions": len(rows), "scorer": rows[0]["scorer"]}
                audit.write(conn, [audit.row(action, act=trail, at=now, detail=count)])

    def stored_features(self, session_ids: Sequence[str], feature_set: str, *, chunk: int = 900) -> StoredFeatures:
        """The features stored with these sessions' scorings (trainer.scoring.features.stored) that apply: made under
        `feature_set`, and matching their hash (chain.features_hash: bound to the session's events). A row edited by
        plain SQL is listed as altered instead. Rows of another feature set are left out (the caller computes them
        again); so is everything in a keyed database this process has no key for (no hash can be checked)."""
        keying = self._keying
        if not keying.can_hash:
            return StoredFeatures({})
        f, s = schema.features, schema.sessions
        query = select(f.c.session_id, f.c.feature_set, f.c.content_hash, f.c.mistakes, f.c.hash, s.c.head_hash).join(
            s, s.c.id == f.c.session_id
        )
        ids = list(dict.fromkeys(session_ids))
        found: dict[str, tuple[str, str]] = {}
        altered: set[str] = set()
        digest = chain.features_hash
        for first in range(0, len(ids), chunk):
            part = ids[first : first + chunk]
            with self._reading(f"read the stored features of {len(part)} session(s)") as conn:
                rows = _driver_rows(conn, query.where(f.c.session_id.in_(part)))
            for sid, made_under, content_hash, mistakes, stored_hash, head in rows:
                row = {"session_id": sid, "feature_set": made_under, "content_hash": content_hash, "mistakes": mistakes}
                if digest(keying, head, row) != stored_hash:
                    altered.add(sid)
                elif made_under == feature_set:
                    found[sid] = (content_hash, mistakes)
        return StoredFeatures(found, frozenset(altered))

    def unscored_sessions(self) -> list[FinishedSession]:
        """The finished (completed, failed, aborted) sessions that have no score, oldest first.

        Since schema version 3 a session finishes with its score in one transaction (append); these are left by an older
        Trainer killed between the two, or by a scoring that failed. Every command looks for them when it opens the
        store, so the query reads only the partial index of unscored sessions (schema.UNSCORED_INDEX): no table scan.
        """
        s = schema.sessions
        query = (
            select(s.c.id, s.c.course_id, s.c.course_version, s.c.content_hash, s.c.status)
            .where(s.c.score.is_(None), s.c.status.in_(sorted(status.value for status in _FINISHED)))
            .order_by(s.c.started_at, s.c.id)
        )
        with self._reading("look for finished sessions without a score") as conn:
            rows = conn.execute(query).all()
        return [
            FinishedSession(r.id, r.course_id, r.course_version, r.content_hash, _SESSION_STATUS[r.status], None, None)
            for r in rows
        ]

    def add_missing_scores(
        self,
        scores: Sequence[Mapping[str, Any]],
        *,
        act: audit.Act | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """add_scores() for finished sessions that still have no score when the transaction runs; the ids scored.

        For repairs (unscored_sessions()): a session another process scored meanwhile keeps that score, and no second
        scoring is added to its history. Each scoring gets a score.repair row in the audit trail (same transaction).
        """
        if not scores:
            return []
        s, h = schema.sessions, schema.scores
        keying = self._hasher(f"save {len(scores)} missing score(s)")
        now = _utcnow()
        finished = sorted(status.value for status in _FINISHED)
        done: list[str] = []
        entries: list[LedgerEntry] = []
        with self._writing(f"save {len(scores)} missing score(s)") as conn:
            for row in (_scoring_row(x, now) for x in scores):
                sid = row["session_id"]
                head = conn.execute(
                    select(s.c.event_count, s.c.head_hash, s.c.score_hash)
                    .where(s.c.id == sid, s.c.score.is_(None), s.c.status.in_(finished))
                    .with_for_update()
                ).first()
                if head is None:
                    continue
                linked = _linked(keying, head.score_hash or head.head_hash, row)
                conn.execute(
                    s.update()
                    .where(s.c.id == sid)
                    .values(score=row["score"], passed=row["passed"], score_hash=linked["hash"])
                )
                conn.execute(h.insert(), linked)
                entries.append(("head", sid, head.event_count, linked["hash"], None))
                done.append(sid)
            if entries:
                _enter(conn, keying, entries)
            trail = self._act(act)
            audit.write(
                conn,
                [
                    _scoring_audit(r, {}, audit.SCORE_REPAIR, trail, now, detail)
                    for r in (_scoring_row(x, now) for x in scores)
                    if r["session_id"] in done
                ],
            )
        return done

    def scores(self, session_id: str) -> list[ScoreRecord]:
        """Every scoring of a session (id or unique prefix), oldest first; the last one is the current score."""
        h = schema.scores
        with self._reading(f"read the scores of session {session_id}") as conn:
            sid = self._find(conn, session_id).id
            rows = conn.execute(select(h).where(h.c.session_id == sid).order_by(h.c.scored_at, h.c.id)).all()
        return [
            ScoreRecord(r.id, r.session_id, r.scored_at, r.scorer, r.score, r.passed, r.reason, r.review, r.details)
            for r in rows
        ]

    def graded_lists(self, session_ids: Sequence[str], *, chunk: int = 900) -> dict[str, str]:
        """The graded list of mistakes (the `details` JSON text of the latest scoring) of each session that was scored,
        by session id: what every report reads for a mistake's severity (trainer.scoring.judgement.read). Sessions
        never scored are left out."""
        h = schema.scores
        latest = h.alias("latest")
        out: dict[str, str] = {}
        ids = list(dict.fromkeys(session_ids))
        for first in range(0, len(ids), chunk):
            part = ids[first : first + chunk]
            last_scoring = (
                select(latest.c.id)
                .where(latest.c.session_id == h.c.session_id)
                .order_by(latest.c.scored_at.desc(), latest.c.id.desc())
                .limit(1)
                .scalar_subquery()
            )
            query = select(h.c.session_id, h.c.details).where(h.c.session_id.in_(part), h.c.id == last_scoring)
            with self._reading(f"read the graded mistakes of {len(part)} session(s)") as conn:
                out.update((sid, details) for sid, details in conn.execute(query).all())
        return out

    def sessions_with_facts(
        self, course_id: str | None = None, *, since: datetime | None = None, before: datetime | None = None
    ) -> list[tuple[SessionRecord, AttemptFacts | None]]:
        """Every session (of one course, if given), in no particular order, each with what a score sheet needs of it
        if it is finished and started within [since, before) (both aware, both optional): its last event's time and
        the mistakes its latest scoring kept, read without its events. Other sessions get None.

        One query: the last event is found by the session's event_count (seq counts from 1), the latest scoring by
        scored_at then id (as scores() orders them), each by an index lookup, and only for the sessions that need them.
        """
        s, e, h = schema.sessions, schema.events, schema.scores
        latest = h.alias("latest")
        wanted = s.c.status.in_([status.value for status in _FINISHED])
        if since is not None:
            wanted = wanted & (s.c.started_at >= since)
        if before is not None:
            wanted = wanted & (s.c.started_at < before)
        last_scoring = (
            select(latest.c.id)
            .where(latest.c.session_id == s.c.id)
            .order_by(latest.c.scored_at.desc(), latest.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(*_RECORD_COLUMNS, wanted.label("wanted"), e.c.t_ms, h.c.details, h.c.scorer)
            .outerjoin(e, (e.c.session_id == s.c.id) & (e.c.seq == s.c.event_count) & wanted)
            .outerjoin(h, (h.c.id == last_scoring) & wanted)
        )
        if course_id is not None:
            query = query.where(s.c.course_id == course_id)
        with self._reading("read the sessions and their scores") as conn:
            rows, to_utc = _driver_rows(conn, query), _timestamps(conn)
            aliases = self._aliases(conn)
        now = _utcnow()
        known: dict[str, tuple[MistakeMade, ...]] = {}  # sessions that made the same mistakes share a text
        out: list[tuple[SessionRecord, AttemptFacts | None]] = []
        for row in rows:
            record = _session(row, now, to_utc)
            if aliases and record.badge in aliases:
                record = replace(record, badge=aliases[record.badge])
            is_wanted, t_ms, details, scorer = row[-4:]
            if not is_wanted:
                out.append((record, None))
                continue
            try:
                mistakes = None if details is None else known.get(details)
                if mistakes is None and details is not None:
                    mistakes = known[details] = tuple(_made(d) for d in json.loads(details) if d["severity"] != "none")
            except (ValueError, KeyError, TypeError) as exc:
                raise StoreError(
                    f"{self._where}: session {record.id[:8]} has an unreadable score ({exc}); rescore it with `trainer score`"
                ) from exc
            out.append((record, AttemptFacts(record.id, t_ms, mistakes, scorer)))
        return out

    # --- helpers --------------------------------------------------------------------------------------------------------

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


def _check_file(path: Path) -> None:
    """Refuse, without writing a byte, a file that is not a Trainer database or is from a newer Trainer."""
    backup_mod.identify_file(path, "database", untouched="the file was left untouched", empty_ok=True)


def _seqs(seqs: Sequence[int]) -> str:
    return ", ".join(map(str, seqs[:5])) + (", ..." if len(seqs) > 5 else "")


_SEVERITIES = {s.value: s for s in MistakeSeverity}


def _made(deduction: Mapping[str, Any]) -> MistakeMade:
    """A mistake of a stored scoring's details (see trainer.scoring.grade.details) at its graded severity: the one
    judgement every sheet counts by (rows graded "none", cleared or folded under a root, are not mistakes; the caller
    leaves them out)."""
    return MistakeMade(str(deduction["code"]), _SEVERITIES[deduction["severity"]], str(deduction["mistake"]))


def _trainee(row: Row[Any]) -> Trainee:
    return Trainee(
        badge=row.badge,
        name=row.name,
        department=row.department,
        created_at=row.created_at,
        role=row.role,
        plant=row.plant,
        hire_date=row.hire_date,
        merged_into=row.merged_into,
    )


def _trainee_entry(keying: chain.Keying, row: Row[Any]) -> LedgerEntry:
    """The ledger entry of a trainee's row as it now is (every field the ledger keeps, chain.trainee_facts)."""
    facts = chain.trainee_facts(
        row.badge,
        row.name,
        row.department,
        role=row.role,
        plant=row.plant,
        hire_date=None if row.hire_date is None else row.hire_date.isoformat(),
        merged_into=row.merged_into,
    )
    return ("trainee", row.badge, 0, chain.record_hash(keying, "trainee", facts), facts)


def _as_merged(records: list[SessionRecord], aliases: Mapping[str, str]) -> list[SessionRecord]:
    """Records whose badge was merged into another (Store.merge_trainees) with that other badge: one person, one
    history, in every report. The stored row keeps the badge its chain binds; `trainer sessions verify` reads that."""
    if not aliases:
        return records
    return [replace(r, badge=aliases[r.badge]) if r.badge in aliases else r for r in records]


def _jsonable(value: Any) -> Any:
    """A field's value as the audit trail's JSON holds it (a date as YYYY-MM-DD)."""
    return value.isoformat() if isinstance(value, date) else value


def _requirement_row(req: Requirement) -> dict[str, Any]:
    return {"department": req.department, "role": req.role, "course_id": req.course_id, "first_days": req.first_days}


def _said(key: tuple[str, str, str]) -> str:
    """A requirement's key in words, for the audit trail: "course for department / role"."""
    department, role, course_id = key
    who = " / ".join(x for x in (department, role) if x) or "everyone"
    return f"{course_id} for {who}"


_SESSION_STATUS = {s.value: s for s in SessionStatus}

# append()'s statements, built once: every trainee answer runs them, and building a statement costs SQLAlchemy more
# than running it. The head is only what the checks and the chain need (no timestamps to parse).
_APPEND_HEAD = select(
    schema.sessions.c.status,
    schema.sessions.c.owner_host,
    schema.sessions.c.owner_pid,
    schema.sessions.c.event_count,
    schema.sessions.c.head_hash,
).where(schema.sessions.c.id == bindparam("b_id"))
_APPEND_EVENTS = schema.events.insert()
_APPEND_FEATURES = schema.features.insert()
_APPEND_SCORE = schema.scores.insert()
_APPEND_UPDATE = schema.sessions.update().where(schema.sessions.c.id == bindparam("b_id"))
_APPEND_UPDATE_IF_HEAD = _APPEND_UPDATE.where(  # the head append() chained from is still the session's head
    schema.sessions.c.status == SessionStatus.IN_PROGRESS.value,
    schema.sessions.c.owner_host == bindparam("b_host"),
    schema.sessions.c.owner_pid == bindparam("b_pid"),
    schema.sessions.c.event_count == bindparam("b_count"),
    schema.sessions.c.head_hash == bindparam("b_head"),
)


# What a SessionRecord is made of: the sessions table's columns in order, up to mode (voided_by, voided_at and
# score_hash, the last three, are not part of it), so that a `select(schema.sessions)` row starts with these too. The heartbeat only
# decides whether a session in progress still runs: listings read it for those alone (one timestamp less to parse in
# each finished session's row).
_RECORD_COLUMNS = tuple(
    case((schema.sessions.c.status == SessionStatus.IN_PROGRESS.value, column), else_=null()).label(column.name)
    if column.name == "heartbeat_at"
    else column
    for column in tuple(schema.sessions.c)[: tuple(schema.sessions.c).index(schema.sessions.c.mode) + 1]
)


def _session(
    row: Sequence[Any], now: datetime, to_utc: Callable[[Any], datetime | None] | None = None
) -> SessionRecord:
    """A record from a row that starts with _RECORD_COLUMNS. Unpacked by position: listing 100 000 sessions by column
    name costs twice as much. With `to_utc` (see _timestamps), `row` is the driver's: its timestamps and flag are
    converted here instead of by a SQLAlchemy Row (a third of a listing's time)."""
    (id_, badge, course_id, course_version, content_hash, seed, lang, status_text, outcome, score, passed, started_at,
     ended_at, event_count, _head, owner_host, owner_pid, heartbeat_at, void_reason, mode) = row[:20]  # fmt: skip
    if to_utc is not None:
        started_at, ended_at, heartbeat_at = to_utc(started_at), to_utc(ended_at), to_utc(heartbeat_at)
        passed = None if passed is None else bool(passed)
    status = _SESSION_STATUS[status_text]
    if status is SessionStatus.IN_PROGRESS and not owner_alive(Owner(owner_host, owner_pid), heartbeat_at, now):
        status = SessionStatus.INTERRUPTED
    return SessionRecord(
        id_, badge, course_id, course_version, content_hash, seed, lang, status, started_at, ended_at, outcome, score,
        passed, event_count, void_reason, mode,
    )  # fmt: skip


def _scoring_row(x: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A scores row from a scoring as add_scores() takes it (session_id, scorer, score, passed, reason, review, details:
    a JSON-able list or its canonical JSON text)."""
    details = x.get("details") or []
    return {
        "session_id": x["session_id"],
        "scored_at": now,
        "scorer": str(x["scorer"])[:64],
        "score": float(x["score"]),
        "passed": bool(x["passed"]),
        "reason": str(x["reason"]),
        "review": bool(x["review"]),
        "details": details if isinstance(details, str) else canonical_json(details),
    }


def _features_row(keying: chain.Keying, head_hash: str, session_id: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """A features row (schema.features) from a scoring's "features", hashed after the session's events' head."""
    row = {
        "session_id": session_id,
        "feature_set": str(given["feature_set"]),
        "content_hash": str(given["content_hash"]),
        "mistakes": str(given["mistakes"]),
    }
    return {**row, "hash": chain.features_hash(keying, head_hash, row)}


def _current_scores(conn: Connection, session_ids: Sequence[str]) -> dict[str, tuple[float | None, bool | None]]:
    """The sessions' current score and verdict, read in the transaction that replaces them (for the audit trail)."""
    s = schema.sessions
    ids = list(dict.fromkeys(session_ids))
    found: dict[str, tuple[float | None, bool | None]] = {}
    for first in range(0, len(ids), 900):
        query = select(s.c.id, s.c.score, s.c.passed).where(s.c.id.in_(ids[first : first + 900]))
        found.update((sid, (score, passed)) for sid, score, passed in conn.execute(query))
    return found


def _scoring_audit(
    row: Mapping[str, Any],
    old: Mapping[str, tuple[float | None, bool | None]],
    action: str,
    act: audit.Act,
    now: datetime,
    detail: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The audit row of one scoring: who scored, the scorer, old -> new score and verdict."""
    was_score, was_passed = old.get(row["session_id"], (None, None))
    return audit.row(
        action,
        act=act,
        at=now,
        session_id=row["session_id"],
        detail={
            **(detail or {}),
            "scorer": row["scorer"],
            "score": [was_score, row["score"]],
            "passed": [was_passed, row["passed"]],
        },
    )


def _linked(keying: chain.Keying, prev_hash: str, scoring: dict[str, Any]) -> dict[str, Any]:
    """A scores row (see _scoring_row) with its place in the session's chain: after `prev_hash`."""
    return {**scoring, "prev_hash": prev_hash, "hash": chain.scoring_hash(keying, prev_hash, scoring)}


def _chained_scoring(keying: chain.Keying, prev_hash: str, scoring: dict[str, Any] | None) -> dict[str, Any] | None:
    """_linked(), or None without a scoring."""
    return None if scoring is None else _linked(keying, prev_hash, scoring)


_LEDGER_TAIL = select(schema.ledger.c.seq, schema.ledger.c.hash).order_by(schema.ledger.c.seq.desc()).limit(1)
_LEDGER_INSERT = schema.ledger.insert()
_LEDGER_COLUMNS = ("seq", "kind", "subject", "event_count", "head", "facts", "prev_hash", "hash")
# A ledger entry before it is numbered and chained: (kind, subject, event_count, head, facts); see schema.ledger.
LedgerEntry = tuple[str, str, int, str, str | None]
# The ledger's two statements compiled once per backend, run on the driver's cursor: every trainee answer runs them,
# and SQLAlchemy's execute() costs more than the statements do (a third of an append's time, measured).
_LEDGER_SQL: dict[str, tuple[str, tuple[Any, ...], str, list[str], bool]] = {}


def _ledger_sql(conn: Connection) -> tuple[str, tuple[Any, ...], str, list[str], bool]:
    """(tail SQL, its parameters, insert SQL, the insert's parameter names in order, whether they are positional)."""
    name = conn.dialect.name
    if name not in _LEDGER_SQL:
        tail = _LEDGER_TAIL.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        tail_params: Any = tail.params
        if tail.positional:
            tail_params = tuple(tail_params[key] for key in tail.positiontup or ())
        insert = _LEDGER_INSERT.compile(dialect=conn.dialect, column_keys=list(_LEDGER_COLUMNS))
        names = list(insert.positiontup or ()) if insert.positional else list(insert.bind_names.values())
        _LEDGER_SQL[name] = (str(tail), tail_params, str(insert), names, bool(insert.positional))
    return _LEDGER_SQL[name]


def _enter(conn: Connection, keying: chain.Keying, entries: Sequence[LedgerEntry]) -> None:
    """Append entries to the ledger, chained after its last one, in the write transaction `conn`.

    The ledger has one end for the whole store: the writers that append to it are serialized (SQLite's write lock;
    PostgreSQL: dialect.lock_ledger, taken last so that it never waits while holding it for another lock).
    """
    dialect.lock_ledger(conn)
    tail_sql, tail_params, insert_sql, names, positional = _ledger_sql(conn)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(tail_sql, tail_params)
        tail = cursor.fetchone()
        seq, prev = (int(tail[0]), str(tail[1])) if tail is not None else (0, chain.LEDGER_GENESIS)
        rows: list[Any] = []
        for kind, subject, count, head, facts in entries:
            seq += 1
            digest = chain.ledger_hash(keying, prev, seq, kind, subject, count, head, facts)
            values = dict(zip(_LEDGER_COLUMNS, (seq, kind, subject, count, head, facts, prev, digest), strict=True))
            rows.append(tuple(values[key] for key in names) if positional else values)
            prev = digest
        if len(rows) == 1:
            cursor.execute(insert_sql, rows[0])
        elif rows:
            cursor.executemany(insert_sql, rows)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(insert_sql, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect) from exc
    finally:
        cursor.close()


def _keying(engine: Engine) -> chain.Keying:
    """How the database's record is hashed (meta['chain']); the site key is read only for a keyed database."""
    m = schema.meta
    with dialect.read_transaction(engine) as conn:
        value = conn.execute(select(m.c.value).where(m.c.key == "chain")).scalar_one_or_none()
    keyed = (value or "").startswith(chain.KEYED)
    return chain.Keying.from_meta(value, sitekey.site_key() if keyed else None)


def _event_row(stored: StoredEvent) -> dict[str, Any]:
    event = stored.event
    return {
        "session_id": stored.session_id,
        "seq": event.seq,
        "t_ms": event.t_ms,
        "utc": stored.utc,
        "kind": str(event.kind),
        "state": event.state,
        "action": event.action,
        "data": canonical_json(event.data),
        "prev_hash": stored.prev_hash,
        "hash": stored.hash,
    }


# An event as events_of() reads it, without building an Event: (seq, t_ms, kind, state, action, data).
EventTuple = tuple[int, int, EventKind, str, str | None, Mapping[str, Any]]
# Event data texts read so far, parsed (read-only: events share them). Most events repeat a few texts: rescoring reads
# them once per process instead of once per batch.
_PARSED_DATA: dict[str, Mapping[str, Any]] = {}


def _timestamps(conn: Connection) -> Callable[[Any], datetime | None]:
    """What turns a timestamp as the driver returns it into the aware UTC datetime the store hands out."""
    return schema.UTCDateTime().result_processor(conn.dialect, None)


def _driver_rows(conn: Connection, statement: Any) -> list[tuple[Any, ...]]:
    """The rows of a SELECT as the driver returns them (plain tuples, no SQLAlchemy Row or type processing: only for
    columns the driver already returns as wanted). For bulk reads, where building a Row per row would cost more than
    the query. SQLAlchemy still compiles the statement for the backend; errors are raised as SQLAlchemy's."""
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    # The parameters through their column types' bind processors, as conn.execute() would: a `since` in the site's
    # zone (2026-11-01 00:00+08:00) must reach SQLite as UTC text, not be compared as written with the stored UTC text.
    dialect = conn.dialect
    params: Any = dict(compiled.params)
    for bind, name in compiled.bind_names.items():
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect) if name in params else None
        if convert is not None:
            params[name] = convert(params[name])
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    sql = str(compiled)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect) from exc
    finally:
        cursor.close()


def _driver_executemany(conn: Connection, statement: Any, rows: Sequence[Mapping[str, Any]]) -> int:
    """Execute an INSERT or UPDATE for each row (a mapping of bind parameter names to values), in one executemany of
    the driver; the number of rows changed.

    As conn.execute(statement, rows) would, SQLAlchemy compiles the statement and its column types convert the values
    (bind processors), but converted in one pass here, once per value repeated from row to row (a timestamp), instead
    of through SQLAlchemy's per-row parameter machinery: a third less time for thousands of rows."""
    compiled = statement.compile(dialect=conn.dialect, column_keys=list(rows[0]))
    names: list[str] = list(compiled.positiontup or ()) if compiled.positional else list(compiled.bind_names.values())
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    dialect = conn.dialect
    columns = []
    for name in names:  # column by column: a converter is looked up once, and zip() makes the rows in C
        values = [row[name] for row in rows]
        convert = by_name[name].type.dialect_impl(dialect).bind_processor(dialect)
        columns.append(values if convert is None else _converted(values, convert))
    params: list[Any] = list(zip(*columns, strict=True))
    if not compiled.positional:
        params = [dict(zip(names, values, strict=True)) for values in params]
    return conn.exec_driver_sql(str(compiled), params).rowcount


def _converted(values: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """`values` through a bind processor, converting a value repeated from row to row (a timestamp) only once."""
    out = []
    last: Any = out  # a sentinel no value is
    done = None
    for value in values:
        if value is not last:
            last, done = value, convert(value)
        out.append(done)
    return out


def _events_query(session_id: str) -> Any:
    e = schema.events
    return select(e).where(e.c.session_id == session_id).order_by(e.c.seq)


def _stored_event(row: Row[Any]) -> StoredEvent:
    """Raises ValueError (bad kind, bad JSON) or TypeError for a damaged row."""
    data = json.loads(row.data)
    if not isinstance(data, dict):
        raise ValueError(f"event {row.seq}: data is not a JSON object")
    event = Event(
        seq=row.seq,
        t_ms=row.t_ms,
        kind=EventKind(row.kind),
        state=row.state,
        action=row.action,
        data=MappingProxyType(data),
    )
    return StoredEvent(session_id=row.session_id, event=event, utc=row.utc, prev_hash=row.prev_hash, hash=row.hash)


def _read_events(rows: Sequence[Row[Any]]) -> tuple[list[StoredEvent], ChainProblem | None]:
    """The stored events of a session's rows, up to the first unreadable one (which cannot be hashed), and the problem
    that one is (evidence.check_session reports the chain up to it first: an earlier problem wins)."""
    stored: list[StoredEvent] = []
    for row in rows:
        try:
            stored.append(_stored_event(row))
        except (ValueError, KeyError, TypeError) as exc:
            return stored, ChainProblem(
                session_id=row.session_id, seq=row.seq, reason=f"event {row.seq} is unreadable: {exc}"
            )
    return stored, None
