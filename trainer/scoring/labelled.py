"""Labelled sessions: the model's training data, as JSON Lines (one session per line). docs/scoring.md documents it.

A line holds a session's identity, its events (as the store keeps them), and its detected mistakes, each with a stable
id, its context (the model's features) and zero or more labels: an instructor's severity and the labeller's id. Files
may be gzip-compressed (name ending in .gz). Reading checks every field of every line, its type and its range, and
names the first bad one as `file:line: field: problem` (never a traceback, never a silently wrong row).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer import outfile
from trainer.course.model import Course, MistakeSeverity, Outcome
from trainer.engine.events import Event
from trainer.errors import TrainerError
from trainer.scoring.detect import detect, outcome_of
from trainer.scoring.features import FEATURES, GRADES, NOT_CORRECTED_S, NUMERIC, RANK, context

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


SOURCES = ("action", "timer", "ignored", "skipped", "order", "timeout", "hint")  # detect.py's mistake sources
OUTCOMES = tuple(str(o) for o in Outcome)
DECLARED = tuple(str(s) for s in MistakeSeverity)
FLAGS = ("corrected", "hazard_followed", "timer_running")  # 0 or 1 (JSON true/false are taken as 1/0)
# numeric features: (lowest allowed, highest allowed or None, whole number?)
RANGES: dict[str, tuple[float, float | None, bool]] = {
    "declared_rank": (1, 3, True),
    "step_index": (-1, None, True),
    "progress": (0, 1, False),
    "t_s": (0, None, False),
    "seconds_in_state": (0, None, False),
    "correction_s": (0, None, False),
    "repeat": (1, None, True),
    "mistakes_before": (0, None, True),
    "vars_changed": (0, None, True),
}


class _Bad(Exception):
    """One field's problem, raised inside parse() and turned into a LabelledDataError naming the place."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")


def _shown(value: Any) -> str:
    """A JSON value as its reader would recognise it in a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 40 else value[:37] + "...", ensure_ascii=False)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return repr(value)


def _text(obj: Mapping[str, Any], key: str, field: str, *, required: bool = True) -> str | None:
    """A non-empty string (or, when not required, absent or null)."""
    if key not in obj or obj[key] is None:
        if required:
            raise _Bad(field, "missing" if key not in obj else "must be a non-empty string, not null")
        return None
    value = obj[key]
    if not isinstance(value, str) or not value.strip():
        raise _Bad(field, f"must be a non-empty string, not {_shown(value)}")
    return value


def _one_of(obj: Mapping[str, Any], key: str, field: str, allowed: Sequence[str], *, required: bool = True) -> Any:
    value = _text(obj, key, field, required=required)
    if value is not None and value not in allowed:
        raise _Bad(field, f"{_shown(value)} is not one of {', '.join(allowed)}")
    return value


def _number(ctx: Mapping[str, Any], key: str, field: str) -> float | int:
    if key not in ctx:
        raise _Bad(field, "missing")
    value = ctx[key]
    if key in FLAGS:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | float) and value in (0, 1):
            return int(value)
        raise _Bad(field, f"must be 0 or 1, not {_shown(value)}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(field, f"must be a number, not {_shown(value)}")
    if not math.isfinite(value):
        raise _Bad(field, f"must be a finite number, not {_shown(value)}")
    low, high, whole = RANGES[key]
    if whole and value != int(value):
        raise _Bad(field, f"must be a whole number, not {_shown(value)}")
    if value < low or (high is not None and value > high):
        span = f"at least {low:g}" if high is None else f"between {low:g} and {high:g}"
        raise _Bad(field, f"must be {span}, not {_shown(value)}")
    return int(value) if whole else value


def _context(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Every feature of the context checked for its type and range; the values as the model takes them."""
    out: dict[str, Any] = {}
    for key in ("course", "code", "state", "hazard"):
        out[key] = _text(ctx, key, f"context.{key}")
    out["source"] = _one_of(ctx, "source", "context.source", SOURCES)
    out["declared"] = _one_of(ctx, "declared", "context.declared", DECLARED)
    out["outcome"] = _one_of(ctx, "outcome", "context.outcome", (*OUTCOMES, "none"))
    for key in NUMERIC:
        out[key] = _number(ctx, key, f"context.{key}")
    if out["declared_rank"] != RANK[out["declared"]]:
        raise _Bad(
            "context.declared_rank",
            f"{out['declared_rank']} does not match context.declared {out['declared']!r} (rank {RANK[out['declared']]})",
        )
    if not out["corrected"] and out["correction_s"] != NOT_CORRECTED_S:
        raise _Bad(
            "context.correction_s",
            f"must be {NOT_CORRECTED_S:g} (never) when context.corrected is 0, not {_shown(ctx['correction_s'])}",
        )
    return {f: out[f] for f in FEATURES}


