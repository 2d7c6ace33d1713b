"""How the report names steps and drop reasons for a reader.

Ledgers name a step by its position in the recipe (``09_language_filter``),
segments by their folder (``_work/02_27_bff_dedup``), and a drop reason by the
step's call with every parameter repr'd
(``09_language_filter(key='language_id_whole_page_fasttext', keep_languages=['en'], threshold=0.65)``).
Those names stay in tooltips and ``data-`` attributes, where tools and tests
read them; what a reader sees is the step's name and its parameters as
``name=value`` pairs.
"""
from __future__ import annotations

import ast
import re
from typing import Any

_POSITION = re.compile(r"^\d+_")
_CALL = re.compile(r"^([\w:.-]+)\((.*)\)$", re.DOTALL)
# Record types the extract step skips: they are not pages, so the funnel starts after them.
RECORD_REASON_PREFIX = "record_type:"


def step_title(step: str) -> str:
    """``09_language_filter`` -> ``language_filter``; names without a position stay as they are."""
    return _POSITION.sub("", step)


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple, set)):
        return ",".join(_value(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}:{_value(v)}" for k, v in value.items())
    return str(value)


def reason_parts(reason: str) -> tuple[str, list[str]]:
    """A drop reason as (step or reason name, ``["key=value", ...]``).

    ``09_language_filter(key='lid', keep_languages=['en'], threshold=0.65)``
    -> ``("language_filter", ["key=lid", "keep_languages=en", "threshold=0.65"])``;
    a reason that is not a call (``bff_duplicate``) has no parameters, and a
    call this cannot read is shown whole rather than guessed at.
    """
    match = _CALL.match(reason.strip())
    if not match:
        return step_title(reason), []
    name, inside = match.groups()
    try:
        call = ast.parse(f"f({inside})", mode="eval").body
        args = [_value(ast.literal_eval(node)) for node in call.args]
        params = [f"{kw.arg}={_value(ast.literal_eval(kw.value))}" for kw in call.keywords]
    except (SyntaxError, ValueError):
        return step_title(reason), []
    return step_title(name), args + params


def readable_reason(reason: str) -> str:
    """A reason as one line of plain text: ``language_filter threshold=0.65 keep_languages=en``."""
    name, params = reason_parts(reason)
    return " ".join([name, *params])
