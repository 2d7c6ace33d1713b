"""Recipe stages for one shard: ``dclm filter`` (Parquet in) and ``dclm run`` (WARC in, one pass).

Both stream pages through the recipe's steps and write the kept pages to
``OUTPUT/<shard>.parquet`` and the dropped ones, with their reasons, to
``OUTPUT/dropped/<shard>.parquet``. Kept rows are gathered per shard before
writing because recipe steps add columns, and a Parquet file's schema must be
known before its first row group.
"""
from __future__ import annotations

import posixpath
from typing import Iterable

from dclm.executor import ShardJob
from dclm.ledger import ShardLedger
from dclm.parquet_shards import CORE_SCHEMA, iter_rows, schema_for, write_rows
from dclm.recipe import load_recipe
from pipelines.extract import DEFAULT_TIME_LIMIT_S, EXTRACT_STEP, iter_extracted
from pipelines.recipe_steps import StepRunner, dropped_row

READ_STEP = "read"


def dropped_path(job: ShardJob) -> str:
    head, _, name = job.output.rpartition("/")
    return f"{head}/dropped/{name}"


class _DroppedSample:
    """Keeps the first ``limit`` dropped pages of a shard (all when limit is None)."""

    def __init__(self, limit):
        self.limit = limit
        self.rows: list[dict] = []

    def __call__(self, page, step, reason, signals) -> None:
        if self.limit is None or len(self.rows) < self.limit:
            self.rows.append(dropped_row(page, step, reason, signals))


def _run_recipe(job: ShardJob, ledger: ShardLedger, pages: Iterable[dict]) -> dict:
    params = job.params
    recipe = load_recipe(params["recipe_path"], params.get("source"), announce=False)
    ledger.details["recipe"] = recipe.name
    ledger.details["recipe_sha256"] = recipe.digest
    ledger.details["annotate"] = bool(params.get("annotate"))
    start, end = params.get("step_range") or (0, len(recipe.steps))
    sample = _DroppedSample(params.get("dropped_sample"))
    runner = StepRunner(recipe.steps[start:end], ledger, annotate=bool(params.get("annotate")), dropped_sink=sample)
    kept = list(runner.run(pages))
    write_rows(job.output, kept, schema_for(kept) if kept else CORE_SCHEMA)
    write_rows(dropped_path(job), sample.rows)
    ledger.details["dropped_rows_written"] = len(sample.rows)
    ledger.finish()
    ledger.write(job.ledger)
    return ledger.to_dict()


def _counted_rows(path: str, ledger: ShardLedger) -> Iterable[dict]:
    counts = ledger.step(READ_STEP)
    for row in iter_rows(path):
        counts.docs_in += 1
        counts.kept += 1
        yield row


def filter_shard(job: ShardJob) -> dict:
    """``dclm filter`` for one Parquet shard."""
    ledger = ShardLedger(shard=job.name, stage="filter", input=job.input, output=job.output)
    ledger.step(READ_STEP)
    return _run_recipe(job, ledger, _counted_rows(job.input, ledger))


def run_shard(job: ShardJob) -> dict:
    """``dclm run`` for one WARC shard: extraction and the recipe in a single read."""
    ledger = ShardLedger(shard=job.name, stage="run", input=job.input, output=job.output)
    params = job.params
    ledger.step(EXTRACT_STEP)  # first in the ledger, before the recipe's steps
    pages = iter_extracted(job.input, posixpath.basename(job.input), ledger,
                           extractor=params.get("extractor", "resiliparse"),
                           time_limit_s=params.get("time_limit_s", DEFAULT_TIME_LIMIT_S))
    return _run_recipe(job, ledger, pages)
