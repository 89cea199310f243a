"""What the engine emits. Events are the session's record: the store chains them, scoring and replay read them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class EventKind(StrEnum):
    STARTED = "started"  # data: course, version, content_hash, seed, lang; timers: "shown" (timers wait for SHOWN);
    # mode: practice or exam (absent: before modes), hidden: the start values drawn for hidden faults (engine/modes.py)
    VIEWED = "viewed"  # entered `state`; data: from (previous state or null)
    CHOSE = "chose"  # took `action` in `state`; data: goto, set, event (random event answered, if any)
    TIMED_OUT = "timed_out"  # the timer of `state` ran out; data: goto, seconds
    RANDOM_EVENT = "random_event"  # data: event (id), set
    MISTAKE = "mistake"  # data: code, severity, hazard, source ("action", "timer", "ignored"), ref (action/event id)
    HAZARD = "hazard"  # entered a state with a hazard; data: category
    RESUMED = "resumed"  # data: gap_ms (time the session was interrupted, not counted)
    HINT = "hint"  # the trainee asked for the hint of `state`
    PAUSED = "paused"  # the trainee paused (Esc): the course clock and every timer stop until `unpaused`
    UNPAUSED = "unpaused"  # the pause ended, at the time it began (paused time is not counted); data: paused_ms
    SHOWN = "shown"  # the scene of a timed state was on screen in full: its timer starts now (sessions started so)
    COMPLETED = "completed"  # terminal: the course was completed; data: outcome
    FAILED = "failed"  # terminal: incident or critical mistake; data: outcome, reason
    ABORTED = "aborted"  # terminal: abandoned; data: outcome, reason


TERMINAL_KINDS = frozenset({EventKind.COMPLETED, EventKind.FAILED, EventKind.ABORTED})
# The trainee's (or the clock's) inputs: replaying these through the engine rebuilds everything else.
INPUT_KINDS = frozenset(
    {
        EventKind.CHOSE,
        EventKind.TIMED_OUT,
        EventKind.RESUMED,
        EventKind.ABORTED,
        EventKind.HINT,
        EventKind.PAUSED,
        EventKind.UNPAUSED,
        EventKind.SHOWN,
    }
)


@dataclass(frozen=True)
class Event:
    seq: int  # 1-based, no gaps, per session
    t_ms: int  # milliseconds since the session started, interruptions and pauses excluded (monotonic clock)
    kind: EventKind
    state: str
    action: str | None = None
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def canonical(self) -> dict[str, Any]:
        """The event as plain JSON-able data (what the store hashes and writes)."""
        return {
            "seq": self.seq,
            "t_ms": self.t_ms,
            "kind": str(self.kind),
            "state": self.state,
            "action": self.action,
            "data": plain_data(self.data),
        }

    @classmethod
    def from_canonical(cls, row: Mapping[str, Any]) -> Event:
        return cls(
            seq=int(row["seq"]),
            t_ms=int(row["t_ms"]),
            kind=EventKind(row["kind"]),
            state=row["state"],
            action=row.get("action"),
            data=MappingProxyType(dict(row.get("data") or {})),
        )


def plain_data(value: Any) -> Any:
    """Event data as JSON's types: mappings with text keys, lists for tuples (what a stored event reads back as)."""
    if isinstance(value, Mapping):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept. The hash chain depends on this being stable."""
    return json.dumps(plain_data(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
