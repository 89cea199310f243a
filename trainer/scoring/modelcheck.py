"""Checks a loaded model's content before anything runs on it, so that a crafted file cannot crash or take over the process.

skops checks the *types* a file holds, not the values inside them, and it trusts every scikit-learn estimator. Some of
those estimators hand their fitted arrays to compiled code that indexes them without bounds checks:

- the boosting's trees (`TreePredictor`, which skops leaves untrusted on purpose and Trainer trusts in model.TRUSTED):
  `_predictor.pyx` follows `nodes["left"]`/`["right"]` from node 0 until a node has `is_leaf` set, reads
  `X[row, feature_idx]`, `f_idx_map[feature_idx]`, `raw_left_cat_bitsets[bitset_idx, value // 32]` and
  `known_cat_bitsets[...]`, all unchecked: an index out of range reads (or crashes on) memory outside the arrays, a
  cycle never ends;
- the one-hot encoder builds a sparse matrix from `_default_to_infrequent_mappings` and `_n_features_outs` without
  checking the column indices (scipy 1.17 happens to check them when the columns are stacked: a traceback beyond the
  matrix, and silently another feature's column within it);
- other estimators skops trusts by default (an SVC and libsvm, for example) Trainer never builds at all.

So, before a model is used: (1) every object in it must be of a type Trainer's own candidates are made of (model.py
`candidates`), which refuses the rest of scikit-learn; (2) the arrays above must be in range: each tree a proper tree
(every non-root node the child of exactly one node with a smaller index, as scikit-learn lays them out, hence no cycle and
every node reached from the root), leaves marked 0/1 and without children, split features below the number of columns
the trees receive, categorical splits on categorical features with their bitsets in range of bitset arrays of the right
shape and type, thresholds not NaN, leaf values finite; the one-hot encoder's codes inside its output columns; the
classes among Trainer's grades; linear coefficients the shape of their input; (3) only then does the model predict a few
test rows, and their probabilities must be finite and sum to 1. Any failure is an UnsafeModel with one line naming the
place, e.g. `tree 3 of class 'serious', node 17: left child 999 is outside the tree's 31 nodes`.

The tree checks are vectorised over all the trees at once, cheap beside loading the file (docs/performance.md, "Figures behind the code").
"""

from __future__ import annotations

import functools
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from trainer.scoring.features import CATEGORICAL, FEATURES, GRADES, matrix_of

TREE_ATTRIBUTES = {"nodes", "binned_left_cat_bitsets", "raw_left_cat_bitsets"}
MAX_VALUE = 1e6  # a leaf's or the baseline's raw score: scikit-learn's are below 100
MAX_OBJECTS = 2_000_000  # a model of Trainer's candidates holds a few thousand; more is not a Trainer model


class UnsafeModel(ValueError):
    """A model whose content fails a check; its message is one line naming the place."""


@dataclass(frozen=True)
class Checked:
    """What the checks covered, shown by `trainer model info`."""

    kind: str  # the final estimator's class name (inside its calibration)
    trees: int
    nodes: int
    calibration: str = ""  # "sigmoid" or "isotonic" when the model is calibrated, its calibrators checked


# The types Trainer's candidates are made of, after fitting (module.qualname, as skops names them).
ALLOWED_TYPES = frozenset(
    {
        "builtins.NoneType",
        "builtins.bool",
        "builtins.int",
        "builtins.float",
        "builtins.str",
        "builtins.list",
        "builtins.tuple",
        "builtins.dict",
        "builtins.slice",
        "functools.partial",
        "numpy.ndarray",
        "numpy.random._generator.Generator",  # the boosting's feature sampler: used only while fitting
        "sklearn.pipeline.Pipeline",
        "sklearn.compose._column_transformer.ColumnTransformer",
        "sklearn.preprocessing._encoders.OneHotEncoder",
        "sklearn.preprocessing._encoders.OrdinalEncoder",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.preprocessing._function_transformer.FunctionTransformer",
        "sklearn.preprocessing._label.LabelEncoder",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn._loss.loss.HalfMultinomialLoss",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss._loss.CyHalfMultinomialLoss",  # compiled, but used only while fitting
        "sklearn._loss._loss.CyHalfBinomialLoss",
        "sklearn._loss.link.MultinomialLogit",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.Interval",
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.isotonic.IsotonicRegression",
    }
)
FINAL = (
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
)
CALIBRATED = "sklearn.calibration.CalibratedClassifierCV"
ISOTONIC = "sklearn.isotonic.IsotonicRegression"
SIGMOID = "sklearn.calibration._SigmoidCalibration"


