"""`trainer label`: an instructor grades a session's mistakes in the terminal; export and import the labels."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from trainer.cli.common import command, plain
from trainer.cli.outputs import add_force
from trainer.errors import ExitCode, TrainerError, UsageError

KEYS = {"0": "none", "1": "minor", "2": "serious", "3": "critical"}


def register(sub: Any) -> None:
    group = command(sub, "label", walkthrough)
    group.add_argument(
        "--session", metavar="ID", help="the session (default: the latest finished one you have not labelled)"
    )
    group.add_argument("--labeller", default="instructor", metavar="ID", help="your id, kept with each label")
    group.add_argument("--reason", default="", metavar="TEXT", help="why (kept in the audit trail with the labels)")
    group.add_argument(
        "--next",
        type=int,
        metavar="N",
        help="propose the N unlabelled mistakes whose labels would teach the model most (it is least sure of them)",
    )
    lsub = group.add_subparsers(title="label commands", metavar="COMMAND", required=False)

    p = command(lsub, "export", export, uses=("db", "courses"))
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="JSON Lines file (.gz compresses)")
    add_force(p, "the --out file")
    p.add_argument("--all", action="store_true", help="also sessions without labels (for labelling with other tools)")
    p.add_argument("--since", metavar="DATE", help="only sessions started on or after DATE")

    p = command(lsub, "import", import_labels, uses=("db", "courses"))
    p.add_argument("file", type=Path, metavar="FILE", help="labelled-session JSON Lines (as export writes them)")
    # SUPPRESS: no default here, so that `label --reason X import FILE` keeps X
    p.add_argument("--reason", default=argparse.SUPPRESS, metavar="TEXT", help="why (kept in the audit trail)")


class LabelError(TrainerError):
    pass


def _course_for(library: Any, record: Any) -> Any:
    course = library.get(record.course_id)
    if course is None or course.content_hash != record.content_hash:
        raise LabelError(
            f"session {record.id[:8]} was played on {record.course_id} {record.course_version}, which is not loaded at "
            "that exact version; add its course folder with --courses"
        )
    return course


def walkthrough(args: argparse.Namespace) -> int:
    """Walk through a session's mistakes and grade each (none, minor, serious, critical); the labels are stored.

    Each mistake is shown as in the debrief: when it happened, the rule, the declared severity, what followed, whether
    it was corrected and how fast, and the current model's grade with its confidence. Enter keeps the suggestion.
    """
    from rich.console import Console
    from rich.panel import Panel
    from rich.prompt import Prompt

    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.scoring.detect import action_label, detect, expected_step
    from trainer.scoring.grade import Grader

    if args.next is not None:
        return propose_next(args)
    console = Console()
    lang = args.lang or "en"
    library = load_library(args.courses)
    with open_store(args, library=library) as store:
        if args.session:
            record = store.session(args.session)
        else:
            mine = {lb.session_id for lb in store.labels() if lb.labeller == args.labeller}
            finished = [r for r in store.sessions() if str(r.status) in ("completed", "failed", "aborted")]
            todo = [r for r in finished if r.id not in mine]
            if not todo:
                console.print(f"no finished session left to label for {plain(args.labeller)}")
                return ExitCode.OK
            record = todo[0]
        if str(record.status) not in ("completed", "failed", "aborted"):
            raise UsageError(f"session {record.id[:8]} is {record.status}; label finished sessions only")
        course = _course_for(library, record)
        events = [s.event for s in store.events(record.id)]
        existing = {lb.mistake_id: lb.severity for lb in store.labels(record.id) if lb.labeller == args.labeller}
        mistakes = detect(course, events)
        score = Grader.current().score(course, events)
        graded = {d.mistake.id: (str(d.severity), d.confidence) for d in score.deductions}
        graded.update({d.mistake.id: ("none", d.confidence) for d in score.cleared})
        console.print(
            f"[bold]Session {record.id}[/bold]  badge {plain(record.badge)}  {course.id} {course.version}  "
            f"outcome {record.outcome}  score {score.score:g} ({score.scorer})",
            highlight=False,
        )
        if not mistakes:
            console.print("no mistakes were detected in this session: nothing to label")
            return ExitCode.OK
        answers: dict[str, str] = {}
        for i, m in enumerate(mistakes, start=1):
            mm, ss = divmod(m.t_ms // 1000, 60)
            grade, confidence = graded.get(m.id, (str(m.severity), 1.0))
            suggestion = existing.get(m.id, grade)
            lines = [
                f"[{mm:02d}:{ss:02d}] {m.code} in {m.state} ({m.source}), declared {m.severity}",
                f"rule: {m.rule.get(lang)}" + (f" [{m.standard}]" if m.standard else ""),
                f"corrected after {m.correction_s:g} s" if m.corrected else "not corrected",
                f"time {m.repeat} of this mistake; {'a hazard or incident followed' if m.hazard_followed else 'no hazard followed'}"
                + ("; a timer was running" if m.timer_running else ""),
                f"{score.scorer}: {grade}" + (f" ({100 * confidence:.0f}% sure)" if score.scorer != "rubric" else ""),
            ]
            right = expected_step(course, events, m.seq) if m.source not in ("skipped", "order") else None
            if right is not None:
                lines.append(f"right step: {action_label(course, right.action).get(lang)}")
            if m.id in existing:
                lines.append(f"your earlier label: {existing[m.id]}")
            console.print(
                Panel("\n".join(lines), title=f"mistake {i}/{len(mistakes)}", title_align="left"), markup=False
            )
            default = next(k for k, v in KEYS.items() if v == suggestion)
            try:
                key = Prompt.ask(
                    "severity: 0 none, 1 minor, 2 serious, 3 critical, s skip, q save and quit",
                    choices=[*KEYS, "s", "q"],
                    default=default,
                    console=console,
                )
            except EOFError:
                key = "q"
            if key == "q":
                break
            if key != "s":
                answers[m.id] = KEYS[key]
        if answers:
            from trainer.store.audit import Act

            store.set_labels(record.id, args.labeller, answers, act=Act(args.reason))  # with its audit row
    console.print(f"{len(answers)} label(s) by {plain(args.labeller)} saved for session {record.id[:8]}")
    return ExitCode.OK


def propose_next(args: argparse.Namespace) -> int:
    """`label --next N`: the N unlabelled mistakes of finished sessions the current model is least sure of (smallest
    margin between its two likeliest grades), spread over trainees and courses (trainer.scoring.active)."""
    from rich.console import Console

    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.scoring.active import Candidate, propose
    from trainer.scoring.detect import detect
    from trainer.scoring.features import context
    from trainer.scoring.grade import Grader
    from trainer.scoring.rubric import fixed_grade

    if args.next < 1:
        raise UsageError("--next must be at least 1")
    model = Grader.current(strict=True).model
    if model is None:
        raise UsageError("no model grades sessions (the rubric does): train one first (trainer model train)")
    library = load_library(args.courses)
    candidates: list[Candidate] = []
    left_out = 0
    with open_store(args, library=library) as store:
        done = {(lb.session_id, lb.mistake_id) for lb in store.labels()}
        for record in store.sessions():
            if str(record.status) not in ("completed", "failed", "aborted"):
                continue
            course = library.get(record.course_id)
            if course is None or course.content_hash != record.content_hash:
                left_out += 1
                continue
            events = [s.event for s in store.events(record.id)]
            for m in detect(course, events):
                if not fixed_grade(m) and (record.id, m.id) not in done:
                    candidates.append(Candidate(record.id, record.badge, course.id, m.id, context(course, m)))
    console = Console()
    if not candidates:
        console.print("no unlabelled mistake in finished sessions: nothing to propose")
        return ExitCode.OK
    chosen = propose(model, candidates, args.next)
    grades = model.predict([c.context for c, _ in chosen])
    # one plain line per mistake (not a table: ids such as order:check_guard must stay whole to be copied)
    console.print(
        f"{len(chosen)} of {len(candidates)} unlabelled mistakes to label next (the model is least sure of them): "
        "session, mistake, course, badge, the model's grade, margin between its two likeliest grades",
        highlight=False,
    )
    for (c, margin), (grade, confidence) in zip(chosen, grades, strict=True):
        print(
            f"  {c.session[:8]}  {plain(c.mistake)}  {c.course}  {plain(c.trainee)}  {grade} ({confidence:.0%})  "
            f"{margin:.2f}"
        )
    console.print(
        "grade them with `trainer label --session ID`"
        + (f"; {left_out} session(s) of course versions not loaded were left out" if left_out else ""),
        highlight=False,
    )
    return ExitCode.OK


def export(args: argparse.Namespace) -> int:
    """Write labelled sessions as JSON Lines (docs/scoring.md): events, detected mistakes with their context, labels.

    A new file is readable by you only (trainees' sessions); an existing one is replaced only with --force."""
    from trainer import outfile
    from trainer.cli.common import since_moment
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.scoring import labelled
    from trainer.sitetime import site_zone

    outfile.check(args.out, "labelled sessions", force=args.force)
    library = load_library(args.courses)
    skipped: dict[str, int] = defaultdict(int)
    with open_store(args, library=library) as store:
        by_session: dict[str, dict[str, list[labelled.Label]]] = defaultdict(lambda: defaultdict(list))
        for lb in store.labels():
            by_session[lb.session_id][lb.mistake_id].append(labelled.Label(lb.severity, lb.labeller))
        records = [
            r
            for r in store.sessions(since=since_moment(args.since, site_zone(store)) if args.since else None)
            if str(r.status) in ("completed", "failed", "aborted") and (args.all or r.id in by_session)
        ]
        records.reverse()  # oldest first
        events = dict(store.events_of([r.id for r in records]))

    def lines() -> Any:
        for r in records:
            course = library.get(r.course_id)
            if course is None or course.content_hash != r.content_hash:
                skipped[f"{r.course_id} {r.course_version}"] += 1
                continue
            yield labelled.record(
                course, events[r.id], session=r.id, trainee=r.badge, seed=r.seed, labels=by_session.get(r.id, {})
            )

    n = labelled.write(args.out, lines(), force=args.force)
    print(f"{n} session(s) written to {args.out}")
    for key, count in sorted(skipped.items()):
        print(f"{count} session(s) of {key} left out: that course version is not loaded", file=sys.stderr)
    return ExitCode.OK


def import_labels(args: argparse.Namespace) -> int:
    """Store the labels of a labelled-session file for the sessions of this database (matched by session id).

    Labels of mistakes that detection does not find in the stored session are refused (the file is for another
    session or course version); sessions not in this database are counted and left out (train on the file instead).
    The file is checked whole first, then stored in one transaction: all its labels or none, each session's with one
    row in the audit trail (who, the file, old -> new severities, --reason).
    """
    from trainer.cli.unscored import open_store
    from trainer.course.library import load_library
    from trainer.scoring import labelled
    from trainer.scoring.detect import detect
    from trainer.store.audit import Act
    from trainer.store.errors import StoreError

    library = load_library(args.courses)
    absent = 0
    todo: list[tuple[str, str, dict[str, str]]] = []
    with open_store(args, library=library) as store:
        for s in labelled.read(args.file):
            try:
                record = store.session(s.session)
            except StoreError:
                absent += 1
                continue
            course = _course_for(library, record)
            ids = {m.id for m in detect(course, [e.event for e in store.events(record.id)])}
            per_labeller: dict[str, dict[str, str]] = defaultdict(dict)
            for m in s.mistakes:
                if m.labels and m.id not in ids:
                    raise LabelError(
                        f"{args.file}: session {s.session[:8]} has no mistake {m.id!r} in this database; "
                        "the labels were made for another session or course version"
                    )
                for lb in m.labels:
                    per_labeller[lb.labeller][m.id] = lb.severity
            todo += [(record.id, labeller, severities) for labeller, severities in per_labeller.items()]
        stored = store.import_labels(todo, act=Act(getattr(args, "reason", "")), detail={"file": str(args.file)})
    print(f"{stored} label(s) stored" + (f"; {absent} session(s) not in this database left out" if absent else ""))
    return ExitCode.OK
