"""`trainer export scores --format xlsx` with the sessions read in a forked child process (trainer/export/readahead.py):
the same workbook, progress and errors as when they are read in the exporting process; a child that dies, or a writer
that fails, leaves no file and no process behind."""

from __future__ import annotations

import errno
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from test_export_support import CRITICAL, EXPERT, FIXTURES, HOSTILE_NAMES, MINI, SLOW, Attempt, Trainee, course

from trainer.cli import main
from trainer.course.library import Library
from trainer.export import readahead, xlsx
from trainer.reports import scores
from trainer.reports.period import Period
from trainer.store.errors import StoreError
from trainer.store.store import Store

TODAY = "2026-06-01"
FORKED, HERE = "forked", "here"


@pytest.fixture(autouse=True)
def _plant_time(monkeypatch, at_the_plant):
    monkeypatch.setenv("TRAINER_TODAY", TODAY)


def utc(day: int, hour: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def db(played_db) -> Path:
    hostile = [
        step
        for i, name in enumerate(HOSTILE_NAMES)
        for step in (Trainee(f"H{i}", name, "+dept"), Attempt(f"H{i}", EXPERT, utc(9)))
    ]
    return played_db([
        Trainee("A1", "张伟", "冲压车间"),
        Trainee("A2", "李娜\n(夜班)", "焊装车间"),
        Attempt("A1", CRITICAL, utc(2)),
        Attempt("A1", SLOW, utc(5)),
        Attempt("A2", EXPERT, utc(6)),
        Attempt("A2", ["lock"], utc(7)),  # aborted
        Attempt("A2", ["lock"], utc(8), finish=False),  # interrupted: not an attempt
        *hostile,
    ])  # fmt: skip


def reading(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """Read the sessions in a child process (whatever the store's size and the machine's cores) or in this one."""
    if where == FORKED:
        monkeypatch.setattr(readahead, "MIN_SESSIONS", 0)
        monkeypatch.setattr(readahead, "cores", lambda: 2)
        monkeypatch.setattr(readahead, "others_running", lambda: 0)
    else:
        monkeypatch.setattr(readahead, "MIN_SESSIONS", 10**12)


def export(db: Path, out: Path, *args: str) -> int:
    return main(["export", "scores", "--db", str(db), "--courses", str(FIXTURES), "--out", str(out), *args])


def children() -> list[int]:
    """This process's child processes, zombies included (a child killed but not reaped is still one)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
            found.append(int(entry.name))
    return found


def cells(path: Path) -> dict[str, list]:
    """Every cell of every sheet with what a reader sees of it (value, number format, bold, wrap, quote prefix), each
    sheet's row heights, column widths, frozen pane and filter; the About sheet's "generated at" line left out."""
    book = openpyxl.load_workbook(path)
    seen: dict[str, list] = {}
    for ws in book.worksheets:
        table = [
            [(c.value, c.number_format, c.font.b, c.alignment.wrap_text, c.quotePrefix) for c in row]
            for row in ws.iter_rows()
        ]
        if ws.title == "About":
            table = [r for r in table if r[0][0] != "generated at"]
        heights = {n: d.height for n, d in ws.row_dimensions.items() if d.height}
        widths = {k: d.width for k, d in ws.column_dimensions.items()}
        seen[ws.title] = [table, heights, widths, ws.freeze_panes, ws.auto_filter.ref]
    return seen


def test_the_forked_reader_writes_the_same_workbook_as_reading_here(db, tmp_path, monkeypatch, capsys):
    forked = []  # the forked path was taken: the rows came through the pipe
    received = readahead._received

    def counted(*args):
        forked.append(True)
        return received(*args)

    monkeypatch.setattr(readahead, "_received", counted)
    written = {}
    for where in (HERE, FORKED):
        reading(monkeypatch, where)
        out = tmp_path / "scores.xlsx"  # the same name: the output names it
        assert export(db, out, "--lang", "en", "--force") == 0
        written[where] = (cells(out), capsys.readouterr())
    assert forked == [True]
    assert written[FORKED] == written[HERE]  # every cell, format, height and width; the same output
    assert len(written[HERE][0]["Attempts"][0]) == 1 + 4 + len(HOSTILE_NAMES)
    assert children() == []


@pytest.mark.parametrize("where", [HERE, FORKED])
def test_progress_is_called_between_the_same_rows_either_way(db, monkeypatch, where):
    reading(monkeypatch, where)
    monkeypatch.setattr(scores, "_CHUNK", 3)  # progress after every 3 sessions read
    monkeypatch.setattr(readahead, "BATCH", 2)  # rows sent 2 at a time
    seen: list[tuple] = []
    library = Library({"mini": course(MINI)}, ())
    with Store.open(db) as store:
        scan = scores.Scan(store, library, today=date(2026, 6, 1), period=Period())
        with readahead.attempt_rows(scan, "en", lambda done, total: seen.append((done, total))) as feed:
            for row in feed.rows:
                seen.append(row[-1])  # the session id
            sheet = feed.sheet()
    ids = [s for s in seen if isinstance(s, str)]
    assert len(ids) == 4 + len(HOSTILE_NAMES)
    expected: list[object] = [(0, len(ids))]
    for n in range(0, len(ids), 3):
        expected += [*ids[n : n + 3], (min(n + 3, len(ids)), len(ids))]
    assert seen == expected
    assert sum(p.count for p in sheet.pairs) == len(ids)
    assert children() == []


def failing_read(monkeypatch: pytest.MonkeyPatch, fail) -> None:
    """The reading fails after its first two attempts, by `fail()` (run wherever the reading runs)."""
    real = scores._attempts

    def attempts(*args, **kwargs) -> Iterator:
        for n, item in enumerate(real(*args, **kwargs)):
            if n == 2:
                fail()
            yield item

    monkeypatch.setattr(scores, "_attempts", attempts)


@pytest.mark.parametrize("where", [HERE, FORKED])
def test_an_error_while_reading_is_one_line_and_leaves_the_previous_file(db, tmp_path, monkeypatch, capsys, where):
    reading(monkeypatch, where)

    def locked() -> None:
        raise StoreError(f"{db}: the database is locked by another program; try again when it has finished")

    failing_read(monkeypatch, locked)
    out = tmp_path / "scores.xlsx"
    out.write_bytes(b"the previous export")
    assert export(db, out, "--force") == 1
    err = capsys.readouterr().err
    assert err == f"trainer: error: {db}: the database is locked by another program; try again when it has finished\n"
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.xlsx", "t.db"]
    assert children() == []


def test_a_killed_reader_fails_the_export_in_one_line_and_leaves_no_file(db, tmp_path, monkeypatch, capsys):
    reading(monkeypatch, FORKED)
    exporter = os.getpid()

    def killed() -> None:
        assert os.getpid() != exporter, "read in the exporting process"
        os.kill(os.getpid(), signal.SIGKILL)  # as `kill -9`, or the kernel out of memory

    failing_read(monkeypatch, killed)
    out = tmp_path / "scores.xlsx"
    assert export(db, out) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("trainer: error: ") and "Traceback" not in err
    assert "stopped unexpectedly (killed by SIGKILL)" in err and "nothing was written" in err
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("t.db")] == []  # (the -wal of a killed reader)
    assert children() == []


@pytest.mark.parametrize(
    ("stop", "code", "said"),
    [
        (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), 1, "No space left on device"),
        (KeyboardInterrupt(), 130, "trainer: interrupted"),
    ],
    ids=["full-disk", "ctrl-c"],
)
def test_a_writer_that_stops_kills_and_reaps_the_reader(db, tmp_path, monkeypatch, capsys, stop, code, said):
    reading(monkeypatch, FORKED)
    monkeypatch.setattr(readahead, "BATCH", 1)  # each row sent as it is read
    exporter = os.getpid()

    def stuck() -> None:  # the reader is still at work (a large store) when the writer stops
        if os.getpid() != exporter:
            time.sleep(600)

    failing_read(monkeypatch, stuck)
    real = xlsx.Sheet.write_rows

    def write_rows(self, rows, **kwargs):
        if self._width != len(scores.ATTEMPT_COLUMNS):
            return real(self, rows, **kwargs)
        next(iter(rows))  # a row came from the reader
        assert len(children()) == 1
        raise stop

    monkeypatch.setattr(xlsx.Sheet, "write_rows", write_rows)
    out = tmp_path / "scores.xlsx"
    started = time.monotonic()
    assert export(db, out) == code
    assert time.monotonic() - started < 60  # not waiting for the reader to finish
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("t.db")] == []
    assert children() == []


def test_a_fork_refused_reads_here(db, tmp_path, monkeypatch, capsys):
    import multiprocessing.popen_fork

    reading(monkeypatch, FORKED)

    def refused(*args):
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")  # what fork() says at the limit

    monkeypatch.setattr(multiprocessing.popen_fork.Popen, "_launch", refused)
    assert export(db, tmp_path / "scores.xlsx") == 0
    assert capsys.readouterr().err.startswith("wrote 11 trainee-course row(s) from 13 attempt(s)")
    assert children() == []


def test_one_free_core_or_a_small_store_reads_here(db, monkeypatch):
    library = Library({"mini": course(MINI)}, ())
    with Store.open(db) as store:
        scan = scores.Scan(store, library, today=date(2026, 6, 1), period=Period())
        monkeypatch.setattr(readahead, "cores", lambda: 2)
        monkeypatch.setattr(readahead, "others_running", lambda: 0)
        assert not readahead.forks(scan)  # 13 sessions: below MIN_SESSIONS
        monkeypatch.setattr(readahead, "MIN_SESSIONS", 10)
        assert readahead.forks(scan)
        monkeypatch.setattr(readahead, "others_running", lambda: 1)  # a busy machine: one of the two cores taken
        assert not readahead.forks(scan)
        monkeypatch.setattr(readahead, "cores", lambda: 4)
        assert readahead.forks(scan)
        monkeypatch.setattr(readahead, "cores", lambda: 1)
        monkeypatch.setattr(readahead, "others_running", lambda: 0)
        assert not readahead.forks(scan)
    assert 0 <= readahead.others_running() < 10_000
    with Store.open("sqlite://") as memory:  # lives in this process's connection: no other process could read it
        monkeypatch.setattr(readahead, "cores", lambda: 2)
        monkeypatch.setattr(readahead, "MIN_SESSIONS", 0)
        assert not readahead.forks(scores.Scan(memory, library, today=date(2026, 6, 1), period=Period()))
