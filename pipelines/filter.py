"""Recipe stages for one shard: ``dclm filter`` (documents in) and ``dclm run`` (WARC in, one pass).

Both stream pages through the recipe's steps and write the kept pages to
``OUTPUT/data/<shard>.parquet`` (or JSONL, ``--output-format``) and the
dropped ones, with their reasons, to ``OUTPUT/.dclm/dropped/<shard>.parquet``
(``dclm.io.output_layout``). ``dclm run`` given Parquet or JSONL documents
instead of a WARC file filters them as ``dclm filter`` does. Both files are written as the pages come,
one bounded row group at a time, so a worker's memory does not grow with the
size of its shard (``dclm.io.parquet_shards``). Recipe steps add columns, so the
kept file's schema is inferred from its rows as they come; a shard that keeps
nothing gets the columns its steps would have added (``probe_schema``).
"""
from __future__ import annotations

import posixpath
from typing import Iterable

import pyarrow as pa

from dclm.io.document_files import WARC, read_documents_schema, sniff_format
from dclm.io.document_writers import open_document_writer
from dclm.io.parquet_shards import CORE_SCHEMA, ShardWriter
from dclm.io.remote_retry import collect_retries
from dclm.recipe import load_recipe
from dclm.runtime.executor import ShardJob
from dclm.runtime.input_ledger import READ_STEP, counted_documents
from dclm.runtime.ledger import ShardLedger
from filters.dclm_general import SPLIT_DELIMITER
from pipelines.extract import DEFAULT_TIME_LIMIT_S, EXTRACT_STEP, iter_extracted, size_cap, worker_peak_rss_mib
from pipelines.recipe_steps import DROPPED_SCHEMA, StepRunner, dropped_row, probe_schema


class _DroppedSink:
    """Streams the first ``limit`` dropped pages of a shard (all when limit is None) to a writer."""

    def __init__(self, writer: ShardWriter, limit):
        self.writer = writer
        self.limit = limit

    def __call__(self, page, step, reason, signals) -> None:
        if self.limit is None or self.writer.rows_accepted < self.limit:
            self.writer.write(dropped_row(page, step, reason, signals))


def _run_recipe(job: ShardJob, ledger: ShardLedger, pages: Iterable[dict], base_schema: pa.Schema) -> None:
    """Stream ``pages`` through the job's recipe steps into the kept and dropped files."""
    params = job.params
    recipe = load_recipe(params["recipe_path"], params.get("source"), announce=False,
                         dclm_root=params.get("dclm_root"))
    annotate = bool(params.get("annotate"))
    ledger.details["recipe"] = recipe.name
    ledger.details["recipe_sha256"] = recipe.digest
    ledger.details["annotate"] = annotate
    start, end = params.get("step_range") or (0, len(recipe.steps))
    steps = recipe.steps[start:end]
    if any(step.name == "join_lines_modifier" for step in steps) \
            and SPLIT_DELIMITER in base_schema.names:
        # DCLM's join ends the split of an earlier segment: its marker column goes.
        base_schema = base_schema.remove(base_schema.get_field_index(SPLIT_DELIMITER))
    with ShardWriter(job.dropped, DROPPED_SCHEMA) as dropped:
        runner = StepRunner(steps, ledger, annotate=annotate,
                            dropped_sink=_DroppedSink(dropped, params.get("dropped_sample")))
        with open_document_writer(job.output, base_schema=base_schema) as kept:
            for page in runner.run(pages):
                kept.write(page)
            if kept.rows_accepted == 0:
                kept.empty_schema = probe_schema(steps, annotate, base_schema)
    ledger.details["dropped_rows_written"] = dropped.rows_written
    ledger.details["schema_rewrites"] = kept.rewrites


def _finish(ledger: ShardLedger, job: ShardJob, retries) -> dict:
    ledger.details["remote_retries"] = dict(sorted(retries.items()))
    ledger.details["worker_peak_rss_mib"] = worker_peak_rss_mib()
    ledger.finish()
    # The ledger goes last: an output without its ledger is an unfinished shard on resume.
    ledger.write(job.ledger)
    return ledger.to_dict()


def filter_shard(job: ShardJob) -> dict:
    """``dclm filter`` for one shard of documents (Parquet or JSONL)."""
    ledger = ShardLedger(shard=job.name, stage="filter", input=job.input, output=job.output)
    with collect_retries() as retries:
        _filter_documents(job, ledger)
    return _finish(ledger, job, retries)


def _filter_documents(job: ShardJob, ledger: ShardLedger) -> None:
    ledger.step(READ_STEP)
    _run_recipe(job, ledger, counted_documents(job.input, ledger), read_documents_schema(job.input) or CORE_SCHEMA)


def run_shard(job: ShardJob) -> dict:
    """``dclm run`` for one shard: WARC is extracted and filtered in a single read; documents are filtered."""
    ledger = ShardLedger(shard=job.name, stage="run", input=job.input, output=job.output)
    params = job.params
    with collect_retries() as retries:
        if sniff_format(job.input) != WARC:
            _filter_documents(job, ledger)
            return _finish(ledger, job, retries)
        ledger.step(EXTRACT_STEP)  # first in the ledger, before the recipe's steps
        pages = iter_extracted(job.input, posixpath.basename(job.input), ledger,
                               extractor=params.get("extractor", "resiliparse"),
                               time_limit_s=params.get("time_limit_s", DEFAULT_TIME_LIMIT_S),
                               max_bytes=size_cap(params))
        _run_recipe(job, ledger, pages, CORE_SCHEMA)
    return _finish(ledger, job, retries)
