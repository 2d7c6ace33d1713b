"""Driving one stage end to end: resume check, Ray run, run stats, summary, exit code.

``stats.json`` records, besides the counts, how the run went: which shards
an earlier run had finished (``shards_resumed``), which survived a worker
death and how many times (``shards_retried``), and on how many Ray nodes
the shards ran (``nodes_used``).
"""
from __future__ import annotations

import json
import sys
from typing import Any, Callable, Optional, TextIO

from dclm.io.atomic_files import write_bytes_atomic
from dclm.io.output_layout import stats_path
from dclm.runtime.executor import ShardJob, check_run_manifest, remove_stale_stage_temps, run_jobs
from dclm.runtime.ledger import ShardLedger, read_ledger, summarize_run

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_SHARDS_FAILED = 2
EXIT_INVARIANT = 3
EXIT_STEP_FAILED = 4      # every shard ran, but a step raised an error on every document it was given


def steps_failing_everything(stats: dict[str, Any]) -> list[str]:
    """Steps that raised an error on each of their documents: a broken recipe, not bad pages."""
    return [step["step"] for step in stats.get("steps", [])
            if step["in"] > 0 and sum(step["errors"].values()) >= step["in"]]


def run_stage(stage: str, jobs: list[ShardJob], work: Callable[[ShardJob], dict], output_dir: str,
              params: dict[str, Any], *, ray_address: Optional[str] = None, num_cpus: Optional[int] = None,
              progress: bool = True, force: bool = False, out: Optional[TextIO] = None) -> int:
    """Run every shard of a stage and report; returns the process exit code."""
    check_run_manifest(output_dir, stage, params, force=force)
    # Before: what an earlier, killed run left. After: what this run's dead
    # workers left (Ray redid their shards under new temporary names).
    remove_stale_stage_temps(output_dir)
    report = run_jobs(jobs, work, ray_address=ray_address, num_cpus=num_cpus, progress=progress,
                      desc=stage, force=force)
    remove_stale_stage_temps(output_dir)
    by_name = {job.name: job for job in jobs}
    ledgers = [ShardLedger.from_dict(d) for d in report.ledgers]
    ledgers += [read_ledger(by_name[name].ledger) for name in report.resumed]
    ledgers.sort(key=lambda ledger: ledger.shard)
    stats = summarize_run(ledgers, report.failed, stage, report.seconds,
                          extra={"params": params, "shards_resumed": sorted(report.resumed),
                                 "shards_retried": dict(sorted(report.retried.items())),
                                 "shards_failed_retriable": sorted(report.retriable),
                                 "nodes_used": len(report.nodes)})
    write_bytes_atomic(stats_path(output_dir), json.dumps(stats, indent=2).encode())
    print_summary(stats, report.resumed, out or sys.stdout)
    if report.failed:
        return EXIT_SHARDS_FAILED
    if not stats["invariant_ok"]:
        return EXIT_INVARIANT
    if steps_failing_everything(stats):
        return EXIT_STEP_FAILED
    return EXIT_OK


def _top_reasons(reasons: dict[str, int], limit: int = 4) -> str:
    ranked = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{name} {count}" for name, count in ranked[:limit])
    if len(ranked) > limit:
        shown += f", +{len(ranked) - limit} more"
    return shown


def failure_advice(failed: list[str], retriable: set[str]) -> list[str]:
    """What to do about failed shards: rerun only where a rerun can help."""
    if not failed:
        return []
    lines = ["Failed shards left no output."]
    again = [name for name in failed if name in retriable]
    fix = [name for name in failed if name not in retriable]
    if again:
        lines.append(f"{_named(again)} failed for a passing reason (a timeout, a lost worker, a storage "
                     "error): rerun the same command to retry them.")
    if fix:
        lines.append(f"{_named(fix)} will fail the same way again: the input itself is the problem "
                     "(see the reason above); fix or remove it.")
    return lines


def _named(names: list[str]) -> str:
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{'Shard' if len(names) == 1 else 'Shards'} {shown}"


def print_summary(stats: dict[str, Any], resumed: list[str], out: TextIO) -> None:
    """The table printed at the end of every stage."""
    header = f"{'step':<34}{'in':>10}{'kept':>10}{'dropped':>10}{'errors':>8}{'seconds':>10}"
    lines = [header, "-" * len(header)]
    for step in stats["steps"]:
        dropped = sum(step["dropped"].values())
        errors = sum(step["errors"].values())
        lines.append(f"{step['step'][:33]:<34}{step['in']:>10}{step['kept']:>10}{dropped:>10}{errors:>8}"
                     f"{step['seconds']:>10.1f}")
        if step["dropped"]:
            lines.append(f"    dropped: {_top_reasons(step['dropped'])}")
        if step["errors"]:
            lines.append(f"    errors:  {_top_reasons(step['errors'])}")
    done = stats["shards_done"]
    lines.append("")
    lines.append(f"shards: {done} done ({len(resumed)} already complete, skipped), "
                 f"{len(stats['shards_failed'])} failed; documents {stats['documents_in']} in, "
                 f"{stats['documents_out']} out; {stats['wall_seconds']:.1f} s")
    retried = stats.get("shards_retried") or {}
    if retried:
        lines.append("redone after their worker died: "
                     + ", ".join(f"{name} ({times}x)" for name, times in retried.items()))
    if stats.get("extract_fallbacks"):
        lines.append(f"extraction: the safety net kept the unpruned main text of {stats['extract_fallbacks']} "
                     "pages (per shard: ledger details.extract_fallbacks)")
    retriable = set(stats.get("shards_failed_retriable", []))
    for name, reason in stats["shards_failed"].items():
        lines.append(f"FAILED {name}: {reason}")
    lines.extend(failure_advice(list(stats["shards_failed"]), retriable))
    if not stats["invariant_ok"]:
        lines.extend(f"LEDGER MISMATCH {p}" for p in stats["invariant_problems"])
    for step in steps_failing_everything(stats):
        lines.append(f"STEP FAILED {step}: an error on every document it was given; its parameters or files "
                     "cannot work (see the errors above); fix the recipe and rerun with --force")
    print("\n".join(lines), file=out)
