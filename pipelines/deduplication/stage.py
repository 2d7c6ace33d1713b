"""Driving a dedup method end to end: resume, global phases, writers, stats, exit code.

A dedup is a *global* step: which documents go depends on every shard, so
only its last phase is per shard. Two phases (seconds of each go to
``stats.json`` under ``stage_seconds``):

1. ``decisions``: the global phases of the method (MinHash: signatures,
   buckets, components, keep; exact/URL: keys, find, annotate; BFF: ngrams,
   decide), always over *all* input shards, ending with one result per
   shard, stored under ``OUTPUT/.dclm/phases/`` with a phase-done marker
   (``pipelines.deduplication.checkpoint``);
2. ``write``, one Ray task per shard: ``OUTPUT/<shard>.parquet``,
   ``OUTPUT/.dclm/dropped/<shard>.parquet``, then ``OUTPUT/.dclm/ledger/<shard>.json``.

Resume: when every shard's output and ledger exist (and ``run.json`` shows
the same parameters), nothing runs and the summary is rebuilt from the
ledgers. Otherwise a stored, matching phase 1 is reused (``stats.json``
lists it under ``phases_reused``) and only the missing shards are written;
without one, phase 1 runs again. Every method is deterministic, so the
shards already written are the ones this run would write. ``force`` redoes
everything. ``.dclm/phases/`` is deleted once every shard is written.
"""
from __future__ import annotations

import json
import sys
import time
from typing import Optional, TextIO

from dclm.errors import UsageError
from dclm.io import fault_hooks
from dclm.io.atomic_files import exists, write_bytes_atomic
from dclm.io.inputs import check_unique_names, shard_name
from dclm.io.output_layout import stats_path
from dclm.runtime.executor import (
    RunReport,
    ShardJob,
    check_run_manifest,
    ensure_ray,
    is_done,
    note_task,
    plan_jobs,
    remove_stale_stage_temps,
    task_facts,
)
from dclm.runtime.ledger import ShardLedger, read_ledger, summarize_run
from dclm.runtime.shard_failures import mark_retriable
from dclm.runtime.stage import EXIT_INVARIANT, EXIT_OK, EXIT_SHARDS_FAILED, print_summary
from pipelines.deduplication import checkpoint
from pipelines.deduplication.methods import DedupMethod
from pipelines.deduplication.ray_tasks import submit
from pipelines.deduplication.write import write_dedup_shard


def _check_columns(path: str, needed: list[str]) -> None:
    """Fail before any work when the first shard lacks a column the method reads."""
    from dclm.io.document_files import document_columns

    names = document_columns(path)
    if names is None:       # JSONL: its fields are known line by line
        return
    missing = [name for name in needed if name not in names]
    if missing:
        raise UsageError(f"{path} has no column {', '.join(map(repr, missing))} "
                         f"(columns: {', '.join(names)})")


def _needed_columns(method: DedupMethod) -> list[str]:
    params = method.params
    needed = [params.get("id_column", "id")]
    needed.append(params.get("column") or params.get("text_column") or method.text_column)
    if method.name == "minhash" and params.get("keep") not in (None, "lowest_id"):
        needed.append(params["keep"])
    return needed


def _write_body(inputs: list, result_path: str, **kwargs) -> list:
    # submit() bodies return lists; the facts say where and on which attempt it ran.
    try:
        ledger = write_dedup_shard([checkpoint.load_result(result_path)], **kwargs)
    except Exception as exc:
        mark_retriable(exc)     # the cause chain is lost once Ray pickles the exception
        raise
    return [(ledger, task_facts())]


def _write_all(method: DedupMethod, jobs: list[ShardJob], output_dir: str, progress: bool,
               dropped_sample: Optional[int], report: RunReport) -> None:
    """One writer task per job, reading the stored phase-1 result of its shard."""
    import ray
    from tqdm import tqdm

    pending = {}
    for job in jobs:
        out = submit(_write_body, 1, result_path=checkpoint.result_path(output_dir, job.input), job=job,
                     stage=method.stage, step=method.step, annotate=method.annotate, convert=method.convert,
                     convert_kwargs=method.convert_kwargs, dropped_sample=dropped_sample,
                     text_column=method.text_column)[0]
        pending[out] = job
    bar = tqdm(total=len(pending), desc=f"{method.stage} write", unit="shard",
               disable=not progress, file=sys.stderr, dynamic_ncols=True)
    waiting = list(pending)
    while waiting:
        ready, waiting = ray.wait(waiting, num_returns=1)
        name = pending[ready[0]].name
        try:
            ledger, facts = ray.get(ready[0])
        except Exception as exc:  # one shard's write failed; the others go on
            report.fail(name, exc)
        else:
            report.ledgers.append(ledger)
            note_task(report, name, facts)
        bar.update(1)
    bar.close()


def _decisions(method: DedupMethod, inputs: list[str], output_dir: str, params: dict, force: bool,
               out: TextIO) -> tuple[dict, dict, list[str]]:
    """Phase 1, run or reused: ``(facts, seconds per phase, phases reused)``."""
    stored = None if force else checkpoint.stored_decisions(output_dir, inputs, params)
    if stored is not None:
        print(f"reusing phase {checkpoint.DECISIONS!r} of an earlier run ({checkpoint.marker_path(output_dir)}): "
              f"skipped {', '.join(k for k in stored['seconds'] if k != 'store') or 'the global phases'}",
              file=out)
        return stored["facts"], dict(stored["seconds"]), [checkpoint.DECISIONS]
    timings: dict = {}
    refs, facts = method.run(inputs, timings, lambda line: print(line, file=out))
    facts = json.loads(json.dumps(facts))       # as a reused phase would give it back
    stored_at = time.monotonic()
    checkpoint.store_decisions(output_dir, inputs, refs, params, facts, timings)
    timings["store"] = round(time.monotonic() - stored_at, 3)
    fault_hooks.after_phase(checkpoint.DECISIONS)
    return facts, timings, []


