"""`trainer course ...`: check, list, schema and graph courses."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from trainer.cli.common import command, plain
from trainer.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    group = command(sub, "course", _group_help, uses=("courses",))
    csub = group.add_subparsers(title="course commands", metavar="COMMAND")

    p = command(csub, "check", check, uses=())
    p.add_argument("paths", nargs="+", metavar="PATH", help="course files or folders of course files")
    p.add_argument("--quiet", action="store_true", help="print problems only, no summary line")

    command(csub, "list", list_courses, uses=("courses", "lang"))

    command(csub, "schema", schema, uses=())

    p = command(csub, "new", new, uses=())
    p.add_argument("name", metavar="NAME", help="the course id, e.g. conveyor-jam (also the file name)")
    p.add_argument("--dir", type=Path, default=Path("."), help="folder to write NAME.yaml in (default: here)")

    p = command(csub, "test", test, uses=("courses",))
    p.add_argument("courses_to_test", nargs="+", metavar="COURSE", help="course files, folders or course ids")
    p.add_argument(
        "--random", type=int, default=100, metavar="N", help="seeded random playthroughs per course (default 100)"
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the random playthroughs (default 0)")
    p.add_argument(
        "--max-situations",
        type=_positive,
        default=None,
        metavar="N",
        help="stop exploring a course after N distinct situations (default 50000)",
    )

    p = command(csub, "graph", graph, uses=("courses",))
    p.add_argument("course", metavar="COURSE", help="course file or course id")
    p.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _group_help(args: argparse.Namespace) -> int:
    """Check, list, draw and test courses (see trainer course --help)."""
    print("usage: trainer course {check,list,schema,graph} ... (see trainer course --help)", file=sys.stderr)
    return ExitCode.USAGE


def check(args: argparse.Namespace) -> int:
    """Check course files and report every problem as file:line:col: error|warning: message.

    Exits 3 when any file has an error, 0 otherwise (warnings alone do not fail).
    """
    from trainer.gcpause import paused_gc

    # Without the cyclic collector: its passes over everything the checker's modules define as they are imported are a
    # measurable part of the whole command (docs/performance.md, "Figures behind the code"), and reading a course makes no cycles (a recursive alias is refused).
    with paused_gc():
        return _check(args)


def _check(args: argparse.Namespace) -> int:
    from trainer.course.library import course_files
    from trainer.course.loader import check_path

    files = course_files(Path(p) for p in args.paths)
    if not files:
        print("trainer: error: no course files (*.yaml) found in " + ", ".join(args.paths), file=sys.stderr)
        return ExitCode.ERROR
    errors = warnings = 0
    for f in files:
        result = check_path(f)
        for d in result.diagnostics:
            print(d)
        errors += len(result.errors)
        warnings += len(result.warnings)
    if not args.quiet:
        verdict = "invalid" if errors else "ok"
        print(f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s): {verdict}", file=sys.stderr)
    return ExitCode.INVALID_COURSE if errors else ExitCode.OK


def list_courses(args: argparse.Namespace) -> int:
    """List the courses found: id, version, titles, area, estimated minutes and file."""
    from rich.console import Console
    from rich.table import Table

    from trainer.course.library import load_library

    library = load_library(args.courses)
    # Both titles by default; --lang narrows the table to one (a course list read at 80 columns).
    languages = {"zh": "中文", "en": "English"}
    shown = [args.lang] if args.lang else list(languages)
    table = Table(title_justify="left")
    for col in ("id", "version", *(languages[lang] for lang in shown), "area", "min", "path"):
        table.add_column(col, overflow="fold")
    for c in library.courses.values():
        titles = [getattr(c.title, lang) or "" for lang in shown]
        table.add_row(*map(plain, (c.id, c.version, *titles, c.area, str(c.minutes), c.source)))
    console = Console()
    console.print(table)
    for problem in library.problems:
        print(f"not loaded: {problem.errors[0] if problem.errors else problem.diagnostics[0]}", file=sys.stderr)
    return ExitCode.OK


def schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of the course format (for editors: # yaml-language-server: $schema=...)."""
    from trainer.course.schema import course_schema_json

    print(course_schema_json())
    return ExitCode.OK


def graph(args: argparse.Namespace) -> int:
    """Draw a course's state machine as Mermaid or DOT; mistake edges orange, critical edges red."""
    from trainer.course.graph import to_dot, to_mermaid
    from trainer.course.library import resolve_course
    from trainer.course.loader import load_course

    course = load_course(resolve_course(args.course, args.courses))
    print(to_mermaid(course) if args.format == "mermaid" else to_dot(course), end="")
    return ExitCode.OK


def test(args: argparse.Namespace) -> int:
    """Play courses automatically through the engine and report state and action coverage.

    Every reachable situation is explored (with random events forced on, then off) and N seeded random playthroughs
    are run. Fails (exit 1) on an engine error, a trap with no way to an ending, or a timer that can never run out;
    exit 3 when a course does not load. Each finding names its file:line:col; a trap, its smallest example.
    """
    from trainer.course.library import course_files, resolve_course
    from trainer.course.loader import load_course
    from trainer.engine.explore import MAX_SITUATIONS, explore_course
    from trainer.text import shown

    paths = course_files(resolve_course(ref, args.courses) for ref in args.courses_to_test)
    failed = False
    for path in paths:
        course = load_course(path)
        limit = args.max_situations or MAX_SITUATIONS
        report = explore_course(course, random_runs=args.random, seed=args.seed, max_situations=limit)
        s_done, s_all = report.state_coverage()
        a_done, a_all = report.action_coverage()
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or "none"
        print(
            f"{course.id} {course.version}: states {s_done}/{s_all} ({100 * s_done / s_all:.0f}%), "
            f"actions {a_done}/{a_all} ({100 * a_done / max(a_all, 1):.0f}%), {report.situations} situations explored, "
            f"{report.playthroughs} random playthroughs ({outcomes})"
        )
        for finding in report.findings:
            level = "error" if finding.failing else "warning"
            where = f"{path}:{finding.pos.line}:{finding.pos.col}" if finding.pos else str(path)
            print(shown(f"{where}: {level}: {finding.kind}: {finding.message}"))
        failed = failed or report.failed
    return ExitCode.ERROR if failed else ExitCode.OK


def new(args: argparse.Namespace) -> int:
    """Write NAME.yaml: a small complete course that already passes `trainer course check`, to start from."""
    from trainer import outfile
    from trainer.course.scaffold import scaffold
    from trainer.errors import TrainerError

    try:
        text = scaffold(args.name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    target = args.dir / f"{args.name}.yaml"
    if target.is_file() and not target.is_symlink():  # never replaced: an author's course is not an output file
        raise TrainerError(f"{target}: already exists; choose another name or remove it")
    outfile.write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"), "course")
    print(f"wrote {target}; next: trainer course check {target}")
    return ExitCode.OK