def _name(t: type) -> str:
    return f"{t.__module__}.{t.__qualname__}"


def check(pipeline: Any) -> Checked:
    """Every check above, in order; raises UnsafeModel. Nothing of the model runs before the checks that make it safe."""
    try:
        return _check(pipeline)
    except UnsafeModel:
        raise
    except Exception as exc:  # a part missing or of another shape than Trainer's (the checks only read the model)
        message = " ".join(str(exc).split())[:200]
        raise UnsafeModel(f"its parts are not those Trainer builds ({exc.__class__.__name__}: {message})") from None


def _check(pipeline: Any) -> Checked:
    import numpy as np

    found = _walk(pipeline)
    steps = getattr(pipeline, "steps", None)
    if _name(type(pipeline)) != "sklearn.pipeline.Pipeline" or not isinstance(steps, list) or not steps:
        raise UnsafeModel("not a scikit-learn Pipeline")
    final: Any = steps[-1][1] if isinstance(steps[-1], tuple) and len(steps[-1]) == 2 else None
    outer, method = final, ""
    if _name(type(final)) == CALIBRATED:
        final, method = _check_calibration(final)
    if _name(type(final)) not in FINAL:
        raise UnsafeModel(f"its last step is a {type(final).__name__}, not one of Trainer's models")
    classes = _classes(final)
    if outer is not final and list(_classes(outer)) != list(classes):
        raise UnsafeModel("its calibration's classes are not its model's")
    for encoder in found["sklearn.preprocessing._encoders.OneHotEncoder"]:
        if hasattr(encoder, "categories_"):  # fitted (an unfitted one, a parameter's template, never transforms)
            _check_one_hot(encoder)
    n_numeric = len(FEATURES) - len(CATEGORICAL)
    probe = matrix_of([["?"] * len(CATEGORICAL) + [0] * n_numeric, ["none"] * len(CATEGORICAL) + [1] * n_numeric])
    X = _run("its feature step fails on a test row", lambda: _transform(pipeline, probe))
    if not isinstance(X, np.ndarray) and not hasattr(X, "tocsr"):
        raise UnsafeModel(f"its feature step gives a {type(X).__name__}, not an array")
    if _name(type(final)) == FINAL[1]:
        # The boosting is not run on test rows: its trees would cost more than all the checks (docs/performance.md,
        # "Figures behind the code"), and what it computes is sums of finite leaf values (bounded, so they cannot
        # overflow) turned into probabilities.
        return replace(_check_boosting(final, X, classes), calibration=method)
    checked = replace(_check_linear(final, X.shape[1], len(classes)), calibration=method)
    proba = _run("it fails on a test row", lambda: outer.predict_proba(X))
    if (
        not isinstance(proba, np.ndarray)
        or proba.shape != (len(probe), len(classes))
        or not np.all(np.isfinite(proba))
        or not np.allclose(proba.sum(axis=1), 1.0)
    ):
        raise UnsafeModel("its probabilities for a test row are not finite numbers summing to 1, one per class")
    return checked


