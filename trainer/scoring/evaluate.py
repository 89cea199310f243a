"""How well a model grades, measured against instructors' labels, beside the baselines it must beat.

Every figure is a quadratic-weighted Cohen's kappa (and macro F1) over (mistake, label) pairs: a mistake labelled by two
instructors counts twice, once against each. Beside the model: the rubric (each mistake at its declared severity), a
DummyClassifier (always the most frequent grade) and the instructors' agreement with each other (pairs of labels on
the same mistake). Per course, a confusion matrix, and a learning curve: kappa against the number of labelled sessions
the same kind of model was trained on. How far the confidence can be trusted: the expected calibration error and a
reliability table (calibration.py), per-grade precision, recall and F1, and for thresholds the review queue they make
(the share of rows flagged and the share of the wrong grades among them). Agreement between labellers, per pair of
labellers who graded the same mistakes, the synthetic reference raters marked as such.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import combinations
from os import PathLike
from pathlib import Path
from typing import Any

from trainer import outfile
from trainer.scoring.calibration import Bin, QueuePoint, ece, queue, reliability
from trainer.scoring.features import GRADES, RANK
from trainer.scoring.model import ModelError, TrainedModel, TrainingData, macro_f1, one_thread, pipeline_for, qwk

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)  # review thresholds shown beside the model's own


@dataclass(frozen=True)
class Row:
    name: str
    kappa: float
    f1: float
    n: int  # pairs compared


@dataclass(frozen=True)
class ClassRow:
    grade: str
    precision: float
    recall: float
    f1: float
    support: int  # labels of this grade
    predicted: int  # rows the model gave this grade


@dataclass(frozen=True)
class PairRow:
    """Two labellers' agreement on the mistakes both graded."""

    a: str
    b: str
    mistakes: int
    kappa: float
    exact: float  # share of those mistakes given the same grade
    synthetic: bool  # both are Trainer's reference raters (code, not instructors)


@dataclass
class Evaluation:
    overall: list[Row]  # model, rubric, dummy, raters
    per_course: dict[str, list[Row]]
    confusion: list[list[int]]  # [label][model prediction], GRADES order
    curve: list[tuple[int, float]]  # (labelled sessions trained on, kappa on the held-out rows)
    curve_note: str
    sessions: int
    mistakes: int
    labels: int
    uncovered: list[str] = field(default_factory=list)  # course versions in the data the model was not trained on
    ece: float = 0.0
    reliability: list[Bin] = field(default_factory=list)
    per_class: list[ClassRow] = field(default_factory=list)
    review: list[QueuePoint] = field(default_factory=list)  # THRESHOLDS and the model's own, ascending
    review_below: float = 0.0  # the model's own threshold
    wrong: float = 0.0  # share of rows whose grade differs from the label
    pairs: list[PairRow] = field(default_factory=list)
    curve_labels: list[int] = field(default_factory=list)  # labels trained on at each point of the curve
    curve_rubric: float | None = None  # the rubric's kappa on the learning curve's test rows

    @property
    def beats_rubric(self) -> tuple[int, int] | None:
        """(sessions, labels) of the first learning-curve point whose kappa beats the rubric's on the same test rows:
        how many labels this site's model needs to grade better than the declared severities. None: no point does."""
        if self.curve_rubric is None:
            return None
        for (n, kappa), labels in zip(self.curve, self.curve_labels, strict=True):
            if kappa > self.curve_rubric:
                return n, labels
        return None

    def queue_at(self, threshold: float) -> QueuePoint:
        return next(q for q in self.review if q.threshold == threshold)

    def row(self, name: str) -> Row:
        return next(r for r in self.overall if r.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "mistakes": self.mistakes,
            "labels": self.labels,
            "overall": [vars(r) for r in self.overall],
            "per_course": {c: [vars(r) for r in rows] for c, rows in self.per_course.items()},
            "confusion": {"labels_rows_predictions_columns": list(GRADES), "matrix": self.confusion},
            "learning_curve": [
                {"sessions": n, "labels": labels, "kappa": k}
                for (n, k), labels in zip(self.curve, self.curve_labels, strict=True)
            ],
            "learning_curve_note": self.curve_note,
            "learning_curve_rubric": self.curve_rubric,
            "beats_rubric_from": None
            if self.beats_rubric is None
            else {"sessions": self.beats_rubric[0], "labels": self.beats_rubric[1]},
            "uncovered": self.uncovered,
            "ece": self.ece,
            "reliability": [vars(b) for b in self.reliability],
            "per_class": [vars(c) for c in self.per_class],
            "wrong": self.wrong,
            "review_below": self.review_below,
            "review": [vars(q) for q in self.review],
            "labeller_pairs": [vars(p) for p in self.pairs],
        }


