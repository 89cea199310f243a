"""`trainer GROUP --help` lists each subcommand with a whole sentence, never one cut where the source was wrapped."""

from __future__ import annotations

import argparse

from trainer.cli import build_parser, first_sentence


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