def _check_calibration(cal: Any) -> tuple[Any, str]:
    """A CalibratedClassifierCV as Trainer fits it (one classifier, ensemble=False) with calibrators whose numbers are
    in range; returns the classifier inside (for the checks of its own kind) and the method. An isotonic calibrator's function is
    rebuilt by scikit-learn from the thresholds checked here when the file is loaded (it is not in the file)."""
    import numpy as np

    inner = getattr(cal, "calibrated_classifiers_", None)
    if not isinstance(inner, list) or len(inner) != 1:
        raise UnsafeModel("its calibration does not hold exactly one calibrated model, as Trainer fits it")
    one = inner[0]
    if _name(type(one)) != "sklearn.calibration._CalibratedClassifier":
        raise UnsafeModel(f"its calibration holds a {type(one).__name__}, not a calibrated model")
    method, calibrators, classes = getattr(one, "method", None), getattr(one, "calibrators", None), _classes(cal)
    if method not in ("sigmoid", "isotonic"):
        raise UnsafeModel(f"its calibration method {method!r:.40} is not sigmoid or isotonic")
    expected = 1 if len(classes) == 2 else len(classes)
    if not isinstance(calibrators, list) or len(calibrators) != expected:
        raise UnsafeModel(f"its calibration does not hold {expected} calibrator(s) for {len(classes)} grades")
    for k, c in enumerate(calibrators):
        where = f"calibrator {k}"
        kind = _name(type(c))
        if kind != (ISOTONIC if method == "isotonic" else SIGMOID):
            raise UnsafeModel(f"{where} is a {type(c).__name__}, not the {method} calibration")
        if method == "sigmoid":
            ab = (getattr(c, "a_", None), getattr(c, "b_", None))
            if not all(
                isinstance(v, float | np.floating) and np.isfinite(v) and abs(float(v)) <= MAX_VALUE for v in ab
            ):
                raise UnsafeModel(f"{where}: its two numbers are not finite within +-{MAX_VALUE:g}")
            continue
        xs, ys = getattr(c, "X_thresholds_", None), getattr(c, "y_thresholds_", None)
        if not (isinstance(xs, np.ndarray) and isinstance(ys, np.ndarray)) or not all(
            v.ndim == 1 and v.dtype.kind == "f" for v in (xs, ys)
        ):
            raise UnsafeModel(f"{where}: its thresholds are not lists of numbers")
        if len(xs) != len(ys) or not len(xs) or not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
            raise UnsafeModel(f"{where}: its thresholds are not as many finite numbers on both sides")
        if not (np.all(xs[1:] >= xs[:-1]) and ys.min() >= 0 and ys.max() <= 1):
            raise UnsafeModel(f"{where}: its thresholds are not sorted, or its values not probabilities")
        if c.out_of_bounds != "clip" or not (np.isfinite(c.X_min_) and np.isfinite(c.X_max_)):
            raise UnsafeModel(f"{where}: it does not clip its input to a finite range")
    return getattr(one, "estimator", None), str(method)


