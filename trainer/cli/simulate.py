"""`trainer simulate`: simulated trainees play courses through the real engine; labelled-session JSON Lines out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from trainer.cli.common import command
from trainer.cli.outputs import add_force
from trainer.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    p = command(sub, "simulate", simulate, uses=("courses",))
    p.add_argument(
        "--course",
        action="append",
        default=[],
        metavar="C",
        help="course id or file (repeatable; default: every course that loads)",
    )
    p.add_argument("--n", type=int, required=True, metavar="N", help="number of sessions (spread over the courses)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed: the same seed gives the same sessions")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="JSON Lines file to write (.gz compresses)")
    add_force(p, "the --out file")
    p.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="P",
        help="only this profile (repeatable): expert, careful-novice, hurried, violator, confused (default: a mix)",
    )
    p.add_argument(
        "--label",
        choices=("none", "reference"),
        default="none",
        help="'reference': label every mistake by the two synthetic reference raters (default: unlabelled)",
    )


def simulate(args: argparse.Namespace) -> int:
    """Simulated trainees of documented profiles play courses through the real engine.

    Writes one labelled-session line per session (docs/scoring.md), unlabelled unless --label reference. Profiles:
    expert, careful-novice, hurried, violator (over-confident), confused; by default a fixed mix of them.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from trainer import outfile
    from trainer.course.library import load_library, resolve_course
    from trainer.course.loader import load_course
    from trainer.scoring import labelled
    from trainer.scoring.raters import label_line
    from trainer.scoring.simulate import DEFAULT_MIX, PROFILES
    from trainer.scoring.simulate import simulate as run

    if args.n < 1:
        raise UsageError("--n must be at least 1")
    outfile.check(args.out, "labelled sessions", force=args.force)
    unknown = [p for p in args.profile if p not in PROFILES]
    if unknown:
        raise UsageError(f"unknown profile {unknown[0]!r}; choose from {', '.join(PROFILES)}")
    if args.course:
        courses = [load_course(resolve_course(ref, args.courses)) for ref in args.course]
    else:
        courses = list(load_library(args.courses).courses.values())
        if not courses:
            raise UsageError("no course could be loaded; give --course or --courses")
    mix = {p: 1.0 for p in args.profile} if args.profile else DEFAULT_MIX
    console = Console(stderr=True)

    def lines() -> Any:
        with Progress(
            TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
        ) as bar:
            task = bar.add_task("sessions", total=args.n)
            for s in run(courses, args.n, args.seed, mix=mix):
                line = labelled.record(
                    s.course, s.events, session=s.session, trainee=s.trainee, seed=s.seed, profile=s.profile
                )
                yield label_line(line) if args.label == "reference" else line
                bar.advance(task)

    written = labelled.write(args.out, lines(), force=args.force, private=False)  # simulated trainees: nobody's data
    names = ", ".join(c.id for c in courses)
    console.print(f"{written} session(s) of {names} written to {args.out}", highlight=False)
    return ExitCode.OK
