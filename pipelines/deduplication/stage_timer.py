"""Seconds per phase of a distributed dedup run.

Ray tasks run asynchronously, so the time a phase takes is only visible at a
barrier: ``wait`` blocks until the phase's refs are computed (without
fetching them to the driver) and charges the time since the previous mark to
that phase. The phases of every dedup method already depend on all of the
previous phase's output (a partition needs every shard's part), so the
barrier costs no overlap.
"""
from __future__ import annotations

import time
from typing import Optional


class StageTimer:
    """Writes ``{phase: seconds}`` into ``timings`` (a dict the caller owns)."""

    def __init__(self, timings: Optional[dict] = None):
        self.timings = timings if timings is not None else {}
        self.last = time.monotonic()

    def mark(self, phase: str) -> None:
        now = time.monotonic()
        self.timings[phase] = round(self.timings.get(phase, 0.0) + now - self.last, 3)
        self.last = now

    def wait(self, phase: str, refs: list) -> None:
        import ray

        flat = [ref for ref in _flatten(refs) if ref is not None]
        if flat:
            ray.wait(flat, num_returns=len(flat), fetch_local=False)
        self.mark(phase)


def _flatten(refs):
    for item in refs:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item
