"""`trainer model ...`: train, evaluate and inspect the model that grades mistakes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from trainer.cli.common import command
from trainer.cli.outputs import add_force
from trainer.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    group = command(sub, "model", _group_help)
    msub = group.add_subparsers(title="model commands", metavar="COMMAND")

    p = command(msub, "train", train, uses=())
    p.add_argument("--data", nargs="+", required=True, type=Path, metavar="FILE", help="labelled-session files")
    p.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="model file (.skops; default: install it for this user, see model info)",
    )
    add_force(p, "the --out file and its .json metadata (installing always replaces the installed model)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the folds and the models (default 0)")
    p.add_argument("--splits", type=int, default=5, metavar="K", help="cross-validation folds (default 5)")
    p.add_argument(
        "--repeats", type=int, default=2, metavar="R", help="cross-validation repeated with other folds (default 2)"
    )
    p.add_argument(
        "--review-share",
        type=float,
        default=0.15,
        metavar="S",
        help="the review queue's size: the threshold flags at most this share of grades (default 0.15)",
    )

    p = command(msub, "evaluate", evaluate, uses=())
    p.add_argument("--data", nargs="+", required=True, type=Path, metavar="FILE", help="labelled sessions to test on")
    p.add_argument(
        "--train", nargs="+", type=Path, metavar="FILE", help="training data, for the learning curve and the dummy"
    )
    p.add_argument("--model", metavar="PATH", help="the model to evaluate (default: the current one)")
    p.add_argument("--report", type=Path, metavar="DIR", help="also write report.json and the plots here")
    add_force(p, "report.json and the plots in DIR")
    p.add_argument("--curve", type=int, default=6, metavar="K", help="learning-curve points (0: none; default 6)")
    p.add_argument("--seed", type=int, default=0, metavar="S")

    p = command(msub, "info", info, uses=())
    p.add_argument("--model", metavar="PATH", help="a model file (default: the current one)")
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")

    p = command(msub, "sign", sign, uses=())
    p.add_argument("--model", metavar="PATH", help="the model file to sign (default: the current one)")


def _group_help(args: argparse.Namespace) -> int:
    """Train, evaluate and inspect the model that grades mistakes (see trainer model --help)."""
    raise UsageError("choose a model command: train, evaluate, info, sign (see trainer model --help)")


def _progress(console: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


def train(args: argparse.Namespace) -> int:
    """Train a grading model on labelled sessions and install it (or write it to --out).

    Candidates (logistic regression, histogram gradient boosting, each with and without balanced class weights) are
    cross-validated R times with each trainee's sessions kept in one fold (StratifiedGroupKFold) and compared by
    quadratic weighted kappa; the simplest within the best's spread wins. Its probabilities are calibrated (sigmoid,
    isotonic or none, chosen by the Brier score on the folds), the review threshold is chosen so that at most
    --review-share of the grades are flagged, and it is refitted on all the data and saved with skops, with its
    metadata (versions, features, data hashes, courses, CV scores, calibration, threshold) beside it.
    """
    from rich.console import Console
    from rich.table import Table

    from trainer.scoring import model as M
    from trainer.scoring.grade import installed_model_path

    if args.splits < 2:
        raise UsageError("--splits must be at least 2")
    if args.repeats < 1:
        raise UsageError("--repeats must be at least 1")
    if not 0 < args.review_share < 1:
        raise UsageError("--review-share must be between 0 and 1 (a share of the grades, e.g. 0.15)")
    out = args.out or installed_model_path()
    if out.suffix != ".skops":
        raise UsageError(f"--out {out}: a model file name must end in .skops")
    # Installing replaces the installed model (that is what it is for; trainer.scoring.grade keeps it); a file the
    # user names with --out is replaced only with --force.
    force = args.force or args.out is None
    M.check_writable(out, force=force)
    console = Console(stderr=True)
    data = M.load_data(args.data)
    console.print(
        f"{len(data)} labels on {len(set(zip(data.sessions, data.mistakes, strict=True)))} mistakes of "
        f"{sum(f.sessions for f in data.files)} sessions, {len(set(data.trainees))} trainees"
        + (f" ({data.unlabelled} unlabelled mistakes left out)" if data.unlabelled else ""),
        highlight=False,
    )
    with _progress(console) as bar:
        task = bar.add_task("cross-validating", total=M.train_steps(data, args.splits, args.repeats))

        def step(what: str, done: int) -> None:
            bar.update(task, description=what, advance=done)

        trained = M.train(
            data,
            seed=args.seed,
            n_splits=args.splits,
            repeats=args.repeats,
            progress=step,
            review_share=args.review_share,
        )
    path = M.save(trained, out, force=force)
    meta = trained.metadata
    cv = meta["cv"]
    table = Table(
        title=f"cross-validation ({cv['repeats']} x {cv['n_splits']} folds, trainees kept apart)", title_justify="left"
    )
    for col in ("candidate", "quadratic kappa", "± spread", "macro F1"):
        table.add_column(col, justify="left" if col == "candidate" else "right")
    for name in M.candidate_names():
        r = cv[name]
        mark = " ✔" if name == meta["candidate"] else ""
        table.add_row(name + mark, f"{r['kappa_mean']:.3f}", f"{r['kappa_std']:.3f}", f"{r['f1_macro_mean']:.3f}")
    console = Console()
    console.print(table)
    console.print(f"chosen: {meta['candidate']}: {meta['why']}", highlight=False, markup=False)
    print(_calibration_line(meta))
    print(_review_line(meta))
    print(f"model {trained.short_id} ({meta['candidate']}) saved to {path}")
    if trained.signed_by:
        print(f"signed with the site key {trained.signed_by} ({M.signature_path(path).name})")
    return ExitCode.OK


def _calibration_line(meta: dict[str, Any]) -> str:
    cal = meta.get("calibration") or {}
    scores = cal.get("cv", {})
    shown = ", ".join(f"{m} {r['brier_mean']:.4f} (ECE {r['ece']:.3f})" for m, r in scores.items())
    return f"calibration: {cal.get('method', 'none')} ({cal.get('why', 'not calibrated')}; Brier on the folds: {shown})"


def _review_line(meta: dict[str, Any]) -> str:
    review = meta.get("review") or {}
    return (
        f"review below {meta.get('review_below')} confidence: on the folds it flags {review.get('flagged', 0):.1%} of "
        f"the grades (at most {review.get('share_target', 0):.0%}) and catches {review.get('caught', 0):.1%} of the "
        f"wrong ones ({review.get('wrong', 0):.1%} of the grades are wrong)"
    )


def evaluate(args: argparse.Namespace) -> int:
    """Measure the model against labelled sessions: quadratic kappa and macro F1 beside the rubric, a dummy and the
    raters' agreement with each other; per course; confusion matrix; learning curve. --report DIR writes the plots."""
    from rich.console import Console
    from rich.table import Table

    from trainer import outfile
    from trainer.scoring import model as M
    from trainer.scoring.evaluate import check_report, write_plots
    from trainer.scoring.evaluate import evaluate as run
    from trainer.scoring.features import GRADES
    from trainer.scoring.grade import Grader

    grader = Grader.current(args.model, strict=True)
    if grader.model is None:
        raise UsageError("no model is installed (scoring uses the rubric); train one with `trainer model train`")
    if args.report:
        check_report(args.report, force=args.force)
    data = M.load_data(args.data)
    train_data = M.load_data(args.train) if args.train else None
    err = Console(stderr=True)
    with err.status("evaluating") as status:
        ev = run(
            grader.model,
            data,
            train_data=train_data,
            seed=args.seed,
            curve_points=args.curve,
            progress=lambda what: status.update(what),
        )
    console = Console()
    console.print(
        f"model {grader.model.short_id} "
        f"({grader.model.metadata.get('candidate', grader.model.metadata.get('chosen'))}) on "
        f"{ev.sessions} sessions with mistakes, "
        f"{ev.mistakes} mistakes, {ev.labels} labels",
        highlight=False,
    )
    table = Table(title="agreement with the labels (quadratic weighted kappa)", title_justify="left")
    for col in ("", "kappa", "macro F1", "pairs"):
        table.add_column(col, justify="left" if not col else "right")
    for r in ev.overall:
        table.add_row(r.name, f"{r.kappa:.3f}", f"{r.f1:.3f}", str(r.n))
    console.print(table)
    per = Table(title="per course (kappa)", title_justify="left")
    names = [r.name for r in ev.overall]
    per.add_column("course")
    for n in names:
        per.add_column(n.split(" ")[0], justify="right")
    per.add_column("labels", justify="right")
    for course, rows in ev.per_course.items():
        got = {r.name: r for r in rows}
        per.add_row(course, *[f"{got[n].kappa:.3f}" if n in got else "" for n in names], str(rows[0].n))
    console.print(per)
    cm = Table(title="confusion matrix (rows: label, columns: model)", title_justify="left")
    cm.add_column("")
    for g in GRADES:
        cm.add_column(g, justify="right")
    for g, row in zip(GRADES, ev.confusion, strict=True):
        cm.add_row(g, *map(str, row))
    console.print(cm)
    console.print(
        f"calibration: expected calibration error (ECE) {ev.ece:.3f} over {len(ev.reliability)} confidence bins; "
        f"{ev.wrong:.1%} of the grades differ from the label",
        highlight=False,
    )
    rel = Table(title="reliability (a calibrated model's two columns agree)", title_justify="left")
    for col in ("confidence", "rows", "mean confidence", "right", "right # / confidence |"):
        rel.add_column(col, justify="right" if col in ("rows", "mean confidence", "right") else "left")
    for b in ev.reliability:
        if b.rows:
            cells = ["#" if i < round(b.accuracy * 20) else " " for i in range(21)]
            cells[round(b.confidence * 20)] = "|"
            bar = "".join(cells)
            rel.add_row(f"{b.low:.1f}-{b.high:.1f}", str(b.rows), f"{b.confidence:.3f}", f"{b.accuracy:.3f}", bar)
    console.print(rel, markup=False)
    pc = Table(title="per grade", title_justify="left")
    for col in ("grade", "precision", "recall", "F1", "labels", "given"):
        pc.add_column(col, justify="left" if col == "grade" else "right")
    for c in ev.per_class:
        pc.add_row(c.grade, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", str(c.support), str(c.predicted))
    console.print(pc)
    rq = Table(title="review queue by confidence threshold", title_justify="left")
    for col in ("threshold", "flagged", "wrong grades caught"):
        rq.add_column(col, justify="right")
    for q in ev.review:
        mark = " (the model's)" if q.threshold == ev.review_below else ""
        rq.add_row(f"{q.threshold:g}{mark}", f"{q.flagged:.1%}", f"{q.caught:.1%}")
    console.print(rq)
    if ev.pairs:
        ir = Table(title="agreement between labellers (mistakes both graded)", title_justify="left")
        for col in ("labellers", "who", "mistakes", "kappa", "same grade"):
            ir.add_column(col, justify="left" if col in ("labellers", "who") else "right")
        for p in ev.pairs:
            who = "synthetic: code" if p.synthetic else "people"
            ir.add_row(f"{p.a} / {p.b}", who, str(p.mistakes), f"{p.kappa:.3f}", f"{p.exact:.1%}")
        console.print(ir)
        if all(p.synthetic for p in ev.pairs):
            console.print(
                "only the synthetic reference raters graded the same mistakes: their agreement is a property of "
                "their code, not a bar set by instructors (docs/scoring.md)",
                highlight=False,
            )
    else:
        console.print("agreement between labellers: no mistake was graded by two labellers", highlight=False)
    if ev.curve:
        lc = Table(title=f"learning curve ({ev.curve_note})", title_justify="left")
        lc.add_column("labelled sessions", justify="right")
        lc.add_column("labels", justify="right")
        lc.add_column("kappa", justify="right")
        for (sessions, k), labels in zip(ev.curve, ev.curve_labels, strict=True):
            lc.add_row(str(sessions), str(labels), f"{k:.3f}")
        console.print(lc)
        beats = ev.beats_rubric
        console.print(
            f"the rubric's kappa on the same rows is {ev.curve_rubric:.3f}: "
            + (
                f"the model beats it from {beats[0]} labelled sessions ({beats[1]} labels)"
                if beats
                else "no point of the curve beats it yet; label more sessions"
            ),
            highlight=False,
        )
    if ev.uncovered:
        console.print(f"[yellow]the model was not trained on: {', '.join(ev.uncovered)}[/yellow]")
    if args.report:
        report = {"model": grader.model.metadata.get("model_sha256"), **ev.as_dict()}
        text = json.dumps(report, indent=2) + "\n"
        files, note = write_plots(ev, args.report, force=args.force)
        outfile.write(
            args.report / "report.json", lambda tmp: tmp.write_text(text, encoding="utf-8"), "report", force=args.force
        )
        print(f"report written to {args.report}: report.json, {', '.join(f.name for f in files)} ({note})")
    return ExitCode.OK


def info(args: argparse.Namespace) -> int:
    """Show which model grades sessions now (or the rubric), where it comes from, and what it was trained on."""
    from rich.console import Console

    from trainer.scoring import model as M
    from trainer.scoring.grade import ENV_VAR, choose, installed_model_path
    from trainer.sitekey import ENV_VAR as KEY_ENV

    choice = choose(args.model)
    if choice.path is None:
        print(f"no model in use ({choice.origin}): sessions are scored by the rubric")
        print(f"train one with `trainer model train --data FILE...` (installs to {installed_model_path()})")
        return ExitCode.OK
    loaded = M.load(choice.path)  # every check: a model that would be refused is reported as an error here
    meta = loaded.metadata
    if args.json:
        print(json.dumps(meta, indent=2, ensure_ascii=False))
        return ExitCode.OK
    console = Console()
    origin = {"default": "shipped with Trainer", "installed": "installed by `trainer model train`"}.get(
        choice.origin, f"chosen by {choice.origin}"
    )
    cv = meta.get("cv", {}).get(meta.get("candidate", meta.get("chosen")), {})
    lines = [
        f"model      {choice.path} ({origin}; {ENV_VAR}=rubric switches models off)",
        f"sha256     {meta.get('model_sha256')} (checked)",
        f"kind       {meta.get('candidate', meta.get('chosen'))}, calibration "
        f"{(meta.get('calibration') or {}).get('method', 'none')}, review below {meta.get('review_below')} confidence",
        f"trained    {meta.get('trained_at')} with scikit-learn {meta.get('sklearn')}, skops {meta.get('skops')}, "
        f"seed {meta.get('seed')}",
        f"data       {meta.get('rows')} labels, {meta.get('sessions')} sessions, {meta.get('trainees')} trainees; "
        + ", ".join(f"{d['file']} ({d['sha256'][:12]})" for d in meta.get("data", [])),
        f"labellers  {', '.join(f'{k} ({v})' for k, v in meta.get('labellers', {}).items())}",
        f"cv         kappa {cv.get('kappa_mean', 0):.3f} ± {cv.get('kappa_std', 0):.3f}, macro F1 "
        f"{cv.get('f1_macro_mean', 0):.3f} ({meta.get('cv', {}).get('repeats', 1)} x "
        f"{meta.get('cv', {}).get('n_splits')} folds, trainees kept apart)",
        "courses    " + ", ".join(f"{c} {'/'.join(sorted(v))}" for c, v in sorted(meta.get("courses", {}).items())),
        "features   " + ", ".join(meta["features"]["categorical"] + meta["features"]["numeric"]),
        "content    " + _checked(loaded.checked),
        "signature  "
        + (
            f"valid, site key {loaded.signed_by} ({M.signature_path(choice.path).name})"
            if loaded.signed_by
            else f"not checked: this site has no key ({KEY_ENV}); the SHA-256 proves integrity, not origin"
        ),
    ]
    for line in lines:
        console.print(line, highlight=False, markup=False)
    for warning in M.problems(loaded):
        print(f"warning: {warning}", file=sys.stderr)
    return ExitCode.OK


def _checked(checked: Any) -> str:
    calibrators = (
        f"; its {checked.calibration} calibrators' numbers in range" if getattr(checked, "calibration", "") else ""
    )
    if checked.trees:
        return (
            f"checked: {checked.trees} trees, {checked.nodes:,} nodes (children, features, category sets, "
            f"thresholds and leaf values in range){calibrators}"
        )
    return f"checked: {checked.kind} (parts, shapes and test rows){calibrators}"


def sign(args: argparse.Namespace) -> int:
    """Sign a model with the site key (TRAINER_SITE_KEY_FILE), so that a site with the key accepts it.

    Writes NAME.sig beside the model: an HMAC-SHA256, with the key, of the model file and its metadata. The model is
    checked first; only a model this Trainer accepts is signed. Run it where the key is kept, on a model you trust."""
    from trainer.scoring import model as M
    from trainer.scoring.grade import choose
    from trainer.sitekey import ENV_VAR, SiteKeyError, site_key

    choice = choose(args.model)
    if choice.path is None:
        raise UsageError("no model to sign: give one with --model FILE")
    key = site_key()
    if key is None:
        raise SiteKeyError(
            f"no site key: set {ENV_VAR} to a file holding the key (see docs/operations.md, The site key)"
        )
    key_id = M.sign(choice.path, key)
    print(f"signed {choice.path} with the site key {key_id}: {M.signature_path(choice.path)}")
    return ExitCode.OK
