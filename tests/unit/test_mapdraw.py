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
