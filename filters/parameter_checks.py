"""A recipe step's parameters against its operator's declared signature: types, then ranges.

Without this, ``min_length: "abc"`` or ``keep_probability: -5`` load fine and
then fail on every document, and the run keeps nothing. Types come from the
step function's annotations (``float`` takes an int too, never a bool;
``Optional``, ``Union`` and ``Sequence[str]`` as written). Ranges are a
property of what a parameter *means*, the same in every operator that takes
it, so they are declared once here by name.
"""
from __future__ import annotations

import collections.abc
import inspect
import math
import typing
from typing import Any

from filters.operator import Operator

# Parameters that are shares of something: a fraction, a probability, a ratio of a part to its whole.
_FRACTIONS = frozenset({
    "keep_probability", "char_duplicates_ratio", "line_punct_thr", "max_alnum_ratio", "max_bullet_start_ratio",
    "max_ellipsis_end_ratio", "max_fraction", "max_removed_ratio", "new_line_ratio", "short_line_thr",
})
# Counts, lengths, seeds and ratios that have no upper bound but cannot be negative.
_NON_NEGATIVE = frozenset({
    "max_length", "min_length", "max_word_length", "min_num_sentences", "min_stop_word", "min_words_per_line",
    "max_consecutive", "num_banned_substrs", "short_line_length", "seed", "max_symbol_to_word_ratio", "max_ratio",
})


def _type_name(expected: Any) -> str:
    origin = typing.get_origin(expected)
    if origin is typing.Union:
        return " or ".join("null" if a is type(None) else _type_name(a) for a in typing.get_args(expected))
    if origin in (collections.abc.Sequence, list, tuple):
        args = typing.get_args(expected)
        return f"a list of {_type_name(args[0])}" if args else "a list"
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string"}.get(expected, str(expected))


def _matches(value: Any, expected: Any) -> bool:
    origin = typing.get_origin(expected)
    if origin is typing.Union:
        return any(_matches(value, option) for option in typing.get_args(expected))
    if origin in (collections.abc.Sequence, list, tuple):
        args = typing.get_args(expected)
        return isinstance(value, (list, tuple)) and (not args or all(_matches(v, args[0]) for v in value))
    if expected is type(None):
        return value is None
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    if expected is str:
        return isinstance(value, str)
    return True                       # a type this check does not model: the operator's own checks apply


def _range_problem(name: str, value: Any) -> str | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    if name in _FRACTIONS and not 0 <= value <= 1:
        return f"{name}: {value!r} is out of range (a fraction, from 0 to 1)"
    if name in _NON_NEGATIVE and value < 0:
        return f"{name}: {value!r} is out of range (it cannot be negative)"
    return None


def parameter_problems(op: Operator, kwargs: dict[str, Any]) -> list[str]:
    """Every parameter whose type or value the operator cannot take, as ``name: why`` lines."""
    try:
        hints = typing.get_type_hints(op.func)
    except (NameError, TypeError):
        hints = {}
    declared = inspect.signature(op.func).parameters
    problems = []
    for name, value in kwargs.items():
        expected = hints.get(name) if name in declared else None
        if expected is not None and not _matches(value, expected):
            problems.append(f"{name}: expected {_type_name(expected)}, got {value!r}")
            continue
        problem = _range_problem(name, value)
        if problem:
            problems.append(problem)
    return problems
