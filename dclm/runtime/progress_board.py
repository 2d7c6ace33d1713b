"""The driver's side of live progress: a Ray actor that keeps each running shard's latest count.

Workers send it reports through ``dclm.io.shard_progress``; the driver polls
``snapshot()`` (``dclm.runtime.progress_display``).
"""
from __future__ import annotations

from typing import Optional


class ProgressBoard:
    """The actor: ``shard name -> (documents read, fraction of the input read or None)``."""

    def __init__(self):
        self._shards: dict[str, tuple[int, Optional[float]]] = {}

    def update(self, shard: str, documents: int, fraction: Optional[float]) -> None:
        self._shards[shard] = (documents, fraction)

    def snapshot(self) -> dict[str, tuple[int, Optional[float]]]:
        return dict(self._shards)


def start_board():
    """A ``ProgressBoard`` actor in the connected Ray runtime."""
    import ray

    # num_cpus=0: the board must not take a core a shard could use.
    return ray.remote(num_cpus=0, max_restarts=0)(ProgressBoard).remote()
