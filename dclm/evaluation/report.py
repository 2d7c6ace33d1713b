"""The evaluation report: DCLM's JSON layout, centered accuracy, Core, plus bpb and model identity.

DCLM writes (eval/eval_openlm_ckpt.py, eval/aggregated_metrics.py):
``name``, ``uuid``, ``model``, ``creation_date``, ``eval_metrics.icl.<task>``
(the accuracy in [0, 1]), ``missing tasks`` (a string), per-category means
``aggregated_task_categories_centered``, ``aggregated_centered_results``
(mean centered accuracy over all tasks), ``aggregated_results`` (mean raw),
``low_variance_datasets`` / ``low_variance_datasets_centered`` (the Core task
list), ``Core``, ``Extended`` and ``eval_version``. We write the same keys, so
DCLM-side tooling reads our files.

Centered accuracy is ``(acc - random) / (1 - random)``: 0 at chance, 1 when
perfect (DCLM's "v2" formula, with baselines as fractions). Where we differ:

* DCLM writes "N/A due to missing tasks" for Core when any of its 22 Core
  tasks is missing. Only 9 of them ship offline, so our ``Core`` is the mean
  over those 9 (named in ``Core_tasks``; the others in ``Core_missing``).
  Extra tasks (siqa, sciq, 5-shot variants) enter ``Extended`` only.
* ``missing tasks`` lists the tasks of the chosen set whose files are absent
  (DCLM lists those of its whole metadata table).
* Added keys: ``eval_metrics.icl_centered``, ``eval_metrics.icl_details``
  (raw / per-token / per-char accuracy, gold bpb, normalised gold probability,
  item counts), ``eval_metrics.gold_bpb`` (the gold answer's bits per byte of
  every task, accuracy tasks and gold-bpb-only tasks), ``eval_metrics.core_bpb``
  (their mean over the DCLM Core tasks available, ``core_bpb_tasks``),
  ``eval_metrics.bits_per_byte`` (one value per held-out text set) with
  ``eval_metrics.heldout`` (their details), ``task_set`` (with the items
  excluded as contaminated), ``model_identity``.

Determinism: ``uuid`` is derived from the content rather than random, so the
same model and task set give the same file, except for ``creation_date``,
which the caller passes in.
"""
from __future__ import annotations

import hashlib
import json
import uuid as uuid_lib
from typing import Any, Optional

from dclm.evaluation.runner import EvalResults
from dclm.evaluation.tasks import BPB, CORE_AGGREGATE_TASKS, CORE_BPB_TASKS, DCLM_CORE_TASK_NAMES

EVAL_VERSION = "v2"            # DCLM's centered formula version; ours matches it
_UUID_NAMESPACE = uuid_lib.UUID("8a0f2f4e-0d5c-4c43-9d7e-2a3b5f1c6e11")


def centered_accuracy(acc: float, random_baseline: float) -> float:
    """(acc - random) / (1 - random): 0 at chance level, 1 at perfect accuracy."""
    if not 0.0 <= random_baseline < 1.0:
        raise ValueError(f"random baseline {random_baseline} must be in [0, 1)")
    return (acc - random_baseline) / (1.0 - random_baseline)


def _mean(values: list[float]) -> Optional[float]:
    return sum(values) / len(values) if values else None


def core_score(centered: dict[str, float]) -> tuple[Optional[float], list[str], list[str]]:
    """(Core, the Core tasks it averages, DCLM Core tasks absent from ``centered``)."""
    used = [name for name in CORE_AGGREGATE_TASKS if name in centered]
    missing = [name for name in DCLM_CORE_TASK_NAMES if name not in centered]
    return _mean([centered[name] for name in used]), used, missing


def core_bpb(gold_bpb: dict[str, float]) -> tuple[Optional[float], list[str]]:
    """(mean gold-answer bits per byte over the DCLM Core tasks scored, those tasks)."""
    used = [name for name in CORE_BPB_TASKS if name in gold_bpb]
    return _mean([gold_bpb[name] for name in used]), used


def model_identity(model=None, scale=None, run_config: Optional[dict] = None,
                   tokenizer_name: Optional[str] = None) -> dict[str, Any]:
    """What was evaluated: the scale and its hash, parameter count and a digest of the weights.

    Paths are left out on purpose: the same data, scale and seed must give the
    same report wherever the run directory lives.
    """
    identity: dict[str, Any] = {}
    if scale is not None:
        from dclm.training.scales import scale_hash

        identity.update(scale=scale.name, scale_hash=scale_hash(scale), tokenizer=scale.tokenizer,
                        vocab_size=scale.vocab_size, seq_len=scale.seq_len)
    elif tokenizer_name:
        identity["tokenizer"] = tokenizer_name
    if model is not None:
        identity["parameters"] = sum(p.numel() for p in model.parameters())
        identity["weights_sha256"] = weights_digest(model)
    for key in ("seed", "data_manifest_hash", "data_sha256", "tokens_trained", "steps_done", "complete"):
        if run_config and key in run_config:
            identity[key] = run_config[key]
    return identity


