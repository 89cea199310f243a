"""Write the measured figures of docs/scoring.md section 9 from data/starter/evaluation.json.

The figures a reader sees must be the ones the shipped model was measured at: data/build_starter.py writes
evaluation.json with the model, and this rewrites the block between the `measured:begin` and `measured:end` markers of
docs/scoring.md from it, so that nothing is copied by hand. tests/unit/test_docs_and_courses.py checks the block is
current.

    python data/measured.py            # rewrite the block
    python data/measured.py --check    # exit 1 if the block is not what evaluation.json gives
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVALUATION = HERE / "starter" / "evaluation.json"
DOC = HERE.parent / "docs" / "scoring.md"
BEGIN = "<!-- measured:begin (written by data/measured.py from data/starter/evaluation.json) -->"
END = "<!-- measured:end -->"
GRADES = ("none", "minor", "serious", "critical")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def block(ev: dict) -> str:
    """The markdown of section 9's figures, from one evaluation."""
    rows = {r["name"]: r for r in ev["overall"]}
    chosen = _chosen(ev)
    calibration = ev["calibration"]["method"]
    out: list[str] = []
    out.append(
        f"`trainer model evaluate --data data/starter/holdout.jsonl.gz --train data/starter/train.jsonl.gz` with the"
        f" default model (`data/starter/evaluation.json`, built by `{ev['built_with']}`): {ev['sessions']} held-out"
        f" sessions with mistakes, {ev['mistakes']} mistakes, {ev['labels']} labels, trainees disjoint from training"
        f" ({ev['train']['sessions']} sessions, {ev['train']['labels']} labels). Kappa is quadratic weighted, over"
        " (mistake, label) pairs; the raters' row compares the two raters' labels."
    )
    out.append("")
    out.append("| | quadratic kappa | macro F1 |")
    out.append("|---|---|---|")
    names = [
        ("model", f"**model** ({chosen}, calibration {calibration})"),
        ("raters (with each other)", "raters with each other (synthetic: code, see section 6)"),
        ("rubric", "rubric (declared severities)"),
        ("dummy (most frequent)", "dummy (most frequent grade)"),
    ]
    for key, label in names:
        r = rows[key]
        kappa = f"**{r['kappa']:.3f}**" if key == "model" else f"{r['kappa']:.3f}"
        out.append(f"| {label} | {kappa} | {r['f1']:.3f} |")
    out.append("")
    cv = ev["cv"]
    candidates = [k for k in cv if isinstance(cv[k], dict) and "kappa_mean" in cv[k]]
    ranked = sorted(candidates, key=lambda k: -cv[k]["kappa_mean"])
    listed = ", ".join(f"{k} {cv[k]['kappa_mean']:.3f} ± {cv[k]['kappa_std']:.3f}" for k in ranked)
    out.append(
        f"Cross-validation on the training data ({cv['repeats']} repeats x {cv['n_splits']} folds, trainees apart;"
        f" mean ± spread): {listed}; kept: {chosen} (the rule: section 7)."
    )
    out.append("")
    per_course = []
    for course, course_rows in sorted(ev["per_course"].items()):
        by = {r["name"]: r for r in course_rows}
        per_course.append(
            f"{course} {by['model']['kappa']:.3f} / {by['rubric']['kappa']:.3f} /"
            f" {by['raters (with each other)']['kappa']:.3f}"
        )
    out.append("Per course (model / rubric / raters): " + ", ".join(per_course) + ".")
    out.append("")
    matrix = ev["confusion"]["matrix"]
    cells = "; ".join(f"{g} {' '.join(str(n) for n in row)}" for g, row in zip(GRADES, matrix, strict=True))
    out.append(f"Confusion matrix (rows: label, columns: model; none, minor, serious, critical): {cells}.")
    out.append("")
    grades = ", ".join(
        f"{c['grade']} {c['precision']:.3f} / {c['recall']:.3f} / {c['f1']:.3f} ({c['support']})"
        for c in ev["per_class"]
    )
    out.append(f"Per grade on the holdout (precision / recall / F1, labels): {grades}.")
    out.append("")
    curve = ", ".join(f"{p['sessions']} sessions {p['kappa']:.3f}" for p in ev["learning_curve"])
    beats = ev.get("beats_rubric_from")
    beats_text = (
        f"on the starter data the smallest point, {beats['sessions']} sessions with {beats['labels']} labels, already"
        f" does: {ev['learning_curve'][0]['kappa']:.3f} against {ev['learning_curve_rubric']:.3f}"
        if beats
        else "on the starter data no point of the curve beats it"
    )
    out.append(
        "Learning curve (the same pipeline, uncalibrated, trained on N training sessions with mistakes, tested on the"
        f" holdout): {curve}. `trainer model evaluate` prints the labels behind each point and the rubric's kappa on"
        " the same rows, and says from how many labelled sessions (and labels) the model beats the rubric: the number"
        f" of instructor labels a site needs before the model is worth using ({beats_text})."
    )
    out.append("")
    out.append("### Calibration and the review queue")
    out.append("")
    cal = ev["calibration"]["cv"]
    methods = ", ".join(
        f"{'**' if m == calibration else ''}{m} {cal[m]['brier_mean']:.4f} (ECE {cal[m]['ece']:.3f})"
        f"{'**' if m == calibration else ''}"
        for m in cal
    )
    out.append(
        f"Calibration on the training folds (mean Brier score; ECE of the out-of-fold predictions): {methods}:"
        f" {calibration} is kept ({ev['calibration']['why']}). On the holdout the expected calibration error is"
        f" **{ev['ece']:.3f}** (10 equal-width bins of confidence; goal <= 0.05). Reliability (confidence bin: rows,"
        " mean confidence, share right): "
        + "; ".join(
            f"{b['low']:.1f}-{b['high']:.1f}: {b['rows']}, {b['confidence']:.3f}, {b['accuracy']:.3f}"
            for b in ev["reliability"]
            if b["rows"]
        )
        + "."
    )
    out.append("")
    rcv = ev["review_cv"]
    out.append(
        f"The review threshold chosen on the folds is **{ev['review_below']}** (it flagged {_pct(rcv['flagged'])} of"
        f" the out-of-fold grades and caught {_pct(rcv['caught'])} of the wrong ones). On the holdout, where"
        f" {_pct(ev['wrong'])} of the grades differ from their label:"
    )
    out.append("")
    out.append("| review below | flagged | wrong grades caught |")
    out.append("|---|---|---|")
    for r in ev["review"]:
        chosen_row = r["threshold"] == ev["review_below"]
        t = f"{r['threshold']:g}" + (" (chosen)" if chosen_row else "")
        line = [t, _pct(r["flagged"]), _pct(r["caught"])]
        if chosen_row:
            line = [f"**{x}**" for x in line]
        out.append("| " + " | ".join(line) + " |")
    return "\n".join(_wrapped(line) for line in out)


