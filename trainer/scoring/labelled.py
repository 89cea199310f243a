"""Labelled sessions: the model's training data, as JSON Lines (one session per line). docs/scoring.md documents it.

A line holds a session's identity, its events (as the store keeps them), and its detected mistakes, each with a stable
id, its context (the model's features) and zero or more labels: an instructor's severity and the labeller's id. Files
may be gzip-compressed (name ending in .gz). Reading checks every line and names the first bad one as file:line.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer import outfile
from trainer.course.model import Course
from trainer.engine.events import Event
from trainer.errors import TrainerError
from trainer.scoring.detect import detect, outcome_of
from trainer.scoring.features import FEATURES, GRADES, context, missing

FORMAT = "trainer-labelled-session/1"


class LabelledDataError(TrainerError):
    """A labelled-session file that cannot be read or does not follow the format."""


@dataclass(frozen=True)
class Label:
    severity: str  # one of GRADES
    labeller: str


@dataclass(frozen=True)
class LabelledMistake:
    id: str
    code: str
    declared: str
    context: Mapping[str, Any]
    labels: tuple[Label, ...] = ()


@dataclass(frozen=True)
class LabelledSession:
    session: str
    trainee: str
    course: str
    version: str
    content_hash: str
    mistakes: tuple[LabelledMistake, ...]
    events: tuple[Mapping[str, Any], ...] = ()
    seed: int | None = None
    outcome: str | None = None
    profile: str | None = None  # simulated sessions only: the profile that played it
    extra: Mapping[str, Any] = field(default_factory=dict)


def record(
    course: Course,
    events: Sequence[Event],
    *,
    session: str,
    trainee: str,
    seed: int | None = None,
    profile: str | None = None,
    labels: Mapping[str, Sequence[Label]] | None = None,
) -> dict[str, Any]:
    """One line of the format (as a dict) for a session played on `course`: mistakes detected here."""
    mistakes = detect(course, events)
    labels = labels or {}
    line: dict[str, Any] = {
        "format": FORMAT,
        "session": session,
        "trainee": trainee,
        "course": course.id,
        "version": course.version,
        "content_hash": course.content_hash,
        "seed": seed,
        "outcome": _outcome(events),
    }
    if profile is not None:
        line["profile"] = profile
    line["events"] = [e.canonical() for e in events]
    line["mistakes"] = [
        {
            "id": m.id,
            "code": m.code,
            "source": m.source,
            "state": m.state,
            "seq": m.seq,
            "declared": str(m.severity),
            "rule": m.rule.en or m.rule.zh or m.code,
            "context": context(course, m),
            "labels": [{"severity": lb.severity, "labeller": lb.labeller} for lb in labels.get(m.id, ())],
        }
        for m in mistakes
    ]
    return line


def _outcome(events: Sequence[Event]) -> str | None:
    o = outcome_of(events)
    return None if o is None else str(o)


def parse(line: Mapping[str, Any], where: str = "") -> LabelledSession:
    """Check one decoded line and build the session; LabelledDataError names `where` and what is wrong."""
    prefix = f"{where}: " if where else ""

    def need(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
        if key not in obj:
            raise LabelledDataError(f"{prefix}{what} has no {key!r}")
        value = obj[key]
        if not isinstance(value, kind):
            raise LabelledDataError(f"{prefix}{what}: {key!r} must be {_kind(kind)}, not {type(value).__name__}")
        return value

    if not isinstance(line, Mapping):
        raise LabelledDataError(f"{prefix}each line must be a JSON object")
    fmt = line.get("format", FORMAT)
    if fmt != FORMAT:
        raise LabelledDataError(f"{prefix}format {fmt!r} is not {FORMAT!r}")
    mistakes = []
    for i, raw in enumerate(need(line, "mistakes", list, "the session")):
        what = f"mistake {i + 1}"
        if not isinstance(raw, Mapping):
            raise LabelledDataError(f"{prefix}{what} must be a JSON object")
        mid = need(raw, "id", str, what)
        what = f"mistake {mid}"
        ctx = need(raw, "context", Mapping, what)
        gaps = missing(ctx)
        if gaps:
            raise LabelledDataError(f"{prefix}{what}: context lacks {', '.join(gaps)}")
        labels = []
        for lb in raw.get("labels") or ():
            if not isinstance(lb, Mapping):
                raise LabelledDataError(f"{prefix}{what}: each label must be a JSON object")
            severity = need(lb, "severity", str, f"a label of {what}")
            if severity not in GRADES:
                raise LabelledDataError(f"{prefix}{what}: severity {severity!r} is not one of {', '.join(GRADES)}")
            labels.append(Label(severity, str(need(lb, "labeller", str, f"a label of {what}"))))
        mistakes.append(
            LabelledMistake(
                id=mid,
                code=str(raw.get("code", ctx.get("code", ""))),
                declared=str(raw.get("declared", ctx.get("declared", ""))),
                context={f: ctx[f] for f in FEATURES},
                labels=tuple(labels),
            )
        )
    known = {"format", "session", "trainee", "course", "version", "content_hash", "seed", "outcome", "profile"}
    return LabelledSession(
        session=str(need(line, "session", str, "the session")),
        trainee=str(need(line, "trainee", str, "the session")),
        course=str(need(line, "course", str, "the session")),
        version=str(need(line, "version", str, "the session")),
        content_hash=str(line.get("content_hash") or ""),
        mistakes=tuple(mistakes),
        events=tuple(line.get("events") or ()),
        seed=line.get("seed"),
        outcome=line.get("outcome"),
        profile=line.get("profile"),
        extra={k: v for k, v in line.items() if k not in known and k not in ("events", "mistakes")},
    )


def _kind(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", list: "a list", Mapping: "an object", int: "a number"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _open_text(path: Path) -> io.TextIOBase:
    """A labelled-session file opened for reading (gzip when its name ends in .gz)."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8", newline="\n")  # noqa: SIM115