def _walk(root: Any) -> dict[str, list[Any]]:
    """Every object reachable from the model, by type name; refuses any type outside ALLOWED_TYPES. (A few ms for the
    shipped model's ~5,000 objects: the place of an object is only spelled out for an error.)"""
    import numpy as np
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor as tree_type
    from sklearn.utils.validation import check_array

    plain = (type(None), bool, int, float, str)
    names: dict[type, str] = {}
    found: dict[str, list[Any]] = defaultdict(list)
    seen: set[int] = set()
    # (object, its parent's entry, its key in the parent): the chain spells the object's place if it is refused
    stack: list[tuple[Any, Any, Any]] = [(root, None, None)]
    while stack:
        entry = stack.pop()
        obj = entry[0]
        t = type(obj)
        if t in plain or id(obj) in seen:
            continue
        seen.add(id(obj))
        if len(seen) > MAX_OBJECTS:
            raise UnsafeModel(f"holds more than {MAX_OBJECTS:,} objects, far more than any Trainer model")
        name = names.get(t) or names.setdefault(t, _name(t))
        if isinstance(obj, type):
            # a dtype given as a class (OneHotEncoder(dtype=np.float64)): only numpy's scalar types and plain ones
            if not (issubclass(obj, np.generic) or obj in (int, float, bool, str)):
                raise UnsafeModel(f"holds the class {_name(obj)} (at {_place(entry)}), which no Trainer model holds")
            continue
        if isinstance(obj, np.generic):  # a numpy scalar (np.float64(3.0)): plain data
            if obj.dtype.kind not in "biuf":
                raise UnsafeModel(f"holds a numpy {obj.dtype} (at {_place(entry)}), which no Trainer model holds")
            continue
        if obj is check_array:  # with functools.partial, the boosting's input check
            continue
        if name not in ALLOWED_TYPES:
            raise UnsafeModel(f"holds a {name} (at {_place(entry)}), which is not part of any model Trainer builds")
        found[name].append(obj)
        if t is np.ndarray:
            if obj.dtype == object:
                stack += [(x, entry, i) for i, x in enumerate(obj.ravel().tolist())]
            elif obj.dtype.kind not in "biuf" and obj.dtype != PREDICTOR_RECORD_DTYPE:
                raise UnsafeModel(f"holds an array of {obj.dtype} (at {_place(entry)}), which no Trainer model holds")
        elif t is list or t is tuple:
            stack += [(x, entry, i) for i, x in enumerate(obj)]
        elif t is dict:
            for k, v in obj.items():
                if type(k) not in (str, int):
                    raise UnsafeModel(f"holds a dict keyed by {type(k).__name__} (at {_place(entry)})")
                stack.append((v, entry, k))
        elif t is functools.partial:
            stack += [(obj.func, entry, ".func"), (obj.args, entry, ".args"), (obj.keywords, entry, ".keywords")]
        elif t is slice:
            stack += [(obj.start, entry, ".start"), (obj.stop, entry, ".stop"), (obj.step, entry, ".step")]
        elif t is tree_type:  # its three arrays are check_trees' (600 trees: a third of the objects)
            if vars(obj).keys() != TREE_ATTRIBUTES:
                raise UnsafeModel(f"holds a tree (at {_place(entry)}) with other parts than scikit-learn's")
        elif name == ISOTONIC:  # f_: built on loading by scikit-learn from the thresholds (not in the file)
            stack += [(v, entry, "." + k) for k, v in vars(obj).items() if k != "f_"]
        elif hasattr(obj, "__dict__"):
            stack += [(v, entry, "." + k) for k, v in vars(obj).items()]
    return found


def _place(entry: Any) -> str:
    """`model._predictors[3][1].nodes`-like: where an object sits, from its chain of parents."""
    keys = []
    while entry is not None and entry[1] is not None:
        key = entry[2]
        keys.append(key if isinstance(key, str) and key.startswith(".") else f"[{key!r}]")
        entry = entry[1]
    return "the pipeline" + "".join(reversed(keys))


def _run(what: str, fn: Any) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except Exception as exc:  # the model's own code, on a test row, after the checks that make it safe
        message = " ".join(str(exc).split())[:200]
        raise UnsafeModel(f"{what} ({exc.__class__.__name__}: {message})") from None


def _transform(pipeline: Any, X: Any) -> Any:
    for _, step in pipeline.steps[:-1]:
        X = step.transform(X)
    return X


def _classes(final: Any) -> Any:
    """The grades the model predicts: distinct ranks of GRADES (predict_matrix indexes GRADES with them)."""
    import numpy as np

    classes = getattr(final, "classes_", None)
    if (
        not isinstance(classes, np.ndarray)
        or classes.ndim != 1
        or classes.dtype.kind not in "iu"
        or len(classes) < 2
        or len(set(classes.tolist())) != len(classes)
        or not all(0 <= c < len(GRADES) for c in classes.tolist())
    ):
        raise UnsafeModel(f"its classes are not distinct grades 0..{len(GRADES) - 1} ({GRADES}): {classes!r:.80}")
    return classes


def _int_array(value: Any, where: str) -> Any:
    import numpy as np

    if not isinstance(value, np.ndarray) or value.ndim != 1 or value.dtype.kind not in "iu":
        raise UnsafeModel(f"{where} is not a list of integers")
    return value


