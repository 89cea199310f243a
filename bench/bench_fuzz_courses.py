"""Reliability: 10,000 fuzzed course files (mutations of the bundled courses) through `check`.

Each mutant is written to disk and checked as an instructor's file would be. Passes when nothing raises (no traceback
ever reaches a user), every rejected file gets at least one error, and every diagnostic is one line pointing at a real
line:col of that file. Usage: python bench/bench_fuzz_courses.py [--n 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import yaml

from trainer.course.library import bundled_dir
from trainer.course.loader import check_path

TOKENS = [":", ": ", "- ", "{", "}", "[", "]", ",", "&a ", "*a", "!!python/object/apply:os.system [x]", "<<: ", "? ", "|",
          "#", "'", '"', "\t", "\n", "  ", "\x00", "\x1b", "on", "yes", "~", ".nan", "1e999", "goto: ", "when: ",
          "set: ", "outcome: completed", "after: [x]", "中文", "\ufeff"]  # fmt: skip
WRONG_VALUES: list[Any] = [None, [], {}, 0, -1, 10**30, "", "x", True, [1, 2], {"zh": 1}, "not (", "a and"]


def text_mutant(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        pos = rng.randrange(len(chars) + 1)
        if op < 0.35 and chars:
            del chars[pos : pos + rng.randint(1, 40)]
        elif op < 0.7:
            chars[pos:pos] = list(rng.choice(TOKENS))
        else:
            lines = "".join(chars).split("\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            chars = list("\n".join(lines))
    return "".join(chars)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def data_mutant(rng: random.Random, data: Any) -> str:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 4)):
        path = rng.choice(paths(data)[1:])
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if rng.random() < 0.4 and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = rng.choice(WRONG_VALUES)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bases = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(bundled_dir().glob("*.yaml"))]
    datas = [(name, yaml.safe_load(text)) for name, text in bases]
    crashes: list[str] = []
    bad_diagnostics: list[str] = []
    rejected = accepted = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "mutant.yaml"
        for i in range(args.n):
            if i % 2:
                name, text = rng.choice(bases)
                mutant = text_mutant(rng, text)
            else:
                name, data = rng.choice(datas)
                mutant = data_mutant(rng, data)
            target.write_text(mutant, encoding="utf-8", errors="surrogatepass")
            try:
                result = check_path(target)
            except Exception:  # noqa: BLE001 - any escape is what this bench exists to find
                crashes.append(f"mutant {i} of {name}:\n{traceback.format_exc()}")
                continue
            line_count = max(1, len(mutant.split("\n")))
            for d in result.diagnostics:
                text = str(d)
                if "\n" in text or not (1 <= d.pos.line <= line_count + 1) or d.pos.col < 1:
                    bad_diagnostics.append(f"mutant {i} of {name}: {text!r}")
            if result.errors:
                rejected += 1
            elif result.course is not None:
                accepted += 1
            else:
                bad_diagnostics.append(f"mutant {i} of {name}: no course and no error")
    elapsed = time.perf_counter() - started
    print(
        f"fuzzed courses: {args.n} mutants of {len(bases)} bundled courses in {elapsed:.1f} s ({args.n / elapsed:.0f}/s)"
    )
    print(f"  rejected with file:line:col errors: {rejected}; still valid: {accepted}")
    print(f"  tracebacks: {len(crashes)}; malformed diagnostics: {len(bad_diagnostics)}")
    for problem in (crashes + bad_diagnostics)[:5]:
        print("  " + problem.replace("\n", "\n  "), file=sys.stderr)
    return 1 if crashes or bad_diagnostics else 0


if __name__ == "__main__":
    sys.exit(main())
