"""Exact and URL dedup over Parquet shards: keep the first of each equal key.

Order: shards in the order given (the CLI sorts them by name), then rows in
file order. A document's position is its packed global index
``shard << 32 | row`` (``partitioning.pack_doc_index``), so "first" is simply
the smallest index among equal keys, and the result does not depend on how
tasks are scheduled.

Phases, with ``S`` shards, ``P`` hash partitions and ``G = min(S, P)`` shard
groups (the same shuffle pattern as MinHash's band keys):

1. key, one task per shard: normalize the column (``exact_keys``), hash to
   128 bits, cut the rows ``(hi, lo, doc, id)`` into ``P`` parts by ``hi``;
2. find, one task per partition: sort by ``(hi, lo, doc)``; every row after
   the first of a run of equal keys is a duplicate of that first row; the
   ``(doc, kept id)`` pairs are routed to the shard group of ``doc``;
3. annotate, one task per group: per shard, a table aligned with its rows
   (``keep``, ``reason``, ``duplicate_of``), the input of ``pipelines.deduplication.write``.

No task holds more than one partition of keys; only row counts and run
totals reach the driver. Null values (a missing URL) never match anything.

With DCLM's parameters (``kind="dclm"``, ``dedup.dclm_keys``) the key is
DCLM's normalizer of the column, and with a ``selection_column`` the
survivor of a run is the row with the smallest (``selection_reverse``:
largest) selected value, ties going to the earliest document.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa

from dedup.dclm_keys import content_keys, selection_values
from dedup.exact_keys import hash128, key_strings
from dedup.partitioning import concat_parts, key_partition, pack_doc_index, split_by_partition, unpack_doc_index
from pipelines.deduplication.ray_tasks import cluster_cpus, submit, submit_per_group, transpose
from pipelines.deduplication.stage_timer import StageTimer

_KEY_DTYPES = (np.uint64, np.uint64, np.int64)


def _key_body(inputs: list, path: str, shard_index: int, column: str, id_column: str,
              kind: str, raw: bool, num_partitions: int, normalize=None,
              selection_column=None, selection_normalize=None) -> list:
    from dclm.io.document_files import read_documents_table as read_table

    columns = [column, id_column] + ([selection_column] if selection_column else [])
    table = read_table(path, columns=list(dict.fromkeys(columns)))
    values = table.column(column).to_pylist()
    if kind == "dclm":
        keys = content_keys(values, normalize)
        present = np.fromiter((k is not None for k in keys), dtype=bool, count=len(keys))
    else:
        keys, present = key_strings(values, kind, raw)
    hi, lo = hash128(keys)
    rows = np.flatnonzero(present)
    doc = pack_doc_index(shard_index, rows)
    ids = table.column(id_column).cast(pa.string()).combine_chunks().take(pa.array(rows))
    selected = None
    if selection_column:
        chosen = selection_values(table.column(selection_column).to_pylist(), selection_normalize)
        selected = pa.array(chosen).take(pa.array(rows))
    parts = split_by_partition(key_partition(hi[rows], num_partitions), num_partitions,
                               hi[rows], lo[rows], doc, ids, selected)
    return [table.num_rows] + parts


def selection_rank(parts: list, reverse: bool) -> np.ndarray:
    """Rank of each row's selected value (``part[4]``) in the partition (0 everywhere without one)."""
    import pyarrow.compute as pc

    total = sum(len(part[0]) for part in parts)
    chunks = [part[4] for part in parts if len(part) > 4 and part[4] is not None and len(part[4])]
    typed = [c.type for c in chunks if not pa.types.is_null(c.type)]
    if not typed:  # no rows, or no page has a selected value: input order decides
        return np.zeros(total, dtype=np.uint64)
    # A shard whose values are all missing sends a null-typed array.
    values = pa.concat_arrays([c.cast(typed[0]) if pa.types.is_null(c.type) else c for c in chunks])
    order = "descending" if reverse else "ascending"
    # Missing values rank last, whatever the order (Arrow's default).
    return pc.rank(values, sort_keys=order, tiebreaker="min").to_numpy().astype(np.uint64)


