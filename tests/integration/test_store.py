"""The session store against real databases: an SQLite file, and PostgreSQL when TRAINER_TEST_DB is set (see conftest.py).

Durability settings, the hash chain, refusal of databases that are not ours, locking, retries and concurrency. Tests of
SQLite's file format (headers, WAL pragmas, damaged bytes) stay SQLite-only.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backends import (
    POSTGRESQL,
    SQLITE,
    backend,
    execute,
    only,
    restore_postgresql,
    scalars,
    session_row_locked,
    table_names,
)
from sqlalchemy import Connection, Update

from trainer.engine.events import Event, EventKind
from trainer.store import SessionStatus, Store, StoreError, schema
from trainer.store.records import SessionRecord

ROOT = Path(__file__).resolve().parents[2]


# --- helpers ----------------------------------------------------------------------------------------------------------


def events_for(n: int, *, start: int = 1, finish: bool = False) -> list[Event]:
    """n events continuing at seq `start`; the last one completes the session if `finish`."""
    out = [
        Event(
            seq=seq,
            t_ms=seq * 100,
            kind=EventKind.CHOSE,
            state=f"s{seq}",
            action="ok",
            data={"goto": f"s{seq + 1}", "n": seq},
        )
        for seq in range(start, start + n)
    ]
    if finish:
        last = out[-1]
        out[-1] = Event(
            seq=last.seq, t_ms=last.t_ms, kind=EventKind.COMPLETED, state="end", data={"outcome": "completed"}
        )
    return out


def new_session(store: Store, badge: str = "B-100") -> SessionRecord:
    store.upsert_trainee(badge, "Ann Lee", "Press shop")
    return store.create_session(badge, "lockout", "1.0", "sha256:abc", 42, "en")


def raw(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Tamper with an SQLite file behind the store's back, as someone with the sqlite3 shell would."""
    with closing(sqlite3.connect(path)) as conn:
        for sql, params in statements:
            conn.execute(sql, params)
        conn.commit()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def sessions_update(session_id: str, **values: object) -> Update:
    """Change a session row behind the store's back, with the store's own column types (dates in UTC on both backends)."""
    s = schema.sessions
    return s.update().where(s.c.id == session_id).values(**values)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "trainer.db"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store.open(db_url) as opened:
        yield opened


# --- round trip and sequence ------------------------------------------------------------------------------------------


def test_append_and_read_round_trip(store: Store) -> None:
    session = new_session(store)
    assert session.status is SessionStatus.IN_PROGRESS and session.event_count == 0
    sent = events_for(3) + events_for(2, start=4, finish=True)

    first = store.append(session.id, sent[:3])
    second = store.append(session.id, sent[3:])
    store.add_scores([{"session_id": session.id, "scorer": "rubric", "score": 87.5, "passed": True, "reason": "r", "review": False}])

    stored = store.events(session.id)
    assert [s.event for s in stored] == sent
    assert [s.hash for s in stored] == [s.hash for s in first + second]
    # what was hashed comes back identical: aware UTC datetimes with their microseconds, JSON data, booleans
    assert [s.utc for s in stored] == [s.utc for s in first + second]
    assert all(s.utc.tzinfo is UTC for s in stored) and stored[1].prev_hash == stored[0].hash
    record = store.session(session.id)
    assert (record.status, record.outcome, record.event_count) == (SessionStatus.COMPLETED, "completed", 5)
    assert (record.score, record.passed) == (87.5, True) and record.passed is True
    assert record.ended_at is not None and record.ended_at >= record.started_at
    assert record.started_at == session.started_at and record.started_at.tzinfo is UTC
    trainee = store.get_trainee("B-100")
    assert trainee is not None and (trainee.name, trainee.department) == ("Ann Lee", "Press shop")
    assert store.verify() == []
    with pytest.raises(StoreError, match="completed and takes no more events"):
        store.append(session.id, events_for(1, start=6))