def _write_lines(path: Path, lines: Iterable[Mapping[str, Any]]) -> int:
    """Every file object is closed by a `with`, in order, even when the disk fills up: none is left for the garbage
    collector to close (and fail at, printing "Exception ignored")."""
    n = 0
    # mtime=0 and no file name: the same sessions give the same bytes (the data hash in a model's metadata)
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
        if path.suffix == ".gz"
        else nullcontext(raw) as data,
        io.TextIOWrapper(data, encoding="utf-8", newline="\n") as out,
    ):
        for line in lines:
            out.write(json.dumps(line, ensure_ascii=False, sort_keys=False, separators=(",", ":")) + "\n")
            n += 1
    return n


def read(path: str | Path) -> Iterator[LabelledSession]:
    """The sessions of a file, checked line by line (blank lines are skipped)."""
    path = Path(path)
    try:
        handle = _open_text(path)
    except OSError as exc:
        raise LabelledDataError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    with handle:
        try:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    line = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise LabelledDataError(f"{path}:{number}: not JSON ({exc.msg} at column {exc.colno})") from None
                yield parse(line, f"{path}:{number}")
        except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
            raise LabelledDataError(f"{path}: cannot read it ({exc})") from None


def write(path: str | Path, lines: Iterable[Mapping[str, Any]], *, force: bool = False, private: bool = True) -> int:
    """Write lines (dicts in the format) to `path`; .gz compresses reproducibly. Returns the number of lines.

    Written whole or not at all through trainer.outfile: an existing file is replaced only with `force`; a new file is
    readable by its owner only unless `private` is False (simulated trainees are nobody's personal data).
    """
    written: list[int] = []
    outfile.write(
        path, lambda tmp: written.append(_write_lines(tmp, lines)), "labelled sessions", force=force, private=private
    )
    return written[0]


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
