"""Build the starter dataset and the default model from the bundled courses. Reproducible: same seeds, same result.

1. every bundled course that loads and passes `trainer course test` (the explorer finds no failing problem) is used;
2. simulated trainees (trainer.scoring.simulate, a fixed mix of the five profiles) play --sessions sessions, spread
   evenly over those courses, through the real engine;
3. the two SYNTHETIC reference raters (trainer.scoring.raters) label every detected mistake;
4. the sessions are split by trainee: a quarter of the trainees (by a hash of their id) go to holdout.jsonl.gz, the
   rest to train.jsonl.gz (so no trainee is in both);
5. the default model is trained on train.jsonl.gz with seed 0 (exactly `trainer model train --data
   data/starter/train.jsonl.gz --seed 0 --out trainer/scoring/default_model/model.skops`: repeated cross-validation
   of the candidates, calibration and the review threshold chosen on the folds, all recorded in its metadata) and
   evaluated on the holdout (exactly `trainer model evaluate --data data/starter/holdout.jsonl.gz --train
   data/starter/train.jsonl.gz`); the figures go to data/starter/evaluation.json.

    python data/build_starter.py [--sessions 3500] [--seed 2026]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

from trainer.course.library import bundled_dir, course_files
from trainer.course.loader import check_path
from trainer.engine.explore import explore_course
from trainer.scoring import labelled
from trainer.scoring import model as M
from trainer.scoring.evaluate import evaluate
from trainer.scoring.grade import DEFAULT_MODEL
from trainer.scoring.raters import label_line
from trainer.scoring.simulate import simulate

HERE = Path(__file__).resolve().parent


def in_holdout(trainee: str) -> bool:
    return hashlib.sha256(trainee.encode()).digest()[0] % 4 == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=3500)
    parser.add_argument("--seed", type=int, default=2026, help="seed of the simulation (default 2026)")
    parser.add_argument("--out", type=Path, default=HERE / "starter")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()

    courses = []
    for path in course_files([bundled_dir()]):
        result = check_path(path)
        if result.course is None:
            print(f"left out {path.name}: it does not load ({result.errors[0] if result.errors else '?'})")
            continue
        report = explore_course(result.course, random_runs=100, seed=0)  # as `trainer course test` does
        if report.failed:
            first = next(f for f in report.findings if f.failing)
            print(f"left out {result.course.id}: `trainer course test` fails ({first.kind}: {first.message})")
            continue
        courses.append(result.course)
        print(f"using {result.course.id} {result.course.version} ({result.course.content_hash[:12]})")
    if not courses:
        sys.exit("no bundled course passes its tests")

    train, holdout = [], []
    for s in simulate(courses, args.sessions, args.seed):
        line = labelled.record(s.course, s.events, session=s.session, trainee=s.trainee, seed=s.seed, profile=s.profile)
        (holdout if in_holdout(s.trainee) else train).append(label_line(line))
    args.out.mkdir(parents=True, exist_ok=True)
    labelled.write(args.out / "train.jsonl.gz", train, force=True)  # a rebuild replaces what it built before
    labelled.write(args.out / "holdout.jsonl.gz", holdout, force=True)
    print(f"{len(train)} training and {len(holdout)} holdout sessions written to {args.out}")

    data = M.load_data([args.out / "train.jsonl.gz"])
    trained = M.train(data, seed=0)
    M.save(trained, args.model, force=True)
    cv = trained.metadata["cv"]
    print(
        f"default model {trained.short_id} ({trained.metadata['candidate']}, calibration "
        f"{trained.metadata['calibration']['method']}, review below {trained.metadata['review_below']}): "
        + ", ".join(
            f"{name} CV kappa {cv[name]['kappa_mean']:.3f} ± {cv[name]['kappa_std']:.3f}"
            for name in M.candidate_names()
        )
    )
    test = M.load_data([args.out / "holdout.jsonl.gz"])
    ev = evaluate(M.load(args.model), test, train_data=data, seed=0)
    figures = {
        "built_with": f"python data/build_starter.py --sessions {args.sessions} --seed {args.seed}",
        "courses": {c.id: {"version": c.version, "content_hash": c.content_hash} for c in courses},
        "train": {"sessions": len(train), "labels": len(data)},
        "model": trained.metadata["model_sha256"],
        "cv": cv,
        "calibration": trained.metadata["calibration"],
        "review_below": trained.metadata["review_below"],
        "review_cv": trained.metadata["review"],
        **ev.as_dict(),
    }
    (args.out / "evaluation.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    for row in ev.overall:
        print(f"  holdout {row.name:<26} kappa {row.kappa:.3f}  macro F1 {row.f1:.3f}  ({row.n} pairs)")
    own = ev.queue_at(ev.review_below)
    print(
        f"  holdout ECE {ev.ece:.3f}; review below {ev.review_below}: flags {own.flagged:.1%}, "
        f"catches {own.caught:.1%} of the wrong grades ({ev.wrong:.1%} wrong)"
    )
    if args.out == HERE / "starter":  # the shipped figures: docs/scoring.md section 9 reads them from here
        subprocess.run([sys.executable, str(HERE / "measured.py")], check=True)


if __name__ == "__main__":
    main()