def _wrapped(line: str) -> str:
    """Paragraphs wrapped at 120 columns as the rest of the docs; tables and headings left whole."""
    if line.startswith(("|", "#")) or not line:
        return line
    return textwrap.fill(line, width=120, break_long_words=False, break_on_hyphens=False)


def _chosen(ev: dict) -> str:
    cv = ev["cv"]
    return str(cv.get("chosen") or ev.get("chosen") or _model_json_choice())


def _model_json_choice() -> str:
    meta = json.loads((HERE.parent / "trainer" / "scoring" / "default_model" / "model.json").read_text("utf-8"))
    found = _find(meta, "chosen")
    return str(found) if found else "?"


def _find(node: object, key: str) -> object:
    if isinstance(node, dict):
        if key in node:
            return node[key]
        for value in node.values():
            hit = _find(value, key)
            if hit:
                return hit
    return None


def rewritten(doc: str, ev: dict) -> str:
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    return doc[:start] + "\n" + block(ev) + "\n" + doc[end:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/scoring.md is not current")
    args = parser.parse_args()
    ev = json.loads(EVALUATION.read_text("utf-8"))
    doc = DOC.read_text("utf-8")
    new = rewritten(doc, ev)
    if args.check:
        if new != doc:
            print(f"{DOC}: section 9's figures differ from {EVALUATION}: run python data/measured.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
