"""A new course to start from: small, complete, and passing `trainer course check` with no warning."""

from __future__ import annotations

from trainer.course.spec import is_ident

TEMPLATE = """\
# yaml-language-server: $schema=course.schema.json
# A new Trainer course. Check it with `trainer course check {id}.yaml`; the format is in docs/course-format.md.
id: {id}
version: "0.1.0"
title: {{zh: 新课程, en: New course}}
summary:
  zh: 用一两句话说明这门课训练什么。
  en: One or two sentences on what this course trains.
area: general
standards: ["GB/T 33579-2017"]
minutes: 5
pass: {{min_score: 80, critical_fails: true}}
certification_days: 365
objectives:
  - {{zh: 说出本作业的危险能量, en: Name the hazardous energies of the job}}
ppe:
  - {{zh: 安全鞋, en: Safety shoes}}
variables:
  power_on: true
  locked: false
inventory:
  - when: locked
    label: {{zh: 个人锁, en: Own lock}}
start: start
states:
  start:
    text:
      zh: 机器在运行。你要清理进料口。
      en: The machine is running. You need to clear the infeed.
    position: machine_front
    actions:
      - id: lock_out
        label: {{zh: 断电并挂上自己的锁, en: Switch off and apply your own lock}}
        when: power_on
        set: {{power_on: false, locked: true}}
        feedback:
          zh: 能量已隔离，锁是你自己的。
          en: Energy isolated, under your own lock.
      - id: clear_infeed
        label: {{zh: 清理进料口, en: Clear the infeed}}
        when: locked
        goto: done
      - id: reach_in
        label: {{zh: 不停机，直接伸手清理, en: Reach in without stopping}}
        when: power_on
        goto: injured
        mistake:
          code: REACH_IN_RUNNING
          severity: critical
          hazard: crush
          rule:
            zh: 清理、调整前必须停机并上锁
            en: Stop and lock out before clearing or adjusting
          standard: GB/T 33579-2017
          instead:
            zh: 先停机，断开隔离开关并挂上个人锁，再清理进料口
            en: Stop the machine and put your own lock on the isolator before clearing the infeed
  done:
    text: {{zh: 进料口已清理，作业完成。, en: The infeed is clear; the job is done.}}
    outcome: completed
  injured:
    text: {{zh: 手被卷入。, en: Your hand is drawn in.}}
    outcome: incident
    incident:
      zh: 运行中的辊子把手套连手一起卷入。
      en: The running rollers drew in the glove and the hand inside it.
procedure:
  - action: lock_out
    rule: {{zh: 先断电上锁, en: Lock out first}}
  - action: clear_infeed
    after: [lock_out]
    rule: {{zh: 上锁后再清理, en: Clear only under lockout}}
map:
  width: 40
  height: 6
  zones:
    - id: machine_front
      label: {{zh: 机器前, en: Machine front}}
      rect: [0, 0, 24, 6]
    - id: infeed
      label: {{zh: 进料口, en: Infeed}}
      rect: [26, 0, 14, 6]
      kind: hazard
  machines:
    - id: machine
      label: {{zh: 机器, en: Machine}}
      at: [2, 2]
      running: power_on
      locked: locked
"""


def scaffold(course_id: str) -> str:
    if not is_ident(course_id):
        raise ValueError(f"{course_id!r} is not a valid course id (lower-case letters, digits, '-', '_')")
    return TEMPLATE.format(id=course_id)
