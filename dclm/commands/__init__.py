"""Sub-commands of the ``dclm`` CLI, one module each."""
from __future__ import annotations

from dclm.commands import extract, recipe_stages, select


def register_all(subparsers, add_execution_options) -> None:
    for module in (extract, recipe_stages, select):
        module.register(subparsers, add_execution_options)
