"""The grading model: a scikit-learn Pipeline trained on labelled sessions, saved with skops, loaded only after checks.

Training: one row per label (a mistake labelled by two instructors gives two rows), features from features.py, candidates
compared by cross-validation with each trainee's sessions kept in one fold (StratifiedGroupKFold), scored by quadratic
weighted Cohen's kappa; the best is refitted on everything. Saving writes `NAME.skops` and `NAME.json` (metadata) beside
it. Loading checks, in order: the metadata, the file's SHA-256 against it, the types in the file against TRUSTED, the
feature list; only then does skops build the objects. Any failure is a ModelError and nothing from the file is run.

scikit-learn, numpy and skops are imported inside the functions that need them: importing this module stays cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import platform
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trainer import __version__, outfile
from trainer.errors import TrainerError
from trainer.scoring.features import CATEGORICAL, FEATURES, GRADES, NUMERIC, RANK

MODEL_FORMAT = "trainer-model/1"
SIGNATURE_FORMAT = "trainer-model-signature/1"
REVIEW_BELOW = 0.6  # a prediction whose probability is below this is flagged for an instructor to review
DEFAULT_SPLITS = 5

# Types a model file may hold beyond those skops trusts by default (scikit-learn's estimators, numpy arrays, builtins).
# Tree models need their tree classes here. A file holding any other type is refused before anything in it is built.
TRUSTED: tuple[str, ...] = (
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",  # the boosted trees themselves
    "sklearn.utils.validation.check_array",  # with functools.partial: the boosting model's input check
    "functools.partial",
)

Progress = Callable[[str, int], None]  # (what is being done, units done since the last call)


class ModelError(TrainerError):
    """A model file that cannot be trusted or used: missing, tampered, unexpected types, or for other features."""


@dataclass(frozen=True)
class DataFile:
    file: str
    sha256: str
    sessions: int
    mistakes: int
    labels: int


@dataclass
class TrainingData:
    """Rows for the model: one per (mistake, label). Built by `load_data`."""

    contexts: list[Mapping[str, Any]] = field(default_factory=list)
    grades: list[int] = field(default_factory=list)  # label ranks (0 none .. 3 critical)
    trainees: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)  # mistake ids, per row
    labellers: list[str] = field(default_factory=list)
    files: list[DataFile] = field(default_factory=list)
    courses: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # course -> version -> content hashes
    unlabelled: int = 0  # mistakes without any label (not used for training)

    def __len__(self) -> int:
        return len(self.grades)

    def session_ids(self) -> list[str]:
        return list(dict.fromkeys(self.sessions))

    def subset(self, keep: Iterable[int]) -> TrainingData:
        idx = list(keep)
        return TrainingData(
            contexts=[self.contexts[i] for i in idx],
            grades=[self.grades[i] for i in idx],
            trainees=[self.trainees[i] for i in idx],
            sessions=[self.sessions[i] for i in idx],
            mistakes=[self.mistakes[i] for i in idx],
            labellers=[self.labellers[i] for i in idx],
            files=self.files,
            courses=self.courses,
        )


def load_data(paths: Sequence[str | Path]) -> TrainingData:
    """Read labelled-session files (JSON Lines, optionally .gz) into training rows."""
    from trainer.scoring.labelled import LabelledDataError, file_sha256, read

    data = TrainingData()
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise LabelledDataError(f"{path}: no such file; give a labelled-session file (JSON Lines)")
        n_sessions = n_mistakes = n_labels = 0
        for s in read(path):
            n_sessions += 1
            hashes = data.courses.setdefault(s.course, {}).setdefault(s.version, [])
            if s.content_hash and s.content_hash not in hashes:
                hashes.append(s.content_hash)
            for m in s.mistakes:
                n_mistakes += 1
                if not m.labels:
                    data.unlabelled += 1
                for label in m.labels:
                    n_labels += 1
                    data.contexts.append(m.context)
                    data.grades.append(RANK[label.severity])
                    data.trainees.append(s.trainee)
                    data.sessions.append(s.session)
                    data.mistakes.append(m.id)
                    data.labellers.append(label.labeller)
        data.files.append(DataFile(path.name, file_sha256(path), n_sessions, n_mistakes, n_labels))
    for versions in data.courses.values():
        for hashes in versions.values():
            hashes.sort()
    return data


# --- the candidates ---------------------------------------------------------------------------------------------------


def candidates(seed: int) -> dict[str, Any]:
    """The pipelines cross-validation chooses among, by name."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    cat = list(range(len(CATEGORICAL)))
    num = list(range(len(CATEGORICAL), len(FEATURES)))
    logistic = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("categorical", OneHotEncoder(handle_unknown="ignore", min_frequency=5), cat),
                        ("numeric", StandardScaler(), num),
                    ]
                ),
            ),
            ("model", LogisticRegression(C=1.0, max_iter=3000)),
        ]
    )
    boosting = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        (
                            "categorical",
                            OrdinalEncoder(
                                handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
                            ),
                            cat,
                        ),
                        ("numeric", "passthrough", num),
                    ]
                ),
            ),
            (
                "model",
                HistGradientBoostingClassifier(
                    categorical_features=cat,
                    learning_rate=0.08,
                    max_iter=150,
                    max_leaf_nodes=15,
                    min_samples_leaf=20,
                    l2_regularization=1.0,
                    early_stopping=False,
                    random_state=seed,
                ),
            ),
        ]
    )
    return {"logistic-regression": logistic, "hist-gradient-boosting": boosting}


