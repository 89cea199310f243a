"""Typed training data: every field of a labelled-session line is checked when read, and a bad one is named as
`file:line: field: problem` with exit 1 by `trainer model train` and `model evaluate`, never a traceback and never a
silently wrong row (issue 19, item 3)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trainer.cli import main
from trainer.course.loader import load_course
from trainer.scoring import labelled
from trainer.scoring.raters import label_line
from trainer.scoring.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
PRESS = load_course(ROOT / "courses" / "press-loto-die-change.yaml")


def _good_lines() -> list[dict[str, Any]]:
    out = []
    for s in simulate([PRESS], 40, 11):
        line = label_line(labelled.record(s.course, s.events, session=s.session, trainee=s.trainee, seed=s.seed))
        if line["mistakes"]:
            out.append(line)
    return out


GOOD = _good_lines()


def _ctx(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(line: dict[str, Any]) -> None:
        line["mistakes"][0]["context"][key] = value

    return change


def _top(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(line: dict[str, Any]) -> None:
        line[key] = value

    return change


def _declared_catastrophic(line: dict[str, Any]) -> None:
    line["mistakes"][0]["context"]["declared"] = "catastrophic"
    line["mistakes"][0]["declared"] = "catastrophic"


def _rank_off(line: dict[str, Any]) -> None:
    ctx = line["mistakes"][0]["context"]
    ctx["declared_rank"] = 1 if ctx["declared_rank"] != 1 else 2


def _no_labeller(line: dict[str, Any]) -> None:
    line["mistakes"][0]["labels"][0]["labeller"] = ""


def _twice(line: dict[str, Any]) -> None:
    line["mistakes"].append(copy.deepcopy(line["mistakes"][0]))


def _uncorrected_but_timed(line: dict[str, Any]) -> None:
    line["mistakes"][0]["context"].update(corrected=0, correction_s=4.0)


CASES = [
    (_ctx("correction_s", "soon"), 'context.correction_s: must be a number, not "soon"'),
    (_ctx("correction_s", None), "context.correction_s: must be a number, not null"),
    (_ctx("correction_s", float("nan")), "context.correction_s: must be a finite number, not NaN"),
    (_ctx("correction_s", float("inf")), "context.correction_s: must be a finite number, not Infinity"),
    (_ctx("t_s", -3), "context.t_s: must be at least 0, not -3"),
    (_ctx("progress", 1.5), "context.progress: must be between 0 and 1, not 1.5"),
    (_ctx("repeat", 0), "context.repeat: must be at least 1, not 0"),
    (_ctx("repeat", 1.5), "context.repeat: must be a whole number, not 1.5"),
    (_ctx("corrected", 2), "context.corrected: must be 0 or 1, not 2"),
    (_ctx("course", None), "context.course: must be a non-empty string, not null"),
    (_ctx("source", "guess"), 'context.source: "guess" is not one of action, timer'),
    (_ctx("outcome", "won"), 'context.outcome: "won" is not one of completed, incident, aborted, none'),
    (_declared_catastrophic, 'context.declared: "catastrophic" is not one of minor, serious, critical'),
    (_rank_off, "context.declared_rank: "),
    (_uncorrected_but_timed, "context.correction_s: must be 9999 (never) when context.corrected is 0, not 4.0"),
    (_no_labeller, 'labels[0].labeller: must be a non-empty string, not ""'),
    (_top("course", None), "course: must be a non-empty string, not null"),
    (_top("seed", "x"), 'seed: must be a whole number or null, not "x"'),
    (_top("outcome", "won"), 'outcome: "won" is not one of completed, incident, aborted'),
    (_top("events", {}), "events: must be a list, not an object"),
    (_twice, "appears twice in the session"),
]


def _write(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> tuple[Path, str]:
    lines = copy.deepcopy(GOOD[:3])
    change(lines[2])
    path = tmp_path / "labels.jsonl"
    path.write_text(
        "".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8"
    )  # NaN, Infinity as Python writes them
    return path, lines[2]["mistakes"][0]["id"]


@pytest.mark.parametrize(("change", "problem"), CASES, ids=[c[1][:40] for c in CASES])
def test_model_train_names_the_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Callable[[dict[str, Any]], None], problem: str
):
    path, mid = _write(tmp_path, change)
    code = main(["model", "train", "--data", str(path), "--out", str(tmp_path / "m.skops"), "--splits", "2"])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(f"trainer: error: {path}:3: ") and problem in err, err
    if problem.startswith(("context.", "labels")):
        assert f"{path}:3: mistake {mid}: {problem}" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "m.skops").exists()


def test_model_evaluate_names_the_bad_line_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path, mid = _write(tmp_path, _ctx("correction_s", "soon"))
    code = main(["model", "evaluate", "--data", str(path), "--curve", "0"])
    _, err = capsys.readouterr()
    assert code == 1
    assert err == f'trainer: error: {path}:3: mistake {mid}: context.correction_s: must be a number, not "soon"\n'


def test_json_true_and_false_are_taken_for_the_flags(tmp_path: Path):
    def flags(line: dict[str, Any]) -> None:
        line["mistakes"][0]["context"]["hazard_followed"] = True
        line["mistakes"][0]["context"]["timer_running"] = False

    path, _ = _write(tmp_path, flags)
    third = list(labelled.read(path))[2]
    assert third.mistakes[0].context["hazard_followed"] == 1 and third.mistakes[0].context["timer_running"] == 0
