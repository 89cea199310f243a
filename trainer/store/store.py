"""The durable session store: the one API the CLI, the terminal app and the exports use to keep and read sessions.

Store is a facade: each method is a function of the module that holds its concern, bound to the open database
(access.Access). Read a method's module for how it works:

    opening.py       which database, and opening it        trainees.py      trainees, the roster, merges
    sessions.py      a session's life: start, append, ...  requirements.py  the courses HR requires
    reads.py         sessions and events, one or in bulk   credentials.py   trainee PINs, the instructor password
    scores.py        scorings and their stored features    settings.py      site settings
    labels.py        instructors' severities               trail.py         the audit trail
    verify.py        the record against its hashes         backup.py        checked backups and restores

Below them: access.py (transactions, the session look-up), ledger.py (the store-wide hash chain), driver.py (the raw
driver paths that bulk scoring writes and the copy's reads take), records.py (the frozen rows handed out), schema.py and migrations.py,
chain.py and evidence.py (hashing and checking), dialect.py (SQLite and PostgreSQL), liveness.py (is a session's
owner still running?).

Every write is one transaction that has committed (and, on SQLite, reached the disk) when the method returns. A failed
write raises StoreError and changes nothing, so the caller can retry the same call.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Self

from trainer.store import (
    backup,
    credentials,
    dialect,
    labels,
    opening,
    reads,
    requirements,
    scores,
    sessions,
    settings,
    trail,
    trainees,
    verify,
)
from trainer.store.access import Access
from trainer.store.opening import DEFAULT_LOCK_TIMEOUT, ENV_VAR, default_url
from trainer.store.reads import EventTuple

__all__ = ["DEFAULT_LOCK_TIMEOUT", "ENV_VAR", "EventTuple", "Store", "default_url"]


class Store(Access):
    """Trainees, sessions and their hash-chained events in one database. Open with Store.open(); use as a context manager."""

    default_url = staticmethod(default_url)

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
        return opening.open_access(cls, url, lock_timeout=lock_timeout, fsync_every_commit=fsync_every_commit)

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

    # The rest of the API: each name is its module's function, bound as a method (its first parameter, `db`, is this
    # store); help(Store.append) shows the function's own docstring. Where a method and its module share a name
    # (trainees, requirements, sessions, scores, labels, verify, backup), that line comes last of its module's.

    # trainees and what HR loads
    upsert_trainee = trainees.upsert_trainee
    get_trainee = trainees.get_trainee
    import_trainees = trainees.import_trainees
    edit_trainee = trainees.edit_trainee
    merge_trainees = trainees.merge_trainees
    trainees = trainees.trainees
    set_requirements = requirements.set_requirements
    requirements = requirements.requirements

    # a session's life
    create_session = sessions.create_session
    append = sessions.append
    heartbeat = sessions.heartbeat
    release = sessions.release
    claim = sessions.claim
    void = sessions.void

    # reading sessions and events
    session = reads.session
    sessions = reads.sessions
    finished_sessions = reads.finished_sessions
    sessions_with_facts = reads.sessions_with_facts
    stream_sessions_with_facts = reads.stream_sessions_with_facts
    count_finished = reads.count_finished
    events = reads.events
    events_of = reads.events_of
    event_rows_of = reads.event_rows_of

    # scores, stored features, labels
    add_scores = scores.add_scores
    add_missing_scores = scores.add_missing_scores
    unscored_sessions = scores.unscored_sessions
    graded_lists = scores.graded_lists
    stored_features = scores.stored_features
    scores = scores.scores
    set_labels = labels.set_labels
    import_labels = labels.import_labels
    labels = labels.labels

    # checking and keeping the record
    verification = verify.verification
    verify = verify.verify
    backup = backup.backup
    diagnostics = settings.diagnostics

    # settings, the audit trail, who may sign in
    get_setting = settings.get_setting
    set_setting = settings.set_setting
    settings_under = settings.settings_under
    set_settings = settings.set_settings
    change_setting = settings.change_setting
    audit_trail = trail.audit_trail
    audit_of = trail.audit_of
    record = trail.record
    has_pin = credentials.has_pin
    set_pin = credentials.set_pin
    clear_pin = credentials.clear_pin
    try_pin = credentials.try_pin
    instructor_sign_in = credentials.instructor_sign_in
    set_instructor_password = credentials.set_instructor_password
