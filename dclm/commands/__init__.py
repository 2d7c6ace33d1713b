"""Sub-commands of the ``dclm`` CLI, one module each."""
from __future__ import annotations

from dclm.commands import (
    classifier,
    compare,
    decontaminate,
    dedup,
    evaluate,
    extract,
    leaderboard,
    recipe_stages,
    report,
    select,
    submit,
    tokenize,
    train,
)


def register_all(subparsers, add_execution_options) -> None:
    for module in (extract, recipe_stages, select, dedup, classifier, tokenize, train, evaluate, decontaminate,
                   compare, report, submit, leaderboard):
        module.register(subparsers, add_execution_options)
