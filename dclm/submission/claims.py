"""Checks that `dclm submit` runs before packaging and `dclm leaderboard validate` runs again after.

Two questions decide whether a result may sit on a leaderboard:

* **Comparable?** The model was trained with one of the fixed scales of
  ``dclm.training.scales``, every hyper-parameter unchanged, for the whole token budget,
  and evaluated on a registered task set with nothing missing. Anything else
  is refused as "not comparable", naming what differs.
* **Are the scores what the per-task numbers say?** Centered accuracy is
  recomputed from each task's accuracy and *our* random baseline for that task
  (never the one written in the file), Core and Extended from those, and every
  claimed aggregate must equal the recomputed one. A claim with nothing behind
  it (a centered score without an accuracy, an unknown Core-like key) is refused.
"""
from __future__ import annotations

import math
from typing import Any, Optional

from dclm.submission.layout import hyperparameter_differences, hyperparameters

_TOLERANCE = 1e-12          # the numbers are recomputed in the same order from the same floats
_CORE_KEYS = {"Core", "Core_tasks", "Core_missing"}
_EVAL_METRIC_KEYS = {"icl", "icl_centered", "icl_details", "bits_per_byte", "heldout",
                     "gold_bpb", "gold_bpb_details", "core_bpb", "core_bpb_tasks"}


def fixed_scales(known: Optional[dict] = None) -> dict:
    """The registry of fixed scales (read when called, so a registered test scale is seen)."""
    if known is not None:
        return known
    from dclm.training.scales import SCALES

    return SCALES


def scale_problems(scale_name: Any, claimed_hash: Any, claimed: dict, known: Optional[dict] = None) -> list[str]:
    """Why (scale, scale hash, hyper-parameters) is not one of the fixed scales, or []."""
    from dclm.training.scales import scale_hash

    scales = fixed_scales(known)
    reference = scales.get(scale_name) if isinstance(scale_name, str) else None
    if reference is None:
        return [f"not comparable: scale {scale_name!r} is not a fixed scale (fixed: {', '.join(sorted(scales))})"]
    problems = []
    differences = hyperparameter_differences(claimed, reference.to_dict())
    if differences:
        problems.append(f"not comparable: hyper-parameters differ from fixed scale {scale_name!r}: "
                        + "; ".join(differences))
    fixed_hash = scale_hash(reference)
    if claimed_hash != fixed_hash:
        problems.append(f"not comparable: scale_hash {claimed_hash} is not the hash of fixed scale "
                        f"{scale_name!r} ({fixed_hash})")
    return problems


def run_problems(config: dict, known: Optional[dict] = None) -> list[str]:
    """A training run's config.json: a fixed scale, unchanged, trained to the end of its budget."""
    scale_fields = config.get("scale_config")
    if not isinstance(scale_fields, dict):
        return ["no scale_config record"]
    try:
        claimed = hyperparameters(scale_fields)
    except (KeyError, TypeError, ZeroDivisionError) as exc:
        return [f"scale_config is not a scale record ({exc!r})"]
    problems = scale_problems(config.get("scale"), config.get("scale_hash"), claimed, known)
    if problems:
        return problems
    reference = fixed_scales(known)[config["scale"]]
    budget = reference.total_steps * reference.tokens_per_step
    if config.get("complete") is not True or config.get("steps_done") != reference.total_steps:
        problems.append(f"training incomplete: {config.get('steps_done')} of {reference.total_steps} steps "
                        f"(complete: {config.get('complete')!r}); finish it with the same `dclm train` command")
    elif config.get("tokens_trained") != budget:
        problems.append(f"not comparable: trained {config.get('tokens_trained')} tokens, the budget is {budget}")
    return problems


# ---------------------------------------------------------------- evaluation report

def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def same_value(a: Any, b: Any) -> bool:
    """Equal numbers up to float rounding; None equals only None; anything else is never equal."""
    if a is None or b is None:
        return a is None and b is None
    return _number(a) and _number(b) and math.isclose(a, b, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE)


def _mean(values: list[float]) -> Optional[float]:
    return sum(values) / len(values) if values else None