def weights_digest(model) -> str:
    """sha256 over every tensor of the state dict (names, shapes, dtypes, bytes), in name order."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}:{tuple(t.shape)}:{t.dtype};".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def build_report(results: EvalResults, *, model_name: str, identity: dict[str, Any],
                 creation_date: str, exclusions_summary: Optional[dict] = None) -> dict[str, Any]:
    """The report dict in DCLM's layout (see the module docstring).

    ``exclusions_summary`` says which contaminated items were left out (the
    exclusion list's digest and where it came from); None when none were.
    """
    accuracy_tasks = {name: m for name, m in results.tasks.items() if results.specs[name].kind != BPB}
    icl = {name: metrics["acc"] for name, metrics in accuracy_tasks.items()}
    gold_bpb = {name: metrics["bpb_gold"] for name, metrics in results.tasks.items() if "bpb_gold" in metrics}
    core_bits, core_bits_tasks = core_bpb(gold_bpb)
    centered = {name: centered_accuracy(icl[name], results.specs[name].random_baseline) for name in icl}
    categories: dict[str, list[float]] = {}
    for name, value in centered.items():
        categories.setdefault(results.specs[name].category, []).append(value)
    core, core_tasks, core_missing = core_score(centered)
    eval_metrics: dict[str, Any] = {
        "icl": icl,
        "icl_centered": centered,
        "icl_details": {name: {**metrics, "random_baseline": results.specs[name].random_baseline,
                               "category": results.specs[name].category,
                               "source": f"{results.specs[name].source}/{results.specs[name].variant}",
                               "num_shots": results.specs[name].num_shots,
                               "items_excluded": results.excluded.get(name, 0)}
                        for name, metrics in accuracy_tasks.items()},
        "gold_bpb": gold_bpb,
        "gold_bpb_details": {name: {**metrics, "category": results.specs[name].category,
                                    "source": f"{results.specs[name].source}/{results.specs[name].variant}",
                                    "num_shots": results.specs[name].num_shots,
                                    "items_excluded": results.excluded.get(name, 0)}
                             for name, metrics in results.tasks.items() if results.specs[name].kind == BPB},
        "core_bpb": core_bits,
        "core_bpb_tasks": core_bits_tasks,
    }
    if results.heldout:
        eval_metrics["bits_per_byte"] = {name: h["bits_per_byte"] for name, h in results.heldout.items()}
        eval_metrics["heldout"] = {name: {**h, "documents_excluded": results.excluded.get(name, 0)}
                                   for name, h in results.heldout.items()}
    task_set = results.task_set
    report: dict[str, Any] = {
        "name": f"eval_{task_set.name}",
        "uuid": None,
        "model": model_name,
        "creation_date": creation_date,
        "eval_metrics": eval_metrics,
        "missing tasks": str(results.missing),
        "aggregated_task_categories_centered": {k: _mean(v) for k, v in sorted(categories.items())},
        "aggregated_centered_results": _mean(list(centered.values())),
        "aggregated_results": _mean(list(icl.values())),
        "low_variance_datasets": _mean([icl[name] for name in core_tasks]),
        "low_variance_datasets_centered": core,
        "Core": core,
        "Core_tasks": core_tasks,
        "Core_missing": core_missing,
        "Extended": _mean(list(centered.values())),
        "eval_version": EVAL_VERSION,
        "task_set": {"name": task_set.name, "items_per_task": task_set.items_per_task,
                     "bpb_documents": task_set.bpb_documents, "seed": task_set.seed,
                     "tasks": [spec.name for spec in task_set.tasks],
                     "heldout_sets": list(task_set.heldout_sets),
                     "exclusions": exclusions_summary},
        "model_identity": identity,
    }
    # Content-derived: the same model, set and numbers give the same uuid.
    content = json.dumps({k: v for k, v in report.items() if k not in ("uuid", "creation_date")},
                         sort_keys=True, default=str)
    report["uuid"] = str(uuid_lib.uuid5(_UUID_NAMESPACE, content))
    return report


def report_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=4) + "\n"