def one_thread() -> Any:
    """Run scikit-learn's OpenMP code on one thread. The histogram boosting's threads cost far more than they save on
    data of this size (measured: a fit 1 s on one thread, 9 to 27 s on two busy CPUs; predict 8x faster)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def qwk(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Quadratic weighted Cohen's kappa over the four grades (1.0 when both sides agree on a single grade)."""
    from sklearn.metrics import cohen_kappa_score

    if len(set(y_true) | set(y_pred)) <= 1:
        return 1.0 if list(y_true) == list(y_pred) else 0.0
    return float(cohen_kappa_score(y_true, y_pred, weights="quadratic", labels=list(range(len(GRADES)))))


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    from sklearn.metrics import f1_score

    present = sorted(set(y_true) | set(y_pred))
    return float(f1_score(y_true, y_pred, average="macro", labels=present, zero_division=0))


def _splits(data: TrainingData, n_splits: int, seed: int) -> list[tuple[Any, Any]]:
    import numpy as np
    from sklearn.model_selection import StratifiedGroupKFold

    groups = np.asarray(data.trainees)
    k = min(n_splits, len(set(data.trainees)))
    if k < 2:
        raise ModelError(
            f"cross-validation needs the sessions of at least 2 trainees; the data has {len(set(data.trainees))}"
        )
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros(len(data)), np.asarray(data.grades), groups))


@dataclass
class TrainedModel:
    pipeline: Any
    metadata: dict[str, Any]
    path: Path | None = None
    checked: Any = None  # modelcheck.Checked: what load() checked (None: built here, not loaded)
    signed_by: str = ""  # the site key id whose signature load() verified ("": the site has no key)

    @property
    def review_below(self) -> float:
        return float(self.metadata.get("review_below", REVIEW_BELOW))

    @property
    def short_id(self) -> str:
        return str(self.metadata.get("model_sha256", ""))[:12] or "unsaved"

    def covers(self, course_id: str, version: str) -> bool:
        """Whether the model was trained on sessions of this course version."""
        return version in self.metadata.get("courses", {}).get(course_id, {})

    def knows_content(self, course_id: str, version: str, content_hash: str) -> bool:
        """Whether it was trained on exactly this content of the course version (a file edited without a new version
        number has another content hash)."""
        hashes = self.metadata.get("courses", {}).get(course_id, {}).get(version) or []
        return not content_hash or not hashes or content_hash in hashes

    def predict(self, contexts: Sequence[Mapping[str, Any]]) -> list[tuple[str, float]]:
        """(grade, probability of that grade) for each context."""
        if not contexts:
            return []
        from trainer.scoring.features import matrix

        return self.predict_matrix(matrix(contexts))

    def predict_matrix(self, X: Any) -> list[tuple[str, float]]:
        """predict() on the model's input as features.matrix or features.matrix_of build it."""
        if len(X) == 0:
            return []
        return self.best(self.probabilities(X))

    def best(self, proba: Any) -> list[tuple[str, float]]:
        """predict_matrix() from the probabilities (probabilities()) of the rows, when the caller has them already."""
        import numpy as np

        grades = self.grades
        best = proba.argmax(axis=1)
        return list(zip([grades[b] for b in best.tolist()], proba[np.arange(len(best)), best].tolist(), strict=True))

    @property
    def grades(self) -> list[str]:
        """The grades in the order of the columns of probabilities()."""
        return [GRADES[int(c)] for c in self.pipeline.classes_]

    def probabilities(self, X: Any) -> Any:
        """The probability of each grade (columns: self.grades) for each row of the model's input."""
        with one_thread():
            return self.pipeline.predict_proba(X)

    def predict_ranks(self, contexts: Sequence[Mapping[str, Any]]) -> list[int]:
        return [RANK[g] for g, _ in self.predict(contexts)]