def _previous_facts(output_dir: str) -> dict:
    path = stats_path(output_dir)
    if not exists(path):
        return {}
    import fsspec

    with fsspec.open(path, "rb") as fh:
        previous = json.loads(fh.read())
    return {key: previous[key] for key in ("global", "stage_seconds") if key in previous}


def run_dedup(method: DedupMethod, inputs: list[str], output_dir: str, *,
              ray_address: Optional[str] = None, num_cpus: Optional[int] = None,
              force: bool = False, progress: bool = True, out: Optional[TextIO] = None,
              dropped_sample: Optional[int] = None, output_format: str = "parquet") -> tuple[int, dict]:
    """Run one dedup method over ``inputs`` (shard URLs); ``(exit code, stats)``."""
    out = out or sys.stdout
    if not inputs:
        raise UsageError("no input shards")
    check_unique_names(inputs)
    # The documented order ("first occurrence" for exact, url and bff): shard
    # names, then rows; independent of how the inputs were listed.
    inputs = sorted(inputs, key=lambda url: (shard_name(url), url))
    params = {**method.params, "dropped_sample": dropped_sample,
              **({"output_format": output_format} if output_format != "parquet" else {})}
    jobs = plan_jobs(inputs, output_dir, params)
    check_run_manifest(output_dir, method.stage, params, force=force)
    remove_stale_stage_temps(output_dir)           # left by a killed earlier run
    started = time.monotonic()
    pending = [job for job in jobs if force or not is_done(job)]
    resumed = [job.name for job in jobs if not force and is_done(job)]
    report = RunReport(ledgers=[], resumed=resumed, failed={}, seconds=0.0)
    extra: dict = {"params": params, "shards_resumed": sorted(resumed)}
    if pending:
        _check_columns(inputs[0], _needed_columns(method))
        facts, timings, reused = {}, {}, []
        we_started = ensure_ray(ray_address, num_cpus)
        try:
            try:
                facts, timings, reused = _decisions(method, inputs, output_dir, params, force, out)
            except Exception as exc:  # a global phase failed: no shard can be written
                for job in pending:
                    report.fail(job.name, exc)
                    report.failed[job.name] = f"global phase failed: {report.failed[job.name]}"
            else:
                written = time.monotonic()
                _write_all(method, pending, output_dir, progress, dropped_sample, report)
                timings["write"] = round(time.monotonic() - written, 3)
        finally:
            if we_started:
                import ray

                ray.shutdown()
        remove_stale_stage_temps(output_dir)       # left by writers whose worker died
        extra.update({"global": facts, "stage_seconds": timings, "phases_reused": reused,
                      "shards_retried": dict(sorted(report.retried.items())),
                      "shards_failed_retriable": sorted(report.retriable),
                      "nodes_used": len(report.nodes)})
    else:
        extra.update(_previous_facts(output_dir))
        print(f"all {len(jobs)} shards of {output_dir} are complete; nothing to do "
              f"(use --force to redo them)", file=out)
    if not report.failed:
        checkpoint.drop_checkpoints(output_dir)
    ledgers, failed = report.ledgers, report.failed
    by_name = {job.name: job for job in jobs}
    shard_ledgers = [ShardLedger.from_dict(d) for d in ledgers]
    shard_ledgers += [read_ledger(by_name[name].ledger) for name in resumed]
    shard_ledgers.sort(key=lambda ledger: ledger.shard)
    stats = summarize_run(shard_ledgers, failed, method.stage, time.monotonic() - started,
                          extra=extra)
    write_bytes_atomic(stats_path(output_dir), json.dumps(stats, indent=2).encode())
    print_summary(stats, resumed, out)
    print_facts(method, stats, out)
    if failed:
        return EXIT_SHARDS_FAILED, stats
    if not stats["invariant_ok"]:
        return EXIT_INVARIANT, stats
    return EXIT_OK, stats


def print_facts(method: DedupMethod, stats: dict, out: TextIO) -> None:
    """Method-specific lines after the step table."""
    facts = stats.get("global") or {}
    lines = []
    if method.name == "minhash" and facts:
        sizes = facts.get("cluster_sizes", {})
        hist = ", ".join(f"{k}: {v}" for k, v in sizes.get("histogram", {}).items())
        lines.append(f"minhash: {facts['clusters']} clusters of near-duplicates "
                     f"({sizes.get('clustered_documents', 0)} documents, largest "
                     f"{sizes.get('largest', 0)}); {facts['removed']} documents "
                     f"{'would be ' if method.annotate else ''}removed")
        lines.append(f"cluster sizes: {hist or 'none'}")
    elif method.name in ("exact", "url") and facts:
        lines.append(f"{method.name}: {facts['duplicate_groups']} groups of duplicates, "
                     f"{facts['removed']} documents {'would be ' if method.annotate else ''}removed")
    elif method.name == "bff" and facts:
        for f in facts.get("filters", []):
            lines.append(f"bff group {f['group']}: {f['expected_ngrams']:,} n-grams, "
                         f"filter {f['bytes'] / 2**20:,.1f} MiB, {f['num_hashes']} hashes, "
                         f"{f.get('fill_ratio', 0):.1%} of bits set")
    seconds = stats.get("stage_seconds") or {}
    if seconds:
        lines.append("seconds per phase: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    if lines:
        print("\n".join(lines), file=out)
