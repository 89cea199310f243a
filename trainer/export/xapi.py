"""A stored session as xAPI 1.0.3 statements, ready for a Learning Record Store. Pure: records in, plain dicts out.

One statement per event (two for a completion: `completed`, then `passed` or `failed` with the score). Statement ids are
deterministic (uuid5 of the session id and the event's seq), so exporting the same session twice gives the same ids and an
LRS that already has a statement ignores or refuses the copy. The verb table is VERBS below; docs/xapi.md explains each
choice. No database, no network: the CLI reads the store and trainer.export.lrs posts the result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote
from uuid import NAMESPACE_URL, uuid5

from trainer.engine.events import EventKind
from trainer.scoring.judgement import Judged, read
from trainer.store.records import SessionRecord, StoredEvent, Trainee

XAPI_VERSION = "1.0.3"
PLATFORM = "Trainer"
# Trainer's own IRIs (extensions, the statement-id namespace): fixed, the same at every site, so reports work across sites.
TRAINER_IRI = "https://trainer.zhixin.example/xapi"
EXTENSION = f"{TRAINER_IRI}/extensions/"
STATEMENT_NAMESPACE = uuid5(NAMESPACE_URL, f"{TRAINER_IRI}/statements")

ADL = "http://adlnet.gov/expapi/verbs/"
# kind -> (verb IRI, English display). Sources: the ADL vocabulary (adlnet.gov), the xAPI Serious Games profile
# (w3id.org/xapi/seriousgames, which takes `selected` from the ADB vocabulary). See docs/xapi.md for the reasons.
VERBS: dict[str, tuple[str, str]] = {
    "initialized": (ADL + "initialized", "initialized"),
    "accessed": ("https://w3id.org/xapi/seriousgames/verbs/accessed", "accessed"),
    "selected": ("https://w3id.org/xapi/adb/verbs/selected", "selected"),
    "experienced": (ADL + "experienced", "experienced"),
    "failed": (ADL + "failed", "failed"),
    "resumed": (ADL + "resumed", "resumed"),
    "completed": (ADL + "completed", "completed"),
    "passed": (ADL + "passed", "passed"),
    "terminated": (ADL + "terminated", "terminated"),
    "asked": (ADL + "asked", "asked"),
    "suspended": (ADL + "suspended", "suspended"),
    "scored": (ADL + "scored", "scored"),  # a practice attempt's score: it never passes (certifies) anyone
}
# Which verb each event kind becomes. A completed event also yields `passed` or `failed` (the score statement).
KIND_VERB: dict[EventKind, str] = {
    EventKind.STARTED: "initialized",
    EventKind.VIEWED: "accessed",
    EventKind.CHOSE: "selected",
    EventKind.TIMED_OUT: "experienced",
    EventKind.RANDOM_EVENT: "experienced",
    EventKind.MISTAKE: "failed",
    EventKind.HAZARD: "experienced",
    EventKind.RESUMED: "resumed",
    EventKind.COMPLETED: "completed",
    EventKind.FAILED: "failed",
    EventKind.ABORTED: "terminated",
    EventKind.HINT: "asked",
    EventKind.PAUSED: "suspended",
    EventKind.UNPAUSED: "resumed",
    EventKind.SHOWN: "experienced",
}

ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "state": "https://w3id.org/xapi/seriousgames/activity-types/screen",  # each state is one screen of the terminal app
    "action": "http://adlnet.gov/expapi/activities/interaction",
    "timer": "http://adlnet.gov/expapi/activities/interaction",
    "event": "http://adlnet.gov/expapi/activities/simulation",
    "hazard": "http://adlnet.gov/expapi/activities/objective",
    "mistake": "http://adlnet.gov/expapi/activities/objective",
    "hint": "http://adlnet.gov/expapi/activities/interaction",
}

# Course texts are keyed zh/en; xAPI language maps want RFC 5646 tags.
LANGUAGE_TAGS = {"zh": "zh-CN", "en": "en-US"}

SCHEMA_FILE = "xapi_schema.json"


def statement_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an xAPI 1.0.3 statement that ships beside this module."""
    text = resources.files("trainer.export").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def statement_id(session_id: str, seq: int, part: str = "") -> str:
    """The statement's id: the same session and seq (and part, for a second statement of one event) give the same id."""
    name = f"{session_id}/{seq}" + (f"/{part}" if part else "")
    return str(uuid5(STATEMENT_NAMESPACE, name))