def _check_one_hot(enc: Any) -> None:
    """Each feature's code (its category's index, after grouping the infrequent ones) must fall inside the columns the
    encoder gives that feature: the codes become a sparse matrix's column indices, which scipy does not check."""
    import numpy as np

    cats, outs = getattr(enc, "categories_", None), getattr(enc, "_n_features_outs", None)
    if not isinstance(cats, list) or not isinstance(outs, list) or len(cats) != len(outs):
        raise UnsafeModel("its one-hot encoder's categories and output columns do not match")
    if enc.drop is not None or getattr(enc, "_drop_idx_after_grouping", None) is not None:
        raise UnsafeModel("its one-hot encoder drops categories, which no Trainer model does")
    infrequent = bool(getattr(enc, "_infrequent_enabled", False))
    indices = getattr(enc, "_infrequent_indices", None) if infrequent else None
    mappings = getattr(enc, "_default_to_infrequent_mappings", None) if infrequent else None
    if infrequent and not (isinstance(indices, list) and isinstance(mappings, list) and len(indices) == len(mappings) == len(cats)):  # fmt: skip
        raise UnsafeModel("its one-hot encoder's infrequent categories do not match its features")
    for i, (c, n_out) in enumerate(zip(cats, outs, strict=True)):
        where = f"one-hot encoder, feature {i}"
        if not isinstance(c, np.ndarray) or c.ndim != 1 or type(n_out) is not int or n_out < 0:
            raise UnsafeModel(f"{where}: its categories are not a list")
        if c.dtype.kind in "iuf" and not np.all(c[1:] > c[:-1]):  # codes come from a binary search
            raise UnsafeModel(f"{where}: its categories are not sorted")
        reach = len(c)  # codes 0 .. len(c) - 1
        if indices is not None and indices[i] is not None:
            idx = _int_array(indices[i], f"{where}: its infrequent categories")
            if len(idx) and (idx.min() < 0 or idx.max() >= len(c)):
                raise UnsafeModel(f"{where}: an infrequent category is outside its {len(c)} categories")
        if mappings is not None and mappings[i] is not None:
            mapping = _int_array(mappings[i], f"{where}: its grouping of infrequent categories")
            if len(mapping) != len(c):
                raise UnsafeModel(f"{where}: its grouping of infrequent categories has {len(mapping)} entries for {len(c)} categories")  # fmt: skip
            reach = int(mapping.max()) + 1 if len(mapping) else 0
            if len(mapping) and mapping.min() < 0:
                reach = n_out + 1  # refused below
        if reach > n_out:
            raise UnsafeModel(f"{where}: codes up to {reach - 1} for its {n_out} output columns")


def _check_linear(model: Any, width: int, n_classes: int) -> Checked:
    import numpy as np

    rows = 1 if n_classes == 2 else n_classes
    coef, intercept = getattr(model, "coef_", None), getattr(model, "intercept_", None)
    if model.n_features_in_ != width:
        raise UnsafeModel(f"its linear model expects {model.n_features_in_} inputs; its feature step gives {width}")
    if not isinstance(coef, np.ndarray) or coef.shape != (rows, width) or coef.dtype.kind != "f":
        raise UnsafeModel(
            f"its coefficients are not {rows} x {width} numbers (got {getattr(coef, 'shape', coef)!r:.40})"
        )
    if not isinstance(intercept, np.ndarray) or intercept.shape != (rows,) or intercept.dtype.kind != "f":
        raise UnsafeModel(f"its intercepts are not {rows} numbers")
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
        raise UnsafeModel("its coefficients are not all finite numbers")
    return Checked("LogisticRegression", 0, 0)


