"""Course load + validate of a generated 2,000-state course, against a bare CSafeLoader load of the same file.

The floor is what any YAML course reader must pay (`yaml.load(text, CSafeLoader)`); the ratio is what our positions,
checks and model building cost on top. Goal: <= 2x. Measured in this process (the import of Trainer and yaml paid
beforehand), and as whole processes (a new process that loads the course, against a new process that only loads the
file with CSafeLoader; each imports what it uses), medians of --runs. Usage: python bench/bench_course_load.py
[--states 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml
from bench_startup import pair as process_pair

from trainer.course.loader import check_path


def generate(states: int) -> str:
    """A long but realistic course: each state has a timer, three actions (one conditional, one a declared mistake)."""
    lines = [
        "id: generated",
        'version: "1.0.0"',
        "title: {zh: 生成的课程, en: Generated course}",
        "area: general",
        'standards: ["GB/T 33579-2017"]',
        "minutes: 60",
        "pass: {min_score: 80}",
        "certification_days: 365",
        "variables: {count: 0, locked: false, mode: auto}",
        "start: s0",
        "states:",
    ]
    for i in range(states):
        nxt = f"s{i + 1}" if i + 1 < states else "done"
        lines += [
            f"  s{i}:",
            f"    text: {{zh: 第{i}步：检查设备状态并决定下一步。, en: Step {i} - check the machine and decide what to do next.}}",
            f"    timer: {{seconds: 60, goto: {nxt}}}",
            "    actions:",
            "      - id: lock",
            "        label: {zh: 上锁, en: Lock out}",
            '        when: not locked and mode == "auto"',
            "        set: {locked: true}",
            "        feedback: {zh: 已上锁。, en: Locked out.}",
            "      - id: next",
            "        label: {zh: 继续, en: Go on}",
            f"        goto: {nxt}",
            "      - id: shortcut",
            "        label: {zh: 走捷径, en: Take the shortcut}",
            "        goto: hurt",
            "        mistake: {code: SHORTCUT, severity: critical, rule: {zh: 不要走捷径, en: No shortcuts}}",
        ]
    lines += [
        "  done:",
        "    text: {zh: 完成, en: Done}",
        "    outcome: completed",
        "  hurt:",
        "    text: {zh: 受伤, en: Hurt}",
        "    outcome: incident",
    ]
    return "\n".join(lines) + "\n"


def median_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--states", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.yaml"
        path.write_text(generate(args.states), encoding="utf-8")
        result = check_path(path)
        assert result.course is not None and not result.errors, result.errors[:3]
        floor = median_of(args.runs, lambda: yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
        ours = median_of(args.runs, lambda: check_path(path))
        size = path.stat().st_size
        load = f"import yaml; yaml.load(open({str(path)!r}, encoding='utf-8'), Loader=yaml.CSafeLoader)"
        ours_process, floor_process = process_pair(
            args.runs,
            [sys.executable, "-c", f"from trainer.course.loader import load_course; load_course({str(path)!r})"],
            [sys.executable, "-c", load],
        )
    print(f"course load: {args.states} states ({size / 1e6:.1f} MB), median of {args.runs}")
    print(f"  bare yaml.load(CSafeLoader): {floor * 1000:8.1f} ms")
    print(f"  trainer load + validate:     {ours * 1000:8.1f} ms")
    print(f"  ratio: {ours / floor:.2f}x in this process (goal <= 2x)")
    print(
        f"  whole processes: {ours_process[0] * 1000:.0f} ms against {floor_process[0] * 1000:.0f} ms,"
        f" {ours_process[0] / floor_process[0]:.2f}x (CPU {ours_process[1] / floor_process[1]:.2f}x)"
    )


if __name__ == "__main__":
    main()