def _fit(pipeline: Any, data: TrainingData) -> Any:
    import numpy as np

    from trainer.scoring.features import matrix

    with one_thread():
        return pipeline.fit(matrix(data.contexts), np.asarray(data.grades))


def cross_validate(
    data: TrainingData, *, seed: int = 0, n_splits: int = DEFAULT_SPLITS, progress: Progress | None = None
) -> dict[str, dict[str, Any]]:
    """Each candidate's quadratic kappa and macro F1 per fold, trainees kept apart between folds."""
    from sklearn.base import clone

    from trainer.scoring.features import matrix

    folds = _splits(data, n_splits, seed)
    X = matrix(data.contexts)
    y = data.grades
    results: dict[str, dict[str, Any]] = {}
    for name, pipeline in candidates(seed).items():
        kappas, f1s = [], []
        for k, (train, test) in enumerate(folds, start=1):
            if progress:
                progress(f"{name}: fold {k}/{len(folds)}", 0)
            with one_thread():
                fitted = clone(pipeline).fit(X[train], [y[i] for i in train])
                predicted = [int(p) for p in fitted.predict(X[test])]
            truth = [y[i] for i in test]
            kappas.append(round(qwk(truth, predicted), 6))
            f1s.append(round(macro_f1(truth, predicted), 6))
            if progress:
                progress(f"{name}: fold {k}/{len(folds)}", 1)
        results[name] = {
            "kappa": kappas,
            "kappa_mean": round(sum(kappas) / len(kappas), 6),
            "f1_macro": f1s,
            "f1_macro_mean": round(sum(f1s) / len(f1s), 6),
        }
    return results


def train_steps(data: TrainingData, n_splits: int = DEFAULT_SPLITS) -> int:
    """How many progress units `train` reports: every fold of every candidate, then the final fit."""
    return len(candidates(0)) * min(n_splits, max(2, len(set(data.trainees)))) + 1


def train(
    data: TrainingData,
    *,
    seed: int = 0,
    n_splits: int = DEFAULT_SPLITS,
    progress: Progress | None = None,
    review_below: float = REVIEW_BELOW,
) -> TrainedModel:
    """Cross-validate the candidates, refit the best on all rows, and describe it in the metadata."""
    import numpy
    import scipy
    import sklearn
    import skops

    if len(data) == 0:
        raise ModelError("the data holds no labelled mistakes; label some sessions first (trainer label)")
    if len(set(data.grades)) < 2:
        raise ModelError(f"every label is {GRADES[data.grades[0]]!r}; a model needs at least two different grades")
    cv = cross_validate(data, seed=seed, n_splits=n_splits, progress=progress)
    chosen = max(cv, key=lambda name: (cv[name]["kappa_mean"], cv[name]["f1_macro_mean"]))
    if progress:
        progress(f"fitting {chosen} on all data", 0)
    pipeline = _fit(candidates(seed)[chosen], data)
    if progress:
        progress(f"fitting {chosen} on all data", 1)
    counts = Counter(GRADES[g] for g in data.grades)
    metadata = {
        "format": MODEL_FORMAT,
        "trainer": __version__,
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "features": {"categorical": list(CATEGORICAL), "numeric": list(NUMERIC)},
        "grades": list(GRADES),
        "chosen": chosen,
        "params": {k: _plain(v) for k, v in pipeline.named_steps["model"].get_params().items()},
        "seed": seed,
        "cv": {"splitter": "StratifiedGroupKFold by trainee", "n_splits": len(_splits(data, n_splits, seed)), **cv},
        "data": [vars(f) for f in data.files],
        "rows": len(data),
        "sessions": sum(f.sessions for f in data.files),
        "trainees": len(set(data.trainees)),
        "label_counts": {g: counts.get(g, 0) for g in GRADES},
        "labellers": dict(sorted(Counter(data.labellers).items())),
        "courses": data.courses,
        "review_below": review_below,
    }
    return TrainedModel(pipeline, metadata)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return repr(value)