def _find_body(inputs: list, num_groups: int, selection_reverse: bool = False) -> list:
    hi, lo, doc = concat_parts([part[:3] for part in inputs], _KEY_DTYPES)
    ids = pa.concat_arrays([part[3] for part in inputs] + [pa.array([], pa.string())])
    rank = selection_rank(inputs, selection_reverse)
    order = np.lexsort((doc, rank, lo, hi))
    hi, lo, doc = hi[order], lo[order], doc[order]
    starts = np.ones(len(doc), dtype=bool)
    starts[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
    # Sorted by (rank, doc) inside a run: its first row is the survivor.
    first = np.flatnonzero(starts)[np.cumsum(starts) - 1]
    dup = np.flatnonzero(~starts)
    kept_id = ids.take(pa.array(order[first[dup]], pa.int64()))
    shard, _ = unpack_doc_index(doc[dup])
    parts = split_by_partition(shard % num_groups, num_groups, doc[dup], kept_id)
    # A run with duplicates is a start followed by a non-start.
    stats = {"duplicate_groups": int(np.count_nonzero(starts[:-1] & ~starts[1:])),
             "removed": int(len(dup))}
    return [stats] + parts


def _annotate_body(inputs: list, shard_indices: list, reason: str) -> list:
    counts, parts = inputs[:len(shard_indices)], inputs[len(shard_indices):]
    (doc,) = concat_parts([part[:1] for part in parts], (np.int64,))
    kept_id = pa.concat_arrays([part[1] for part in parts] + [pa.array([], pa.string())])
    shard, row = unpack_doc_index(doc)
    tables = []
    for shard_index, num_rows in zip(shard_indices, counts, strict=True):
        mine = np.flatnonzero(shard == shard_index)
        keep = np.ones(num_rows, dtype=bool)
        keep[row[mine]] = False
        # Row r's duplicate_of: null, or the kept id placed after the shard's rows.
        source = np.full(num_rows, num_rows, dtype=np.int64)
        source[row[mine]] = num_rows + 1 + np.arange(len(mine))
        kept_ids = pa.concat_arrays([pa.nulls(num_rows + 1, pa.string()),
                                    kept_id.take(pa.array(mine, pa.int64()))])
        tables.append(pa.table({"keep": pa.array(keep),
                                "reason": pa.array(np.where(keep, None, reason), pa.string()),
                                "duplicate_of": kept_ids.take(pa.array(source))}))
    return tables


def first_occurrence_annotations(shard_paths: Sequence[str], *, column: str, kind: str,
                                 reason: str, id_column: str = "id", raw: bool = False,
                                 num_partitions: int | None = None,
                                 timings: dict | None = None, normalize: str | None = None,
                                 selection_column: str | None = None,
                                 selection_normalize: str | None = None,
                                 selection_reverse: bool = False) -> tuple[list, dict]:
    """Per-shard annotation refs (input order) and run totals.

    ``kind`` is ``"text"`` (exact dedup), ``"url"`` or ``"dclm"`` (DCLM's
    ``normalize``, see ``dedup.dclm_keys``); ``reason`` is the drop reason
    of a duplicate (``exact_duplicate``).
    """
    import ray

    timer = StageTimer(timings)
    S = len(shard_paths)
    P = num_partitions or min(cluster_cpus(), 64)
    G = max(1, min(S, P))
    keyed = [submit(_key_body, P + 1, path=str(p), shard_index=s, column=column,
                    id_column=id_column, kind=kind, raw=raw, num_partitions=P,
                    normalize=normalize, selection_column=selection_column,
                    selection_normalize=selection_normalize)
             for s, p in enumerate(shard_paths)]
    counts = [out[0] for out in keyed]
    timer.wait("keys", counts)
    found = [submit(_find_body, G + 1, parts, num_groups=G, selection_reverse=selection_reverse)
             for parts in transpose([out[1:] for out in keyed], P)]
    totals = {"duplicate_groups": 0, "removed": 0}
    for stats in ray.get([out[0] for out in found]):
        for name in totals:
            totals[name] += stats[name]
    timer.mark("find")
    annotations = submit_per_group(_annotate_body, counts, transpose([out[1:] for out in found], G), G,
                                   lambda members: {"shard_indices": members, "reason": reason})
    timer.wait("annotate", annotations)
    return annotations, {**totals, "num_partitions": P, "num_groups": G}
