"""The workshop map as a trainee sees it: symbols and words, not colour alone; wide characters in place."""

from __future__ import annotations

from rich.cells import cell_len

from trainer.course.loader import check_text
from trainer.tui.mapdraw import draw_map, legend

COURSE = """
id: m
version: "1"
title: {zh: 图, en: Map}
area: stamping
standards: [x]
minutes: 5
pass: {min_score: 80}
certification_days: 30
variables: {power: true, locked: false}
start: a
states:
  a:
    text: {zh: 甲, en: A}
    position: panel
    actions:
      - {id: lock, label: {zh: 锁, en: Lock}, set: {power: false, locked: true}}
      - {id: end, label: {zh: 完, en: End}, goto: z}
  z: {text: {zh: 完, en: Done}, outcome: completed}
map:
  width: 40
  height: 6
  zones:
    - {id: press, label: {zh: 冲压机区域, en: Press}, rect: [0, 0, 20, 6], kind: hazard}
    - {id: panel, label: {zh: 控制柜, en: Panel}, rect: [22, 0, 18, 6]}
  machines:
    - {id: p, label: {zh: 压机, en: P1}, at: [2, 2], running: power, locked: locked}
"""


def course():
    result = check_text(COURSE)
    assert result.course is not None, result.diagnostics
    return result.course


def test_energy_state_is_a_symbol_not_only_a_colour():
    c = course()
    running = draw_map(c.map, {"power": True, "locked": False}, "en", position="panel").plain
    locked = draw_map(c.map, {"power": False, "locked": True}, "en", position="panel").plain
    stopped = draw_map(c.map, {"power": False, "locked": False}, "en", position="panel").plain
    assert "<R>" in running and "[L]" in locked and "[S]" in stopped
    assert "<R> running" in legend("en").plain and "[L] 已上锁" in legend("zh").plain


def test_every_row_is_exactly_the_map_width_with_chinese_labels():
    c = course()
    rows = draw_map(c.map, c.variables, "zh", position="panel", people=("press",)).plain.split("\n")
    assert len(rows) == 6
    assert all(cell_len(row) == 40 for row in rows)
    assert "┌冲压机区域" in rows[0] and "┌控制柜" in rows[0]


def test_trainee_and_a_person_are_drawn_without_hiding_the_machine():
    c = course()
    text = draw_map(c.map, c.variables, "en", position="panel", people=("press",)).plain
    assert text.count("@") == 1 and text.count("!") == 1 and "<R>" in text


def test_a_long_label_goes_on_inside_its_box_instead_of_being_cut():
    c = course()
    narrow = c.map.zones[1].__class__(
        "panel", c.map.zones[1].label.__class__(zh="控制柜", en="Control panel"), 22, 0, 9, 6
    )
    workshop = c.map.__class__(40, 6, (c.map.zones[0], narrow), c.map.machines)
    rows = draw_map(workshop, c.variables, "en").plain.split("\n")
    assert "┌Control┐" in rows[0] and "│panel  │" in rows[1]


def test_people_the_scene_names_are_drawn_with_their_name_where_the_course_puts_them():
    c = course()
    zh = draw_map(c.map, c.variables, "zh", position="press", named=(("panel", "小李"),)).plain.split("\n")
    en = draw_map(c.map, c.variables, "en", position="press", named=(("panel", "Xiao Li"),)).plain.split("\n")
    assert any("! 小李" in row and row.index("! 小李") > 22 for row in zh)  # in the panel zone, right of x=22
    assert any("! Xiao Li" in row for row in en)
    assert all(cell_len(row) == 40 for row in zh)


def test_the_course_format_places_people_per_state():
    text = COURSE.replace(
        "    position: panel\n",
        "    position: press\n    people:\n      - {at: panel, label: {zh: 小李, en: Xiao Li}}\n",
    )
    result = check_text(text)
    assert result.course is not None, result.diagnostics
    (person,) = result.course.states["a"].people
    assert person.at == "panel" and person.label.get("en") == "Xiao Li"
