"""``dclm select`` for one shard: thresholds over annotated columns, nothing recomputed.

Two kinds of ``--where``:

* a recipe: each filter step's ``keep`` function is applied, in recipe order,
  to the signal columns that ``--annotate`` stored, so the kept set equals a
  direct ``dclm filter`` with that recipe;
* a SQL boolean expression over the columns, evaluated by DuckDB
  (for example ``"word_count >= 50 AND gopher_dup_line_frac <= 0.3"``).
"""
from __future__ import annotations

import time

import pyarrow as pa

from dclm.errors import ShardError
from dclm.io.document_files import read_documents_table as read_table
from dclm.io.document_writers import write_documents_table
from dclm.recipe import RecipeStep, load_recipe
from dclm.runtime.executor import ShardJob
from dclm.runtime.input_ledger import counted_table
from dclm.runtime.ledger import ShardLedger
from pipelines.recipe_steps import ANNOTATE_DROPPED_AT, reason_for

# Columns no keep() reads; leaving them out keeps the row dicts small.
_PAYLOAD_COLUMNS = {"text", "metadata"}


def _step_signals(step: RecipeStep, row: dict) -> dict:
    if not step.column_suffix:
        return row
    suffix = step.column_suffix
    return {**row, **{k[: -len(suffix)]: v for k, v in row.items() if k.endswith(suffix)}}


def recipe_mask(table: pa.Table, steps: list[RecipeStep], ledger: ShardLedger) -> list[bool]:
    filters = [step for step in steps if step.is_filter]
    marker = ledger.step(ANNOTATE_DROPPED_AT)       # first: its kept rows enter the filters
    counts = [ledger.step(step.label) for step in filters]
    columns = [name for name in table.column_names if name not in _PAYLOAD_COLUMNS]
    rows = table.select(columns).to_pylist()
    mask = []
    for row in rows:
        marker.docs_in += 1
        if row.get(ANNOTATE_DROPPED_AT):
            marker.dropped[f"dropped by modifier {row[ANNOTATE_DROPPED_AT]}"] += 1
            mask.append(False)
            continue
        marker.kept += 1
        keep = True
        for step, step_counts in zip(filters, counts, strict=True):
            step_counts.docs_in += 1
            started = time.perf_counter()
            try:
                decision = step.op.keep(_step_signals(step, row), **step.kwargs)
            except KeyError as exc:
                raise ShardError(f"step {step.label}: column {exc} is missing; was the input made with "
                                 f"--annotate and a recipe with this step?") from exc
            step_counts.seconds += time.perf_counter() - started
            if not decision:
                step_counts.dropped[reason_for(step)] += 1
                keep = False
                break
            step_counts.kept += 1
        mask.append(keep)
    return mask


def sql_mask(table: pa.Table, where: str, ledger: ShardLedger) -> list[bool]:
    import duckdb

    counts = ledger.step("where")
    connection = duckdb.connect()
    connection.register("shard", table)
    try:
        values = connection.execute(f"SELECT coalesce(({where}), false) FROM shard").fetchall()
    except duckdb.Error as exc:
        raise ShardError(f"--where {where!r}: {exc}") from exc
    mask = [bool(v[0]) for v in values]
    counts.docs_in += len(mask)
    counts.kept += sum(mask)
    counts.dropped[f"where {where}"] += len(mask) - sum(mask)
    return mask


def select_shard(job: ShardJob) -> dict:
    ledger = ShardLedger(shard=job.name, stage="select", input=job.input, output=job.output)
    table = counted_table(job.input, ledger)
    params = job.params
    if params.get("recipe_path"):
        recipe = load_recipe(params["recipe_path"], params.get("source"), announce=False,
                             dclm_root=params.get("dclm_root"))
        mask = recipe_mask(table, recipe.steps, ledger)
        ledger.details["recipe_sha256"] = recipe.digest
    else:
        mask = sql_mask(table, params["where"], ledger)
    write_documents_table(job.output, table.filter(pa.array(mask, type=pa.bool_())))
    ledger.finish()
    ledger.write(job.ledger)
    return ledger.to_dict()


def check_where_sql(where: str, sample_path: str) -> None:
    """Compile the expression against a shard's columns before any work starts."""
    import duckdb

    from dclm.errors import UsageError

    table = read_table(sample_path).slice(0, 0)
    connection = duckdb.connect()
    connection.register("shard", table)
    try:
        connection.execute(f"SELECT ({where}) FROM shard").fetchall()
    except duckdb.Error as exc:
        raise UsageError(f"--where {where!r} is not a valid expression over the columns of "
                         f"{sample_path}: {str(exc).splitlines()[0]}") from exc