def rater_pairs(data: TrainingData, keep: set[int] | None = None) -> tuple[list[int], list[int]]:
    """Two lists of grades: every pair of labels two different labellers gave the same mistake."""
    by_mistake: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for i in range(len(data)):
        if keep is None or i in keep:
            by_mistake[(data.sessions[i], data.mistakes[i])].append((data.labellers[i], data.grades[i]))
    a, b = [], []
    for labels in by_mistake.values():
        for (la, ga), (lb, gb) in combinations(sorted(labels), 2):
            if la != lb:
                a.append(ga)
                b.append(gb)
    return a, b


def _rows(data: TrainingData, idx: list[int], predicted: list[int], dummy: int) -> list[Row]:
    truth = [data.grades[i] for i in idx]
    model = [predicted[i] for i in idx]
    rubric = [int(data.contexts[i]["declared_rank"]) for i in idx]
    a, b = rater_pairs(data, set(idx))
    rows = [
        Row("model", qwk(truth, model), macro_f1(truth, model), len(idx)),
        Row("rubric", qwk(truth, rubric), macro_f1(truth, rubric), len(idx)),
        Row("dummy (most frequent)", qwk(truth, [dummy] * len(idx)), macro_f1(truth, [dummy] * len(idx)), len(idx)),
    ]
    if a:
        rows.append(Row("raters (with each other)", qwk(a, b), macro_f1(a, b), len(a)))
    return rows


