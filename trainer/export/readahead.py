"""The Attempts sheet's rows read ahead in a forked process while this one writes them.

Writing an XLSX of 100 000 attempts is two CPU-bound halves: reading the sessions from the store and turning them into
rows (the query, SessionRecord, Attempt, the summaries of the other sheets: about a third of the work), and XlsxWriter
writing the rows out (the rest). On a machine with two cores or more, the reading runs in a child process made by
fork(), a few hundred rows ahead of the writer, so the export takes about as long as the writing alone.

Why a process, not a thread: both halves are Python code holding the GIL, so a reading thread would only take turns
with the writer (measured: no faster). The child inherits the Scan as it stands (trainees read, filters checked) and
opens its own database connections (never the parent's: SQLAlchemy's rule for fork). It sends rows in batches through
a pipe (pickled: C, cheap beside building them); the pipe's small buffer holds the child back when it gets ahead, so
memory stays flat in the number of rows. At the end it sends the ScoreSheet of the other sheets.

What the user sees is the same either way: the same rows in the same order, the same progress calls (sent along with
the rows they follow), the same errors (a TrainerError raised in the child is sent back and raised here). A child that
dies makes the export fail with one line, and whatever stops the writer (a full disk, Ctrl-C) kills and reaps the
child first. Without fork, without two free cores (can_fork), or for a small store (MIN_SESSIONS) the rows are read in
this process.
"""

from __future__ import annotations

import os
import pickle
import signal
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from trainer.errors import TrainerError
from trainer.reports.scores import Progress, Scan, ScoreSheet, attempt_row

# Below this many sessions the rows are read in this process. Measured (docs/performance.md, "Export against
# XlsxWriter"): starting and ending the child costs about 5 ms, the reader saves the writer 30-45 us a session, so
# it pays from about 200 sessions; below 1,000 the whole export takes well under half a second either way.
MIN_SESSIONS = 1000
BATCH = 500  # rows a message: large enough that pickling is per batch, small enough to keep the writer busy

PIPE_BYTES = 1 << 20  # the pipe's buffer: about 7,000 rows pickled (Linux's default limit for a pipe)

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Feed:
    """The Attempts sheet's rows, oldest first (iterate once, to the end), then the ScoreSheet of the other sheets."""

    rows: Iterator[Row]
    sheet: Callable[[], ScoreSheet]


def cores() -> int:
    """How many CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def others_running() -> int:
    """How many other tasks are running or waiting for a CPU right now, on the whole machine (Linux's /proc/loadavg:
    its running count includes this process); 0 where that is not known."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return max(0, int(f.read().split()[3].split("/")[0]) - 1)
    except (OSError, ValueError, IndexError):
        return 0


def can_fork() -> bool:
    """Whether a reader process can help now: fork() exists (Linux, macOS), and two of the cores this process may use
    are free for it and its reader. On a busy machine the two processes would take turns with the other work: their
    10% more CPU in all (pickling, pages copied after the fork) then makes the export slower, not faster (measured on
    2 shared cores: docs/performance.md, "Export against XlsxWriter")."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and cores() - others_running() >= 2


def forks(scan: Scan) -> bool:
    """Whether the rows of `scan` are read in a child process: can_fork(), another process can read the store, and
    it holds at least MIN_SESSIONS sessions."""
    return scan.forkable and can_fork() and scan.expected() >= MIN_SESSIONS


@contextmanager
def attempt_rows(scan: Scan, lang: str, progress: Progress | None = None) -> Iterator[Feed]:
    """The Attempts sheet's rows of `scan` in `lang`, read in a forked child process when that is faster (forks()),
    else here; `progress(sessions done, in all)` is called here either way, as Scan.attempts() calls it. On leaving,
    the child has ended (killed if the writer stopped early)."""
    if not forks(scan):
        yield _here(scan, lang, progress)
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)  # the child sends, this process receives
    _widen(sending)
    scan.forget_connections()  # none shared with the child
    child = context.Process(
        target=_child, args=(scan, lang, sending, receiving), name="trainer-export-reader", daemon=True
    )
    try:
        child.start()
    except OSError:  # no process to be had (out of memory, the process limit): read here after all
        receiving.close()
        sending.close()
        yield _here(scan, lang, progress)
        return
    ended: list[ScoreSheet] = []
    try:
        sending.close()  # the child's alone: its end is seen (EOFError) when the child ends
        yield Feed(_received(receiving, child, progress, ended), lambda: _sheet(ended))
    finally:
        receiving.close()
        if child.is_alive():  # the writer stopped early (an error, Ctrl-C): the child's rows are not wanted
            child.kill()
        if child.pid is not None:
            child.join()
        child.close()


def _here(scan: Scan, lang: str, progress: Progress | None) -> Feed:
    row = attempt_row(scan.trainees, scan.titles(), scan.zone, lang)
    return Feed(map(row, scan.attempts(progress)), scan.sheet)


def _widen(conn: Connection) -> None:
    """Let the pipe hold PIPE_BYTES (Linux; else its default 64 KiB: one batch): the child may then run a few thousand
    rows ahead, so the writer does not wait whenever the child is kept off its core for a moment (a shared machine)."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or above /proc/sys/fs/pipe-max-size: the default
        pass


