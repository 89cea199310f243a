"""Simulated trainees, the synthetic reference raters and the labelled-session format."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from trainer.course.library import load_library
from trainer.course.loader import load_course
from trainer.engine.events import Event
from trainer.engine.session import replay
from trainer.scoring import labelled
from trainer.scoring.detect import detect, outcome_of
from trainer.scoring.features import FEATURES, GRADES
from trainer.scoring.model import qwk
from trainer.scoring.raters import RATERS, grade, label_line
from trainer.scoring.simulate import PROFILES, simulate

ROOT = Path(__file__).resolve().parents[2]
PRESS = load_course(ROOT / "courses" / "press-loto-die-change.yaml")


def test_simulation_is_reproducible_and_replays_through_the_engine():
    first = list(simulate([PRESS], 30, 7))
    again = list(simulate([PRESS], 30, 7))
    assert [s.events for s in first] == [s.events for s in again]
    assert [s.session for s in first] == [s.session for s in again] and len({s.session for s in first}) == 30
    for s in first[:10]:
        assert replay(PRESS, s.events).seq == len(s.events)  # the real engine produced them: replay agrees
        assert outcome_of(s.events) is not None


def test_profiles_play_as_documented():
    def play(profile: str) -> tuple[float, float]:
        runs = list(simulate([PRESS], 60, 1, mix={profile: 1.0}))
        completed = sum(str(outcome_of(s.events)) == "completed" for s in runs) / len(runs)
        mistakes = sum(len(detect(PRESS, s.events)) for s in runs) / len(runs)
        return completed, mistakes

    expert, novice, violator = play("expert"), play("careful-novice"), play("violator")
    assert expert[0] >= 0.9 and expert[1] < 0.6
    assert novice[1] > expert[1]
    assert violator[0] < 0.3  # takes the dangerous shortcuts: incidents
    assert set(PROFILES) == {"expert", "careful-novice", "hurried", "violator", "confused"}


def test_simulated_trainees_repeat_mistakes_over_the_bundled_courses():
    """Issue 19 item 4: a rule about repeated mistakes can only be learned if repeats happen. Measured over seeds 0-6
    (2,000 sessions each): 2.0% to 3.5% of mistakes are a third or later repeat, 2.7% on average (1.5% when only the
    extinguisher's pin could be forgotten three times; 0.04% to 0.09% before the habits). The courses offer repeats
    where trainees make them: each approach of the crane's load, each blind crossing of the forklift, each jog through
    the robot's singularity, each re-test of the failed light curtain (docs/courses.md, docs/scoring.md)."""
    courses = list(load_library().courses.values())
    repeats = [m.repeat for s in simulate(courses, 800, 0) for m in detect(s.course, s.events)]
    share = sum(r >= 3 for r in repeats) / len(repeats)
    assert share >= 0.02  # measured 2.05% (seed 0, 800 sessions); 0.88% with only the pin repeatable


def test_a_trainee_who_forgot_the_pin_squeezes_again_quickly_and_an_expert_never_persists():
    fire = load_library().get("fire-response")
    hurried = [s for s in simulate([fire], 60, 4, mix={"hurried": 1.0})]
    loops = [s for s in hurried if max((m.repeat for m in detect(fire, s.events)), default=0) >= 3]
    assert len(loops) >= 5  # forgot to pull the pin, then pressed the handle again and again
    s = loops[0]
    presses = [e for e in s.events if e.action in ("discharge_base_pin_in", "discharge_flames_pin_in")]
    gaps = [b.t_ms - a.t_ms for a, b in zip(presses, presses[1:], strict=False) if b.seq - a.seq <= 4]
    assert gaps and min(gaps) < PROFILES["hurried"].think[0] * 1000  # doing it again at once: little thought
    experts = simulate([fire], 60, 4, mix={"expert": 1.0})
    assert all(m.repeat < 3 for e in experts for m in detect(fire, e.events))


@pytest.mark.parametrize("course_id", sorted(load_library().courses))
def test_every_bundled_course_can_be_simulated(course_id: str):
    course = load_library().get(course_id)
    runs = list(simulate([course], 25, 3))
    assert all(outcome_of(s.events) is not None for s in runs)
    assert any(detect(course, s.events) for s in runs)


def _lines(n: int, seed: int) -> list[dict]:
    return [
        label_line(labelled.record(s.course, s.events, session=s.session, trainee=s.trainee, seed=s.seed))
        for s in simulate([PRESS], n, seed)
    ]


def test_the_two_raters_agree_like_humans_neither_perfectly_nor_by_chance():
    a, b = [], []
    for line in _lines(200, 5):
        for m in line["mistakes"]:
            (la, ga), (lb, gb) = sorted((x["labeller"], x["severity"]) for x in m["labels"])
            a.append(GRADES.index(ga))
            b.append(GRADES.index(gb))
    kappa = qwk(a, b)
    assert 0.55 < kappa < 0.92
    assert a != b and len(set(a)) >= 3


def test_a_rater_gives_the_same_mistake_the_same_label_every_time():
    ctx = {
        "declared_rank": 2,
        "corrected": 1,
        "correction_s": 5.0,
        "source": "order",
        "outcome": "completed",
        "hazard_followed": 0,
        "repeat": 1,
        "hazard": "none",
        "timer_running": 0,
        "progress": 0.2,
    }
    for style in RATERS.values():
        assert len({grade(ctx, style, "s1", "m1") for _ in range(5)}) == 1
    # quickly corrected: one grade lighter than declared, for both raters on most mistakes
    lighter = [grade(ctx, RATERS["ref-strict"], f"s{i}", "m") for i in range(200)]
    assert Counter(lighter).most_common(1)[0][0] == "minor"


def test_the_format_round_trips_through_gzip(tmp_path: Path):
    lines = _lines(20, 9)
    path = tmp_path / "x.jsonl.gz"
    assert labelled.write(path, lines) == 20
    again = tmp_path / "y.jsonl.gz"
    labelled.write(again, lines)
    assert path.read_bytes() == again.read_bytes()  # reproducible bytes: the hash in a model's metadata means something
    sessions = list(labelled.read(path))
    assert [s.session for s in sessions] == [line["session"] for line in lines]
    first = next(s for s in sessions if s.mistakes)
    assert set(first.mistakes[0].context) == set(FEATURES) and len(first.mistakes[0].labels) == 2
    events = [Event.from_canonical(e) for e in first.events]
    assert [m.id for m in detect(PRESS, events)] == [m.id for m in first.mistakes]  # ids are stable


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "x.jsonl:2: not JSON"),
        ("[]", "x.jsonl:2: each line must be a JSON object"),
        ('{"session": "s", "trainee": "t", "course": "c", "version": "1"}', "x.jsonl:2: mistakes: missing"),
        (
            '{"session": "s", "trainee": "t", "course": "c", "version": "1", "mistakes": [{"id": "m1", "context": {}}]}',
            "x.jsonl:2: mistake m1: context.course: missing",
        ),
        ('{"format": "other/2", "mistakes": []}', 'format "other/2" is not'),
    ],
)
def test_bad_lines_are_named_with_file_and_line(tmp_path: Path, text: str, message: str):
    path = tmp_path / "x.jsonl"
    path.write_text("\n" + text + "\n")
    with pytest.raises(labelled.LabelledDataError, match=message.replace("(", r"\(")) as caught:
        list(labelled.read(path))
    assert "\n" not in str(caught.value) and ("x.jsonl:" in str(caught.value))


def test_a_bad_severity_is_refused(tmp_path: Path):
    line = _lines(30, 2)
    line = next(x for x in line if x["mistakes"])
    line["mistakes"][0]["labels"] = [{"severity": "fatal", "labeller": "me"}]
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(
        labelled.LabelledDataError, match='labels\\[0\\].severity: "fatal" is not one of none, minor, serious, critical'
    ):
        list(labelled.read(path))


def test_a_damaged_gzip_is_one_error(tmp_path: Path):
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(b"this was never gzip")
    with pytest.raises(labelled.LabelledDataError, match="cannot read it"):
        list(labelled.read(path))
