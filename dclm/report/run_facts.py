"""A training run directory (``dclm train``, ``dclm eval``) as plain data: loss per step and eval scores.

    RUN/config.json       the run's record (scale, seed, tokens, epochs, ...)
    RUN/metrics.jsonl     one JSON object per optimizer step: step, loss, lr, tokens, ...
    RUN/eval_<set>.json   DCLM's eval layout: Core, Extended, eval_metrics.icl, ...
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from fsspec.core import url_to_fs

from dclm.errors import UsageError
from dclm.report.collect import read_json

CONFIG_KEYS = ("scale", "seed", "dataset_tokens", "tokens_trained", "epochs", "steps_done", "total_steps",
               "device", "complete")


@dataclass
class EvalSummary:
    """The headline numbers of one eval JSON."""

    name: str
    path: str
    headline: dict[str, Optional[float]]
    bits_per_byte: dict[str, float]
    tasks: list[tuple[str, float, Optional[float]]]      # (task, accuracy, centered accuracy)
    missing: str = ""


@dataclass
class RunData:
    path: str
    config: dict
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    evals: list[EvalSummary] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.path.rstrip("/").rpartition("/")[2]


def is_run_dir(path: str) -> bool:
    fs, real = url_to_fs(path)
    real = real.rstrip("/")
    return fs.isfile(f"{real}/config.json") and fs.isfile(f"{real}/metrics.jsonl")


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def read_metrics(fs, path: str) -> tuple[list[int], list[float]]:
    steps, loss = [], []
    with fs.open(path, "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                # The trainer writes and flushes whole lines, so a bad line is damage to name.
                raise UsageError(f"{path}:{number}: not a JSON line ({exc})") from exc
            step, value = record.get("step"), _number(record.get("loss"))
            if not isinstance(step, int) or value is None:
                raise UsageError(f"{path}:{number}: expected integer 'step' and numeric 'loss'")
            steps.append(step)
            loss.append(value)
    return steps, loss


def read_eval(fs, path: str) -> EvalSummary:
    report = read_json(fs, path)
    metrics = report.get("eval_metrics")
    if not isinstance(metrics, dict) or not isinstance(metrics.get("icl", {}), dict):
        raise UsageError(f"{path}: field 'eval_metrics' (with 'icl') missing: not a DCLM-layout eval JSON")
    icl = metrics.get("icl") or {}
    centered = metrics.get("icl_centered") or {}
    tasks = sorted((name, float(acc), _number(centered.get(name))) for name, acc in icl.items()
                   if _number(acc) is not None)
    headline = {key: _number(report.get(key)) for key in ("Core", "Extended", "aggregated_centered_results")
                if key in report}
    if _number(metrics.get("core_bpb")) is not None:
        headline = {"core_bpb": float(metrics["core_bpb"]), **headline}
    bpb = {str(k): float(v) for k, v in (metrics.get("bits_per_byte") or {}).items() if _number(v) is not None}
    name = path.rpartition("/")[2]
    return EvalSummary(name, path, headline, bpb, tasks, str(report.get("missing tasks") or ""))


def collect_run(path: str) -> RunData:
    fs, real = url_to_fs(path)
    real = real.rstrip("/")
    if not fs.isfile(f"{real}/config.json"):
        raise UsageError(f"{path}: no config.json, so not a training run directory")
    run = RunData(path, read_json(fs, f"{real}/config.json"))
    if fs.isfile(f"{real}/metrics.jsonl"):
        run.steps, run.loss = read_metrics(fs, f"{real}/metrics.jsonl")
    for candidate in sorted(fs.glob(f"{real}/eval_*.json")):
        run.evals.append(read_eval(fs, candidate))
    return run


def config_summary(config: dict) -> list[tuple[str, Any]]:
    return [(key, config[key]) for key in CONFIG_KEYS if key in config]