def test_text_round_trips_unchanged(store: Store) -> None:
    """Names and event data in any script, quotes and JSON specials, come back as they went in."""
    name, department = '张三 O\'Brien "Ziggy" Ünal', "冲压 / Press; 100%"
    store.upsert_trainee("B-7", name, department)
    store.upsert_trainee("B-7", name, department)  # again: an update, not a second row
    session = store.create_session("B-7", "lockout", "1.0", "sha256:abc", 2**40, "zh")
    data = {"text": "阀门 'valve' \"x\" \\ \n\t", "n": 1.5, "flag": False, "none": None, "list": [1, "二"]}
    event = Event(seq=1, t_ms=10**12, kind=EventKind.CHOSE, state="状态", action="关闭", data=data)
    store.append(session.id, [event])
    assert store.events(session.id)[0].event == event
    assert store.get_trainee("B-7") == store.trainees()[0]
    assert (store.trainees()[0].name, store.session(session.id).seed) == (name, 2**40)
    assert store.verify() == []


def test_events_are_visible_to_another_store_when_append_returns(db_url: str, store: Store) -> None:
    session = new_session(store)
    with Store.open(db_url) as other:
        assert other.events(session.id) == []
        store.append(session.id, events_for(2))
        assert [s.event.seq for s in other.events(session.id)] == [1, 2]
        assert other.session(session.id).event_count == 2


@pytest.mark.parametrize("seqs", [[2], [1, 3], [0]], ids=["gap", "gap-inside-batch", "zero"])
def test_sequence_gaps_are_rejected(store: Store, seqs: list[int]) -> None:
    session = new_session(store)
    batch = [Event(seq=s, t_ms=s, kind=EventKind.VIEWED, state="a") for s in seqs]
    with pytest.raises(StoreError, match="must continue at seq 1"):
        store.append(session.id, batch)
    store.append(session.id, events_for(1))
    with pytest.raises(StoreError, match="must continue at seq 2"):
        store.append(session.id, events_for(1))  # seq 1 again
    assert [s.event.seq for s in store.events(session.id)] == [1]


def test_session_prefix_lookup(store: Store) -> None:
    ids = [new_session(store).id for _ in range(17)]  # 17 ids, 16 hex digits: two share a first character
    assert store.session(ids[0][:8].upper()).id == ids[0]
    shared = next(i[0] for i in ids if sum(j[0] == i[0] for j in ids) > 1)
    with pytest.raises(StoreError, match="sessions start with"):
        store.session(shared)
    with pytest.raises(StoreError, match="no session"):
        store.session("zzzz")
    with pytest.raises(StoreError, match="no session"):
        store.session("%")  # LIKE's wildcard is taken literally
    assert [s.id for s in store.sessions(badge="B-100")] == [
        s.id for s in sorted(store.sessions(), key=lambda r: r.started_at, reverse=True)
    ]
    assert store.sessions(since=datetime.now(UTC) + timedelta(hours=1)) == []


# --- tampering --------------------------------------------------------------------------------------------------------