def _task_set_problems(report: dict, scored: set[str], where: str) -> tuple[Optional[str], list[str]]:
    from dclm.evaluation import tasks

    claimed = report.get("task_set")
    if not isinstance(claimed, dict) or not isinstance(claimed.get("name"), str) or \
            claimed["name"] not in tasks.TASK_SETS:
        return None, [f"{where}: task_set: not comparable: not one of the registered task sets "
                      f"({', '.join(sorted(tasks.TASK_SETS))})"]
    fixed = tasks.TASK_SETS[claimed["name"]]
    names = [spec.name for spec in fixed.tasks]
    problems = []
    fixed_fields = [("items_per_task", fixed.items_per_task), ("bpb_documents", fixed.bpb_documents),
                    ("seed", fixed.seed), ("tasks", names)]
    if "heldout_sets" in claimed:           # reports from before there were several sets lack it
        fixed_fields.append(("heldout_sets", list(fixed.heldout_sets)))
    for key, value in fixed_fields:
        if claimed.get(key) != value:
            problems.append(f"{where}: task_set.{key}: not comparable: {claimed.get(key)!r} "
                            f"(task set {fixed.name!r} fixes {value!r})")
    gold_only = {spec.name for spec in fixed.tasks if spec.kind == tasks.BPB}
    scored = scored | (gold_only & set((report.get("eval_metrics") or {}).get("gold_bpb") or {}))
    missing = [name for name in names if name not in scored]
    if missing:
        problems.append(f"{where}: not comparable: tasks of set {fixed.name!r} without a score: {', '.join(missing)}")
    return fixed.name, problems


def _per_task(metrics: dict, where: str, problems: list[str]) -> dict[str, float]:
    """Accuracies in eval_metrics.icl of tasks we know; everything else is reported."""
    from dclm.evaluation.tasks import CORE_TASKS, FULL_EXTRA_TASKS

    known = {spec.name for spec in CORE_TASKS + FULL_EXTRA_TASKS}
    icl = metrics.get("icl")
    if not isinstance(icl, dict) or not icl:
        problems.append(f"{where}: eval_metrics.icl: missing or empty (no per-task scores)")
        return {}
    accuracies = {}
    for name, value in icl.items():
        if name not in known:
            problems.append(f"{where}: eval_metrics.icl.{name}: unknown task")
        elif not _number(value) or not 0.0 <= value <= 1.0:
            problems.append(f"{where}: eval_metrics.icl.{name}: {value!r} is not an accuracy in [0, 1]")
        else:
            accuracies[name] = value
    return accuracies


def _centered(metrics: dict, accuracies: dict[str, float], where: str, problems: list[str]) -> dict[str, float]:
    """Centered scores recomputed from accuracies and our baselines; the claimed ones must match."""
    from dclm.evaluation.report import centered_accuracy
    from dclm.evaluation.tasks import CORE_TASKS, FULL_EXTRA_TASKS

    baselines = {spec.name: spec.random_baseline for spec in CORE_TASKS + FULL_EXTRA_TASKS}
    recomputed = {name: centered_accuracy(acc, baselines[name]) for name, acc in accuracies.items()}
    icl = metrics.get("icl") if isinstance(metrics.get("icl"), dict) else {}
    claimed = metrics.get("icl_centered")
    if not isinstance(claimed, dict):
        problems.append(f"{where}: eval_metrics.icl_centered: missing")
        return recomputed
    for name, value in claimed.items():
        if name not in icl:
            problems.append(f"{where}: eval_metrics.icl_centered.{name}: a centered score with no accuracy in "
                            "eval_metrics.icl (a claim not backed by a per-task score)")
        elif name in recomputed and not same_value(value, recomputed[name]):
            problems.append(f"{where}: eval_metrics.icl_centered.{name}: {value!r} is not (acc - random) / "
                            f"(1 - random) = {recomputed[name]!r}")
    for name in recomputed:
        if name not in claimed:
            problems.append(f"{where}: eval_metrics.icl_centered: no centered score for {name}")
    details = metrics.get("icl_details", {})
    for name, acc in accuracies.items():
        detail = details.get(name) if isinstance(details, dict) else None
        if isinstance(detail, dict) and "acc" in detail and not same_value(detail["acc"], acc):
            problems.append(f"{where}: eval_metrics.icl_details.{name}.acc: {detail['acc']!r} differs from "
                            f"eval_metrics.icl.{name} ({acc!r})")
    return recomputed


