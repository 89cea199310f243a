"""A stored session as xAPI 1.0.3 statements, ready for a Learning Record Store. Pure: records in, plain dicts out.

The statements follow Trainer's xAPI profile (docs/xapi.md), aligned with cmi5: one statement per event, plus the course
attempt's life cycle (`initialized` ... `completed`, `passed`/`failed`, `terminated`; `suspended`/`resumed` around an
interruption; `abandoned` when the trainee gives up), a per-launch session id and the course's mastery score.

Each statement fills a *slot* of its session (the event's seq, or seq/score, seq/terminated...): the slot is what a newer
export of the same session replaces. A statement's id is a UUID version 5 of its session, slot and content digest, so
the same content always gets the same id (an LRS drops a copy), and changed content (a rescore, a pass/fail flip) gets a
new id: trainer.export.lrs posts it and voids the old one with `voiding()`. No database, no network here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote
from uuid import NAMESPACE_URL, uuid5

from trainer.course.model import Course, Text
from trainer.engine.events import EventKind, plain_data
from trainer.scoring.judgement import Judged, read
from trainer.store.records import SessionRecord, SessionStatus, StoredEvent, Trainee

XAPI_VERSION = "1.0.3"
PLATFORM = "Trainer"
# The statement-id namespace only (never written into a statement): fixed, so ids do not depend on this constant's home.
STATEMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://trainer.zhixin.example/xapi/statements")

ADL = "http://adlnet.gov/expapi/verbs/"
CMI5 = "https://w3id.org/xapi/cmi5/"
CMI5_CATEGORY = CMI5 + "context/categories/cmi5"  # on the statements cmi5 defines (the attempt's life cycle)
MOVEON_CATEGORY = CMI5 + "context/categories/moveon"  # on the statement that satisfies the course's moveOn
SESSION_ID = CMI5 + "context/extensions/sessionid"  # one per launch: a resume starts a new one
MASTERY_SCORE = CMI5 + "context/extensions/masteryscore"  # the course's pass mark, scaled 0..1
MOVE_ON = "CompletedAndPassed"  # Trainer's rule: the attempt reaches an ending and passes (docs/scoring.md)
MISTAKE_VERB = "made-mistake"  # the profile's own verb, under the site's profile IRI (see Profile)

# name -> (verb IRI or a path under the profile IRI, {language: display}). Sources: the ADL vocabulary (adlnet.gov), the
# ADL cmi5 verbs (w3id.org/xapi/adl), the xAPI Serious Games profile (w3id.org/xapi/seriousgames, which takes `selected`
# from the ADB vocabulary). docs/xapi.md explains each choice.
VERBS: dict[str, tuple[str, dict[str, str]]] = {
    "initialized": (ADL + "initialized", {"en-US": "initialized", "zh-CN": "开始"}),
    "accessed": ("https://w3id.org/xapi/seriousgames/verbs/accessed", {"en-US": "accessed", "zh-CN": "进入"}),
    "selected": ("https://w3id.org/xapi/adb/verbs/selected", {"en-US": "selected", "zh-CN": "选择"}),
    "experienced": (ADL + "experienced", {"en-US": "experienced", "zh-CN": "经历"}),
    MISTAKE_VERB: (MISTAKE_VERB, {"en-US": "made a mistake", "zh-CN": "犯了错误"}),
    "failed": (ADL + "failed", {"en-US": "failed", "zh-CN": "未通过"}),
    "resumed": (ADL + "resumed", {"en-US": "resumed", "zh-CN": "继续"}),
    "completed": (ADL + "completed", {"en-US": "completed", "zh-CN": "完成"}),
    "passed": (ADL + "passed", {"en-US": "passed", "zh-CN": "通过"}),
    "terminated": (ADL + "terminated", {"en-US": "terminated", "zh-CN": "结束"}),
    "abandoned": ("https://w3id.org/xapi/adl/verbs/abandoned", {"en-US": "abandoned", "zh-CN": "放弃"}),
    "asked": (ADL + "asked", {"en-US": "asked", "zh-CN": "求助"}),
    "suspended": (ADL + "suspended", {"en-US": "suspended", "zh-CN": "暂停"}),
    "voided": (ADL + "voided", {"en-US": "voided", "zh-CN": "作废"}),
    # A practice attempt's score: it never passes (certifies) anyone, so it is neither `passed` nor `failed`.
    "scored": (ADL + "scored", {"en-US": "scored", "zh-CN": "得分"}),
}
# Which verb each event kind becomes. A completed event also yields `passed` or `failed` (the score statement), and every
# ending (completed, failed, aborted) is followed by `terminated`.
KIND_VERB: dict[EventKind, str] = {
    EventKind.STARTED: "initialized",
    EventKind.VIEWED: "accessed",
    EventKind.CHOSE: "selected",
    EventKind.TIMED_OUT: "experienced",
    EventKind.RANDOM_EVENT: "experienced",
    EventKind.MISTAKE: MISTAKE_VERB,
    EventKind.HAZARD: "experienced",
    EventKind.RESUMED: "resumed",
    EventKind.COMPLETED: "completed",
    EventKind.FAILED: "failed",
    EventKind.ABORTED: "abandoned",
    EventKind.HINT: "asked",
    EventKind.PAUSED: "suspended",
    EventKind.UNPAUSED: "resumed",
    EventKind.SHOWN: "experienced",
}
# The verbs cmi5 defines for the attempt's life cycle: their statements carry the cmi5 category.
CMI5_VERBS = frozenset({"initialized", "completed", "passed", "failed", "terminated", "abandoned"})

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
NAME_MAX = 120  # a state's name is the start of its scene text

SCHEMA_FILE = "xapi_schema.json"


@dataclass(frozen=True)
class Profile:
    """Where a site's statements live: the trainees' identity and the IRIs of activities and of the profile's terms.

    `home_page`: the site's URL, the homePage of every trainee's account (with the badge id as the account name): two
    plants with their own URLs are two sets of agents in a shared LRS. `activity_base`: the IRI course ids are appended to
    (default HOME_PAGE/courses/). `iri`: the profile's IRI, under which the extensions and the mistake verb are named
    (default HOME_PAGE/xapi; plants that report together set the same one). `site_name`: the site's name, a context
    extension. `names`: put trainees' real names in the actor (False: the badge id alone).
    """

    home_page: str
    activity_base: str = ""
    iri: str = ""
    site_name: str | None = None
    names: bool = True

    @property
    def courses(self) -> str:
        base = self.activity_base or self.home_page.rstrip("/") + "/courses/"
        return base if base.endswith("/") else base + "/"

    @property
    def terms(self) -> str:
        return (self.iri or self.home_page.rstrip("/") + "/xapi").rstrip("/") + "/"

    def extension(self, name: str) -> str:
        return self.terms + "extensions/" + name

    def verb(self, name: str) -> tuple[str, dict[str, str]]:
        iri, display = VERBS[name]
        return (iri if ":" in iri else self.terms + "verbs/" + iri), display


@dataclass(frozen=True)
class Slotted:
    """One statement and its slot in the session (what a newer export of the session replaces)."""

    slot: str
    statement: dict[str, Any]


def statement_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an xAPI 1.0.3 statement that ships beside this module."""
    text = resources.files("trainer.export").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def legacy_statement_id(session_id: str, seq: int, part: str = "") -> str:
    """The id Trainer gave a statement before ids followed content (session, seq, and 'score' for the score statement):
    trainer.export.lrs needs it to void what an older Trainer posted."""
    name = f"{session_id}/{seq}" + (f"/{part}" if part else "")
    return str(uuid5(STATEMENT_NAMESPACE, name))