# name: (SQL run against the second of two 5-event sessions, :sid = its id; the first bad seq verify must report)
TAMPERING: dict[str, tuple[list[str], int]] = {
    "edit-data": (['UPDATE events SET data = \'{"goto":"exit"}\' WHERE session_id = :sid AND seq = 3'], 3),
    "delete-last": (["DELETE FROM events WHERE session_id = :sid AND seq = 5"], 5),
    "delete-middle": (["DELETE FROM events WHERE session_id = :sid AND seq = 3"], 3),
    "insert-middle": (
        [
            "UPDATE events SET seq = seq + 100 WHERE session_id = :sid AND seq >= 3",  # make room at 3 (two steps: PK)
            "UPDATE events SET seq = seq - 99 WHERE session_id = :sid AND seq > 100",
            "INSERT INTO events SELECT session_id, 3, t_ms, utc, kind, state, action, '{}', hash, hash"
            " FROM events WHERE session_id = :sid AND seq = 2",  # even linked to event 2's hash
        ],
        3,
    ),
    "insert-last": (
        [
            "INSERT INTO events SELECT session_id, 6, t_ms, utc, kind, state, action, data, hash, hash"
            " FROM events WHERE session_id = :sid AND seq = 5"
        ],
        6,
    ),
    "swap": (
        [
            "UPDATE events SET seq = -1 WHERE session_id = :sid AND seq = 2",
            "UPDATE events SET seq = 2 WHERE session_id = :sid AND seq = 4",
            "UPDATE events SET seq = 4 WHERE session_id = :sid AND seq = -1",
        ],
        2,
    ),
    "edit-time": (["UPDATE events SET t_ms = t_ms + 1 WHERE session_id = :sid AND seq = 4"], 4),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampering_is_detected_at_the_first_bad_seq(db_url: str, store: Store, case: str) -> None:
    intact, target = new_session(store, "B-1"), new_session(store, "B-2")
    store.append(intact.id, events_for(5))
    store.append(target.id, events_for(5))
    assert store.verify() == []

    statements, bad_seq = TAMPERING[case]
    execute(db_url, *[(sql, {"sid": target.id}) for sql in statements])

    problems = store.verify()
    assert [(p.session_id, p.seq) for p in problems] == [(target.id, bad_seq)], problems
    assert store.verify(target.id[:8]) == problems
    assert store.verify(intact.id) == []


def test_an_event_moved_to_another_session_breaks_both(db_url: str, store: Store) -> None:
    a, b = new_session(store, "B-1"), new_session(store, "B-2")
    store.append(a.id, events_for(3))
    store.append(b.id, events_for(2))
    execute(db_url, ("UPDATE events SET session_id = :b WHERE session_id = :a AND seq = 3", {"a": a.id, "b": b.id}))
    assert sorted((p.session_id, p.seq) for p in store.verify()) == sorted([(a.id, 3), (b.id, 3)])


# --- refusing databases that are not ours -----------------------------------------------------------------------------


def test_another_programs_database_is_refused_untouched(db_url: str) -> None:
    execute(
        db_url,
        ("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)", {}),
        ("INSERT INTO invoices (id, total) VALUES (1, 12.5)", {}),
    )
    with pytest.raises(StoreError, match=r"not a Trainer database \(it holds another program's tables: invoices\)"):
        Store.open(db_url)
    assert scalars(db_url, "SELECT total FROM invoices") == [12.5]
    assert table_names(db_url) == {"invoices"}


def _foreign_sqlite(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
        conn.commit()


def _foreign_meta(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        conn.commit()


def _truncated_trainer_db(path: Path) -> None:
    with Store.open(path) as store:
        session = new_session(store)
        store.append(session.id, events_for(200))
    data = path.read_bytes()
    assert not Path(f"{path}-wal").exists()  # closing checkpointed everything into the main file
    path.write_bytes(data[: len(data) // 2])


BAD_FILES = {
    "random-bytes": lambda p: p.write_bytes(os.urandom(8192)),
    "text": lambda p: p.write_text("badge,name\nB-1,Ann\n", encoding="utf-8"),
    "png": lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200),
    "short-sqlite-header": lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 20),
    "foreign-sqlite": _foreign_sqlite,
    "foreign-meta-table": _foreign_meta,
    "truncated-trainer-db": _truncated_trainer_db,
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_a_file_that_is_not_a_trainer_database_is_refused_untouched(db: Path, kind: str) -> None:
    BAD_FILES[kind](db)
    before = db.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store.open(db)
    message = str(caught.value)
    assert message.startswith(f"{db}: not a Trainer database (") and message.endswith("the file was left untouched")
    assert "\n" not in message
    assert db.read_bytes() == before
    assert not Path(f"{db}-wal").exists()


def test_a_newer_schema_is_refused_untouched(db_url: str) -> None:
    Store.open(db_url).close()
    execute(db_url, ("UPDATE meta SET value = '99' WHERE key = 'schema_version'", {}))
    path = Path(db_url.removeprefix("sqlite:///")) if backend(db_url) == SQLITE else None
    before = path.read_bytes() if path else None
    with pytest.raises(
        StoreError,
        match=rf"newer Trainer \(schema version 99; this Trainer knows up to {schema.SCHEMA_VERSION}\).*left untouched",
    ):
        Store.open(db_url)
    if path:
        assert path.read_bytes() == before
    assert scalars(db_url, "SELECT value FROM meta WHERE key = 'schema_version'") == ["99"]


def test_an_empty_file_becomes_a_new_database(db: Path) -> None:
    db.touch()
    with Store.open(db) as store:
        assert store.sessions() == []


def test_an_unusable_location_gives_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(StoreError, match=r"not-a-folder is not a folder") as caught:
        Store.open(blocker / "trainer.db")
    assert "\n" not in str(caught.value)


def test_a_read_only_database_gives_one_line(db: Path) -> None:
    Store.open(db).close()
    with pytest.raises(StoreError, match=r"read-only") as caught:
        Store.open(f"sqlite:///file:{db}?mode=ro&uri=true")
    assert str(caught.value).startswith(str(db)) and "\n" not in str(caught.value)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_postgresql_server_gives_one_line_without_the_password() -> None:
    pytest.importorskip("psycopg")  # in the test extra; without it the message says to install it
    port = _free_port()  # nothing listens there
    with pytest.raises(StoreError) as caught:
        Store.open(f"postgresql+psycopg://trainer:topsecret@127.0.0.1:{port}/trainer")
    message = str(caught.value)
    assert message.startswith(f"postgresql+psycopg://trainer:***@127.0.0.1:{port}/trainer: cannot open the database")
    assert "cannot reach the database server" in message and "topsecret" not in message and "\n" not in message


# --- failures while writing -------------------------------------------------------------------------------------------


def test_an_os_error_during_append_stores_nothing_and_a_retry_succeeds(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = new_session(store)
    store.append(session.id, events_for(2))
    batch = events_for(3, start=3)
    original = Connection.execute

    def disk_full_at_session_update(self: Connection, statement, *args, **kwargs):  # type: ignore[no-untyped-def]
        # the events are already inserted when the session row is updated: the rollback must take them back out
        if isinstance(statement, Update) and statement.table.name == "sessions":
            raise OSError(28, "No space left on device")
        return original(self, statement, *args, **kwargs)

    monkeypatch.setattr(Connection, "execute", disk_full_at_session_update)
    with pytest.raises(StoreError, match="No space left on device.*nothing was stored") as caught:
        store.append(session.id, batch)
    assert "\n" not in str(caught.value)
    monkeypatch.undo()

    assert [s.event.seq for s in store.events(session.id)] == [1, 2]
    assert store.session(session.id).event_count == 2
    assert store.verify() == []
    store.append(session.id, batch)
    assert [s.event.seq for s in store.events(session.id)] == [1, 2, 3, 4, 5]
    assert store.verify() == []


def test_a_lock_held_too_long_raises_and_a_retry_succeeds(db_url: str) -> None:
    with Store.open(db_url, lock_timeout=0.2) as store:
        session = new_session(store)
        with session_row_locked(db_url, session.id):  # another terminal in the middle of a write
            started = time.monotonic()
            with pytest.raises(StoreError, match="locked for too long") as caught:
                store.append(session.id, events_for(1))
            assert time.monotonic() - started >= 0.2 * 3  # each of the three attempts waited for the lock
            assert "\n" not in str(caught.value)
        store.append(session.id, events_for(1))
        assert store.session(session.id).event_count == 1


def test_a_lock_released_during_the_retries_is_not_an_error(db_url: str) -> None:
    with Store.open(db_url, lock_timeout=0.2) as store:
        session = new_session(store)
        held, release = threading.Event(), threading.Event()

        def other_terminal() -> None:
            with session_row_locked(db_url, session.id):
                held.set()
                release.wait(10)

        holder = threading.Thread(target=other_terminal)
        holder.start()
        assert held.wait(10)
        threading.Timer(0.3, release.set).start()  # after the first attempt gave up, before the last one does
        try:
            store.append(session.id, events_for(1))  # no StoreError: a later attempt got the lock
        finally:
            release.set()
            holder.join(10)
        assert store.session(session.id).event_count == 1


def test_a_store_that_missed_another_writers_events_reads_the_session_again(db_url: str) -> None:
    """A store chains from the head it wrote last; when another writer moved the session on, it must not overwrite it."""
    with Store.open(db_url) as first, Store.open(db_url) as second:
        session = new_session(first)
        first.append(session.id, events_for(2))
        second.append(session.id, events_for(1, start=3))
        with pytest.raises(StoreError, match="must continue at seq 4"):
            first.append(session.id, events_for(1, start=3))
        first.append(session.id, events_for(1, start=4))
        second.append(session.id, events_for(1, start=5, finish=True))
        with pytest.raises(StoreError, match="is completed and takes no more events"):
            first.append(session.id, events_for(1, start=6))
        assert [s.event.seq for s in first.events(session.id)] == [1, 2, 3, 4, 5]
        assert first.verify() == []


# --- concurrency ------------------------------------------------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from trainer.engine.events import Event, EventKind
    from trainer.store import Store

    url, badge, n, gate = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    with Store.open(url) as store:  # all workers open a database that does not exist yet (is empty)
        store.upsert_trainee(badge, "Worker " + badge, "Line 1")
        store.upsert_trainee("SHARED", "Shared " + badge, "Line 1")  # all at once, on the same row
        session = store.create_session(badge, "lockout", "1", "hash", 7, "en")
        Path(f"{gate}.{badge}").touch()
        while not gate.exists():  # start appending together, so the writers really contend
            time.sleep(0.005)
        for seq in range(1, n + 1):
            store.append(session.id, [Event(seq, seq * 10, EventKind.VIEWED, f"s{seq}", data={"by": badge})])
            if seq % 50 == 0:
                store.heartbeat(session.id)
    print(session.id)
    """
)


def test_concurrent_writers_lose_nothing(db_url: str, tmp_path: Path) -> None:
    workers, per_worker = 8, 200
    gate = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, db_url, f"W{i}", str(per_worker), str(gate)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for i in range(workers)
    ]
    try:
        deadline = time.monotonic() + 60
        while sum(Path(f"{gate}.W{i}").exists() for i in range(workers)) < workers:
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs if p.poll() is not None]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        gate.touch()
        results = [p.communicate(timeout=60) for p in procs]
    finally:  # a failed start leaves the other workers waiting for the gate for ever: stop them
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    assert [p.returncode for p in procs] == [0] * workers, results
    assert all(err == "" for _, err in results), results
    with Store.open(db_url) as store:
        ids = {out.strip() for out, _ in results}
        assert len(ids) == workers
        for session_id in ids:
            assert [s.event.seq for s in store.events(session_id)] == list(range(1, per_worker + 1))
            assert store.session(session_id).event_count == per_worker
        assert store.verify() == []
        assert len(store.trainees()) == workers + 1


# --- interrupted sessions ---------------------------------------------------------------------------------------------


def test_interrupted_sessions_can_be_claimed_or_voided(db_url: str, store: Store) -> None:
    orphan, live, done = new_session(store, "B-1"), new_session(store, "B-2"), new_session(store, "B-3")
    store.append(orphan.id, events_for(2))
    store.append(done.id, events_for(1, finish=True))
    execute(db_url, sessions_update(orphan.id, owner_pid=dead_pid()))

    assert store.session(orphan.id).status is SessionStatus.INTERRUPTED
    assert [s.id for s in store.sessions(status=SessionStatus.INTERRUPTED)] == [orphan.id]
    assert [s.id for s in store.sessions(status=SessionStatus.IN_PROGRESS)] == [live.id]
    with pytest.raises(StoreError, match="claim it before adding events"):
        store.append(orphan.id, events_for(1, start=3))

    with pytest.raises(StoreError, match="finished sessions cannot be voided"):
        store.void(done.id, "test", "instructor-1")
    with pytest.raises(StoreError, match="still in progress"):
        store.void(live.id, "test", "instructor-1")
    with pytest.raises(StoreError, match="completed and cannot be resumed"):
        store.claim(done.id)

    resumed = store.claim(orphan.id[:8])
    assert resumed.status is SessionStatus.IN_PROGRESS
    store.append(orphan.id, [Event(3, 250, EventKind.RESUMED, "s2", data={"gap_ms": 1000})])
    assert store.session(orphan.id).event_count == 3

    execute(db_url, sessions_update(orphan.id, owner_pid=dead_pid()))
    voided = store.void(orphan.id, "power cut; retake scheduled", "instructor-1")
    assert (voided.status, voided.void_reason) == (SessionStatus.VOIDED, "power cut; retake scheduled")
    with pytest.raises(StoreError, match="voided and cannot be resumed"):
        store.claim(orphan.id)
    with pytest.raises(StoreError, match="already voided"):
        store.void(orphan.id, "again", "instructor-1")


def test_a_session_on_another_host_is_interrupted_after_a_silent_quarter_hour(db_url: str, store: Store) -> None:
    session = new_session(store)
    fresh = datetime.now(UTC)
    execute(db_url, sessions_update(session.id, owner_host="other-host", owner_pid=1, heartbeat_at=fresh))
    assert store.session(session.id).status is SessionStatus.IN_PROGRESS
    with pytest.raises(StoreError, match="still in progress in process 1 on other-host"):
        store.claim(session.id)

    stale = datetime.now(UTC) - timedelta(minutes=16)
    execute(db_url, sessions_update(session.id, heartbeat_at=stale))
    assert store.session(session.id).status is SessionStatus.INTERRUPTED
    assert store.claim(session.id).status is SessionStatus.IN_PROGRESS


def test_a_file_damaged_while_open_fails_the_next_write_in_one_line(db: Path) -> None:
    with Store.open(db) as store:
        session = new_session(store)
        store.append(session.id, events_for(1))
        store._engine.dispose()  # as if the terminal had been idle: the next write opens the file again
        for side in db.parent.glob(f"{db.name}-*"):
            side.unlink()
        db.write_bytes(b"not a database, overwritten by mistake" * 200)
        with pytest.raises(StoreError) as caught:
            store.append(session.id, events_for(1, start=2))
        assert str(caught.value).startswith(f"{db}: could not store 1 event(s)")
        assert "not a database" in str(caught.value) and "\n" not in str(caught.value)


def test_a_heartbeat_written_by_sqlite3_is_read_as_utc(db: Path) -> None:
    """The format the sqlite3 shell writes (naive, space-separated) is read as UTC."""
    with Store.open(db) as store:
        session = new_session(store)
        stale = (datetime.now(UTC) - timedelta(minutes=16)).replace(tzinfo=None).isoformat(sep=" ")
        raw(db, ("UPDATE sessions SET owner_host = 'other-host', heartbeat_at = ? WHERE id = ?", (stale, session.id)))
        assert store.session(session.id).status is SessionStatus.INTERRUPTED


# --- settings, durability, backup -------------------------------------------------------------------------------------


@only(SQLITE)
def test_durability_pragmas(db_url: str, store: Store) -> None:
    store.append(new_session(store).id, events_for(2))  # a write waits for the lock itself, then restores busy_timeout
    assert store.diagnostics() == {
        "journal_mode": "wal",
        "synchronous": "2",
        "busy_timeout": "30000",
        "foreign_keys": "1",
    }
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:  # WAL is recorded in the file itself
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@only(POSTGRESQL)
def test_postgresql_settings(db_url: str, store: Store) -> None:
    settings = store.diagnostics()
    assert (settings["synchronous_commit"], settings["lock_timeout"]) == ("on", "30s")
    assert settings["schema"] == db_url.rsplit("search_path%3D", 1)[-1]
    with Store.open(db_url, lock_timeout=2.5, fsync_every_commit=False) as fast:
        assert (fast.diagnostics()["synchronous_commit"], fast.diagnostics()["lock_timeout"]) == ("off", "2500ms")


def test_settings_round_trip(store: Store) -> None:
    assert store.get_setting("instructor_password") is None
    store.set_setting("instructor_password", "scrypt$1")
    store.set_setting("instructor_password", "scrypt$2")
    assert store.get_setting("instructor_password") == "scrypt$2"


def test_backup_is_a_working_copy(db_url: str, store: Store, tmp_path: Path) -> None:
    session = new_session(store)
    store.append(session.id, events_for(4))
    before = store.events(session.id)
    done = store.backup(tmp_path / "copy.bak")
    target = done.path
    assert [p.name for p in tmp_path.iterdir() if "copy.bak" in p.name] == ["copy.bak"]  # no temporary file left
    if backend(db_url) == SQLITE:
        assert (done.sessions, done.problems) == (1, ())
        with Store.open(target) as copy:
            assert copy.events(session.id) == before
            assert copy.verify() == []
        return
    assert target.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format, for pg_restore
    store.append(session.id, events_for(1, start=5))  # after the backup: the restore must not have it
    store.close()
    restore_postgresql(db_url, target)
    with Store.open(db_url) as restored:
        assert restored.events(session.id) == before
        assert restored.verify() == []


@only(POSTGRESQL)
def test_backup_without_pg_dump_says_what_is_needed(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump there
    with pytest.raises(StoreError, match=r"pg_dump is needed to back up a PostgreSQL database") as caught:
        store.backup(tmp_path / "copy.bak")
    assert "\n" not in str(caught.value) and not (tmp_path / "copy.bak").exists()


def test_location_comes_from_argument_env_or_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_DB", str(tmp_path / "env.db"))
    with Store.open() as store:
        assert store.describe() == f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.delenv("TRAINER_DB")
    monkeypatch.setattr("platformdirs.user_data_dir", lambda *a, **k: str(tmp_path / "data" / "trainer"))
    assert Store.default_url() == f"sqlite:///{tmp_path / 'data' / 'trainer' / 'trainer.db'}"
    with Store.open() as store:  # the default folder is created
        assert (tmp_path / "data" / "trainer" / "trainer.db").exists()
