"""Last phase of every dedup method: apply one shard's decisions and write it.

Each method ends with, per shard, a *decision table* aligned with the
shard's rows:

* ``keep`` (bool): the document stays;
* ``reason`` (string, null when kept): the ledger's drop reason, e.g.
  ``minhash_duplicate``;
* ``duplicate_of`` (string, optional column): the id of the document kept
  instead of this one;
* ``detail`` (string, optional column): any other explanation, e.g. BFF's
  "230/230 13-grams seen before";
* ``text`` (string, optional column): a replacement text (BFF paragraph
  removal), null where the text is unchanged;
* any other column is a signal added to the output (``minhash_cluster``).

This module turns that into the stage's files (the layout of every stage):
``OUTPUT/data/<shard>.parquet`` (kept rows, or JSONL), ``OUTPUT/.dclm/dropped/
<shard>.parquet`` (removed rows with ``dropped_step``, ``dropped_reason``,
``dropped_signals``) and ``OUTPUT/.dclm/ledger/<shard>.json``, written last so that resume can trust
it. With ``annotate`` nothing is dropped or rewritten: the signals are added
and the ledger records what would have been removed.
"""
from __future__ import annotations

import json
from typing import Callable, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dclm.io.document_fields import InputNotes
from dclm.io.document_files import read_documents_table
from dclm.io.document_writers import write_documents_table
from dclm.io.parquet_shards import CORE_SCHEMA, write_table
from dclm.runtime.executor import ShardJob
from dclm.runtime.ledger import ShardLedger

DECISION_COLUMNS = ("keep", "reason", "duplicate_of", "detail", "text")


def _core_column(table: pa.Table, field: pa.Field) -> pa.Array:
    if field.name not in table.column_names:
        return pa.nulls(table.num_rows, field.type)
    column = table.column(field.name).combine_chunks()
    return column if column.type == field.type else column.cast(field.type)


def dropped_table(rows: pa.Table, step: str, reasons: list[str], signals: list[str]) -> pa.Table:
    """Removed rows in the fixed ``dropped/`` shape of every stage."""
    columns = {field.name: _core_column(rows, field) for field in CORE_SCHEMA}
    columns["dropped_step"] = pa.array([step] * rows.num_rows, pa.string())
    columns["dropped_reason"] = pa.array(reasons, pa.string())
    columns["dropped_signals"] = pa.array(signals, pa.string())
    return pa.table(columns).replace_schema_metadata(CORE_SCHEMA.metadata)


def _signals_json(rows: pa.Table, extra: list[dict]) -> list[str]:
    """Per row: its non-core columns (earlier steps' signals) plus this step's."""
    own = [name for name in rows.column_names if name not in CORE_SCHEMA.names]
    values = rows.select(own).to_pylist() if own else [{} for _ in range(rows.num_rows)]
    return [json.dumps({**row, **more}, sort_keys=True, default=str)
            for row, more in zip(values, extra, strict=True)]


def _column(decisions: pa.Table, name: str) -> list:
    if name in decisions.column_names:
        return decisions.column(name).to_pylist()
    return [None] * decisions.num_rows


def _explain(reason: Optional[str], duplicate_of: Optional[str], detail: Optional[str]
             ) -> tuple[str, dict]:
    """The dropped row's reason text and the signals this step adds."""
    if duplicate_of:
        return f"{reason} of {duplicate_of}", {"duplicate_of": duplicate_of}
    if detail:
        return f"{reason}: {detail}", {"detail": detail}
    return reason or "", {}


def apply_decisions(table: pa.Table, decisions: pa.Table, annotate: bool,
                    text_column: str = "text") -> tuple[pa.Table, np.ndarray, int]:
    """``(output table, keep mask, modified count)`` for one shard."""
    if decisions.num_rows != table.num_rows:
        raise ValueError(f"decisions cover {decisions.num_rows} rows, the shard has {table.num_rows}")
    signals = [name for name in decisions.column_names if name not in DECISION_COLUMNS]
    out = table.drop_columns([name for name in signals if name in table.column_names])
    for name in signals:
        out = out.append_column(name, decisions.column(name))
    keep = np.asarray(decisions.column("keep").to_numpy(zero_copy_only=False), dtype=bool)
    modified = 0
    if "text" in decisions.column_names:
        new_text = decisions.column("text")
        changed = np.asarray(new_text.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        modified = int(np.count_nonzero(changed & keep))
        if not annotate and np.any(changed):
            old = out.column(text_column)
            merged = pc.if_else(new_text.is_valid(), new_text.cast(old.type), old)
            out = out.set_column(out.column_names.index(text_column), text_column, merged)
    if not annotate:
        out = out.filter(pa.array(keep))
    return out, keep, modified


def write_dedup_shard(inputs: list, job: ShardJob, stage: str, step: str, annotate: bool = False,
                      convert: Optional[Callable] = None, convert_kwargs: Optional[dict] = None,
                      dropped_sample: Optional[int] = None, text_column: str = "text") -> dict:
    """Task body: decisions (``inputs[0]``) applied to ``job.input``; the ledger dict.

    ``convert(annotation, table, **convert_kwargs)`` turns a method's own
    per-shard result into a decision table, inside this task.
    """
    (annotation,) = inputs
    ledger = ShardLedger(shard=job.name, stage=stage, input=job.input, output=job.output)
    notes = InputNotes()
    table = read_documents_table(job.input, notes=notes)
    decisions = convert(annotation, table, **(convert_kwargs or {})) if convert else annotation
    out, keep, modified = apply_decisions(table, decisions, annotate, text_column)
    counts = ledger.step(step)
    # JSONL lines that could not be read enter the step as its errors.
    counts.docs_in = table.num_rows + sum(notes.bad_lines.values())
    counts.errors.update(notes.bad_lines)
    if notes.format:
        ledger.details["input"] = notes.to_dict()
    removed = np.flatnonzero(~keep)
    reasons = decisions.column("reason").to_pylist()
    if annotate:
        counts.kept = table.num_rows
        ledger.details["would_remove"] = int(len(removed))
        ledger.details["would_modify"] = modified
        write_documents_table(job.output, out)
    else:
        counts.kept = table.num_rows - len(removed)
        counts.modified = modified
        for r in removed.tolist():
            counts.dropped[reasons[r] or step] += 1
        write_documents_table(job.output, out)
        sample = removed if dropped_sample is None else removed[:dropped_sample]
        rows = table.take(pa.array(sample, pa.int64()))
        duplicate_of, details = _column(decisions, "duplicate_of"), _column(decisions, "detail")
        explained = [_explain(reasons[r], duplicate_of[r], details[r]) for r in sample.tolist()]
        write_table(job.dropped, dropped_table(
            rows, step, [text for text, _ in explained],
            _signals_json(rows, [more for _, more in explained])))
        ledger.details["dropped_rows_written"] = int(len(sample))
    ledger.finish()
    counts.seconds = ledger.seconds        # the global phases are timed in stats.json
    ledger.write(job.ledger)
    return ledger.to_dict()