def parse(line: Mapping[str, Any], where: str = "") -> LabelledSession:
    """Check one decoded line, every field's type and range, and build the session. A LabelledDataError names `where`,
    the field and what is wrong with it: `file:line: mistake m12: context.correction_s: must be a number, not "soon"`."""
    prefix = f"{where}: " if where else ""
    if not isinstance(line, Mapping):
        raise LabelledDataError(f"{prefix}each line must be a JSON object")
    try:
        return _parse(line, prefix)
    except _Bad as bad:
        raise LabelledDataError(f"{prefix}{bad}") from None


def _parse(line: Mapping[str, Any], prefix: str) -> LabelledSession:
    fmt = line.get("format", FORMAT)
    if fmt != FORMAT:
        raise LabelledDataError(f"{prefix}format {_shown(fmt)} is not {FORMAT!r}")
    session = _text(line, "session", "session")
    trainee = _text(line, "trainee", "trainee")
    course = _text(line, "course", "course")
    version = _text(line, "version", "version")
    content_hash = line.get("content_hash")
    if content_hash is not None and not isinstance(content_hash, str):
        raise _Bad("content_hash", f"must be a string or null, not {_shown(content_hash)}")
    seed = line.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise _Bad("seed", f"must be a whole number or null, not {_shown(seed)}")
    outcome = _one_of(line, "outcome", "outcome", OUTCOMES, required=False)
    profile = _text(line, "profile", "profile", required=False)
    events = line.get("events")
    if events is None:
        events = []
    if not isinstance(events, list):
        raise _Bad("events", f"must be a list, not {_shown(events)}")
    for i, e in enumerate(events):
        if not isinstance(e, Mapping):
            raise _Bad(f"events[{i}]", f"must be an object, not {_shown(e)}")
    if "mistakes" not in line:
        raise _Bad("mistakes", "missing")
    raw_mistakes = line["mistakes"]
    if not isinstance(raw_mistakes, list):
        raise _Bad("mistakes", f"must be a list, not {_shown(raw_mistakes)}")
    mistakes: list[LabelledMistake] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_mistakes):
        if not isinstance(raw, Mapping):
            raise _Bad(f"mistakes[{i}]", f"must be an object, not {_shown(raw)}")
        mid = _text(raw, "id", f"mistakes[{i}].id")
        assert mid is not None
        if mid in seen:
            raise _Bad(f"mistakes[{i}].id", f"{_shown(mid)} appears twice in the session (labels refer to it)")
        seen.add(mid)
        try:
            mistakes.append(_mistake(raw, mid))
        except _Bad as bad:
            raise LabelledDataError(f"{prefix}mistake {mid}: {bad}") from None
    known = {"format", "session", "trainee", "course", "version", "content_hash", "seed", "outcome", "profile"}
    return LabelledSession(
        session=str(session),
        trainee=str(trainee),
        course=str(course),
        version=str(version),
        content_hash=content_hash or "",
        mistakes=tuple(mistakes),
        events=tuple(events),
        seed=seed,
        outcome=outcome,
        profile=profile,
        extra={k: v for k, v in line.items() if k not in known and k not in ("events", "mistakes")},
    )


def _mistake(raw: Mapping[str, Any], mid: str) -> LabelledMistake:
    if "context" not in raw:
        raise _Bad("context", "missing")
    if not isinstance(raw["context"], Mapping):
        raise _Bad("context", f"must be an object, not {_shown(raw['context'])}")
    ctx = _context(raw["context"])
    for key in ("code", "declared", "source", "state"):  # the copies beside the context must say the same
        if raw.get(key) is not None and raw[key] != ctx[key]:
            raise _Bad(key, f"{_shown(raw[key])} differs from context.{key} {_shown(ctx[key])}")
    raw_labels = raw.get("labels")
    if raw_labels is None:
        raw_labels = []
    if not isinstance(raw_labels, list):
        raise _Bad("labels", f"must be a list, not {_shown(raw_labels)}")
    labels = []
    for j, lb in enumerate(raw_labels):
        if not isinstance(lb, Mapping):
            raise _Bad(f"labels[{j}]", f"must be an object, not {_shown(lb)}")
        severity = _one_of(lb, "severity", f"labels[{j}].severity", GRADES)
        labeller = _text(lb, "labeller", f"labels[{j}].labeller")
        labels.append(Label(str(severity), str(labeller)))
    return LabelledMistake(id=mid, code=ctx["code"], declared=ctx["declared"], context=ctx, labels=tuple(labels))


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
    """The SHA-256 of a file's bytes, read a megabyte at a time: the labelled data files a model records, and the
    model file itself (trainer.scoring.model's signature and metadata)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