def _check_boosting(model: Any, X: Any, classes: Any) -> Checked:
    """The boosting's trees, against the input the trees will receive (its own encoder's output)."""
    import numpy as np

    n_classes = len(classes)
    per_iteration = 1 if n_classes == 2 else n_classes
    if model.n_trees_per_iteration_ != per_iteration:
        raise UnsafeModel(f"its boosting has {model.n_trees_per_iteration_!r} trees per round for {n_classes} classes")
    loss = "sklearn._loss.loss.HalfBinomialLoss" if n_classes == 2 else "sklearn._loss.loss.HalfMultinomialLoss"
    if _name(type(getattr(model, "_loss", None))) != loss:
        raise UnsafeModel(f"its boosting's loss is not the {loss.rsplit('.', 1)[1]} of {n_classes} classes")
    baseline = getattr(model, "_baseline_prediction", None)
    if (
        not isinstance(baseline, np.ndarray)
        or baseline.shape != (1, per_iteration)
        or baseline.dtype.kind != "f"
        or not np.all(np.abs(baseline) <= MAX_VALUE)
    ):
        raise UnsafeModel(f"its boosting's baseline is not one number per tree of a round, within +-{MAX_VALUE:g}")
    mapper = model._bin_mapper
    categorical = getattr(mapper, "is_categorical_", None)
    known = getattr(mapper, "bin_thresholds_", None)
    preprocess = getattr(model, "_preprocess_X", None)
    if preprocess is None:
        raise UnsafeModel("this scikit-learn's boosting cannot be checked (no _preprocess_X); use its own version")
    Xb = _run("its boosting's encoder fails on a test row", lambda: preprocess(X, reset=False))
    width = Xb.shape[1] if isinstance(Xb, np.ndarray) and Xb.ndim == 2 else -1
    if not (isinstance(categorical, np.ndarray) and categorical.ndim == 1 and categorical.dtype.kind in "biu"):
        raise UnsafeModel("its boosting's categorical features are not a list of flags")
    if not (width == model.n_features_in_ == len(categorical) and isinstance(known, list) and len(known) == width):
        raise UnsafeModel(
            f"its boosting's parts disagree on the number of features (input {width}, fitted "
            f"{model.n_features_in_!r}, flags {len(categorical)}, bins {len(known) if isinstance(known, list) else '?'})"
        )
    for f in np.flatnonzero(categorical).tolist():
        cats = known[f]  # the known categories become bit numbers of a 256-bit set
        if not isinstance(cats, np.ndarray) or cats.ndim != 1 or cats.dtype.kind not in "iuf":
            raise UnsafeModel(f"its boosting's known categories of feature {f} are not numbers")
        if len(cats) and not (np.all(np.isfinite(cats)) and cats.min() >= 0 and cats.max() <= 255 and np.all(cats == np.round(cats))):  # fmt: skip
            raise UnsafeModel(f"its boosting's known categories of feature {f} are not whole numbers 0..255")
    predictors = getattr(model, "_predictors", None)
    if not isinstance(predictors, list) or not predictors:
        raise UnsafeModel("its boosting holds no trees")
    trees = []
    for i, round_ in enumerate(predictors):
        if type(round_) is not list or len(round_) != per_iteration:
            raise UnsafeModel(f"round {i} of its boosting does not hold {per_iteration} tree(s)")
        trees += round_

    def name_of(t: int) -> str:  # rounds of one tree per class (one tree in all for two classes)
        i, k = divmod(t, per_iteration)
        return f"tree {i} of class {GRADES[classes[k]]!r}" if per_iteration > 1 else f"tree {i}"

    nodes = check_trees(trees, name_of, n_features=width, categorical=categorical.astype(bool))
    return Checked("HistGradientBoostingClassifier", len(trees), nodes)