def _sheet(ended: list[ScoreSheet]) -> ScoreSheet:
    if not ended:
        raise RuntimeError("the ScoreSheet before every row was read")
    return ended[0]


def _received(conn: Connection, child: Any, progress: Progress | None, ended: list[ScoreSheet]) -> Iterator[Row]:
    """The rows the child sends, calling `progress` where the child did; its ScoreSheet put in `ended`."""
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the child ended without its last message: killed, or out of memory
            child.join()
            raise TrainerError(
                f"the process reading the sessions for the export stopped unexpectedly ({_how(child.exitcode)});"
                " nothing was written, try again"
            ) from None
        kind = message[0]
        if kind == "rows":
            yield from message[1]
            if message[2] is not None and progress is not None:
                progress(*message[2])
        elif kind == "end":
            ended.append(message[1])
            return
        else:  # "error": what stopped the child, raised here as if the rows had been read here
            raise message[1]


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


def _child(scan: Scan, lang: str, conn: Connection, receiving: Connection) -> None:
    """The child: read the sessions, send their rows in batches (with the progress calls between them), then the
    ScoreSheet; or the error that stopped it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops the writer, which kills this
    receiving.close()  # the parent's end: if the parent dies, sending fails (BrokenPipeError) and this process ends
    batch: list[Row] = []

    def sent(done: int, total: int) -> None:  # a progress call: sent after the rows that came before it
        conn.send(("rows", batch, (done, total)))
        batch.clear()

    attempts = scan.attempts(sent)  # (a generator: runs from the first row on)
    try:
        scan.forget_connections(close=False)  # never use or close the parent's (it closed its own before the fork)
        row = attempt_row(scan.trainees, scan.titles(), scan.zone, lang)
        for a in attempts:
            batch.append(row(a))
            if len(batch) >= BATCH:
                conn.send(("rows", batch, None))
                batch.clear()
        if batch:
            conn.send(("rows", batch, None))
        sheet = scan.sheet()
        _closed(scan, attempts)
        conn.send(("end", sheet))
    except BrokenPipeError:  # the parent is gone or stopped reading: nobody to tell
        pass
    except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent, which raises it
        _closed(scan, attempts)
        with suppress(BrokenPipeError):
            conn.send(("error", _portable(exc)))
    finally:
        conn.close()


def _closed(scan: Scan, attempts: Iterator[object]) -> None:
    """The child's database connections closed, as the exporting process would close them (on SQLite the last one
    folds the -wal file into the database and removes it)."""
    with suppress(Exception):
        close = getattr(attempts, "close", None)
        if close is not None:
            close()  # a read stopped half-way ends its transaction
        scan.forget_connections()


def _portable(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling as itself, else a TrainerError with its message (and exit code), or for an error
    that is not the user's a RuntimeError holding the child's traceback."""
    try:
        back = pickle.loads(pickle.dumps(exc))
        if type(back) is type(exc) and str(back) == str(exc):
            return exc
    except Exception:  # noqa: BLE001, S110 - not picklable: described below
        pass
    if isinstance(exc, TrainerError):
        err = TrainerError(str(exc))
        err.exit_code = exc.exit_code
        return err
    return RuntimeError("the export's reading process failed:\n" + "".join(traceback.format_exception(exc)))
