"""Finished sessions without a score: every command that opens the store looks for them and scores them.

Since schema version 3 a session's ending and its score are stored in one transaction (trainer.session_service), so a finished
session always has its score. A database written by an older Trainer may still hold finished sessions without one (the
process was killed between its two writes), which a score sheet would count as never passed. open_store() opens the
store and looks for them with one indexed query; only if there are any does it load the courses and the model, and it
scores them as `trainer score` does (rescore()). `trainer sessions verify` reports them; `--repair` scores them.

A session can only be scored against the course version it was played on: one whose version is not loaded stays
unscored, and a warning says which course to load.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trainer.course.library import Library
    from trainer.course.model import Course
    from trainer.scoring.rubric import SessionScore
    from trainer.store.records import FinishedSession
    from trainer.store.store import Store


@dataclass(frozen=True)
class Repair:
    scored: tuple[tuple[FinishedSession, SessionScore], ...]  # the sessions scored now, with their score
    left: tuple[FinishedSession, ...]  # still without a score: their course version is not loaded
    failed: str = ""  # why scoring failed altogether (then nothing was scored), else ""

    def warning(self) -> str:
        """One line on what was left unscored and how to score it ("" if nothing was)."""
        if self.failed:
            return (
                f"{len(self.left)} finished session(s) have no score and could not be scored ({self.failed}); "
                "`trainer sessions verify` lists them"
            )
        if not self.left:
            return ""
        versions = Counter(f"{r.course_id} {r.course_version}" for r in self.left)
        shown = ", ".join(f"{key} ({n})" for key, n in sorted(versions.items()))
        return (
            f"{len(self.left)} finished session(s) have no score: the course version they were played on is not "
            f"loaded: {shown}; give its folder with --courses (or TRAINER_COURSES) to score them"
        )


def score_unscored(
    store: Store,
    course_dirs: Iterable[str | Path] = (),
    *,
    library: Library | None = None,
    also: Sequence[Course] = (),
    found: Sequence[FinishedSession] | None = None,
    via: str = "open",
) -> Repair:
    """Score the finished sessions without a score (`found`, else store.unscored_sessions()) with the current model, as
    a session's end does (the rubric if the model fails), against `library` or the courses of `course_dirs`, plus
    `also`. A session another process scored meanwhile keeps that score (Store.add_missing_scores). Each score stored
    is in the audit trail as score.repair, with `via` (what found it: "open" for any command, "verify --repair")."""
    todo = store.unscored_sessions() if found is None else list(found)
    if not todo:
        return Repair((), ())
    if not store.writable:  # a keyed database without its key: report, do not stop the command that opened it
        return Repair((), tuple(todo), failed="the database is keyed with a site key this process does not have")
    from trainer.course.library import Library, load_library
    from trainer.scoring.grade import Grader, score_row
    from trainer.scoring.rescoring import rescore

    library = library or load_library(course_dirs)
    if also:
        library = Library({**library.courses, **{c.id: c for c in also}}, library.problems)
    try:
        try:
            done = rescore(store, library, Grader.current(), todo, dry_run=True, keep=True)
        except Exception as exc:  # a broken model must never leave a finished session unscored: the rubric scores it
            done = rescore(store, library, Grader(None, f"model not used: {exc}"), todo, dry_run=True, keep=True)
    except Exception as exc:  # nor stop the command that opened the store: verify reports the sessions
        return Repair((), tuple(todo), failed=f"{type(exc).__name__}: {exc}")
    asked = {r.id: r for r in todo}  # rescore hands back the records it was given
    graded = {r.id: (asked[r.id], result) for r, result in done.results}
    saved = set(
        store.add_missing_scores([score_row(sid, result) for sid, (_, result) in graded.items()], detail={"via": via})
    )
    return Repair(
        tuple(graded[sid] for sid in graded if sid in saved),
        tuple(r for r in todo if r.id not in graded),
    )


def open_store(
    args: argparse.Namespace,
    *,
    library: Library | None = None,
    also: Sequence[Course] = (),
    repair: bool = True,
    say: Callable[[str], object] | None = None,
) -> Store:
    """Store.open() for a command (its --db), after which no finished session is without a score if its course
    version is loaded (--courses, TRAINER_COURSES, the bundled courses, `library`, `also`): see score_unscored().
    `repair=False` (a dry run, which must store nothing): only Store.open(). `say` takes the lines about sessions
    scored now (default: printed on stderr; the trainee's app prints them after it has left the terminal)."""
    if say is None:
        say = _to_stderr
    from trainer.store.store import Store

    store = Store.open(args.db)
    if not repair:
        return store
    try:
        done = score_unscored(store, args.courses, library=library, also=also)
    except BaseException:
        store.close()
        raise
    if done.scored:
        ids = ", ".join(r.id[:8] for r, _ in done.scored[:5]) + (", ..." if len(done.scored) > 5 else "")
        say(f"trainer: scored {len(done.scored)} finished session(s) left without a score: {ids}")
    if warning := done.warning():
        say(f"trainer: warning: {warning}")
    return store


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)
