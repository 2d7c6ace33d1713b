"""Every recipe operator by its DCLM name."""
from __future__ import annotations

from filters import (
    bookkeeping,
    c4,
    dclm_general,
    fineweb,
    language_id,
    line_modifiers,
    page_quality,
    quality_classifier,
    repetition,
    url_filters,
    url_removal,
)
from filters.operator import Operator

_MODULES = (url_filters, url_removal, language_id, page_quality, repetition, line_modifiers, bookkeeping, c4, fineweb,
            quality_classifier, dclm_general)


def _collect() -> dict[str, Operator]:
    found: dict[str, Operator] = {}
    for module in _MODULES:
        for op in module.OPERATORS:
            if op.name in found:
                raise RuntimeError(f"operator {op.name!r} is defined twice ({module.__name__})")
            found[op.name] = op
    return found


OPERATORS: dict[str, Operator] = _collect()


def operator_names() -> list[str]:
    return sorted(OPERATORS)
