"""The one shape every recipe step has.

A step is a pure function over one page (a ``dict`` with at least ``text``):
it returns ``[]`` to drop the page, ``[page]`` to keep it (maybe modified or
enriched), or several pages for a split. This is DCLM's mapper contract.

Filters also expose their *signals* apart from their *decision* (dolma's
idea), so ``--annotate`` can store the signals as columns once and
``dclm select`` can apply thresholds later without recomputing anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

Page = dict
StepFunc = Callable[..., "list[Page]"]
SignalFunc = Callable[..., "dict[str, Any]"]
KeepFunc = Callable[..., bool]

FILTER = "filter"        # keeps or drops, never changes the page
MODIFIER = "modifier"    # rewrites text (line modifiers, URL removal, ...)
ENRICHER = "enricher"    # adds keys (language ID, word counts, scores)
GLOBAL = "global"        # needs every shard (dedup, top-fraction selection)


@dataclass(frozen=True)
class Operator:
    """A named recipe step.

    ``func(page, **kwargs)`` is the step itself.  For filters,
    ``signals(page, **kwargs)`` returns the measured values keyed by column
    name and ``keep(signals, **kwargs)`` decides on them; ``func`` must equal
    ``[page] if keep(signals(page, **kw), **kw) else []``.
    """

    name: str
    kind: str
    func: StepFunc
    signals: Optional[SignalFunc] = None
    keep: Optional[KeepFunc] = None
    # Called with the step's parameters when a recipe is loaded, so a missing
    # model or package stops the run before any page is read.
    check: Optional[Callable[..., None]] = None
