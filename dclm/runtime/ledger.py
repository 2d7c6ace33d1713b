"""Counting what happened to every document, per step, per shard and per run.

Each step of each shard keeps ``StepCounts``. The invariant is
``in = kept + dropped + errors``: every document that entered a step is either
kept (maybe modified or split), dropped with a reason, or failed with a reason.
A shard's ledger is a JSON file written after its output, so a shard with both
files is complete (that is what resume relies on). The run's ``stats.json``
sums the shard ledgers.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from dclm.io.atomic_files import write_bytes_atomic

LEDGER_VERSION = 1
# Per-shard counts kept in a ledger's ``details`` that the run's stats add up.
SUMMED_DETAILS = ("extract_fallbacks",)


@dataclass
class StepCounts:
    """Documents in, kept, dropped by reason and failed by reason for one step."""

    step: str
    docs_in: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    modified: int = 0
    split: int = 0        # extra documents produced by splitting
    seconds: float = 0.0

    @property
    def docs_out(self) -> int:
        return self.kept + self.split

    def imbalance(self) -> int:
        """How far ``in`` is from ``kept + dropped + errors`` (0 when it adds up)."""
        return self.docs_in - self.kept - sum(self.dropped.values()) - sum(self.errors.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "in": self.docs_in,
            "kept": self.kept,
            "dropped": dict(sorted(self.dropped.items())),
            "errors": dict(sorted(self.errors.items())),
            "modified": self.modified,
            "split": self.split,
            "out": self.docs_out,
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StepCounts":
        return cls(step=data["step"], docs_in=data["in"], kept=data["kept"],
                   dropped=Counter(data.get("dropped", {})), errors=Counter(data.get("errors", {})),
                   modified=data.get("modified", 0), split=data.get("split", 0),
                   seconds=data.get("seconds", 0.0))

    def add(self, other: "StepCounts") -> None:
        self.docs_in += other.docs_in
        self.kept += other.kept
        self.dropped.update(other.dropped)
        self.errors.update(other.errors)
        self.modified += other.modified
        self.split += other.split
        self.seconds += other.seconds


@dataclass
class ShardLedger:
    """Everything one shard's run recorded; ``details`` holds stage-specific facts."""

    shard: str
    stage: str
    input: str
    output: str
    steps: list[StepCounts] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    started: float = field(default_factory=time.monotonic, repr=False)

    def step(self, name: str) -> StepCounts:
        for counts in self.steps:
            if counts.step == name:
                return counts
        counts = StepCounts(name)
        self.steps.append(counts)
        return counts

    def finish(self) -> None:
        self.seconds = time.monotonic() - self.started

    def problems(self) -> list[str]:
        """Each step whose counts do not add up, and each break in the chain of steps."""
        found = []
        for counts in self.steps:
            if counts.imbalance():
                found.append(f"{self.shard}: step {counts.step!r}: in={counts.docs_in} but kept+dropped+errors "
                             f"= {counts.docs_in - counts.imbalance()}")
        for before, after in zip(self.steps, self.steps[1:], strict=False):
            if before.docs_out != after.docs_in:
                found.append(f"{self.shard}: step {before.step!r} passed {before.docs_out} documents "
                             f"but step {after.step!r} received {after.docs_in}")
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": LEDGER_VERSION,
            "shard": self.shard,
            "stage": self.stage,
            "input": self.input,
            "output": self.output,
            "documents_in": self.steps[0].docs_in if self.steps else 0,
            "documents_out": self.steps[-1].docs_out if self.steps else 0,
            "seconds": round(self.seconds, 3),
            "steps": [counts.to_dict() for counts in self.steps],
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ShardLedger":
        ledger = cls(shard=data["shard"], stage=data["stage"], input=data["input"], output=data["output"],
                     steps=[StepCounts.from_dict(s) for s in data["steps"]],
                     details=data.get("details", {}), seconds=data.get("seconds", 0.0))
        return ledger

    def write(self, path: str) -> None:
        write_bytes_atomic(path, json.dumps(self.to_dict(), indent=2, sort_keys=False).encode())


def read_ledger(path: str) -> ShardLedger:
    import fsspec

    with fsspec.open(path, "rb") as fh:
        return ShardLedger.from_dict(json.loads(fh.read()))


def summarize_run(ledgers: list[ShardLedger], failures: dict[str, str], stage: str,
                  seconds: float, extra: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """The run-level stats: step counts summed over shards, failures, invariant problems."""
    totals: dict[str, StepCounts] = {}
    for ledger in ledgers:
        for counts in ledger.steps:
            totals.setdefault(counts.step, StepCounts(counts.step)).add(counts)
    problems = [p for ledger in ledgers for p in ledger.problems()]
    shard_seconds = sum(ledger.seconds for ledger in ledgers)
    docs_out = sum(ledger.steps[-1].docs_out for ledger in ledgers if ledger.steps)
    summed = {key: sum(ledger.details.get(key, 0) for ledger in ledgers)
              for key in SUMMED_DETAILS if any(key in ledger.details for ledger in ledgers)}
    return {
        "version": LEDGER_VERSION,
        "stage": stage,
        "shards_done": len(ledgers),
        "shards_failed": dict(sorted(failures.items())),
        "documents_in": sum(ledger.steps[0].docs_in for ledger in ledgers if ledger.steps),
        "documents_out": docs_out,
        "wall_seconds": round(seconds, 3),
        "shard_seconds": round(shard_seconds, 3),
        "steps": [counts.to_dict() for counts in totals.values()],
        "invariant_ok": not problems,
        "invariant_problems": problems,
        **summed,
        **(extra or {}),
    }