def timestamp(utc: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, the precision every LRS keeps (so a re-export compares equal)."""
    if utc.tzinfo is None:
        raise ValueError(f"naive datetime {utc!r}: xAPI timestamps need a time zone")
    return utc.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration(t_ms: int) -> str:
    """ISO 8601 duration of t_ms milliseconds, to the 0.01 s that xAPI keeps: 7500 -> 'PT7.5S', 60000 -> 'PT60S'."""
    centis = max(0, int(t_ms)) // 10
    whole, frac = divmod(centis, 100)
    return f"PT{whole}.{frac:02d}".rstrip("0").rstrip(".") + "S"


def language_map(texts: Mapping[str, str | None] | None) -> dict[str, str]:
    """{'zh': ..., 'en': ...} (or tags already) as an xAPI language map; empty texts dropped."""
    out: dict[str, str] = {}
    for key, value in (texts or {}).items():
        if value:
            out[LANGUAGE_TAGS.get(key, key)] = value
    return out


def statements(
    session: SessionRecord,
    trainee: Trainee | None,
    events: Sequence[StoredEvent],
    *,
    home_page: str,
    activity_base: str,
    course_titles: Mapping[str, Mapping[str, str | None]] | None = None,
    graded: str | None = None,
) -> list[dict[str, Any]]:
    """The xAPI statements of one session, in event order.

    `graded`: the session's graded list of mistakes (the `details` of its latest scoring, Store.graded_lists). A mistake
    statement carries the mistake's grade as `severity` (and the course's `declared` one beside it), the score statement
    the whole list: the same judgement as the debrief and the reports. Without it (not scored yet) a mistake statement
    carries only the declared severity.

    `home_page` is the site's URL (the actor's account homePage, with the badge id as the account name); `activity_base`
    is the IRI that course ids are appended to (a '/' is added if missing). `course_titles` maps course ids to
    {'zh': ..., 'en': ...} titles for the course activity's name; without it the course id is the name.
    """
    builder = _Builder(session, trainee, home_page, activity_base, course_titles or {})
    builder.graded = {j.mistake: j for j in read(graded)} if graded else None
    out: list[dict[str, Any]] = []
    for stored in sorted(events, key=lambda s: s.event.seq):
        if stored.session_id != session.id:
            raise ValueError(f"event {stored.event.seq} belongs to session {stored.session_id}, not {session.id}")
        out += builder.for_event(stored)
    return out


class _Builder:
    def __init__(
        self,
        session: SessionRecord,
        trainee: Trainee | None,
        home_page: str,
        activity_base: str,
        course_titles: Mapping[str, Mapping[str, str | None]],
    ) -> None:
        self.session = session
        self.graded: dict[str, Judged] | None = None  # the graded list by mistake id; None: not scored
        self.actor: dict[str, Any] = {"objectType": "Agent", "account": {"homePage": home_page, "name": session.badge}}
        if trainee is not None and trainee.name:
            self.actor["name"] = trainee.name
        base = activity_base if activity_base.endswith("/") else activity_base + "/"
        self.course_iri = base + _segment(session.course_id)
        title = language_map(course_titles.get(session.course_id)) or {"en-US": session.course_id}
        self.course = {
            "objectType": "Activity",
            "id": self.course_iri,
            "definition": {"name": title, "type": ACTIVITY_TYPES["course"]},
        }

    # --- pieces ---------------------------------------------------------------------------------------------------

    def activity(self, kind: str, *path: str, name: str | None = None) -> dict[str, Any]:
        """A part of the course (state, action, timer...) as an Activity under the course's IRI, named by its id.

        The name's language is 'und' (undetermined): ids are not words of one language, and the texts are not in the records.
        """
        iri = self.course_iri + "".join("/" + _segment(p) for p in path)
        return {
            "objectType": "Activity",
            "id": iri,
            "definition": {"name": {"und": name or path[-1]}, "type": ACTIVITY_TYPES[kind]},
        }

    def statement(
        self,
        stored: StoredEvent,
        verb: str,
        obj: dict[str, Any],
        result: dict[str, Any] | None = None,
        part: str = "",
    ) -> dict[str, Any]:
        event = stored.event
        verb_iri, display = VERBS[verb]
        context: dict[str, Any] = {
            "registration": self.session.id,
            "revision": self.session.course_version,
            "platform": PLATFORM,
            "language": LANGUAGE_TAGS.get(self.session.lang, self.session.lang),
            "extensions": {
                EXTENSION + "seq": event.seq,
                EXTENSION + "state": event.state,
                EXTENSION + "elapsed-ms": event.t_ms,
                EXTENSION + "mode": self.session.mode,  # practice or exam: only an exam's `passed` certifies
            },
        }
        if obj["id"] != self.course_iri:
            context["contextActivities"] = {"parent": [self.course]}
        out: dict[str, Any] = {
            "id": statement_id(self.session.id, event.seq, part),
            "actor": self.actor,
            "verb": {"id": verb_iri, "display": {"en-US": display}},
            "object": obj,
        }
        if result:
            out["result"] = result
        out["context"] = context
        out["timestamp"] = timestamp(stored.utc)
        return out

    def final_result(self, t_ms: int, *, completion: bool, success: bool | None, data: Mapping[str, Any]) -> dict:
        result: dict[str, Any] = {"completion": completion, "duration": duration(t_ms)}
        if success is not None:
            result["success"] = success
        result["extensions"] = {EXTENSION + "outcome": _plain(data)}
        if success is not None and self.graded is not None:
            result["extensions"][EXTENSION + "mistakes"] = [
                {"code": j.code, "declared": j.declared, "severity": j.severity, "points": j.points}
                | ({"under": j.under} if j.under else {})
                for j in self.graded.values()
            ]
        return result

    def score(self) -> dict[str, Any] | None:
        raw = self.session.score
        if raw is None:
            return None
        raw = min(100.0, max(0.0, float(raw)))
        return {"scaled": round(raw / 100.0, 4), "raw": raw, "min": 0, "max": 100}

    # --- one event --------------------------------------------------------------------------------------------------

    def for_event(self, stored: StoredEvent) -> list[dict[str, Any]]:
        e = stored.event
        data = e.data
        verb = KIND_VERB[e.kind]
        if e.kind is EventKind.STARTED:
            return [self.statement(stored, verb, self.course)]
        if e.kind is EventKind.VIEWED:
            return [self.statement(stored, verb, self.activity("state", "state", e.state))]
        if e.kind is EventKind.CHOSE:
            answered = data.get("event")
            path = ("event", answered, "action", e.action) if answered else ("state", e.state, "action", e.action)
            result = {"response": e.action or "", "extensions": {EXTENSION + "goto": data.get("goto")}}
            return [self.statement(stored, verb, self.activity("action", *path), result)]
        if e.kind is EventKind.TIMED_OUT:
            result = {"extensions": {EXTENSION + "timer": {"seconds": data.get("seconds"), "goto": data.get("goto")}}}
            return [
                self.statement(
                    stored, verb, self.activity("timer", "state", e.state, "timer", name=f"{e.state} timer"), result
                )
            ]
        if e.kind is EventKind.RANDOM_EVENT:
            return [self.statement(stored, verb, self.activity("event", "event", str(data.get("event"))))]
        if e.kind is EventKind.HAZARD:
            return [self.statement(stored, verb, self.activity("hazard", "hazard", str(data.get("category"))))]
        if e.kind is EventKind.MISTAKE:
            mistake = {k: v for k, v in _plain(data).items() if k != "severity"}
            mistake["declared"] = data.get("severity")
            judged = None if self.graded is None else self.graded.get(f"m{e.seq}")
            if judged is not None:
                mistake["severity"] = judged.severity
            result = {"success": False, "extensions": {EXTENSION + "mistake": mistake}}
            return [self.statement(stored, verb, self.activity("mistake", "mistake", str(data.get("code"))), result)]
        if e.kind is EventKind.HINT:
            return [
                self.statement(stored, verb, self.activity("hint", "state", e.state, "hint", name=f"{e.state} hint"))
            ]
        if e.kind is EventKind.PAUSED:
            return [self.statement(stored, verb, self.course)]
        if e.kind is EventKind.UNPAUSED:
            result = {"extensions": {EXTENSION + "paused-ms": int(data.get("paused_ms", 0))}}
            return [self.statement(stored, verb, self.course, result)]
        if e.kind is EventKind.SHOWN:
            return [self.statement(stored, verb, self.activity("state", "state", e.state))]
        if e.kind is EventKind.RESUMED:
            result = {"extensions": {EXTENSION + "gap-ms": int(data.get("gap_ms", 0))}}
            return [self.statement(stored, verb, self.course, result)]
        if e.kind is EventKind.COMPLETED:
            done = self.statement(
                stored, verb, self.course, self.final_result(e.t_ms, completion=True, success=None, data=data)
            )
            passed = self.session.passed
            if passed is None:  # not scored (yet): the score statement follows in a later export
                return [done]
            exam = self.session.mode == "exam"
            # A practice attempt is `scored`, never `passed` or `failed`: an LRS counting passes must not certify it.
            result = self.final_result(e.t_ms, completion=True, success=passed if exam else None, data=data)
            score = self.score()
            if score is not None:
                result = {"score": score, **result}
            verb = ("passed" if passed else "failed") if exam else "scored"
            scored = self.statement(stored, verb, self.course, result, part="score")
            return [done, scored]
        if e.kind is EventKind.FAILED:
            result = self.final_result(e.t_ms, completion=False, success=False, data=data)
            score = self.score()
            if score is not None:
                result = {"score": score, **result}
            return [self.statement(stored, verb, self.course, result)]
        if e.kind is EventKind.ABORTED:
            result = self.final_result(e.t_ms, completion=False, success=None, data=data)
            return [self.statement(stored, verb, self.course, result)]
        raise ValueError(f"no xAPI mapping for event kind {e.kind!r}")  # pragma: no cover - every kind is mapped above


def _segment(value: str | None) -> str:
    """One IRI path segment (course, state and action ids are already [a-z0-9_-], but stay safe for any text)."""
    return quote(str(value), safe="-_.~")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
