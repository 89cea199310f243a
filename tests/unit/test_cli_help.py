"""`trainer GROUP --help` lists each subcommand with a whole sentence, never one cut where the source was wrapped."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from trainer.cli import GROUPS, build_parser, chosen_group
from trainer.cli.common import first_sentence


def _subcommand_helps(parser: argparse.ArgumentParser, prefix: str = "trainer") -> dict[str, str]:
    found: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                found[f"{prefix} {choice.dest}"] = choice.help or ""
            for name, child in action.choices.items():
                found.update(_subcommand_helps(child, f"{prefix} {name}"))
    return found


def test_every_subcommand_is_listed_with_a_whole_sentence():
    helps = _subcommand_helps(build_parser())
    assert "trainer model evaluate" in helps and "trainer sessions verify" in helps
    cut = {name: text for name, text in helps.items() if not text.rstrip().endswith((".", ")"))}
    assert cut == {}


def test_the_first_sentence_joins_wrapped_lines_and_stops_at_its_end():
    doc = "Measure the model: kappa beside the rubric, a dummy and the\nraters. Then more.\n\nDetails."
    assert first_sentence(doc) == "Measure the model: kappa beside the rubric, a dummy and the raters."
    assert first_sentence("One line, no stop") == "One line, no stop"


def test_the_top_level_lines_are_the_groups_own():
    helps = _subcommand_helps(build_parser())
    assert {name: helps[f"trainer {name}"] for name in GROUPS} == GROUPS
    assert sorted(n for n in helps if n.count(" ") == 1) == sorted(f"trainer {n}" for n in GROUPS)


# Which of the command modules a command line imports, in a fresh interpreter.
PROBE = """
import sys
from trainer.cli import build_parser
build_parser(sys.argv[1:])
print(" ".join(sorted(m for m in sys.modules if m.startswith("trainer.cli."))))
"""


@pytest.mark.parametrize(
    ("argv", "imported"),
    [
        (["--help"], "trainer.cli.common trainer.cli.root"),
        (["--db", "sessions", "course", "check", "x.yaml"], "trainer.cli.common trainer.cli.course trainer.cli.root"),
        (["--lang", "zh", "sessions", "list"], "trainer.cli.common trainer.cli.root trainer.cli.sessions"),
    ],
)
def test_a_command_imports_only_its_own_group(argv, imported):
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == imported


def test_the_chosen_group_skips_the_common_options_and_their_values():
    assert chosen_group(["--db", "x.db", "--courses", "dir", "report", "due"]) == "report"
    assert chosen_group(["--db=x.db", "model", "info"]) == "model"
    assert chosen_group(["--lang", "en"]) is None