def substance(statement: Mapping[str, Any]) -> dict[str, Any]:
    """What a statement asserts, without its id and without descriptions (the trainee's name, activity definitions, the
    verb's display, the site's name, the course's mastery score and moveOn): a renamed trainee, a retitled course or a
    course file no longer in the library is not a new record, a new score or verb is."""
    out = json.loads(json.dumps({k: v for k, v in statement.items() if k != "id"}))
    out.get("actor", {}).pop("name", None)
    out.get("verb", {}).pop("display", None)
    _drop_definitions(out)
    for key in list(out.get("context", {}).get("extensions", {})):
        if key == MASTERY_SCORE or key.endswith(("/extensions/site", "/extensions/moveon")):
            del out["context"]["extensions"][key]  # from the course file or the site: there or not, the same record
    return out


def digest(statement: Mapping[str, Any]) -> str:
    """sha256 of the statement's substance in canonical JSON: equal digests, same record."""
    text = json.dumps(substance(statement), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_id(session_id: str, slot: str, statement: Mapping[str, Any]) -> str:
    """The statement's id: the same session, slot and substance always give the same id, another substance another."""
    return str(uuid5(STATEMENT_NAMESPACE, f"{session_id}/{slot}/{digest(statement)}"))


def voiding(target_id: str, actor: Mapping[str, Any], registration: str | None = None) -> dict[str, Any]:
    """The statement that voids `target_id` (xAPI 1.0.3, 2.3.2): verb `voided`, object a StatementRef. Its id follows
    from the target's and it carries no timestamp (the LRS stamps it), so posting it twice is harmless."""
    verb_iri, display = VERBS["voided"]
    out: dict[str, Any] = {
        "id": str(uuid5(STATEMENT_NAMESPACE, f"void/{target_id}")),
        "actor": {k: v for k, v in actor.items() if k != "name"},
        "verb": {"id": verb_iri, "display": display},
        "object": {"objectType": "StatementRef", "id": target_id},
    }
    if registration:
        out["context"] = {"registration": registration}
    return out


def actor_of(badge: str, trainee: Trainee | None, profile: Profile) -> dict[str, Any]:
    actor: dict[str, Any] = {"objectType": "Agent", "account": {"homePage": profile.home_page, "name": badge}}
    if profile.names and trainee is not None and trainee.name:
        actor["name"] = trainee.name
    return actor


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


def language_map(texts: Mapping[str, str | None] | Text | None) -> dict[str, str]:
    """{'zh': ..., 'en': ...} (or a course Text, or tags already) as an xAPI language map; empty texts dropped."""
    if isinstance(texts, Text):
        texts = {"zh": texts.zh, "en": texts.en}
    out: dict[str, str] = {}
    for key, value in (texts or {}).items():
        if value:
            out[LANGUAGE_TAGS.get(key, key)] = value
    return out


def launch_id(session_id: str, launch: int) -> str:
    """The cmi5 session id of the session's `launch`-th run (1: from the start; each resume starts the next)."""
    return str(uuid5(STATEMENT_NAMESPACE, f"{session_id}/launch/{launch}"))


def statements(
    session: SessionRecord,
    trainee: Trainee | None,
    events: Sequence[StoredEvent],
    *,
    profile: Profile,
    course: Course | None = None,
    graded: str | None = None,
) -> list[dict[str, Any]]:
    """The xAPI statements of one session, in order (see slotted())."""
    return [s.statement for s in slotted(session, trainee, events, profile=profile, course=course, graded=graded)]


def slotted(
    session: SessionRecord,
    trainee: Trainee | None,
    events: Sequence[StoredEvent],
    *,
    profile: Profile,
    course: Course | None = None,
    graded: str | None = None,
) -> list[Slotted]:
    """The xAPI statements of one session, in event order, each with its slot.

    `course`: the session's course from the library, for the names of the course and its parts (zh-CN and en-US) and
    the mastery score, used only if its content is the one the session was played on; without it a part is named by
    its id. `graded`: the
    session's graded list of mistakes (the `details` of its latest scoring, Store.graded_lists): a mistake statement
    carries the mistake's grade as `severity` (and the course's `declared` one beside it), the score statement the whole
    list, the same judgement as the debrief and the reports; without it (not scored yet) only the declared severity.
    """
    builder = _Builder(session, trainee, profile, course)
    builder.graded = {j.mistake: j for j in read(graded)} if graded else None
    ordered = sorted(events, key=lambda s: s.event.seq)
    out: list[Slotted] = []
    for stored in ordered:
        if stored.session_id != session.id:
            raise ValueError(f"event {stored.event.seq} belongs to session {stored.session_id}, not {session.id}")
        out += builder.for_event(stored)
    if ordered and session.status is SessionStatus.INTERRUPTED and ordered[-1].event.kind not in _ENDINGS:
        out.append(builder.suspended(ordered[-1]))  # the program left mid-way: the launch is over, the attempt waits
    return out


_ENDINGS = frozenset({EventKind.COMPLETED, EventKind.FAILED, EventKind.ABORTED})


class _Builder:
    def __init__(
        self, session: SessionRecord, trainee: Trainee | None, profile: Profile, course: Course | None
    ) -> None:
        self.session = session
        self.profile = profile
        # Names and the mastery score come from the course the session was played on, not from another version of it.
        same = course is not None and (course.id, course.content_hash) == (session.course_id, session.content_hash)
        self.source = course if same else None
        self.graded: dict[str, Judged] | None = None  # the graded list by mistake id; None: not scored
        self.actor = actor_of(session.badge, trainee, profile)
        self.course_iri = profile.courses + _segment(session.course_id)
        title = language_map(self.source.title) if self.source else {}
        self.course = {
            "objectType": "Activity",
            "id": self.course_iri,
            "definition": {"name": title or {"und": session.course_id}, "type": ACTIVITY_TYPES["course"]},
        }
        self.rules = _mistake_rules(self.source) if self.source else {}
        self.launch = 1  # the cmi5 session: 1 from the start, one more after each resume
        self.last: StoredEvent | None = None  # the event before the current one (the end of an interrupted launch)

    # --- pieces ---------------------------------------------------------------------------------------------------

    def ext(self, name: str) -> str:
        return self.profile.extension(name)

    def activity(self, kind: str, *path: str, name: Text | None = None, fallback: str | None = None) -> dict[str, Any]:
        """A part of the course (state, action, timer...) as an Activity under the course's IRI.

        Named in zh-CN and en-US from the course when it is known; else by its id, in language 'und' (undetermined):
        ids are not words of one language.
        """
        iri = self.course_iri + "".join("/" + _segment(p) for p in path)
        named = language_map(_short(name)) if name is not None else {}
        return {
            "objectType": "Activity",
            "id": iri,
            "definition": {"name": named or {"und": fallback or path[-1]}, "type": ACTIVITY_TYPES[kind]},
        }

    def statement(
        self,
        stored: StoredEvent,
        verb: str,
        obj: dict[str, Any],
        result: dict[str, Any] | None = None,
        part: str = "",
        *,
        moved_on: bool = False,
    ) -> Slotted:
        event = stored.event
        verb_iri, display = self.profile.verb(verb)
        on_course = obj["id"] == self.course_iri
        extensions: dict[str, Any] = {
            SESSION_ID: launch_id(self.session.id, self.launch),
            self.ext("seq"): event.seq,
            self.ext("state"): event.state,
            self.ext("elapsed-ms"): event.t_ms,
        }
        if self.session.mode != "exam":
            # Practice: it never certifies. Only then named, so that an exam (every session before modes) says what it
            # always said and is not posted again as a new record.
            extensions[self.ext("mode")] = self.session.mode
        if on_course and verb in ("completed", "passed", "failed") and self.source is not None:
            extensions[MASTERY_SCORE] = round(self.source.pass_rule.min_score / 100.0, 4)
            extensions[self.ext("moveon")] = MOVE_ON
        if self.profile.site_name:
            extensions[self.ext("site")] = self.profile.site_name
        context: dict[str, Any] = {
            "registration": self.session.id,
            "revision": self.session.course_version,
            "platform": PLATFORM,
            "language": LANGUAGE_TAGS.get(self.session.lang, self.session.lang),
        }
        activities: dict[str, Any] = {}
        if not on_course:
            activities["parent"] = [self.course]
        category = [{"id": CMI5_CATEGORY}] if on_course and verb in CMI5_VERBS else []
        if moved_on:
            category.append({"id": MOVEON_CATEGORY})
        if category:
            activities["category"] = category
        if activities:
            context["contextActivities"] = activities
        context["extensions"] = extensions
        out: dict[str, Any] = {"actor": self.actor, "verb": {"id": verb_iri, "display": display}, "object": obj}
        if result:
            out["result"] = result
        out["context"] = context
        out["timestamp"] = timestamp(stored.utc)
        slot = f"{event.seq}" + (f"/{part}" if part else "")
        return Slotted(slot, {"id": content_id(self.session.id, slot, out), **out})

    def final_result(self, t_ms: int, *, completion: bool, success: bool | None, data: Mapping[str, Any]) -> dict:
        result: dict[str, Any] = {"completion": completion, "duration": duration(t_ms)}
        if success is not None:
            result["success"] = success
        result["extensions"] = {self.ext("outcome"): plain_data(data)}
        if success is not None and self.graded is not None:
            result["extensions"][self.ext("mistakes")] = [
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

    def terminated(self, stored: StoredEvent) -> Slotted:
        """cmi5: every attempt's last statement, with the attempt's duration."""
        return self.statement(
            stored, "terminated", self.course, {"duration": duration(stored.event.t_ms)}, "terminated"
        )

    def suspended(self, last: StoredEvent) -> Slotted:
        """The launch that ended at `last` without an ending (the program quit or died): the attempt waits for a resume.
        Its slot and content depend only on `last`, so it is the same before and after the resume."""
        result = {"duration": duration(last.event.t_ms), "extensions": {self.ext("interrupted"): True}}
        return self.statement(last, "suspended", self.course, result, "suspended")

    # --- names from the course --------------------------------------------------------------------------------------

    def state_name(self, state: str | None) -> Text | None:
        found = self.source.states.get(state or "") if self.source else None
        return found.text if found is not None else None

    def action_name(self, state: str | None, event: str | None, action: str | None) -> Text | None:
        if self.source is None:
            return None
        if event:
            actions = next((e.actions for e in self.source.random_events if e.id == event), ())
        else:
            found = self.source.states.get(state or "")
            actions = found.actions if found is not None else ()
        return next((a.label for a in actions if a.id == action), None)

    def event_name(self, event: str) -> Text | None:
        if self.source is None:
            return None
        return next((e.text for e in self.source.random_events if e.id == event), None)

    def hazard_name(self, state: str) -> Text | None:
        found = self.source.states.get(state) if self.source else None
        return found.hazard.text if found is not None and found.hazard is not None else None

    # --- one event --------------------------------------------------------------------------------------------------

    def for_event(self, stored: StoredEvent) -> list[Slotted]:
        try:
            return self._for_event(stored)
        finally:
            self.last = stored

    def _for_event(self, stored: StoredEvent) -> list[Slotted]:
        e = stored.event
        data = e.data
        verb = KIND_VERB[e.kind]
        if e.kind is EventKind.STARTED:
            return [self.statement(stored, verb, self.course)]
        if e.kind in (EventKind.VIEWED, EventKind.SHOWN):
            return [
                self.statement(stored, verb, self.activity("state", "state", e.state, name=self.state_name(e.state)))
            ]
        if e.kind is EventKind.CHOSE:
            answered = data.get("event")
            path = ("event", answered, "action", e.action) if answered else ("state", e.state, "action", e.action)
            name = self.action_name(e.state, answered, e.action)
            result = {"response": e.action or "", "extensions": {self.ext("goto"): data.get("goto")}}
            return [self.statement(stored, verb, self.activity("action", *path, name=name), result)]
        if e.kind is EventKind.TIMED_OUT:
            result = {"extensions": {self.ext("timer"): {"seconds": data.get("seconds"), "goto": data.get("goto")}}}
            timer = self.activity("timer", "state", e.state, "timer", fallback=f"{e.state} timer")
            return [self.statement(stored, verb, timer, result)]
        if e.kind is EventKind.RANDOM_EVENT:
            event_id = str(data.get("event"))
            return [
                self.statement(stored, verb, self.activity("event", "event", event_id, name=self.event_name(event_id)))
            ]
        if e.kind is EventKind.HAZARD:
            category = str(data.get("category"))
            return [
                self.statement(
                    stored, verb, self.activity("hazard", "hazard", category, name=self.hazard_name(e.state))
                )
            ]
        if e.kind is EventKind.MISTAKE:
            mistake = {k: v for k, v in plain_data(data).items() if k != "severity"}
            mistake["declared"] = data.get("severity")
            judged = None if self.graded is None else self.graded.get(f"m{e.seq}")
            if judged is not None:
                mistake["severity"] = judged.severity
            code = str(data.get("code"))
            rule = self.activity("mistake", "mistake", code, name=self.rules.get(code))
            return [
                self.statement(stored, verb, rule, {"success": False, "extensions": {self.ext("mistake"): mistake}})
            ]
        if e.kind is EventKind.HINT:
            hint = self.activity("hint", "state", e.state, "hint", fallback=f"{e.state} hint")
            return [self.statement(stored, verb, hint)]
        if e.kind is EventKind.PAUSED:
            return [self.statement(stored, verb, self.course)]
        if e.kind is EventKind.UNPAUSED:
            result = {"extensions": {self.ext("paused-ms"): int(data.get("paused_ms", 0))}}
            return [self.statement(stored, verb, self.course, result)]
        if e.kind is EventKind.RESUMED:
            before = [self.suspended(self.last)] if self.last is not None else []
            self.launch += 1
            result = {"extensions": {self.ext("gap-ms"): int(data.get("gap_ms", 0))}}
            return [*before, self.statement(stored, verb, self.course, result)]
        if e.kind is EventKind.COMPLETED:
            done = self.statement(
                stored, verb, self.course, self.final_result(e.t_ms, completion=True, success=None, data=data)
            )
            passed = self.session.passed
            if passed is None:  # not scored (yet): the score statement follows in a later export
                return [done, self.terminated(stored)]
            exam = self.session.mode == "exam"
            # A practice attempt is `scored`, never `passed` or `failed`: an LRS counting passes must not certify it.
            result = self.final_result(e.t_ms, completion=True, success=passed if exam else None, data=data)
            score = self.score()
            if score is not None:
                result = {"score": score, **result}
            verb = ("passed" if passed else "failed") if exam else "scored"
            scored = self.statement(stored, verb, self.course, result, part="score", moved_on=exam and passed)
            return [done, scored, self.terminated(stored)]
        if e.kind is EventKind.FAILED:
            result = self.final_result(e.t_ms, completion=False, success=False, data=data)
            score = self.score()
            if score is not None:
                result = {"score": score, **result}
            return [self.statement(stored, verb, self.course, result), self.terminated(stored)]
        if e.kind is EventKind.ABORTED:
            result = self.final_result(e.t_ms, completion=False, success=None, data=data)
            return [self.statement(stored, verb, self.course, result), self.terminated(stored)]
        raise ValueError(f"no xAPI mapping for event kind {e.kind!r}")  # pragma: no cover - every kind is mapped above


def _mistake_rules(course: Course) -> dict[str, Text]:
    """Mistake code -> its rule's text, from the course's actions, timers and random events."""
    rules: dict[str, Text] = {}
    for state in course.states.values():
        for mistake in [a.mistake for a in state.actions] + [state.timer.mistake if state.timer else None]:
            if mistake is not None:
                rules.setdefault(mistake.code, mistake.rule)
    for event in course.random_events:
        for mistake in [a.mistake for a in event.actions] + [event.ignored]:
            if mistake is not None:
                rules.setdefault(mistake.code, mistake.rule)
    return rules


def _short(text: Text) -> Text:
    """A name from a scene text: its first line, at most NAME_MAX characters."""

    def cut(value: str | None) -> str | None:
        if not value:
            return value
        line = value.strip().splitlines()[0].strip() if value.strip() else ""
        return line if len(line) <= NAME_MAX else line[: NAME_MAX - 1] + "…"

    return Text(zh=cut(text.zh), en=cut(text.en))


def _segment(value: str | None) -> str:
    """One IRI path segment (course, state and action ids are already [a-z0-9_-], but stay safe for any text)."""
    return quote(str(value), safe="-_.~")


def _drop_definitions(node: Any) -> None:
    """Remove every activity `definition` (names and types: descriptions, not the record) in place."""
    if isinstance(node, dict):
        node.pop("definition", None)
        for value in node.values():
            _drop_definitions(value)
    elif isinstance(node, list):
        for value in node:
            _drop_definitions(value)
