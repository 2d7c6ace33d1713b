"""The stored result of a dedup's global phases, so that a killed run resumes after them.

A dedup runs in two phases (``pipelines.deduplication.stage``):

1. ``decisions``: the method's global phases over all shards (MinHash:
   signatures, buckets, components, keep; exact/URL: keys, find, annotate;
   BFF: n-grams, decide), ending with one small result per shard (a
   decision or annotation table, or BFF's per-paragraph flags);
2. ``write``: one task per shard applies its result to the shard's rows.

Phase 1 is all-or-nothing (its outcome depends on every shard), so it is
stored as a whole: one Parquet file per shard under
``OUTPUT/.dclm/phases/decisions/``, each written atomically by a Ray task, then
the phase-done marker ``OUTPUT/.dclm/phases/decisions.json`` (parameters, the
inputs' sizes and modification times, the run facts and phase seconds).
The marker is written last, so its presence means every file is complete.
A rerun whose parameters and inputs match the marker skips phase 1 and
reads the stored results; phase 2 already resumes per shard (a shard with
output and ledger is done). When every shard is written, ``.dclm/phases/`` is
deleted, so a finished output directory looks the same whether or not its
run was interrupted.

Results are small next to the text: a boolean and an id per document
(MinHash, exact, URL), a boolean per paragraph and three integers per
document (BFF). The global phases' own intermediates (signatures, n-gram
keys) are not stored: BFF's n-gram keys are as large as the text.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.core import url_to_fs

from dclm.io.atomic_files import exists, open_atomic, remove_stale_temps, write_bytes_atomic
from dclm.io.inputs import shard_name
from dclm.io.output_layout import phases_dir
from dedup.bff_decide import ShardDecisions

DECISIONS = "decisions"
_KIND = b"dclm_phase_result"
# Results that are records of numpy arrays of different lengths, stored as one
# row of list columns; a closed list, so a stored file can only build these.
_ARRAY_RECORDS = {"bff_decisions": ShardDecisions}


def marker_path(output_dir: str) -> str:
    return f"{phases_dir(output_dir)}/{DECISIONS}.json"


def result_path(output_dir: str, shard_url: str) -> str:
    return f"{phases_dir(output_dir)}/{DECISIONS}/{shard_name(shard_url)}.parquet"


def save_result(result: Any, path: str) -> int:
    """Write one shard's phase-1 result to ``path`` atomically; its row count."""
    if isinstance(result, pa.Table):
        table, kind, rows = result, b"table", result.num_rows
    else:
        kind = next((k.encode() for k, cls in _ARRAY_RECORDS.items() if isinstance(result, cls)), None)
        if kind is None:
            raise TypeError(f"no stored form for a dedup result of type {type(result).__name__}")
        columns = {}
        for fld in dataclasses.fields(result):
            values = np.asarray(getattr(result, fld.name))
            columns[fld.name] = pa.ListArray.from_arrays(pa.array([0, len(values)], pa.int32()),
                                                         pa.array(values))
        table, rows = pa.table(columns), result.num_docs
    table = table.replace_schema_metadata({_KIND: kind})
    with open_atomic(path) as fh:
        pq.write_table(table, fh, compression="zstd")
    return rows


def load_result(path: str) -> Any:
    """What ``save_result`` stored, as the method's writer expects it."""
    import fsspec

    with fsspec.open(path, "rb") as fh:
        table = pq.read_table(fh)
    kind = (table.schema.metadata or {}).get(_KIND, b"").decode()
    table = table.replace_schema_metadata(None)
    if kind == "table":
        return table
    if kind not in _ARRAY_RECORDS:
        raise ValueError(f"{path} is not a stored dedup result (kind {kind!r})")
    values = {name: table.column(name).combine_chunks().flatten().to_numpy(zero_copy_only=False)
              for name in table.column_names}
    return _ARRAY_RECORDS[kind](**values)


def _store_body(inputs: list, path: str) -> list:
    return [save_result(inputs[0], path)]


def fingerprint(inputs: Sequence[str]) -> list[dict]:
    """Each input's path, size and modification time: stored results only fit these inputs."""
    found = []
    for url in inputs:
        fs, real = url_to_fs(url)
        info = fs.info(real)
        changed = info.get("mtime", info.get("LastModified", info.get("updated")))
        found.append({"path": url, "size": info.get("size"), "modified": str(changed)})
    return found


def store_decisions(output_dir: str, inputs: Sequence[str], refs: list, params: dict, facts: dict,
                    seconds: dict) -> None:
    """Write every shard's result (Ray tasks, in parallel), then the phase-done marker."""
    import ray

    from pipelines.deduplication.ray_tasks import submit

    # An older marker must not vouch for results this call is replacing.
    fs, real = url_to_fs(marker_path(output_dir))
    if fs.exists(real):
        fs.rm(real)
    remove_stale_temps(phases_dir(output_dir))
    remove_stale_temps(f"{phases_dir(output_dir)}/{DECISIONS}")
    stored = [submit(_store_body, 1, [ref], path=result_path(output_dir, url))[0]
              for url, ref in zip(inputs, refs, strict=True)]
    ray.get(stored)
    marker = {"phase": DECISIONS, "params": params, "inputs": fingerprint(inputs),
              "facts": facts, "seconds": seconds}
    write_bytes_atomic(marker_path(output_dir), json.dumps(marker, indent=2).encode())


def stored_decisions(output_dir: str, inputs: Sequence[str], params: dict) -> Optional[dict]:
    """The marker of a finished phase 1 for these inputs and parameters, else None."""
    path = marker_path(output_dir)
    if not exists(path):
        return None
    import fsspec

    with fsspec.open(path, "rb") as fh:
        marker = json.loads(fh.read())
    # Through JSON, as stored: tuples and int keys of params compare as saved.
    wanted = json.loads(json.dumps({"params": params, "inputs": fingerprint(inputs)}))
    if marker.get("params") != wanted["params"] or marker.get("inputs") != wanted["inputs"]:
        return None
    # One listing, not a request per shard: the marker is written after every
    # result, so this only catches results deleted by hand.
    fs, real = url_to_fs(f"{phases_dir(output_dir)}/{DECISIONS}")
    present = {name.rstrip("/").rpartition("/")[2] for name in fs.ls(real, detail=False)} \
        if fs.exists(real) else set()
    if any(result_path(output_dir, url).rpartition("/")[2] not in present for url in inputs):
        return None
    return marker


def drop_checkpoints(output_dir: str) -> None:
    """Delete ``.dclm/phases/`` once every shard is written: nothing needs it any more."""
    fs, real = url_to_fs(phases_dir(output_dir))
    if fs.exists(real):
        fs.rm(real, recursive=True)