def evaluate(
    model: TrainedModel,
    data: TrainingData,
    *,
    train_data: TrainingData | None = None,
    seed: int = 0,
    curve_points: int = 6,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    from sklearn.dummy import DummyClassifier

    if len(data) == 0:
        raise ModelError("the data holds no labelled mistakes to evaluate against")
    graded = model.predict(data.contexts)
    predicted = [RANK[g] for g, _ in graded]
    confidence = [c for _, c in graded]
    base = train_data if train_data is not None and len(train_data) else data
    dummy = int(DummyClassifier(strategy="most_frequent").fit([[0]] * len(base), base.grades).predict([[0]])[0])
    everything = list(range(len(data)))
    overall = _rows(data, everything, predicted, dummy)
    per_course: dict[str, list[Row]] = {}
    by_course: dict[str, list[int]] = defaultdict(list)
    for i, ctx in enumerate(data.contexts):
        by_course[str(ctx["course"])].append(i)
    for course, idx in sorted(by_course.items()):
        per_course[course] = _rows(data, idx, predicted, dummy)
    confusion = [[0] * len(GRADES) for _ in GRADES]
    for truth, guess in zip(data.grades, predicted, strict=True):
        confusion[truth][guess] += 1
    uncovered = sorted(
        f"{course} {version}"
        for course, versions in data.courses.items()
        for version in versions
        if not model.covers(course, version)
    )
    right = [t == g for t, g in zip(data.grades, predicted, strict=True)]
    wrong = [not r for r in right]
    own = model.review_below
    curve_labels: list[int] = []
    curve_rubric: list[float] = []
    curve, note = learning_curve(
        model,
        data,
        train_data,
        seed=seed,
        points=curve_points,
        progress=progress,
        labels=curve_labels,
        rubric=curve_rubric,
    )
    return Evaluation(
        overall=overall,
        per_course=per_course,
        confusion=confusion,
        curve=curve,
        curve_note=note,
        sessions=len(set(data.sessions)),
        mistakes=len(set(zip(data.sessions, data.mistakes, strict=True))),
        labels=len(data),
        uncovered=uncovered,
        ece=round(ece(confidence, right), 6),
        reliability=reliability(confidence, right),
        per_class=per_class(data.grades, predicted),
        review=[queue(confidence, wrong, t) for t in sorted({*THRESHOLDS, own})],
        review_below=own,
        wrong=sum(wrong) / len(wrong),
        pairs=labeller_pairs(data),
        curve_labels=curve_labels,
        curve_rubric=curve_rubric[0] if curve_rubric else None,
    )


def per_class(truth: list[int], predicted: list[int]) -> list[ClassRow]:
    """Precision, recall, F1 and support of each grade (0 where a grade is never labelled or never given)."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = list(range(len(GRADES)))
    p, r, f, n = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    given = [predicted.count(k) for k in labels]
    return [
        ClassRow(GRADES[k], round(float(p[k]), 6), round(float(r[k]), 6), round(float(f[k]), 6), int(n[k]), given[k])
        for k in labels
    ]


def labeller_pairs(data: TrainingData) -> list[PairRow]:
    """For each two labellers who graded some of the same mistakes: on how many, quadratic kappa and exact agreement.
    Inter-rater agreement of real instructors is the bar a model should be held to; the synthetic reference raters'
    agreement is only a property of their code (raters.py)."""
    from trainer.scoring.raters import RATERS

    by_mistake: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for i in range(len(data)):
        by_mistake[(data.sessions[i], data.mistakes[i])][data.labellers[i]] = data.grades[i]
    pairs: dict[tuple[str, str], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for labels in by_mistake.values():
        for a, b in combinations(sorted(labels), 2):
            ga, gb = pairs[(a, b)]
            ga.append(labels[a])
            gb.append(labels[b])
    return [
        PairRow(
            a,
            b,
            len(ga),
            round(qwk(ga, gb), 6),
            round(sum(x == y for x, y in zip(ga, gb, strict=True)) / len(ga), 6),
            a in RATERS and b in RATERS,
        )
        for (a, b), (ga, gb) in sorted(pairs.items())
    ]


def learning_curve(
    model: TrainedModel,
    data: TrainingData,
    train_data: TrainingData | None,
    *,
    seed: int,
    points: int,
    progress: Callable[[str], None] | None = None,
    labels: list[int] | None = None,
    rubric: list[float] | None = None,
) -> tuple[list[tuple[int, float]], str]:
    """Kappa of the model's kind of pipeline trained on growing numbers of labelled sessions.

    With `train_data`, it trains on sessions drawn from it and tests on `data`; without, it splits `data` by trainee
    (70% of the trainees to draw from, 30% to test on). `labels` receives the number of labels trained on at each
    point, `rubric` the rubric's kappa on the same test rows (the bar the curve has to pass).
    """
    from sklearn.base import clone

    from trainer.scoring.features import matrix

    if points <= 0:
        return [], "not computed"
    chosen = str(model.metadata.get("candidate") or model.metadata.get("chosen", "hist-gradient-boosting"))
    try:
        # the chosen candidate, with its class weights, uncalibrated: calibration barely moves kappa and triples the fits
        template = pipeline_for(chosen, int(model.metadata.get("seed", seed)))
    except ModelError:
        return [], f"unknown model kind {chosen!r}"
    if train_data is not None and len(train_data):
        pool, test = train_data, data
        note = "trained on sessions of the training data, tested on the evaluated data"
    else:
        trainees = sorted(set(data.trainees))
        random.Random(seed).shuffle(trainees)
        held = set(trainees[: max(1, int(len(trainees) * 0.3))])
        pool = data.subset(i for i in range(len(data)) if data.trainees[i] not in held)
        test = data.subset(i for i in range(len(data)) if data.trainees[i] in held)
        note = "split of the evaluated data by trainee: 70% to train on, 30% to test on"
    sessions = pool.session_ids()
    random.Random(seed).shuffle(sessions)
    if len(sessions) < 4 or not len(test):
        return [], "too few sessions for a learning curve"
    sizes = sorted({max(2, round(len(sessions) * (2**-k))) for k in range(points)})
    X_test = matrix(test.contexts)
    if rubric is not None:
        rubric.append(round(qwk(test.grades, [int(c["declared_rank"]) for c in test.contexts]), 4))
    curve = []
    for n in sizes:
        keep = set(sessions[:n])
        part = pool.subset(i for i in range(len(pool)) if pool.sessions[i] in keep)
        if len(set(part.grades)) < 2:
            continue
        if progress:
            progress(f"learning curve: {n} sessions")
        with one_thread():
            fitted = clone(template).fit(matrix(part.contexts), part.grades)
            predicted = [int(p) for p in fitted.predict(X_test)]
        curve.append((n, round(qwk(test.grades, predicted), 4)))
        if labels is not None:
            labels.append(len(part))
    return curve, note


# --- plots: PNG with matplotlib when it is installed, else SVG written by hand --------------------------------------


def _plot_format() -> str:
    import importlib.util

    return "png" if importlib.util.find_spec("matplotlib") is not None else "svg"


def check_report(where: str | PathLike[str], *, force: bool = False) -> None:
    """Fail before evaluating when `where`'s report.json or plots may not be written (trainer.outfile's rules)."""
    folder = Path(where)
    if folder.exists() and not folder.is_dir():
        raise outfile.OutputError(f"{folder}: cannot write the report: it is not a folder; give a folder for --report")
    fmt = _plot_format()
    for name in ("report.json", f"confusion.{fmt}", f"learning_curve.{fmt}"):
        outfile.check(folder / name, "report", force=force, make_folder=True)


def write_plots(ev: Evaluation, where: str | PathLike[str], *, force: bool = False) -> tuple[list[Path], str]:
    """Write the confusion matrix and the learning curve into the folder `where`; returns (files, a note on the format).

    Through trainer.outfile: an existing plot is replaced only with `force`."""
    folder = Path(where)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise outfile.OutputError(f"{folder}: cannot write the report: {exc.strerror or exc}") from None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        files = [folder / "confusion.svg", folder / "learning_curve.svg"]
        for path, svg in zip(files, (_confusion_svg(ev.confusion), _curve_svg(ev.curve)), strict=True):
            outfile.write(path, partial(_write_text, svg), "plot", force=force)
        return files, "matplotlib is not installed: plots written as SVG (pip install matplotlib for PNG)"
    files = [folder / "confusion.png", folder / "learning_curve.png"]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(ev.confusion, cmap="Blues")
    ax.set_xticks(range(len(GRADES)), GRADES)
    ax.set_yticks(range(len(GRADES)), GRADES)
    ax.set_xlabel("model")
    ax.set_ylabel("label")
    for r, row in enumerate(ev.confusion):
        for c, v in enumerate(row):
            ax.text(c, r, str(v), ha="center", va="center")
    fig.tight_layout()
    _save_figure(plt, fig, files[0], force=force)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    if ev.curve:
        ax.plot([n for n, _ in ev.curve], [k for _, k in ev.curve], marker="o")
    ax.set_xscale("log")
    ax.set_xlabel("labelled sessions")
    ax.set_ylabel("quadratic kappa")
    fig.tight_layout()
    _save_figure(plt, fig, files[1], force=force)
    return files, "plots written as PNG"


def _write_text(text: str, tmp: Path) -> None:
    tmp.write_text(text, encoding="utf-8")


def _save_figure(plt: Any, fig: Any, path: Any, *, force: bool) -> None:
    try:
        outfile.write(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"), "plot", force=force)
    finally:
        plt.close(fig)


def _confusion_svg(matrix: list[list[int]]) -> str:
    cell, left, top = 70, 90, 40
    size = len(GRADES)
    peak = max(max(row) for row in matrix) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + cell * size + 20}" height="{top + cell * size + 50}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="{left + cell * size / 2}" y="20" text-anchor="middle">model prediction</text>',
    ]
    for c, g in enumerate(GRADES):
        parts.append(f'<text x="{left + cell * c + cell / 2}" y="{top - 5}" text-anchor="middle">{g}</text>')
    for r, g in enumerate(GRADES):
        parts.append(f'<text x="{left - 8}" y="{top + cell * r + cell / 2 + 4}" text-anchor="end">{g}</text>')
        for c, v in enumerate(matrix[r]):
            shade = int(255 - 200 * v / peak)
            ink = "white" if v / peak > 0.6 else "black"
            x, y = left + cell * c, top + cell * r
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="rgb({shade},{shade},255)" stroke="#888"/>'
            )
            parts.append(
                f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" fill="{ink}">{v}</text>'
            )
    parts.append(
        f'<text x="{left + cell * size / 2}" y="{top + cell * size + 30}" text-anchor="middle">rows: label</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _curve_svg(curve: list[tuple[int, float]]) -> str:
    import math

    width, height, pad = 480, 300, 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - 10}" y2="{height - pad}" stroke="black"/>',
        f'<line x1="{pad}" y1="10" x2="{pad}" y2="{height - pad}" stroke="black"/>',
        f'<text x="{(width + pad) / 2}" y="{height - 10}" text-anchor="middle">labelled sessions (log scale)</text>',
        f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" text-anchor="middle">quadratic kappa</text>',
    ]
    for k in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = height - pad - k * (height - pad - 10)
        parts.append(f'<text x="{pad - 5}" y="{y + 4}" text-anchor="end">{k:.2f}</text>')
    if curve:
        lo, hi = math.log(curve[0][0]), math.log(max(curve[-1][0], curve[0][0] + 1))
        points = []
        for n, kappa in curve:
            x = pad + (math.log(n) - lo) / (hi - lo or 1) * (width - pad - 30)
            y = height - pad - max(0.0, kappa) * (height - pad - 10)
            points.append((x, y))
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
            parts.append(f'<text x="{x:.1f}" y="{height - pad + 15}" text-anchor="middle">{n}</text>')
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="steelblue" stroke-width="2"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
