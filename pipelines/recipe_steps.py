"""Applying a recipe's steps to a stream of pages, counting every step in the ledger.

Two modes share this code:

* filter mode: a step's ``[]`` drops the page, which goes to the dropped sink
  with its reason (the step and its parameters) and the signals that decided;
* annotate mode: every filter's signals are stored as columns and no filter
  drops anything, so ``dclm select`` can apply any thresholds later. A page
  that a modifier empties is kept too, marked in ``annotate_dropped_at``, and
  no later step sees it.
"""
from __future__ import annotations

import json
import time
from typing import Callable, Iterable, Iterator, Optional

import pyarrow as pa

from dclm.io.parquet_schema import CORE_SCHEMA, batch_schema, settle
from dclm.recipe import RecipeStep
from dclm.runtime.ledger import ShardLedger, StepCounts
from filters.operator import FILTER

ANNOTATE_DROPPED_AT = "annotate_dropped_at"
_CORE = {"id", "url", "text", "source", "date", "metadata"}
DroppedSink = Callable[[dict, RecipeStep, str, dict], None]
# dropped/ shards have one shape whatever the recipe: the signals are JSON.
DROPPED_SCHEMA = pa.schema(list(CORE_SCHEMA) + [pa.field("dropped_step", pa.string()),
                                                pa.field("dropped_reason", pa.string()),
                                                pa.field("dropped_signals", pa.string())],
                           metadata=CORE_SCHEMA.metadata)
# An English paragraph for probing which columns a recipe adds (see probe_schema).
_PROBE_TEXT = ("The town council met on Tuesday evening to discuss the plan for the new library. "
               "Most of the members said that the old building was too small and that it had been "
               "in poor repair for many years. The mayor thanked the residents who came to the meeting "
               "and asked them to send their ideas to the council before the end of the month.\n"
               "A final decision on the design will be made in the spring, after the budget is approved.")


def reason_for(step: RecipeStep) -> str:
    """A drop reason users can read: the step, its function and its parameters."""
    params = ", ".join(f"{k}={v!r}" for k, v in step.kwargs.items() if k != "banlist")
    return f"{step.label}({params})" if params else step.label


class StepRunner:
    """Runs compiled recipe steps over pages, one page through all steps at a time."""

    def __init__(self, steps: list[RecipeStep], ledger: ShardLedger, annotate: bool = False,
                 dropped_sink: Optional[DroppedSink] = None):
        self.steps = steps
        self.annotate = annotate
        self.dropped_sink = dropped_sink
        self.counts: list[StepCounts] = [ledger.step(step.label) for step in steps]
        self.reasons = [reason_for(step) for step in steps]

    def run(self, pages: Iterable[dict]) -> Iterator[dict]:
        for page in pages:
            yield from self._through(page, 0)

    def _through(self, page: dict, start: int) -> Iterator[dict]:
        current = [page]
        for index in range(start, len(self.steps)):
            produced: list[dict] = []
            for item in current:
                produced.extend(self._apply(index, item))
            current = produced
            if not current:
                return
        yield from current

    def _apply(self, index: int, page: dict) -> list[dict]:
        step, counts = self.steps[index], self.counts[index]
        if self.annotate and page.get(ANNOTATE_DROPPED_AT):
            counts.docs_in += 1
            counts.kept += 1
            return [page]
        counts.docs_in += 1
        started = time.perf_counter()
        signals: dict = {}
        try:
            if self.annotate and step.is_filter:
                signals = step.op.signals(page, **step.kwargs)
                result = [{**page, **step.signal_columns(signals)}]
            else:
                result = step.op.func(page, **step.kwargs)
                if not result and step.is_filter and self.dropped_sink is not None:
                    signals = step.op.signals(page, **step.kwargs)
        except Exception as exc:  # one bad page must not end the shard
            counts.seconds += time.perf_counter() - started
            counts.errors[f"{type(exc).__name__}"] += 1
            if self.dropped_sink is not None:
                self.dropped_sink(page, step, f"error: {type(exc).__name__}: {exc}"[:500], {})
            return []
        counts.seconds += time.perf_counter() - started
        if not result:
            if self.annotate:
                counts.kept += 1
                return [{**page, ANNOTATE_DROPPED_AT: step.label}]
            counts.dropped[self.reasons[index]] += 1
            if self.dropped_sink is not None:
                self.dropped_sink(page, step, self.reasons[index], signals)
            return []
        counts.kept += 1
        counts.split += len(result) - 1
        if any(out.get("text") != page.get("text") for out in result):
            counts.modified += 1
        return result


def dropped_row(page: dict, step: RecipeStep, reason: str, signals: dict) -> dict:
    """The fixed-shape row stored in ``dropped/``: the page, who dropped it, and why."""
    return {
        "id": page.get("id"), "url": page.get("url"), "text": page.get("text"),
        "source": page.get("source"), "date": page.get("date"), "metadata": page.get("metadata"),
        "dropped_step": step.label,
        "dropped_reason": reason,
        # The deciding step's signals plus what earlier enrichers found (the
        # detected language, word counts): enough to answer "why did it go?".
        "dropped_signals": json.dumps({**{k: v for k, v in page.items() if k not in _CORE}, **signals},
                                      sort_keys=True, default=str),
    }


def probe_schema(steps: list[RecipeStep], annotate: bool, base: pa.Schema = CORE_SCHEMA) -> pa.Schema:
    """The columns a shard gets from these steps, learnt by passing one probe page through them.

    A shard in which every page was dropped has no rows to infer its schema
    from, yet readers of the whole run (top-fraction selection, ``dclm select``)
    expect the columns its siblings have. Filters never change a page, so the
    probe passes them by (recording their signals in annotate mode); a step
    that fails or empties the probe is skipped, so later enrichers still run.
    """
    page: dict = {name: None for name in base.names}
    page.update(id="probe", url="https://www.example.org/library-plan", text=_PROBE_TEXT,
                source="probe", date="", metadata={})
    for step in steps:
        try:
            if step.op.kind == FILTER:
                if annotate and step.is_filter:
                    page = {**page, **step.signal_columns(step.op.signals(page, **step.kwargs))}
                continue
            produced = step.op.func(page, **step.kwargs)
        except Exception:  # the probe is a guess at the columns, never a reason to fail
            continue
        if produced:
            page = produced[0]
    return settle(batch_schema([page], base))
