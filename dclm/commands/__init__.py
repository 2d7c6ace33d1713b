"""Sub-commands of the ``dclm`` CLI, one module each."""
from __future__ import annotations

from dclm.commands import classifier, extract, recipe_stages, select


def register_all(subparsers, add_execution_options) -> None:
    for module in (extract, recipe_stages, select, classifier):
        module.register(subparsers, add_execution_options)