def _bits_per_byte(metrics: dict, where: str, problems: list[str]) -> tuple[Optional[str], Optional[float]]:
    """(the held-out set or sets, their bits per byte: the value, or the mean over several sets)."""
    claimed = metrics.get("bits_per_byte")
    if claimed is None:
        return None, None
    if not isinstance(claimed, dict) or not claimed or not all(_number(v) and v > 0 for v in claimed.values()):
        problems.append(f"{where}: eval_metrics.bits_per_byte: expected a positive number per held-out set")
        return None, None
    heldout = metrics.get("heldout")
    if isinstance(heldout, dict) and "name" in heldout:
        heldout = {heldout["name"]: heldout}          # the layout of reports with a single set
    if isinstance(heldout, dict):
        for name, value in claimed.items():
            details = heldout.get(name)
            if not (isinstance(details, dict) and same_value(details.get("bits_per_byte"), value)):
                problems.append(f"{where}: eval_metrics.heldout: differs from eval_metrics.bits_per_byte "
                                f"({name}: {value!r})")
    names = sorted(claimed)
    if len(names) == 1:
        return names[0], claimed[names[0]]
    return "mean of " + ", ".join(names), sum(claimed[n] for n in names) / len(names)


def _core_bpb(metrics: dict, where: str, problems: list[str]) -> Optional[float]:
    """The claimed core_bpb, checked against the mean of the per-task gold bits per byte."""
    from dclm.evaluation.report import core_bpb

    gold = metrics.get("gold_bpb")
    if gold is None:
        if metrics.get("core_bpb") is not None:
            problems.append(f"{where}: eval_metrics.core_bpb: claimed without eval_metrics.gold_bpb behind it")
        return None
    if not isinstance(gold, dict) or not all(_number(v) and v > 0 for v in gold.values()):
        problems.append(f"{where}: eval_metrics.gold_bpb: expected a positive number per task")
        return None
    value, tasks = core_bpb(gold)
    if not same_value(metrics.get("core_bpb"), value):
        problems.append(f"{where}: eval_metrics.core_bpb: claims {metrics.get('core_bpb')!r}, but the per-task "
                        f"gold bits per byte give {value!r}")
    if metrics.get("core_bpb_tasks") != tasks:
        problems.append(f"{where}: eval_metrics.core_bpb_tasks: claims {metrics.get('core_bpb_tasks')!r}, "
                        f"but the scored tasks give {tasks!r}")
    return value


def eval_report_problems(report: Any, where: str = "eval.json") -> tuple[Optional[dict], list[str]]:
    """(scores recomputed from the per-task numbers, problems) of an evaluation report.

    The summary holds task_set, Core, Core_tasks, Extended, bits_per_byte,
    bits_per_byte_set and uuid, the values a submission may claim.
    """
    from dclm.evaluation.report import core_score

    if not isinstance(report, dict) or not isinstance(report.get("eval_metrics"), dict):
        return None, [f"{where}: not an evaluation report (no eval_metrics)"]
    problems: list[str] = []
    metrics = report["eval_metrics"]
    for key in sorted(set(metrics) - _EVAL_METRIC_KEYS):
        problems.append(f"{where}: eval_metrics.{key}: unknown claim (allowed: {', '.join(sorted(_EVAL_METRIC_KEYS))})")
    for key in sorted(k for k in report if "core" in k.lower() and k not in _CORE_KEYS):
        problems.append(f"{where}: {key}: unknown Core claim (only Core, Core_tasks and Core_missing are defined)")
    accuracies = _per_task(metrics, where, problems)
    centered = _centered(metrics, accuracies, where, problems)
    core, core_tasks, core_missing = core_score(centered)
    extended = _mean(list(centered.values()))
    for key, value in (("Core", core), ("low_variance_datasets_centered", core),
                       ("Extended", extended), ("aggregated_centered_results", extended)):
        if not same_value(report.get(key), value):
            problems.append(f"{where}: {key}: claims {report.get(key)!r}, but the per-task centered scores give "
                            f"{value!r}")
    for key, value in (("Core_tasks", core_tasks), ("Core_missing", core_missing)):
        if report.get(key) != value:
            problems.append(f"{where}: {key}: claims {report.get(key)!r}, but the scored tasks give {value!r}")
    task_set, set_problems = _task_set_problems(report, set(accuracies), where)
    problems.extend(set_problems)
    bpb_set, bpb = _bits_per_byte(metrics, where, problems)
    _core_bpb(metrics, where, problems)
    if core is None:
        problems.append(f"{where}: no Core task was scored, so there is no Core to rank by")
    summary = {"task_set": task_set, "Core": core, "Core_tasks": core_tasks, "Extended": extended,
               "bits_per_byte": bpb, "bits_per_byte_set": bpb_set, "uuid": report.get("uuid")}
    return summary, problems
