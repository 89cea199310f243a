"""xAPI statements from stored sessions: valid against the xAPI 1.0.3 schema, verbs as documented, stable ids."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from trainer.course.loader import load_course
from trainer.course.model import Course
from trainer.engine.clock import ManualClock, ms_from_seconds
from trainer.engine.events import Event, EventKind
from trainer.engine.session import Session
from trainer.export import xapi
from trainer.scoring.detect import detect, outcome_of
from trainer.scoring.rubric import score_session
from trainer.store.chain import Keying, legacy_genesis, link
from trainer.store.records import SessionRecord, SessionStatus, StoredEvent, Trainee

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini_course.yaml"
HOME = "https://factory.example.com"
BASE = "https://factory.example.com/courses/"
T0 = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)
TRAINEE = Trainee(badge="B-0042", name="王芳", department="冲压车间", created_at=T0)
PROFILE = xapi.Profile(home_page=HOME, activity_base=BASE)
EXT = HOME + "/xapi/extensions/"  # the profile IRI defaults to the site's URL + /xapi

# A course with every kind of event: a timer, a hazard, a random event that is answered.
HAZARD_COURSE = """\
id: hz
version: "2.1"
title: {zh: 危险区, en: Danger zone}
area: stamping
standards: ["internal"]
minutes: 5
pass: {min_score: 80}
certification_days: 30
variables: {guard: false}
start: door
states:
  door:
    text: {zh: 门口, en: At the door}
    timer: {seconds: 10, goto: door}
    actions:
      - id: enter
        label: {zh: 进入, en: Enter}
        goto: cell
  cell:
    text: {zh: 单元内, en: In the cell}
    hazard: {category: crush, text: {zh: 挤压, en: Crush zone}}
    actions:
      - id: leave
        label: {zh: 离开, en: Leave}
        goto: done
  done:
    text: {zh: 完成, en: Done}
    outcome: completed
random_events:
  - id: visitor
    probability: 1.0
    states: [cell]
    text: {zh: 有人来了, en: Someone comes}
    actions:
      - id: stop_visitor
        label: {zh: 拦住, en: Stop them}
    ignored: {code: VISITOR_IGNORED, severity: minor, rule: {zh: 拦住来人, en: Stop visitors}}
