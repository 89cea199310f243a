"""Fuzzing the loader: whatever an instructor's editor (or a hostile user) produces, checking answers with diagnostics.

`check_text` must never raise, and every diagnostic it returns must point at a real line and column, on one line.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer.course.loader import CheckResult, check_text
from trainer.course.yamlsource import parse_text

MINI = (Path(__file__).resolve().parent.parent / "fixtures" / "mini_course.yaml").read_text(encoding="utf-8")
# The mini course with every optional part, so that random events, the map and positions get mangled too.
RICH = (
    MINI.replace("    outcome: completed\n", "    outcome: completed\n    position: exit\n")
    + """\
random_events:
  - id: forklift
    probability: 0.3
    states: [begin]
    text: {zh: 叉车来了, en: A forklift comes}
    set: {power: "on"}
    appears_at: aisle
    actions:
      - id: wait
        label: {zh: 等待, en: Wait}
      - id: run
        label: {zh: 跑, en: Run}
        goto: hurt
        mistake: {code: RAN, severity: serious, rule: {zh: 别跑, en: Do not run}, instead: {zh: 走, en: Walk}}
    ignored: {code: IGNORED, severity: minor, rule: {zh: 注意, en: Watch out}, instead: {zh: 看, en: Look}}
map:
  width: 40
  height: 10
  zones:
    - {id: press, label: {zh: 压机, en: Press}, rect: [0, 0, 20, 10], kind: hazard}
    - {id: aisle, label: {zh: 通道, en: Aisle}, rect: [20, 0, 10, 10], kind: walkway}
    - {id: exit, label: {zh: 出口, en: Exit}, rect: [30, 0, 10, 10], kind: exit}
  machines:
    - {id: press-1, label: {zh: 一号压机, en: Press 1}, at: [5, 5], running: power == "on", locked: locked}
"""
)
BASES = {name: (text, parse_text(text, name).data) for name, text in (("mini.yaml", MINI), ("rich.yaml", RICH))}

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces that mean something to YAML or to our loader, mixed with arbitrary unicode (surrogates and controls included).
YAML_BITS = st.sampled_from(
    [":", ": ", "- ", "-", "{", "}", "[", "]", ",", "&a ", "*a", "!!python/name:os.system", "!!str ", "!!binary ",
     "<<: ", "? ", "|", ">", "#", "'", '"', "\\", "%YAML 1.1\n", "---\n", "...\n", "\t", "\n", "  ", "\r\n", "\ufeff",
     "\x00", "\x1b", "\ud800", "\x85", "\u2028", "on", "yes", "null", "~", ".nan", "1e999", "0x1F", "10000000000000000000000",
     "goto: ", "when: ", "set: ", "outcome: completed", "states", "begin", "done", "hurt", "lock", "after: [work]"]
)  # fmt: skip
SNIPPETS = st.one_of(YAML_BITS, st.text(max_size=8), st.characters(codec=None))


@st.composite
def mangled_text(draw: st.DrawFn) -> str:
    text = BASES[draw(st.sampled_from(list(BASES)))][0]
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "swap_lines", "duplicate_line"]))
        at = draw(st.integers(0, len(text)))
        if op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif op == "insert":
            text = text[:at] + draw(SNIPPETS) + text[at:]
        elif op == "replace":
            text = text[:at] + draw(SNIPPETS) + text[at + 1 :]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if op == "swap_lines":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines.insert(j, lines[i])
            text = "\n".join(lines)
    return text


WRONG_VALUES = st.one_of(
    st.sampled_from([None, [], {}, 0, -1, 2.5, True, False, "", " ", "x", "on", 10**20, "UPPER", "no such state"]),
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=3),
    st.just({"zh": {"nested": ["deeper", {"deepest": None}]}}),
    st.just({"zh": "文字"}),
    st.just({"id": "lock", "label": {"en": "x"}}),
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


def _get(data: Any, path: tuple) -> Any:
    for p in path:
        data = data[p]
    return data


@st.composite
def mangled_data(draw: st.DrawFn) -> str:
    data = copy.deepcopy(BASES[draw(st.sampled_from(list(BASES)))][1])
    for _ in range(draw(st.integers(1, 5))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _get(data, path[:-1]), path[-1]
        op = draw(st.sampled_from(["delete", "replace", "replace", "rename", "copy"]))
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = copy.deepcopy(draw(WRONG_VALUES))  # sampled values are shared between examples
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = parent.pop(key)
        else:  # a part of the course put where another part belongs
            parent[key] = copy.deepcopy(_get(data, draw(st.sampled_from(paths))))
    flow = draw(st.sampled_from([False, None, True]))
    return yaml.safe_dump(data, allow_unicode=True, default_flow_style=flow, sort_keys=draw(st.booleans()))


def assert_well_formed(result: CheckResult, text: str) -> None:
    lines = max(len(text.splitlines()), 1)
    for d in result.diagnostics:
        assert d.pos.line >= 1 and d.pos.col >= 1, d
        assert d.pos.line <= lines + 1, d
        assert "\n" not in str(d), d
    assert (result.course is None) == bool(result.errors)


@FUZZ
@given(mangled_text())
def test_mangled_yaml_text_never_raises(text):
    assert_well_formed(check_text(text, "fuzz.yaml"), text)


@FUZZ
@given(mangled_data())
def test_mangled_course_data_never_raises(text):
    assert_well_formed(check_text(text, "fuzz.yaml"), text)


@pytest.mark.parametrize("name", list(BASES))
def test_the_fuzzers_start_from_a_valid_course(name):
    # If a base stopped loading, the fuzz tests above would only ever exercise its first error.
    text, data = BASES[name]
    result = check_text(text, name)
    assert result.course is not None and result.diagnostics == ()
    assert check_text(yaml.safe_dump(data, allow_unicode=True), name).course is not None
