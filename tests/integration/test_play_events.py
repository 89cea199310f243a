"""`trainer play` scripts that survive random events: `on EVENT: ACTION` answers the event whenever it fires."""

from __future__ import annotations

from pathlib import Path

from cliproc import run_cli

from trainer.course.loader import check_text
from trainer.engine.clock import ManualClock
from trainer.engine.session import Session

MINI = (Path(__file__).resolve().parent.parent / "fixtures" / "mini_course.yaml").read_text(encoding="utf-8")
# A forklift may drive through the press bay at the start; ignoring it is a serious mistake.
EVENT = """random_events:
  - id: forklift
    probability: 0.5
    states: [begin]
    text: {zh: 叉车驶近, en: A forklift drives up}
    actions:
      - id: wave_through
        label: {zh: 示意通过, en: Wave it through}
    ignored: {code: IGNORED_FORKLIFT, severity: serious, rule: {zh: 先让叉车, en: Let the forklift pass first}, instead: {zh: 示意通过, en: Wave it through}}
"""
COURSE = MINI.replace("procedure:\n", EVENT + "procedure:\n")


def seed_where(fired: bool) -> int:
    course = check_text(COURSE, "forklift.yaml").course
    assert course is not None
    for seed in range(100):
        s = Session(course, seed, clock=ManualClock())
        s.start()
        if bool(s.active_events()) == fired:
            return seed
    raise AssertionError("no such seed")


def play(tmp_path: Path, db_url: str, seed: int, lines: list[str], badge: str):
    course = tmp_path / "forklift.yaml"
    course.write_text(COURSE, encoding="utf-8")
    script = tmp_path / f"{badge}.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Practice: the event fires at its probability (an exam, play's default, makes every key event happen).
    args = ["play", str(course), "--badge", badge, "--name", "王", "--department", "冲压", "--script", str(script)]
    args += ["--mode", "practice"]
    return run_cli(*args, "--seed", str(seed), db=db_url), script


def test_one_script_plays_whether_or_not_the_event_fires(tmp_path, db_url):
    lines = ["on forklift: wave_through", "2 lock", "3 work"]
    for badge, fired in (("E1", True), ("E2", False)):
        run, _ = play(tmp_path, db_url, seed_where(fired), lines, badge)
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.splitlines()[-1] == "outcome: completed, score 100, passed (score 100 of at least 80)"
        assert run.stdout.count("chose") == (3 if fired else 2)


def test_without_the_on_line_the_fired_event_is_ignored(tmp_path, db_url):
    run, _ = play(tmp_path, db_url, seed_where(True), ["2 lock", "3 work"], "E3")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "score 100" not in run.stdout.splitlines()[-1]


def test_an_on_line_naming_no_event_of_the_course_is_refused_at_its_line(tmp_path, db_url):
    run, script = play(tmp_path, db_url, 1, ["2 lock", "on forklfit: wave_through", "3 work"], "E4")
    assert run.returncode == 1
    assert run.stderr.strip() == (
        f"trainer: error: {script}:2: the course has no random event 'forklfit'; did you mean 'forklift'?"
    )
    assert run.stdout == ""  # refused before any session begins


def test_an_on_line_with_an_action_that_does_not_answer_the_event_is_refused(tmp_path, db_url):
    run, script = play(tmp_path, db_url, 1, ["on forklift: lock"], "E5")
    assert run.returncode == 1
    assert run.stderr.strip() == (
        f"trainer: error: {script}:1: 'lock' is not an answer to the event 'forklift' (its answers: wave_through)"
    )


def test_a_session_resumes_with_the_script_whose_on_line_answered_the_event(tmp_path, db_url):
    seed = seed_where(True)
    first, _ = play(tmp_path, db_url, seed, ["on forklift: wave_through", "2 lock"], "E6")
    assert first.returncode == 0, first.stdout + first.stderr
    sid = first.stdout.splitlines()[0].split()[1]
    assert "unfinished" in first.stdout.splitlines()[-1]
    script = tmp_path / "resume.txt"
    script.write_text("on forklift: wave_through\n2 lock\n3 work\n", encoding="utf-8")
    course = tmp_path / "forklift.yaml"
    again = run_cli("play", str(course), "--badge", "E6", "--script", str(script), "--resume", sid, db=db_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.splitlines()[-1] == "outcome: completed, score 100, passed (score 100 of at least 80)"


def test_an_exam_meets_the_key_event_on_a_seed_where_practice_would_not(tmp_path, db_url):
    """Issue 20 item 9: in an exam (play's default) every key event happens, whatever the seed draws; the stored exam
    replays, resumes and verifies with the event in it."""
    seed = seed_where(False)
    course = tmp_path / "forklift.yaml"
    course.write_text(COURSE, encoding="utf-8")

    def exam(badge: str, lines: list[str], *extra: str):
        script = tmp_path / f"{badge}.txt"
        script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        args = ["play", str(course), "--badge", badge, "--name", "王", "--department", "冲压", "--script", str(script)]
        return run_cli(*args, "--seed", str(seed), *extra, db=db_url)

    practice, _ = play(tmp_path, db_url, seed, ["on forklift: wave_through", "2 lock", "3 work"], "K1")
    assert practice.stdout.count("chose") == 2 and "random_event" not in practice.stdout  # not drawn on this seed
    run = exam("K2", ["on forklift: wave_through", "2 lock", "3 work"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("chose") == 3 and "stored 3 random_event" in run.stdout
    assert run.stdout.splitlines()[-1] == "outcome: completed, score 100, passed (score 100 of at least 80)"
    ignored = exam("K3", ["2 lock", "3 work"])
    assert "score 100" not in ignored.stdout.splitlines()[-1]  # the event came, unanswered: IGNORED_FORKLIFT
    first = exam("K4", ["on forklift: wave_through", "2 lock"])
    sid = first.stdout.splitlines()[0].split()[1]
    assert "unfinished" in first.stdout.splitlines()[-1]
    again = exam("K4", ["on forklift: wave_through", "2 lock", "3 work"], "--resume", sid)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.splitlines()[-1] == "outcome: completed, score 100, passed (score 100 of at least 80)"
    assert run_cli("sessions", "verify", db=db_url).returncode == 0