"""


# --- building sessions without a database ---------------------------------------------------------------------------


def play(course: Course, steps: list[tuple[float, str]], *, session_id: str | None = None, lang: str = "zh"):
    """Play `steps` ((seconds, action) with 'tick', 'abort' or 'resume:<gap_ms>' as special actions) through the engine,
    then store the events as the store would (hash-chained, one wall-clock time per input) and score the session."""
    sid = session_id or str(uuid.uuid4())
    clock = ManualClock()
    engine = Session(course, 7, clock=clock, lang=lang)
    stored: list[StoredEvent] = []

    def keep(events: list[Event], at: float) -> None:
        prev = stored[-1].hash if stored else legacy_genesis(sid)
        stored.extend(link(Keying(), sid, prev, events, T0 + timedelta(seconds=at)))

    keep(engine.start(), 0)
    for at, step in steps:
        clock.ms = ms_from_seconds(at)
        if step == "tick":
            keep(engine.tick(), at)
        elif step == "abort":
            keep(engine.abort("trainee"), at)
        elif step.startswith("resume:"):
            keep(engine.resume(int(step.split(":")[1])), at)
        elif step == "pause":
            keep(engine.pause(), at)
        elif step == "unpause":
            keep(engine.unpause(), at)
        else:
            keep(engine.choose(step), at)
    events = [s.event for s in stored]
    ended = engine.ended
    score = score_session(course, detect(course, events), outcome_of(events)) if ended else None
    status = {"completed": SessionStatus.COMPLETED, "incident": SessionStatus.FAILED, "aborted": SessionStatus.ABORTED}
    record = SessionRecord(
        id=sid,
        badge=TRAINEE.badge,
        course_id=course.id,
        course_version=course.version,
        content_hash=course.content_hash,
        seed=7,
        lang=lang,
        status=status[str(engine.outcome)] if ended else SessionStatus.IN_PROGRESS,
        started_at=T0,
        ended_at=stored[-1].utc if ended else None,
        outcome=str(engine.outcome) if ended else None,
        score=score.score if score else None,
        passed=score.passed if score else None,
        event_count=len(stored),
    )
    return record, stored


def export(
    record: SessionRecord,
    stored: list[StoredEvent],
    trainee: Trainee | None = TRAINEE,
    *,
    course: Course | None = None,
    profile: xapi.Profile = PROFILE,
) -> list[dict[str, Any]]:
    return xapi.statements(record, trainee, stored, profile=profile, course=course)


def verbs(statements: list[dict[str, Any]]) -> list[str]:
    return [s["verb"]["display"]["en-US"] for s in statements]


@pytest.fixture(scope="module")
def mini() -> Course:
    return load_course(MINI)


@pytest.fixture(scope="module")
def hazard_course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    path = tmp_path_factory.mktemp("courses") / "hz.yaml"
    path.write_text(HAZARD_COURSE, encoding="utf-8")
    return load_course(path)


@pytest.fixture
def passed(mini: Course):
    return play(mini, [(3.2, "lock"), (7.5, "work")])


@pytest.fixture
def incident(mini: Course):
    return play(mini, [(2.0, "reach")], lang="en")


@pytest.fixture
def everything(hazard_course: Course):
    """Timer runs out, the session is resumed, a hazard state is entered, a random event is answered, then completed."""
    return play(
        hazard_course,
        [(11.0, "tick"), (11.0, "resume:5000"), (12.0, "enter"), (13.0, "stop_visitor"), (13.0, "leave")],
    )


# --- the schema -----------------------------------------------------------------------------------------------------


def _strict_format_checker() -> FormatChecker:
    """jsonschema checks date-time and iri only with optional packages; make sure both are checked here regardless."""
    checker = FormatChecker()
    if checker.conforms("not a date", "date-time"):

        @checker.checks("date-time", raises=ValueError)
        def _date_time(value: object) -> bool:
            if not isinstance(value, str):
                return True
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
                return False
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return True

    if checker.conforms("no scheme", "iri"):

        @checker.checks("iri")
        def _iri(value: object) -> bool:
            return not isinstance(value, str) or bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:\S+", value))

    return checker


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = xapi.statement_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_strict_format_checker())


def assert_valid(validator: Draft202012Validator, statements: list[dict[str, Any]]) -> None:
    for s in statements:
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(s)]
        assert not problems, f"{s['verb']['display']} statement is not valid xAPI: {problems}"


def test_every_statement_validates(validator, passed, incident, everything, mini):
    aborted = play(mini, [(1.0, "lock"), (4.0, "abort")])
    unfinished = play(mini, [(1.0, "lock")])
    for record, stored in (passed, incident, everything, aborted, unfinished):
        statements = export(record, stored)
        assert statements
        assert_valid(validator, statements)
        assert_valid(validator, export(record, stored, trainee=None))


def test_schema_rejects_what_the_spec_forbids(validator, passed):
    good = export(*passed)[-2]  # the score statement
    assert validator.is_valid(good)

    def broken(**changes: Any) -> dict[str, Any]:
        s = json.loads(json.dumps(good))
        for path, value in changes.items():
            *parents, last = path.split("__")
            node = s
            for p in parents:
                node = node[p]
            if value is None:
                del node[last]
            else:
                node[last] = value
        return s

    for bad in (
        broken(actor=None),
        broken(verb=None),
        broken(object=None),
        broken(id="not-a-uuid"),
        broken(timestamp="yesterday"),
        broken(verb__id="initialized"),
        broken(verb__display={"English please": "x"}),
        broken(result__score__scaled=1.5),
        broken(result__duration="7.5 seconds"),
        broken(context__registration="session-1"),
        broken(actor__account={"name": "B-0042"}),
        broken(actor__mbox="mailto:a@example.com"),  # two identifiers for one agent
        broken(unknown="property"),
    ):
        assert not validator.is_valid(bad), bad


# --- what the statements say ----------------------------------------------------------------------------------------


def test_passed_session_verbs_objects_and_result(passed, mini):
    record, stored = passed
    statements = export(record, stored, course=mini)
    assert verbs(statements) == [
        "initialized",
        "accessed",
        "selected",
        "selected",
        "accessed",
        "completed",
        "passed",
        "terminated",
    ]
    ids = {s["verb"]["display"]["en-US"]: s["verb"]["id"] for s in statements}
    assert ids == {
        "initialized": "http://adlnet.gov/expapi/verbs/initialized",
        "accessed": "https://w3id.org/xapi/seriousgames/verbs/accessed",
        "selected": "https://w3id.org/xapi/adb/verbs/selected",
        "completed": "http://adlnet.gov/expapi/verbs/completed",
        "passed": "http://adlnet.gov/expapi/verbs/passed",
        "terminated": "http://adlnet.gov/expapi/verbs/terminated",
    }
    course_iri = BASE + "mini"
    assert statements[0]["object"]["id"] == course_iri
    assert statements[0]["object"]["definition"]["name"] == {"zh-CN": "小课程", "en-US": "Mini course"}
    assert statements[1]["object"]["id"] == course_iri + "/state/begin"
    assert statements[2]["object"]["id"] == course_iri + "/state/begin/action/lock"
    assert statements[2]["result"]["response"] == "lock"
    for s in statements[1:5]:
        assert s["context"]["contextActivities"]["parent"][0]["id"] == course_iri

    completed, scored = statements[-3], statements[-2]
    assert completed["result"]["completion"] is True
    assert completed["result"]["duration"] == "PT7.5S"
    assert "score" not in completed["result"]
    assert scored["result"]["score"] == {"scaled": 1.0, "raw": 100.0, "min": 0, "max": 100}
    assert scored["result"]["success"] is True
    assert scored["result"]["completion"] is True
    assert scored["result"]["duration"] == "PT7.5S"
    assert scored["id"] != completed["id"]


def test_incident_gives_a_mistake_and_a_failed_course(incident):
    record, stored = incident
    statements = export(record, stored)
    assert verbs(statements) == [
        "initialized",
        "accessed",
        "selected",
        "made a mistake",
        "accessed",
        "failed",
        "terminated",
    ]
    mistake, course_failed = statements[3], statements[5]
    # `failed` is the course attempt's verb only: a mistake is the profile's own verb, under the site's profile IRI.
    assert mistake["verb"]["id"] == HOME + "/xapi/verbs/made-mistake"
    assert mistake["object"]["id"] == BASE + "mini/mistake/HANDS_IN_DIE"
    assert mistake["result"]["success"] is False
    details = mistake["result"]["extensions"][EXT + "mistake"]
    assert details["code"] == "HANDS_IN_DIE"
    # Not given the graded list (as if not scored yet): the declared severity only, never passed off as the grade.
    assert details["declared"] == "critical" and "severity" not in details
    assert course_failed["object"]["id"] == BASE + "mini"
    assert course_failed["result"]["success"] is False
    assert course_failed["result"]["completion"] is False
    assert course_failed["result"]["score"]["raw"] == record.score
    assert course_failed["result"]["duration"] == "PT2S"
    assert course_failed["context"]["language"] == "en-US"


def test_timer_resume_hazard_random_event_and_answer(everything):
    record, stored = everything
    statements = export(record, stored)
    by_kind = {}
    for s in statements:
        seq = s["context"]["extensions"][EXT + "seq"]
        kind = next(st.event.kind for st in stored if st.event.seq == seq)
        by_kind.setdefault(kind, s)
    assert by_kind[EventKind.TIMED_OUT]["verb"]["id"] == "http://adlnet.gov/expapi/verbs/experienced"
    assert by_kind[EventKind.TIMED_OUT]["object"]["id"] == BASE + "hz/state/door/timer"
    assert by_kind[EventKind.RESUMED]["verb"]["id"] == "http://adlnet.gov/expapi/verbs/resumed"
    assert by_kind[EventKind.RESUMED]["result"]["extensions"][EXT + "gap-ms"] == 5000
    assert by_kind[EventKind.HAZARD]["object"]["id"] == BASE + "hz/hazard/crush"
    assert by_kind[EventKind.RANDOM_EVENT]["object"]["id"] == BASE + "hz/event/visitor"
    answers = [s for s in statements if s["object"]["id"].endswith("/action/stop_visitor")]
    assert [a["object"]["id"] for a in answers] == [BASE + "hz/event/visitor/action/stop_visitor"]


def test_aborted_session_is_abandoned_then_terminated(mini):
    record, stored = play(mini, [(1.0, "lock"), (4.0, "abort")])
    abandoned, last = export(record, stored)[-2:]
    assert abandoned["verb"]["id"] == "https://w3id.org/xapi/adl/verbs/abandoned"
    assert abandoned["result"]["completion"] is False
    assert last["verb"]["id"] == "http://adlnet.gov/expapi/verbs/terminated"
    assert last["result"]["duration"] == "PT4S"


def test_every_kind_has_a_verb():
    assert set(xapi.KIND_VERB) == set(EventKind)
    assert all(v in xapi.VERBS for v in xapi.KIND_VERB.values())


def test_actor_context_and_timestamps(passed):
    record, stored = passed
    statements = export(record, stored)
    by_seq = {s.event.seq: s for s in stored}
    for s in statements:
        assert s["actor"] == {
            "objectType": "Agent",
            "name": "王芳",
            "account": {"homePage": HOME, "name": "B-0042"},
        }
        ctx = s["context"]
        assert ctx["registration"] == record.id
        assert ctx["revision"] == "1.0"
        assert ctx["platform"] == "Trainer"
        seq = ctx["extensions"][EXT + "seq"]
        assert ctx["extensions"][EXT + "state"] == by_seq[seq].event.state
        stamped = datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00"))
        assert abs(stamped - by_seq[seq].utc) < timedelta(milliseconds=1)
    anonymous = export(record, stored, trainee=None)
    assert "name" not in anonymous[0]["actor"]


def test_ids_are_stable_unique_and_uuid(passed, mini):
    record, stored = passed
    first, again = export(record, stored), export(record, list(reversed(stored)))
    assert first == again
    ids = [s["id"] for s in first]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 5 for i in ids)
    other_record, other_stored = play(mini, [(3.2, "lock"), (7.5, "work")])
    assert not set(ids) & {s["id"] for s in export(other_record, other_stored)}
    assert ids[0] == xapi.content_id(record.id, "1", first[0])


def test_score_statement_follows_once_the_session_is_scored(passed):
    record, stored = passed
    unscored = xapi.slotted(replace(record, score=None, passed=None), TRAINEE, stored, profile=PROFILE)
    scored = xapi.slotted(record, TRAINEE, stored, profile=PROFILE)
    assert verbs([s.statement for s in unscored])[-2:] == ["completed", "terminated"]
    assert verbs([s.statement for s in scored])[-3:] == ["completed", "passed", "terminated"]
    # The score statement fills a slot of its own: every other slot keeps its statement (and id).
    assert [s for s in scored if s.slot != "6/score"] == unscored


def test_unfinished_session_exports_what_happened_so_far(mini):
    record, stored = play(mini, [(1.0, "lock")])
    assert verbs(export(record, stored)) == ["initialized", "accessed", "selected"]


def test_duration_and_timestamp_formats():
    assert xapi.duration(0) == "PT0S"
    assert xapi.duration(7500) == "PT7.5S"
    assert xapi.duration(61234) == "PT61.23S"
    assert xapi.duration(5) == "PT0S"
    assert xapi.timestamp(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"
    with pytest.raises(ValueError):
        xapi.timestamp(datetime(2026, 1, 2))


def test_events_of_another_session_are_refused(passed, incident):
    record, _ = passed
    _, other = incident
    with pytest.raises(ValueError, match="belongs to session"):
        export(record, other)


def test_the_module_stays_pure():
    code = "import sys, trainer.export.xapi; print(sorted(m for m in ('sqlalchemy', 'textual', 'urllib.request') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- through a real store and the CLI -------------------------------------------------------------------------------


def test_cli_exports_a_stored_session_the_same_way_twice(tmp_path, mini, validator, capsys):
    from trainer.cli import main
    from trainer.session_service import DurableSession
    from trainer.store.store import Store

    db = tmp_path / "trainer.db"
    clock = ManualClock()
    with Store.open(db) as store:
        store.upsert_trainee("B-0042", "王芳", "冲压车间")
        store.set_setting("site.url", HOME)
        durable = DurableSession.begin(store, mini, "B-0042", seed=3, lang="zh", clock=clock)
        clock.ms = 3000
        durable.choose("lock")
        clock.ms = 8250
        durable.choose("work")
        session_id = durable.id

    out1, out2 = tmp_path / "a.json", tmp_path / "b.jsonl"
    assert main(["export", "xapi", "--db", str(db), "--out", str(out1)]) == 0
    assert main(["export", "xapi", "--db", str(db), "--out", str(out2), "--since", "2000-01-01"]) == 0
    array = json.loads(out1.read_text(encoding="utf-8"))
    lines = [json.loads(line) for line in out2.read_text(encoding="utf-8").splitlines()]
    assert array == lines
    assert_valid(validator, array)
    assert {s["context"]["registration"] for s in array} == {session_id}
    assert array[0]["actor"]["account"] == {"homePage": HOME, "name": "B-0042"}
    assert array[0]["object"]["id"] == HOME + "/courses/mini"
    assert verbs(array)[-3:] == ["completed", "passed", "terminated"]
    assert array[-1]["result"]["duration"] == "PT8.25S"
    assert "wrote 8 statement(s) of 1 session(s)" in capsys.readouterr().err

    # The period filter: nothing started before 2000.
    empty = tmp_path / "none.json"
    assert main(["export", "xapi", "--db", str(db), "--out", str(empty), "--until", "2000-01-01"]) == 0
    assert json.loads(empty.read_text(encoding="utf-8")) == []


def test_cli_usage_errors_are_one_line(tmp_path, capsys):
    from trainer.cli import main

    db = str(tmp_path / "t.db")
    assert main(["export", "xapi", "--db", db]) == 2
    assert main(["export", "xapi", "--db", db, "--lrs", "http://127.0.0.1:9/xAPI"]) == 2
    assert main(["export", "xapi", "--db", db, "--out", "-", "--home-page", "factory"]) == 2
    assert main(["export", "xapi", "--db", db, "--out", "-", "--since", "2026-02-01", "--until", "2026-01-01"]) == 2
    assert main(["export"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 5 and all(line.startswith("trainer: error: ") for line in err)


def test_a_pause_is_suspended_then_resumed_and_left_out_of_the_duration(validator, mini):
    record, stored = play(mini, [(1.0, "lock"), (2.0, "pause"), (62.0, "unpause"), (3.0 + 60, "work")])
    statements = export(record, stored)
    assert_valid(validator, statements)
    assert [v for v in verbs(statements) if v in ("suspended", "resumed")] == ["suspended", "resumed"]
    resumed = next(s for s in statements if s["verb"]["display"]["en-US"] == "resumed")
    assert resumed["result"]["extensions"][EXT + "paused-ms"] == 60_000
    completed = next(s for s in statements if s["verb"]["display"]["en-US"] == "completed")
    assert completed["result"]["duration"] == "PT3S"  # 63 s on the wall clock, 60 of them paused


# --- the cmi5-aligned profile (issue 18, item 10) -------------------------------------------------------------------


def by_verb(statements: list[dict[str, Any]], display: str) -> list[dict[str, Any]]:
    return [s for s in statements if s["verb"]["display"]["en-US"] == display]


def test_an_interrupted_launch_is_suspended_and_the_resume_starts_a_new_cmi5_session(validator, mini):
    record, stored = play(mini, [(1.0, "lock"), (1.0, "resume:5000"), (3.0, "work")])
    statements = export(record, stored)
    assert_valid(validator, statements)
    assert verbs(statements)[:6] == ["initialized", "accessed", "selected", "suspended", "resumed", "selected"]
    suspended, resumed = by_verb(statements, "suspended")[0], by_verb(statements, "resumed")[0]
    assert resumed["result"]["extensions"][EXT + "gap-ms"] == 5000
    assert suspended["result"]["extensions"][EXT + "interrupted"] is True
    assert suspended["timestamp"] == statements[2]["timestamp"]  # when the last event of that launch was stored
    launches = [s["context"]["extensions"][xapi.SESSION_ID] for s in statements]
    first, second = xapi.launch_id(record.id, 1), xapi.launch_id(record.id, 2)
    assert launches == [first] * 4 + [second] * (len(statements) - 4)
    assert first != second and len({xapi.launch_id(str(uuid.uuid4()), 1), first}) == 2

    # While it waits (interrupted, not resumed yet) the same `suspended` statement is exported: same slot, same id.
    waiting = [s for s in stored if s.event.seq <= 3]
    before = export(replace(record, status=SessionStatus.INTERRUPTED, event_count=3), waiting)
    assert verbs(before) == ["initialized", "accessed", "selected", "suspended"]
    assert before[-1] == suspended
    # Being played right now (in progress): nothing is suspended.
    assert "suspended" not in verbs(export(replace(record, status=SessionStatus.IN_PROGRESS), waiting))


def test_every_ending_is_followed_by_terminated(mini, passed, incident):
    aborted = play(mini, [(1.0, "lock"), (4.0, "abort")])
    for record, stored in (passed, incident, aborted):
        statements = export(record, stored)
        assert verbs(statements)[-1] == "terminated"
        assert verbs(statements).count("terminated") == 1
        assert statements[-1]["result"]["duration"] == xapi.duration(stored[-1].event.t_ms)
    assert verbs(export(*aborted))[-2] == "abandoned"


def test_failed_is_only_the_course_attempts_verb(incident, everything):
    for record, stored in (incident, everything):
        for s in export(record, stored):
            if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/failed":
                assert s["object"]["id"] == BASE + record.course_id


def test_mastery_score_move_on_and_cmi5_categories(passed, mini):
    record, stored = passed
    statements = export(record, stored, course=mini)
    passed_statement = by_verb(statements, "passed")[0]
    context = passed_statement["context"]
    assert context["extensions"][xapi.MASTERY_SCORE] == 0.8  # pass: {min_score: 80}
    assert context["extensions"][EXT + "moveon"] == "CompletedAndPassed"
    assert context["contextActivities"]["category"] == [{"id": xapi.CMI5_CATEGORY}, {"id": xapi.MOVEON_CATEGORY}]
    for verb in ("initialized", "completed", "terminated"):
        assert by_verb(statements, verb)[0]["context"]["contextActivities"]["category"] == [{"id": xapi.CMI5_CATEGORY}]
    assert "category" not in by_verb(statements, "selected")[0]["context"]["contextActivities"]
    # A failed verdict does not satisfy moveOn.
    flipped = by_verb(export(replace(record, score=40.0, passed=False), stored, course=mini), "failed")[0]
    assert flipped["context"]["contextActivities"]["category"] == [{"id": xapi.CMI5_CATEGORY}]


def test_states_actions_events_and_rules_are_named_in_chinese_and_english(
    passed, incident, everything, mini, hazard_course
):
    statements = export(*passed, course=mini)
    names = {s["object"]["id"].removeprefix(BASE): s["object"]["definition"]["name"] for s in statements}
    assert names["mini"] == {"zh-CN": "小课程", "en-US": "Mini course"}
    assert names["mini/state/begin"] == {"zh-CN": "开始", "en-US": "Start"}
    assert names["mini/state/begin/action/lock"] == {"zh-CN": "上锁", "en-US": "Lock out"}
    rule = by_verb(export(*incident, course=mini), "made a mistake")[0]["object"]["definition"]["name"]
    assert rule == {"zh-CN": "不许", "en-US": "Never"}
    named = {
        s["object"]["id"].removeprefix(BASE): s["object"]["definition"]["name"]
        for s in export(*everything, course=hazard_course)
    }
    assert named["hz/event/visitor"] == {"zh-CN": "有人来了", "en-US": "Someone comes"}
    assert named["hz/event/visitor/action/stop_visitor"] == {"zh-CN": "拦住", "en-US": "Stop them"}
    assert named["hz/hazard/crush"] == {"zh-CN": "挤压", "en-US": "Crush zone"}
    # Without the course (not in the library) every part is named by its id, language undetermined.
    assert export(*passed)[1]["object"]["definition"]["name"] == {"und": "begin"}


def test_iris_are_under_the_sites_domain_and_names_can_be_left_out(passed, mini):
    record, stored = passed
    profile = xapi.Profile(
        home_page="https://plant2.example-corp.com",
        iri="https://training.example-corp.com/xapi",
        site_name="Plant 2",
        names=False,
    )
    statements = export(record, stored, course=mini, profile=profile)
    text = json.dumps(statements)
    assert "zhixin.example" not in text and "王芳" not in text
    assert all("name" not in s["actor"] for s in statements)
    ours = {k for s in statements for k in s["context"]["extensions"] if "cmi5" not in k}
    assert ours and all(k.startswith("https://training.example-corp.com/xapi/extensions/") for k in ours)
    assert statements[0]["object"]["id"] == "https://plant2.example-corp.com/courses/mini"
    assert statements[0]["context"]["extensions"]["https://training.example-corp.com/xapi/extensions/site"] == "Plant 2"
    # Names and the site's name are descriptions, not the record: the ids stay those of the named export.
    named = export(record, stored, course=mini, profile=replace(profile, names=True, site_name=None))
    assert [s["id"] for s in named] == [s["id"] for s in statements]


def test_a_rescore_changes_the_score_statements_id_and_nothing_else(passed, validator):
    record, stored = passed
    before = xapi.slotted(record, TRAINEE, stored, profile=PROFILE)
    after = xapi.slotted(replace(record, score=55.0, passed=False), TRAINEE, stored, profile=PROFILE)
    changed = {b.slot for b, a in zip(before, after, strict=True) if b.statement["id"] != a.statement["id"]}
    assert changed == {"6/score"}
    flipped = next(a.statement for a in after if a.slot == "6/score")
    assert flipped["verb"]["id"] == "http://adlnet.gov/expapi/verbs/failed"
    void = xapi.voiding(before[6].statement["id"], flipped["actor"], record.id)
    assert_valid(validator, [void])
    assert void["object"] == {"objectType": "StatementRef", "id": before[6].statement["id"]}
    assert "name" not in void["actor"] and xapi.voiding(before[6].statement["id"], flipped["actor"], record.id) == void


def test_names_and_mastery_come_only_from_the_course_the_session_was_played_on(passed, mini):
    record, stored = passed
    edited = replace(mini, content_hash="0" * 64, pass_rule=replace(mini.pass_rule, min_score=60))
    statements = export(record, stored, course=edited)
    assert statements[1]["object"]["definition"]["name"] == {"und": "begin"}
    assert all(xapi.MASTERY_SCORE not in s["context"]["extensions"] for s in statements)
    # Whether the course file is at hand or not, the statements are the same records (same ids).
    assert [s["id"] for s in statements] == [s["id"] for s in export(record, stored, course=mini)]
