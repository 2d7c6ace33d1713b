"""Every ``dclm`` command's --help says what it does and shows an example; options that a command
ignores are not listed."""
from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from dclm.cli import build_parser


def _leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(words after `dclm`, parser) for every command that runs something."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        yield path, parser
        return
    for name, sub in actions[0].choices.items():
        yield from _leaf_commands(sub, path + (name,))


LEAVES = list(_leaf_commands(build_parser()))


def test_every_command_is_found():
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"extract", "run", "dedup minhash", "dedup exact", "dedup bff", "classifier score", "eval",
            "leaderboard validate", "leaderboard rank", "report"} <= names


@pytest.mark.parametrize("path,parser", LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_help_has_a_description_and_an_example(path, parser):
    description = parser.description or ""
    first = description.strip().split("\n\n")[0]
    assert len(first.split()) >= 4, f"dclm {' '.join(path)}: no sentence on what it does"
    assert f"dclm {' '.join(path)} " in description, f"dclm {' '.join(path)}: no example in --help"


@pytest.mark.parametrize("path,parser", LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_every_option_has_help(path, parser):
    for action in parser._actions:
        if action.option_strings and action.help != argparse.SUPPRESS:
            assert action.help, f"dclm {' '.join(path)} {action.option_strings[0]} has no help text"


def test_leaderboard_validate_has_its_own_text():
    parsers = dict((" ".join(p), parser) for p, parser in LEAVES)
    parent = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)][0]
    assert parsers["leaderboard validate"].description != parent.choices["leaderboard"].description
    assert parsers["leaderboard validate"].description != parsers["leaderboard rank"].description


def test_eval_lists_only_options_it_uses():
    help_text = subprocess.run([sys.executable, "-m", "dclm.cli", "eval", "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "--ray-address" not in help_text
    assert "--force" in help_text and "--num-cpus" in help_text


def test_dedup_methods_describe_themselves():
    for method in ("minhash", "exact", "bff", "url"):
        help_text = subprocess.run([sys.executable, "-m", "dclm.cli", "dedup", method, "--help"],
                                   capture_output=True, text=True, check=True).stdout
        body = help_text.split("options:")[0]
        assert f"dclm dedup {method} --input" in body
        assert len(body.split()) > 20, help_text
    bff = subprocess.run([sys.executable, "-m", "dclm.cli", "dedup", "bff", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--text-column" in bff and "column that holds" in bff
