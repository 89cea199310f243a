"""`trainer play`: play a course headless from a script of actions, storing every event as the app does."""

from __future__ import annotations

import argparse
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.cli import command
from trainer.errors import ExitCode, TrainerError, UsageError

_LINE = re.compile(r"^\s*(?:(?P<delay>\d+(?:\.\d+)?)\s*)?(?P<action>[a-z0-9][a-z0-9_-]*)?\s*(?:#.*)?$")


@dataclass(frozen=True)
class ScriptLine:
    number: int
    delay: float  # seconds before the action
    action: str | None  # None: only wait (timers may run out)


class ScriptError(TrainerError):
    """A script line that cannot be played (unknown format, or an action not offered at that point)."""


def parse_script(path: Path) -> list[ScriptLine]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path}: cannot read the script: {getattr(exc, 'strerror', None) or exc}") from None
    lines: list[ScriptLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.strip().startswith("#"):
            continue
        m = _LINE.match(raw)
        if not m or (m["delay"] is None and m["action"] is None):
            raise ScriptError(
                f"{path}:{number}: expected 'ACTION' or 'SECONDS ACTION' or 'SECONDS', got {raw.strip()!r}"
            )
        lines.append(ScriptLine(number, float(m["delay"] or 0), m["action"]))
    return lines


def register(sub: Any) -> None:
    p = command(sub, "play", play)
    p.add_argument("course", metavar="COURSE", help="course file or course id")
    p.add_argument("--badge", required=True, help="the trainee's badge id")
    p.add_argument("--name", help="the trainee's name (needed the first time)")
    p.add_argument("--department", help="the trainee's department (needed the first time)")
    p.add_argument("--script", required=True, type=Path, metavar="FILE", help="actions, one per line: [SECONDS] ACTION")
    p.add_argument("--seed", type=int, help="seed of the random events (default: a random one, printed)")
    p.add_argument(
        "--resume", metavar="SESSION", help="continue this interrupted session; lines already played are skipped"
    )
    p.add_argument("--real-time", action="store_true", help="really wait the script's delays (default: simulated time)")
    p.add_argument("--lang", choices=("zh", "en"), default=None)
    p.add_argument("--db", metavar="URL")
    p.add_argument("--courses", action="append", default=[], metavar="DIR")


class _ScriptClock:
    """Simulated time: the script's delays advance it, nothing sleeps."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds

    def wait(self, seconds: float) -> None:
        self.seconds += seconds


class _RealClock:
    def __call__(self) -> float:
        return time.monotonic()

    def wait(self, seconds: float) -> None:
        time.sleep(seconds)


def play(args: argparse.Namespace) -> int:
    """Play a course without the terminal app, from a script of action ids.

    Script: one action per line, optionally preceded by a delay in seconds ("2.5 notify_team"); a line with only a
    number waits (timers may run out); '#' starts a comment. Every event is committed to the database exactly as the
    terminal app stores it, and printed as "stored SEQ KIND" once it is durable. Prints the session id first and the
    outcome last. With --resume, give the same script: the actions the session already took are checked and skipped.
    """
    from trainer.cli.unscored import open_store
    from trainer.course.library import resolve_course
    from trainer.course.loader import load_course
    from trainer.durable import DurableSession
    from trainer.engine.events import EventKind
    from trainer.engine.session import EngineError

    script = parse_script(args.script)
    course = load_course(resolve_course(args.course, args.courses))
    clock = _RealClock() if args.real_time else _ScriptClock()
    with open_store(args, also=(course,)) as store:
        if args.resume:
            durable = DurableSession.resume(store, course, args.resume, clock=clock)
            taken = [s.event.action for s in durable.stored if s.event.kind is EventKind.CHOSE]
            script = _skip_played(script, taken, args.script)
        else:
            trainee = store.get_trainee(args.badge)
            if trainee is None:
                if not (args.name and args.department):
                    raise UsageError(f"badge {args.badge} is new: give --name and --department the first time")
                store.upsert_trainee(args.badge, args.name, args.department)
            seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
            durable = DurableSession.begin(store, course, args.badge, seed=seed, lang=args.lang or "zh", clock=clock)
        print(f"session {durable.id}", flush=True)
        _report(durable.stored)
        for line in script:
            if durable.engine.ended:
                break
            clock.wait(line.delay)
            _report(durable.tick())
            if line.action is None or durable.engine.ended:
                continue
            try:
                _report(durable.choose(line.action))
            except EngineError as exc:
                raise ScriptError(f"{args.script}:{line.number}: {exc}") from None
        engine = durable.engine
        if not engine.ended:
            durable.release()
            print(f"outcome: unfinished in state {engine.state.id} (resume with --resume {durable.id})")
            return ExitCode.OK
        score = durable.score
        verdict = f", score {score.score:g}, {'passed' if score.passed else 'failed'} ({score.reason})" if score else ""
        print(f"outcome: {engine.outcome}{verdict}")
    return ExitCode.OK


def _report(stored: list) -> None:
    for s in stored:
        print(f"stored {s.event.seq} {s.event.kind}", flush=True)


def _skip_played(script: list[ScriptLine], taken: list[str | None], path: Path) -> list[ScriptLine]:
    actions = [line for line in script if line.action is not None]
    for line, action in zip(actions, taken, strict=False):
        if line.action != action:
            raise ScriptError(
                f"{path}:{line.number}: the script says {line.action!r} but the session took {action!r} there"
            )
    if len(taken) > len(actions):
        return []
    if not taken:
        return script
    last_played = actions[len(taken) - 1].number
    return [line for line in script if line.number > last_played]
