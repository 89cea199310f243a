"""The core (course reading, engine, scoring) stays free of the terminal UI and the database.

Checked in a fresh interpreter, because this test session has long since imported everything.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import trainer

ROOT = Path(__file__).resolve().parent.parent.parent
FORBIDDEN = ("textual", "sqlalchemy")


def core_modules() -> list[str]:
    modules = ["trainer.course.loader", "trainer.course.validate", "trainer.course.graph", "trainer.course.schema"]
    for package in ("engine", "scoring"):
        folder = Path(trainer.__file__).parent / package
        if folder.is_dir():
            modules.append(f"trainer.{package}")
            modules += [f"trainer.{package}.{m.name}" for m in pkgutil.iter_modules([str(folder)])]
    return modules


# Imports each module in turn and names the first one that brought in a forbidden package.
PROBE = """
import importlib, json, sys
forbidden, culprits = set(json.loads(sys.argv[1])), {}
for name in sys.argv[2:]:
    importlib.import_module(name)
    for top in sorted({m.split(".")[0] for m in sys.modules} & forbidden):
        culprits.setdefault(top, name)
print(json.dumps(culprits))
"""


def test_core_modules_import_neither_textual_nor_sqlalchemy():
    modules = core_modules()
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(FORBIDDEN), *modules],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == {}, "forbidden package: imported by"


def test_the_probe_would_notice_a_forbidden_import():
    # The probe itself must be able to fail: importing textual directly is seen.
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(FORBIDDEN), "textual"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == {"textual": "textual"}