# --- saving and loading -----------------------------------------------------------------------------------------------


def metadata_path(path: str | Path) -> Path:
    return Path(path).with_suffix(".json")


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def signature_path(path: str | Path) -> Path:
    return Path(path).with_suffix(".sig")


def save(model: TrainedModel, path: str | Path, *, force: bool = False) -> Path:
    """Write the model (skops) and its metadata (JSON, with the model file's SHA-256) beside it, and sign both when the
    site has a key (so that a model trained here is accepted here).

    Both through trainer.outfile: whole or not at all, existing files replaced only with `force`.
    """
    import zipfile

    import skops.io as sio

    path = Path(path)
    if path.suffix != ".skops":
        raise ModelError(f"{path}: a model file name must end in .skops (its metadata goes beside it as .json)")
    check_writable(path, force=force)
    key = _site_key(path)
    digest: list[str] = []

    def fill(tmp: Path) -> None:
        sio.dump(model.pipeline, tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        digest.append(sha256_of(tmp))

    outfile.write(path, fill, "model", force=force, make_folder=True)
    meta = {
        **model.metadata,
        "model_file": path.name,
        "model_sha256": digest[0],
        "trained_at": model.metadata.get("trained_at") or datetime.now(UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    outfile.write(
        metadata_path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"), "model's metadata", force=force
    )
    try:
        signature_path(path).unlink(missing_ok=True)  # a signature of the model this one replaces
    except OSError as exc:
        raise ModelError(f"{signature_path(path)}: cannot remove the old signature ({exc.strerror or exc})") from None
    model.metadata = meta
    model.path = path
    if key is not None:
        model.signed_by = sign(path, key)
    return path


def check_writable(path: str | Path, *, force: bool = False) -> None:
    """Fail before training (minutes) when the model or its metadata may not be written (trainer.outfile's rules)."""
    path = Path(path)
    outfile.check(path, "model", force=force, make_folder=True)
    outfile.check(metadata_path(path), "model's metadata", force=force, make_folder=True)


def _site_key(path: Path) -> bytes | None:
    from trainer.sitekey import SiteKeyError, site_key

    try:
        return site_key()
    except SiteKeyError as exc:
        raise ModelError(f"{path}: {exc}") from None


def _signed_text(path: Path, meta: Mapping[str, Any]) -> bytes:
    """What a signature covers: the model file's SHA-256 and the whole metadata (courses, review threshold, ...)."""
    canonical = json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{sha256_of(path)}\n{canonical}".encode()


def sign(path: str | Path, key: bytes) -> str:
    """Write NAME.sig: an HMAC-SHA256, with the site key, of the model file and its metadata. Returns the key id.
    The model is checked first (every check of load() but the signature): only a model this Trainer accepts is signed."""
    from trainer.sitekey import key_id, mac

    path = Path(path)
    load(path, signature=False)
    meta = read_metadata(path)
    record = {
        "format": SIGNATURE_FORMAT,
        "key_id": key_id(key),
        "hmac_sha256": mac(key, SIGNATURE_FORMAT, _signed_text(path, meta)),
    }
    text = json.dumps(record, indent=2) + "\n"
    # Re-signing replaces the old signature: it belongs to the model, which the caller names on purpose.
    outfile.write(signature_path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"), "signature", force=True)
    return record["key_id"]


def verify_signature(path: Path, meta: Mapping[str, Any], key: bytes) -> str:
    """The key id of NAME.sig when it is this site's signature of the model and its metadata; else a ModelError."""
    from trainer.sitekey import key_id, mac

    sig = signature_path(path)
    try:
        record = json.loads(sig.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"{path}: not signed (no {sig.name}) and this site accepts only models signed with its key; "
            f"sign it on a trusted machine with `trainer model sign --model {path}`"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{sig}: unreadable signature ({exc.__class__.__name__}); the model was not loaded") from None
    if not isinstance(record, dict) or record.get("format") != SIGNATURE_FORMAT:
        raise ModelError(f"{sig}: not a Trainer model signature ({SIGNATURE_FORMAT}); the model was not loaded")
    expected = mac(key, SIGNATURE_FORMAT, _signed_text(path, meta))
    if not hmac.compare_digest(str(record.get("hmac_sha256", "")), expected):
        other = record.get("key_id") != key_id(key)
        raise ModelError(
            f"{path}: its signature does not verify "
            + (
                "(signed with another key than this site's)"
                if other
                else "(the model or its metadata changed after signing)"
            )
            + "; it was not loaded"
        )
    return key_id(key)


def read_metadata(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    meta_file = metadata_path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no model file here")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"{path}: its metadata {meta_file.name} is missing; a model is only loaded with its metadata"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{meta_file}: unreadable model metadata ({exc}); retrain or reinstall the model") from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ModelError(f"{meta_file}: not Trainer model metadata (format {MODEL_FORMAT} expected)")
    return meta


def load(path: str | Path, *, signature: bool = True) -> TrainedModel:
    """Load a model after checking its hash, its signature (when the site has a key), the types it holds and its
    feature list, then check what was built (modelcheck.check) before anything uses it. Raises ModelError.
    `signature=False` skips the signature (for `sign`, which is about to write one)."""
    import zipfile

    import skops.io as sio

    from trainer.scoring.modelcheck import UnsafeModel, check

    path = Path(path)
    meta = read_metadata(path)
    actual = sha256_of(path)
    if actual != meta.get("model_sha256"):
        raise ModelError(
            f"{path}: SHA-256 {actual[:12]}... differs from its metadata ({str(meta.get('model_sha256'))[:12]}...): "
            "the file was changed after training; it was not loaded"
        )
    key = _site_key(path) if signature else None
    signed_by = verify_signature(path, meta, key) if key is not None else ""
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ModelError(f"{path}: not a skops model file ({exc.__class__.__name__}); it was not loaded") from None
    unexpected = sorted(set(untrusted) - set(TRUSTED))
    if unexpected:
        shown = ", ".join(unexpected[:3]) + (", ..." if len(unexpected) > 3 else "")
        raise ModelError(f"{path}: holds types Trainer does not trust ({shown}); it was not loaded")
    features = meta.get("features", {})
    if list(features.get("categorical", ())) != list(CATEGORICAL) or list(features.get("numeric", ())) != list(NUMERIC):
        raise ModelError(
            f"{path}: trained on another feature list than this Trainer computes; retrain it with `trainer model train`"
        )
    try:
        pipeline = sio.load(path, trusted=list(TRUSTED))
    except Exception as exc:  # skops raises many kinds for a damaged file; none of the file's code has run
        raise ModelError(f"{path}: cannot be loaded ({exc.__class__.__name__}: {exc}); retrain it") from None
    try:
        with one_thread():
            checked = check(pipeline)
    except UnsafeModel as exc:
        raise ModelError(f"{path}: {exc}; it was not used") from None
    return TrainedModel(pipeline, meta, path, checked=checked, signed_by=signed_by)


def problems(model: TrainedModel) -> list[str]:
    """Warnings about a loaded model: library versions that differ from the ones it was trained with."""
    import sklearn

    out = []
    if model.metadata.get("sklearn") != sklearn.__version__:
        out.append(
            f"trained with scikit-learn {model.metadata.get('sklearn')}, running {sklearn.__version__}: "
            "retrain to be sure the predictions are the same"
        )
    return out