def check_trees(trees: list[Any], name_of: Callable[[int], str], *, n_features: int, categorical: Any) -> int:
    """The checks of TreePredictor's arrays that make _predictor.pyx safe, on all trees at once; returns the node
    count. `name_of(i)`: how to call tree i in a message; `categorical[f]`: whether feature f is categorical (the
    boosting's bin mapper's flags)."""
    import numpy as np
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

    tree_type = TreePredictor
    uint32 = np.dtype(np.uint32)
    arrays, bitsets = [], []
    for i, t in enumerate(trees):
        if type(t) is not tree_type:
            raise UnsafeModel(f"{name_of(i)} is a {type(t).__name__}, not a tree")
        nodes, raw, binned = t.nodes, t.raw_left_cat_bitsets, t.binned_left_cat_bitsets
        if type(nodes) is not np.ndarray or nodes.dtype != PREDICTOR_RECORD_DTYPE or nodes.ndim != 1:
            raise UnsafeModel(f"{name_of(i)}: its nodes are not an array of scikit-learn's tree records")
        if len(nodes) == 0:
            raise UnsafeModel(f"{name_of(i)}: it has no nodes")
        for attr, b in (("raw_left_cat_bitsets", raw), ("binned_left_cat_bitsets", binned)):
            if type(b) is not np.ndarray or b.dtype != uint32 or b.ndim != 2 or b.shape[1] != 8 or not b.flags.c_contiguous:  # fmt: skip
                raise UnsafeModel(f"{name_of(i)}: its {attr} are not an n x 8 array of uint32 (256-bit sets)")
        arrays.append(nodes)
        bitsets.append(min(len(raw), len(binned)))
    sizes = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
    start = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    tree_of = np.repeat(np.arange(len(arrays)), sizes)
    n = sizes[tree_of]  # each node's tree size
    local = np.arange(int(sizes.sum())) - start[tree_of]  # each node's index in its tree
    # one array of all nodes (as bytes: concatenating the record arrays directly is slow, all in dtype promotion)
    a = np.concatenate([np.ascontiguousarray(x).view(np.uint8) for x in arrays]).view(PREDICTOR_RECORD_DTYPE)
    leaf, cat, left, right = a["is_leaf"], a["is_categorical"], a["left"].astype(np.int64), a["right"].astype(np.int64)
    split = leaf == 0
    feature = a["feature_idx"]

    def refuse(bad: Any, message: Any) -> None:
        hits = np.flatnonzero(bad)
        if len(hits):
            g = int(hits[0])
            t = int(tree_of[g])
            raise UnsafeModel(f"{name_of(t)}, node {int(local[g])}: {message(g, int(sizes[t]), t)}")

    refuse(leaf > 1, lambda g, size, t: f"is_leaf is {int(leaf[g])}, not 0 or 1")
    refuse(a["is_categorical"] > 1, lambda g, size, t: f"is_categorical is {int(cat[g])}, not 0 or 1")
    refuse(a["missing_go_to_left"] > 1, lambda g, size, t: f"missing_go_to_left is {int(a['missing_go_to_left'][g])}, not 0 or 1")  # fmt: skip
    refuse(~split & ((left != 0) | (right != 0)), lambda g, size, t: "a leaf with children")
    for child, side in ((left, "left"), (right, "right")):
        refuse(split & (child >= n), lambda g, size, t, c=child, s=side: f"{s} child {int(c[g])} is outside the tree's {size} nodes")  # fmt: skip
        # scikit-learn numbers nodes depth first: a child after its parent, so following children always ends
        refuse(split & (child <= local), lambda g, size, t, c=child, s=side: f"{s} child {int(c[g])} does not come after its parent (a loop)")  # fmt: skip
    refuse(split & (left == right), lambda g, size, t: f"both children are node {int(left[g])}")
    # every node but the root is the child of exactly one node: one tree, each node reached once from the root
    parents = np.bincount(
        np.concatenate(((left + start[tree_of])[split], (right + start[tree_of])[split])), minlength=len(a)
    )
    refuse(parents != (local != 0), lambda g, size, t: _parent_problem(int(local[g]), int(parents[g])))
    refuse(split & ((feature < 0) | (feature >= n_features)), lambda g, size, t: f"splits on feature {int(feature[g])}; the model has {n_features}")  # fmt: skip
    safe_feature = np.where(split & (feature >= 0) & (feature < n_features), feature, 0)
    refuse(split & (cat == 1) & ~categorical[safe_feature], lambda g, size, t: f"a categorical split on feature {int(feature[g])}, which is not categorical")  # fmt: skip
    n_bitsets = np.asarray(bitsets, dtype=np.int64)[tree_of]
    refuse(split & (cat == 1) & (a["bitset_idx"] >= n_bitsets), lambda g, size, t: f"category set {int(a['bitset_idx'][g])} is outside the tree's {bitsets[t]} sets")  # fmt: skip
    # +inf is a real threshold (scikit-learn's split between the values and the missing ones); NaN is not
    refuse(split & np.isnan(a["num_threshold"]), lambda g, size, t: "its threshold is not a number")
    # leaf values finite, and small enough that 150 rounds of them cannot overflow (scikit-learn's are below 100)
    refuse(~split & ~(np.abs(a["value"]) <= MAX_VALUE), lambda g, size, t: f"leaf value {float(a['value'][g])} is not a number within +-{MAX_VALUE:g}")  # fmt: skip
    return len(a)


def _parent_problem(node: int, parents: int) -> str:
    if node == 0:
        return "the root is another node's child"
    return f"is the child of {parents} nodes" if parents else "is not reached from the root"
