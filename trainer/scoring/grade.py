"""Scoring a session: the installed model grades each mistake if there is one, else the rubric does.

Which model: `TRAINER_MODEL` (a .skops path, or "rubric" to switch models off), else the model `trainer model train`
installed in the user's data folder, else the default model shipped in the package, else none (the rubric). A model
that fails its checks is not used: the session is scored by the rubric and the score's note says why. A model not
trained on the session's course version is not used for it either (the rubric grades it, and the note says so); one
trained on the same course version but other content (the file was edited without a new version) is used, and every
grade it gives is flagged for review.

Each graded mistake gets the model's severity and its probability; a probability under the model's `review_below`
flags it for an instructor's review. Score and pass/fail follow the course's rule, as with the rubric.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _quoted  # json.dumps' own, for ensure_ascii=False
from math import isfinite
from pathlib import Path
from typing import Any

from trainer.course.model import Course, MistakeSeverity, Outcome
from trainer.engine.events import Event
from trainer.scoring.detect import DetectedMistake, EventRow, detect_rows, outcome_of_rows, rows_of
from trainer.scoring.judgement import facts_of
from trainer.scoring.model import ModelError, TrainedModel
from trainer.scoring.rubric import Deduction, SessionScore, fixed_grade, score_graded, score_session, with_fixed

ENV_VAR = "TRAINER_MODEL"
OFF = ("rubric", "none", "off")
DEFAULT_MODEL = Path(__file__).resolve().parent / "default_model" / "model.skops"


def installed_model_path() -> Path:
    """Where `trainer model train` installs a model by default (the user's data folder)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("trainer", appauthor=False)) / "model" / "model.skops"


@dataclass(frozen=True)
class ModelChoice:
    path: Path | None  # None: the rubric
    origin: str  # "--model", "TRAINER_MODEL", "installed", "default", "rubric"


def choose(explicit: str | Path | None = None) -> ModelChoice:
    """Which model file scoring would use now (without loading it)."""
    if explicit is not None:
        return ModelChoice(None, "--model") if str(explicit).lower() in OFF else ModelChoice(Path(explicit), "--model")
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return ModelChoice(None, ENV_VAR) if env.lower() in OFF else ModelChoice(Path(env).expanduser(), ENV_VAR)
    installed = installed_model_path()
    if installed.is_file():
        return ModelChoice(installed, "installed")
    if DEFAULT_MODEL.is_file():
        return ModelChoice(DEFAULT_MODEL, "default")
    return ModelChoice(None, "rubric")


_loaded: dict[tuple[str, int, int], TrainedModel] = {}
# One load at a time: a session that ends while the app is still loading the model in the background waits for that
# load instead of starting a second one.
_load_lock = threading.Lock()


def load_cached(path: Path) -> TrainedModel:
    """model.load, once per file content (path, size, modification time) in this process."""
    from trainer.scoring.model import load

    try:
        st = path.stat()
    except OSError as exc:
        raise ModelError(f"{path}: no model file here ({exc.strerror or exc})") from None
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _load_lock:
        if key not in _loaded:
            _loaded.clear()
            _loaded[key] = load(path)
        return _loaded[key]


def preload() -> None:
    """Load the chosen model now (and the code that grades with it), so that grading a session that ends later takes
    milliseconds, not the seconds a first load takes. The terminal app calls this in a worker thread at start."""
    from trainer.scoring import features  # noqa: F401 - imported for its cost, here rather than at the first grading

    Grader.current()


class Grader:
    """Scores sessions with one model (or the rubric). Build it with Grader.current() or Grader(model)."""

    def __init__(self, model: TrainedModel | None, note: str = "", *, explain: bool = True):
        self.model = model
        self.note = note  # why there is no model, when there is none although one was chosen
        self.explain = explain  # work out what the model weighed for each grade (the explanation beside it)

    @classmethod
    def current(cls, explicit: str | Path | None = None, *, strict: bool = False) -> Grader:
        """The grader for the chosen model; a model that fails its checks gives the rubric (or raises, if strict)."""
        choice = choose(explicit)
        if choice.path is None:
            return cls(None)
        try:
            return cls(load_cached(choice.path))
        except ModelError as exc:
            if strict:
                raise
            return cls(None, f"model not used: {exc}")

    @property
    def name(self) -> str:
        return "rubric" if self.model is None else f"model {self.model.short_id}"

    def score(self, course: Course, events: Sequence[Event]) -> SessionScore:
        return self.score_many([(course, events)])[0]

    def score_kept(self, course: Course, events: Sequence[Event]) -> tuple[SessionScore, dict[str, str]]:
        """score(), and the features it was computed from as the store keeps them with a session's first scoring
        (features.for_store), so that rescoring it later need not read its events."""
        from trainer.scoring.features import for_store

        mistakes, outcome, _ = detected(course, rows_of(events))
        return self.score_detected([(course, mistakes, outcome, None)])[0], for_store(course, mistakes, outcome)

    def score_many(self, sessions: Sequence[tuple[Course, Sequence[Event]]]) -> list[SessionScore]:
        """Score many sessions with one call to the model (much faster than one call per session)."""
        return self.score_rows([(course, rows_of(events)) for course, events in sessions])

    def score_rows(self, sessions: Sequence[tuple[Course, Sequence[EventRow]]]) -> list[SessionScore]:
        """score_many() on events as EventRow tuples (as Store.event_rows_of reads them)."""
        return self.score_detected([(course, *detected(course, events)) for course, events in sessions])

    def score_detected(self, sessions: Sequence[Detected]) -> list[SessionScore]:
        """score_rows() on sessions already detected: (course, mistakes, outcome, feature values of each mistake or
        None to compute them), as detected() makes them from events or features.from_stored reads them from the
        features stored with a session's first scoring. The one way a score is made from mistakes: both give the
        same scores and graded lists."""
        from trainer.scoring.features import attribution, matrix_of, values

        graded: list[tuple[Course, Sequence[DetectedMistake], Outcome | None, bool, str]] = []
        rows: list[Sequence[Any]] = []
        model = self.model
        decided: dict[int, tuple[bool, str]] = {}  # by course object: whether the model grades it, and the note
        for course, mistakes, outcome, known in sessions:
            got = decided.get(id(course))
            if got is None:
                got = decided[id(course)] = self._decide(course)
            use, note = got
            if use:
                if known is None:
                    rows += [values(course, m) for m in mistakes if not fixed_grade(m)]
                else:
                    rows += [row for m, row in zip(mistakes, known, strict=True) if not fixed_grade(m)]
            graded.append((course, mistakes, outcome, use, note))
        predicted: list[tuple[str, float]] = []
        weighed: list[tuple[tuple[str, float], ...]] = []
        if model is not None and rows:
            X = matrix_of(rows)
            proba = model.probabilities(X)  # once: the grades and what was weighed for them both read it
            predicted = model.best(proba)
            if self.explain:
                weighed = attribution(model, X, [g for g, _ in predicted], base=proba)
        predictions = iter(predicted)
        why = iter(weighed)
        out = []
        for course, mistakes, outcome, use, note in graded:
            if model is None or not use:
                out.append(_with_note(score_session(course, mistakes, outcome), note))
                continue
            threshold = model.review_below
            marks, reasons = [], []
            for m in mistakes:
                if fixed_grade(m):
                    continue
                grade, confidence = next(predictions)
                marks.append((m, grade, confidence, bool(note) or confidence < threshold))
                reasons.append(next(why, ()))
            score = score_graded(course, marks, outcome, scorer=self.name, note=note, weighed=reasons)
            out.append(with_fixed(score, mistakes, course, outcome))
        return out

    def _decide(self, course: Course) -> tuple[bool, str]:
        """Whether the model grades this course's sessions, and the note their scores get."""
        model = self.model
        if model is not None and not model.covers(course.id, course.version):
            return (
                False,
                f"model {model.short_id} was not trained on {course.id} {course.version}: graded by the rubric",
            )
        if model is not None and not model.knows_content(course.id, course.version, course.content_hash):
            return True, (
                f"model {model.short_id} was trained on other content of {course.id} {course.version} "
                f"(this file: {course.content_hash[:12]}): every grade is flagged for review"
            )
        return model is not None, self.note


# A session as Grader.score_detected takes it: its course, its mistakes, its outcome, and each mistake's feature values
# in FEATURES order (None: computed from the mistakes).
Detected = tuple[Course, Sequence[DetectedMistake], Outcome | None, Sequence[Sequence[Any]] | None]


def detected(course: Course, events: Sequence[EventRow]) -> tuple[list[DetectedMistake], Outcome | None, None]:
    """A session's mistakes and outcome from its events, as Grader.score_detected takes them (after the course)."""
    return detect_rows(course, events), outcome_of_rows(events), None


def _with_note(score: SessionScore, note: str) -> SessionScore:
    if not note:
        return score
    from dataclasses import replace

    return replace(score, note=note)


def details(score: SessionScore) -> list[dict[str, Any]]:
    """The graded list of mistakes as plain data, for the scores history: every deduction, mistake cleared and
    consequence folded, in the order made. The one source every screen, report, sheet and export reads (see
    trainer.scoring.judgement.read). Keys are only ever added, never renamed: older rows stay readable."""
    return [_row(d, severity) for d, severity in _rows(score)]


def _rows(score: SessionScore) -> list[tuple[Deduction, str]]:
    rows = [(d, _NAMES[d.severity]) for d in score.deductions]
    rows += [(d, "none") for d in score.cleared + score.folded]
    rows.sort(key=_in_order)
    return rows


def _row(d: Deduction, severity: str) -> dict[str, Any]:
    m = d.mistake
    return {
        "mistake": m.id,
        "code": m.code,
        "declared": _NAMES[m.severity],
        "severity": severity,
        "points": d.points,
        "confidence": round(d.confidence, 4),
        "review": d.review,
        "seq": m.seq,
        "t_ms": m.t_ms,
        "state": m.state,
        "source": m.source,
        "under": m.under,
        "facts": facts_of(m),
        "weighed": [[fact, delta] for fact, delta in d.weighed],
    }


_NAMES = {s: str(s) for s in MistakeSeverity}  # str() of an enum is a call each time


def _in_order(row: tuple[Deduction, str]) -> tuple[int, str]:
    return row[0].mistake.seq, row[0].mistake.id


def details_json(score: SessionScore) -> str:
    """details() as the canonical JSON text the store keeps (trainer.engine.events.canonical_json: keys sorted, no
    spaces, UTF-8 kept), written directly: the same text in half the time of building the dicts and dumping them
    (every scoring of `trainer score --all` writes one). Values of unexpected types take the general way."""
    parts = []
    for d, severity in _rows(score):
        m, confidence, points = d.mistake, round(d.confidence, 4), d.points
        if not (
            type(m.id) is str
            and type(m.code) is str
            and type(m.state) is str
            and type(m.source) is str
            and type(m.seq) is int
            and type(m.t_ms) is int
            and (m.under is None or type(m.under) is str)
            and type(confidence) is float
            and type(points) is float
            and isfinite(confidence)
            and isfinite(points)
            and type(d.review) is bool
            and all(type(fact) is str and type(delta) is float and isfinite(delta) for fact, delta in d.weighed)
        ):
            return json.dumps(details(score), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        facts = ",".join(f'"{k}":{_fact_json(v)}' for k, v in facts_of(m).items())
        under = "null" if m.under is None else _quoted(m.under)
        weighed = ",".join(f"[{_quoted(fact)},{delta!r}]" for fact, delta in d.weighed)
        parts.append(
            f'{{"code":{_quoted(m.code)},"confidence":{confidence!r},"declared":"{_NAMES[m.severity]}",'
            f'"facts":{{{facts}}},"mistake":{_quoted(m.id)},"points":{points!r},'
            f'"review":{"true" if d.review else "false"},"seq":{m.seq},"severity":"{severity}",'
            f'"source":{_quoted(m.source)},"state":{_quoted(m.state)},"t_ms":{m.t_ms},"under":{under},"weighed":[{weighed}]}}'
        )
    return f"[{','.join(parts)}]"


def _fact_json(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return repr(value)


def score_row(session_id: str, score: SessionScore, *, as_json: bool = False) -> dict[str, Any]:
    """A scoring as the store's add_scores takes it (the scores history and the session's current score); `as_json`:
    the details as their JSON text (details_json), e.g. to send them from a worker process."""
    return {
        "session_id": session_id,
        "scorer": score.scorer,
        "score": score.score,
        "passed": score.passed,
        "reason": score.reason,
        "review": score.review,
        "details": details_json(score) if as_json else details(score),
    }
