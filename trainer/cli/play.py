"""`trainer play`: play a course headless from a script of actions, storing every event as the app does."""

from __future__ import annotations

import argparse
import re
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainer.cli.common import command
from trainer.course.limits import SCRIPT_MAX_BYTES, SCRIPT_MAX_DELAY_SECONDS, SCRIPT_MAX_LINE_CHARS, quote
from trainer.engine.clock import ManualClock, monotonic_ms, ms_from_seconds
from trainer.errors import ExitCode, TrainerError, UsageError

if TYPE_CHECKING:  # the store and the engine are imported only when a script is played: `trainer --help` stays fast
    from trainer.session_service import DurableSession

_LINE = re.compile(r"^\s*(?:(?P<delay>\d+(?:\.\d+)?)\s*)?(?P<action>[a-z0-9][a-z0-9_-]*)?\s*(?:#.*)?$")
# `on EVENT: ACTION`: answer the random event EVENT with ACTION whenever it fires, wherever the script is then, so one
# script plays whatever the seed (a line answering an event that did not fire stops the script).
_ON = re.compile(r"^\s*on\s+(?P<event>[a-z0-9][a-z0-9_-]*)\s*:\s*(?P<action>[a-z0-9][a-z0-9_-]*)\s*(?:#.*)?$")


@dataclass(frozen=True)
class ScriptLine:
    number: int
    delay_ms: int  # milliseconds before the action (the script gives seconds: see _delay_ms)
    action: str | None  # None: only wait (timers may run out)
    on: str | None = None  # an `on EVENT: ACTION` line: the event it answers (not a step of its own)


class ScriptError(TrainerError):
    """A script line that cannot be played (unknown format, or an action not offered at that point)."""


