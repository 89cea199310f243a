"""Where reading a course file points when it refuses a character, or a key written twice: file:line:col exactly.

Reading keeps the parser's marks instead of a position per node and finds bidi controls without a regex (issue 22:
the check's start); these pin the places and messages that must not move with it.
"""

from __future__ import annotations

from trainer.course.loader import check_text


def _errors(text: str) -> list[str]:
    return [str(d) for d in check_text(text, "c.yaml").diagnostics if d.severity == "error"]


def test_the_first_bidi_control_is_named_where_it_is_even_in_a_comment():
    text = "id: x\n# a comment \u2067 here\ntitle: {zh: \u4e2d\u202e, en: b}\n"
    assert _errors(text) == [
        "c.yaml:2:13: error: the character U+2067 (RIGHT-TO-LEFT ISOLATE) changes the order text is shown in; delete it"
    ]


def test_a_character_yaml_refuses_is_named_at_its_column():
    assert _errors("id: x\nversion: '1\x07'\n") == [
        "c.yaml:2:12: error: the character U+0007 (a control or invalid character) is not allowed in YAML; delete it"
    ]


def test_a_key_written_twice_points_at_the_second_and_names_the_first_line():
    errors = [e for e in _errors("id: x\nversion: '1'\nid: y\n") if "duplicate" in e]
    assert errors == ["c.yaml:3:1: error: duplicate key 'id' (first written at line 1); YAML would keep only one"]


def test_an_escaped_control_character_in_a_text_is_an_error_at_that_text():
    errors = [e for e in _errors('id: x\ntitle: {zh: "\\e[2J", en: b}\n') if "this text holds" in e]
    assert len(errors) == 1 and errors[0].startswith("c.yaml:2:13: error: this text holds U+001B, a control character")
