"""The JSON Schema editors use is generated from the same declarations as the loader: it must agree with the loader."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from trainer.course.loader import check_text
from trainer.course.schema import course_schema

ROOT = Path(__file__).resolve().parent.parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini_course.yaml"
COURSE_FILES = sorted((ROOT / "courses").glob("*.yaml")) + [MINI]


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return Draft202012Validator(course_schema())


def mini_data() -> dict[str, Any]:
    return yaml.safe_load(MINI.read_text(encoding="utf-8"))


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = course_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert {"id", "version", "start", "states"} <= set(schema["required"])


@pytest.mark.parametrize("path", COURSE_FILES, ids=lambda p: p.name)
def test_every_course_validates_against_the_schema(validator, path):
    # safe_load reads `on` as true; the schema's variable values accept booleans too, so this stays a fair check.
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


def _drop(data: dict[str, Any], *path: str | int) -> dict[str, Any]:
    data = copy.deepcopy(data)
    parent = data
    for p in path[:-1]:
        parent = parent[p]
    del parent[path[-1]]
    return data


def _add(data: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    data = copy.deepcopy(data)
    parent = data
    for p in path[:-1]:
        parent = parent[p]
    parent[path[-1]] = value
    return data


BROKEN = {
    "unknown top-level key": lambda d: _add(d, 5, "minutse"),
    "unknown key in an action": lambda d: _add(d, {"en": "x"}, "states", "begin", "actions", 0, "feedbak"),
    "unknown key in the pass rule": lambda d: _add(d, 90, "pass", "min_scor"),
    "missing required top-level key": lambda d: _drop(d, "certification_days"),
    "missing required key in a state": lambda d: _drop(d, "states", "done", "text"),
    "missing required key in a procedure step": lambda d: _drop(d, "procedure", 1, "rule"),
    "missing timer goto": lambda d: _drop(d, "states", "begin", "timer", "goto"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_schema_and_loader_agree_on_unknown_and_missing_keys(validator, name):
    data = BROKEN[name](mini_data())
    schema_errors = list(validator.iter_errors(data))
    assert schema_errors, "the schema accepted it"
    result = check_text(yaml.safe_dump(data, allow_unicode=True), "broken.yaml")
    assert result.course is None, "the loader accepted it"
    kind = "unknown key" if name.startswith("unknown") else "missing the required key"
    assert any(kind in d.message for d in result.errors), [str(d) for d in result.errors]
    schema_kind = "Additional properties" if name.startswith("unknown") else "is a required property"
    assert any(schema_kind in e.message for e in schema_errors), [e.message for e in schema_errors]


def test_schema_and_loader_both_accept_the_mini_course(validator):
    data = mini_data()
    # What our loader reads; safe_load's YAML 1.1 turns `on` and `off` into true and false.
    data["variables"]["power"] = "on"
    data["states"]["begin"]["actions"][0]["set"]["power"] = "off"
    assert list(validator.iter_errors(data)) == []
    assert check_text(yaml.safe_dump(data, allow_unicode=True), "mini.yaml").course is not None


def test_cli_prints_the_schema_as_json():
    proc = subprocess.run(
        [sys.executable, "-m", "trainer", "course", "schema"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == course_schema()