def parse_script(path: Path) -> list[ScriptLine]:
    """Read a play script, refusing (in one short line) anything beyond the bounds in trainer/course/limits.py."""
    try:
        with path.open("rb") as f:
            raw_bytes = f.read(SCRIPT_MAX_BYTES + 1)  # never more: the file may be huge, or a device that never ends
        if len(raw_bytes) > SCRIPT_MAX_BYTES:
            raise ScriptError(
                f"{path}: the script is larger than {SCRIPT_MAX_BYTES // 1024} KB, the most a script may be"
            )
        text = raw_bytes.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path}: cannot read the script: {getattr(exc, 'strerror', None) or exc}") from None
    lines: list[ScriptLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if len(raw) > SCRIPT_MAX_LINE_CHARS:
            raise ScriptError(
                f"{path}:{number}: the line has {len(raw)} characters, more than the {SCRIPT_MAX_LINE_CHARS} "
                f"a script line may have: {quote(raw.strip())}"
            )
        if not raw.strip() or raw.strip().startswith("#"):
            continue
        on = _ON.match(raw)
        if on:
            if any(line.on == on["event"] for line in lines):
                raise ScriptError(f"{path}:{number}: the event {quote(on['event'])} already has an 'on' line")
            lines.append(ScriptLine(number, 0, on["action"], on=on["event"]))
            continue
        m = _LINE.match(raw)
        if not m or (m["delay"] is None and m["action"] is None):
            raise ScriptError(
                f"{path}:{number}: expected 'ACTION', 'SECONDS ACTION', 'SECONDS' or 'on EVENT: ACTION', "
                f"got {quote(raw.strip())}"
            )
        if m["delay"] is not None and Decimal(m["delay"]) > SCRIPT_MAX_DELAY_SECONDS:
            raise ScriptError(
                f"{path}:{number}: the delay {quote(m['delay'])} is longer than {SCRIPT_MAX_DELAY_SECONDS} seconds "
                "(24 hours), the most a script line may wait"
            )
        lines.append(ScriptLine(number, _delay_ms(m["delay"]), m["action"]))
    return lines


def register(sub: Any) -> None:
    p = command(sub, "play", play)
    p.add_argument("course", metavar="COURSE", help="course file or course id")
    p.add_argument("--badge", help="the trainee's badge id (needed unless --dry-run)")
    p.add_argument("--name", help="the trainee's name (needed the first time)")
    p.add_argument("--department", help="the trainee's department (needed the first time)")
    p.add_argument("--script", required=True, type=Path, metavar="FILE", help="actions, one per line: [SECONDS] ACTION")
    p.add_argument("--seed", type=int, help="seed of the random events (default: a random one, printed)")
    p.add_argument(
        "--resume", metavar="SESSION", help="continue this interrupted session; lines already played are skipped"
    )
    p.add_argument("--real-time", action="store_true", help="really wait the script's delays (default: simulated time)")
    p.add_argument(
        "--mode",
        choices=("practice", "exam"),
        default="exam",
        help="exam (the default: no hints, key random events guaranteed, certifies) or practice (never certifies)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="play and score the script without a database: nothing is stored, nothing counts for certification",
    )


def _delay_ms(text: str | None) -> int:
    """A script delay in seconds ("1.0011") as whole milliseconds, read exactly from its digits (never through a
    float, whose 1.001 * 1000 is 1000.999...): digits beyond the millisecond round to the nearest one, halves up."""
    return ms_from_seconds(text) if text else 0


class _ScriptClock(ManualClock):
    """Simulated time in integer milliseconds: the script's delays advance it, nothing sleeps."""

    def wait(self, ms: int) -> None:
        self.advance(ms)


class _RealClock:
    """--real-time: the monotonic clock in integer milliseconds; the delays are really slept."""

    def __call__(self) -> int:
        return monotonic_ms()

    def wait(self, ms: int) -> None:
        time.sleep(ms / 1000)  # only how long to sleep: the time stored is read from the clock, in milliseconds


def play(args: argparse.Namespace) -> int:
    """Play a course without the terminal app, from a script of action ids.

    Script: one action per line, optionally preceded by a delay in seconds ("2.5 notify_team"); a line with only a
    number waits (timers may run out); '#' starts a comment. "on EVENT: ACTION" answers the random event EVENT with
    ACTION whenever it fires (right after the step that set it off), so the script plays whatever the seed. Delays count to the millisecond: digits after the third
    decimal round to the nearest millisecond, halves up ("1.0015" waits 1.002 s). Every event is committed to the
    database exactly as the terminal app stores it, and printed as "stored SEQ KIND" once it is durable. Prints the
    session id first and the outcome last. With --resume, give the same script: the actions the session already took
    are checked and skipped.
    """
    from trainer.cli.unscored import open_store
    from trainer.course.library import resolve_course
    from trainer.course.loader import load_course
    from trainer.engine.events import EventKind
    from trainer.engine.modes import Mode
    from trainer.engine.session import EngineError
    from trainer.session_service import DurableSession

    if args.dry_run and args.resume:
        raise UsageError("--dry-run plays a new session without a database; it cannot --resume one")
    if not args.dry_run and not args.badge:
        raise UsageError("the following argument is required: --badge (or play a --dry-run)")
    script = parse_script(args.script)
    course = load_course(resolve_course(args.course, args.courses))
    answers = _answers(script, course, args.script)
    script = [line for line in script if line.on is None]
    clock = _RealClock() if args.real_time else _ScriptClock()
    mode = Mode(args.mode)
    if args.dry_run:
        return _dry_run(args, script, course, clock, mode)
    with open_store(args, also=(course,)) as store:
        if args.resume:
            durable = DurableSession.resume(store, course, args.resume, clock=clock)
        else:
            from trainer.hr import ROSTER_SETTING

            trainee = store.get_trainee(args.badge)
            if trainee is None:
                if store.get_setting(ROSTER_SETTING) == "on":
                    raise UsageError(f"badge {args.badge} is not on the roster; add it with trainer trainees import")
                if not (args.name and args.department):
                    raise UsageError(f"badge {args.badge} is new: give --name and --department the first time")
                trainee = store.upsert_trainee(args.badge, args.name, args.department)
            seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
            # trainee.badge: a badge merged into another plays as that one (Store.get_trainee)
            durable = DurableSession.begin(
                store, course, trainee.badge, seed=seed, lang=args.lang or "zh", clock=clock, mode=mode
            )
        print(f"session {durable.id}", flush=True)
        _report(durable.stored)
        try:
            if args.resume:
                taken = [
                    s.event.action
                    for s in durable.stored
                    if s.event.kind is EventKind.CHOSE and s.event.data.get("event") not in answers
                ]
                script = _skip_played(script, taken, args.script)
            _answer(durable, answers, args.script)
            for line in script:
                if durable.engine.ended:
                    break
                clock.wait(line.delay_ms)
                _report(durable.tick())
                _answer(durable, answers, args.script)
                if line.action is None or durable.engine.ended:
                    continue
                try:
                    _report(durable.choose(line.action))
                except EngineError as exc:
                    raise ScriptError(f"{args.script}:{line.number}: {exc}") from None
                _answer(durable, answers, args.script)
        except (ScriptError, EngineError) as exc:
            # Everything played so far is stored; give the session up so it can be resumed at once, from anywhere.
            raise ScriptError(f"{exc}{_kept(durable)}") from None
        engine = durable.engine
        if not engine.ended:
            durable.release()
            print(f"outcome: unfinished in state {engine.state.id} (resume with --resume {durable.id})")
            return ExitCode.OK
        score = durable.score
        verdict = f", score {score.score:g}, {'passed' if score.passed else 'failed'} ({score.reason})" if score else ""
        print(f"outcome: {engine.outcome}{verdict}")
    return ExitCode.OK


def _answers(script: list[ScriptLine], course: Any, path: Path) -> dict[str, ScriptLine]:
    """The script's `on EVENT: ACTION` lines by event, each checked against the course (file:line on a mistake)."""
    import difflib

    events = {e.id: e for e in course.random_events}
    answers: dict[str, ScriptLine] = {}
    for line in script:
        if line.on is None:
            continue
        event = events.get(line.on)
        if event is None:
            close = difflib.get_close_matches(line.on, list(events), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (its events: {', '.join(events) or 'none'})"
            raise ScriptError(f"{path}:{line.number}: the course has no random event {quote(line.on)}{hint}")
        if not any(a.id == line.action for a in event.actions):
            offered = ", ".join(a.id for a in event.actions)
            raise ScriptError(
                f"{path}:{line.number}: {quote(line.action or '')} is not an answer to the event {line.on!r} "
                f"(its answers: {offered})"
            )
        answers[line.on] = line
    return answers


def _answer(durable: DurableSession, answers: dict[str, ScriptLine], path: Path) -> None:
    """Answer every active event that has an `on` line, as soon as its answer is offered (an answer whose `when` does
    not hold yet waits for the next step)."""
    from trainer.engine.session import EngineError

    while not durable.engine.ended:
        offered = {(o.event.id, o.action.id) for o in durable.engine.available() if o.event is not None}
        due = [line for event, line in answers.items() if (event, line.action) in offered]
        if not due:
            return
        line = due[0]
        try:
            _report(durable.choose(line.action or ""))
        except EngineError as exc:
            raise ScriptError(f"{path}:{line.number}: {exc}") from None


def _dry_run(args: argparse.Namespace, script: list[ScriptLine], course: Any, clock: Any, mode: Any) -> int:
    """Play the script through the engine alone and score it as a session's end would: no database is opened, so
    nothing is stored and nothing counts for certification. Prints "played SEQ KIND" for each event."""
    from trainer.engine.session import EngineError, Session
    from trainer.scoring.grade import Grader

    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    engine = Session(course, seed, clock=clock, lang=args.lang or "zh", mode=mode)
    print(f"dry run: {mode}, seed {seed}; nothing is stored", flush=True)
    events = engine.start()
    _report(events, "played")
    for line in script:
        if engine.ended:
            break
        clock.wait(line.delay_ms)
        events += _report(engine.tick(), "played")
        if line.action is None or engine.ended:
            continue
        try:
            events += _report(engine.choose(line.action), "played")
        except EngineError as exc:
            raise ScriptError(f"{args.script}:{line.number}: {exc}; nothing was stored") from None
    if not engine.ended:
        print(f"outcome: unfinished in state {engine.state.id} (dry run: nothing stored)")
        return ExitCode.OK
    score = Grader.current().score(course, events)
    verdict = f"score {score.score:g}, {'passed' if score.passed else 'failed'} ({score.reason})"
    print(f"outcome: {engine.outcome}, {verdict}; dry run: nothing stored, nothing counts for certification")
    return ExitCode.OK


def _kept(durable: DurableSession) -> str:
    """Release a session a script stopped half-way, and say how to go on with it."""
    if durable.engine.ended:
        return ""
    try:
        durable.release()
    except TrainerError as exc:  # the store itself failed: the session turns resumable once this process has ended
        return f"; session {durable.id[:8]} is kept but could not be released ({exc})"
    return f"; session {durable.id[:8]} kept, resume with --resume {durable.id}"


def _report(stored: list, verb: str = "stored") -> list:
    for s in stored:
        event = getattr(s, "event", s)
        print(f"{verb} {event.seq} {event.kind}", flush=True)
    return stored


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
