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
   (``keep``, ``reason``, ``duplicate_of``), the input of ``pipelines.dedup_write``.

No task holds more than one partition of keys; only row counts and run
totals reach the driver. Null values (a missing URL) never match anything.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa

from dedup.exact_keys import hash128, key_strings
from dedup.partitioning import (concat_parts, key_partition, pack_doc_index, split_by_partition,
                                unpack_doc_index)
from dedup.ray_tasks import cluster_cpus, submit, transpose
from dedup.stage_timer import StageTimer

_KEY_DTYPES = (np.uint64, np.uint64, np.int64)


def _key_body(inputs: list, path: str, shard_index: int, column: str, id_column: str,
              kind: str, raw: bool, num_partitions: int) -> list:
    from dclm.parquet_shards import read_table

    table = read_table(path, columns=[column, id_column])
    keys, present = key_strings(table.column(column).to_pylist(), kind, raw)
    hi, lo = hash128(keys)
    rows = np.flatnonzero(present)
    doc = pack_doc_index(shard_index, rows)
    ids = table.column(id_column).cast(pa.string()).combine_chunks().take(pa.array(rows))
    parts = split_by_partition(key_partition(hi[rows], num_partitions), num_partitions,
                               hi[rows], lo[rows], doc, ids)
    return [table.num_rows] + parts


def _find_body(inputs: list, num_groups: int) -> list:
    hi, lo, doc = concat_parts([part[:3] for part in inputs], _KEY_DTYPES)
    ids = pa.concat_arrays([part[3] for part in inputs] + [pa.array([], pa.string())])
    order = np.lexsort((doc, lo, hi))
    hi, lo, doc = hi[order], lo[order], doc[order]
    starts = np.ones(len(doc), dtype=bool)
    starts[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
    # Sorted by doc inside a run: its first row is the earliest document.
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
    for shard_index, num_rows in zip(shard_indices, counts):
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
                                 timings: dict | None = None) -> tuple[list, dict]:
    """Per-shard annotation refs (input order) and run totals.

    ``kind`` is ``"text"`` (exact dedup) or ``"url"``; ``reason`` is the drop
    reason of a duplicate (``exact_duplicate``).
    """
    import ray

    timer = StageTimer(timings)
    S = len(shard_paths)
    P = num_partitions or min(cluster_cpus(), 64)
    G = max(1, min(S, P))
    keyed = [submit(_key_body, P + 1, path=str(p), shard_index=s, column=column,
                    id_column=id_column, kind=kind, raw=raw, num_partitions=P)
             for s, p in enumerate(shard_paths)]
    counts = [out[0] for out in keyed]
    timer.wait("keys", counts)
    found = [submit(_find_body, G + 1, parts, num_groups=G)
             for parts in transpose([out[1:] for out in keyed], P)]
    totals = {"duplicate_groups": 0, "removed": 0}
    for stats in ray.get([out[0] for out in found]):
        for name in totals:
            totals[name] += stats[name]
    timer.mark("find")
    by_group = transpose([out[1:] for out in found], G)
    annotations: list = [None] * S
    for g in range(G):
        members = list(range(g, S, G))
        if not members:
            continue
        refs = submit(_annotate_body, len(members), [counts[s] for s in members] + by_group[g],
                      shard_indices=members, reason=reason)
        for s, ref in zip(members, refs):
            annotations[s] = ref
    timer.wait("annotate", annotations)
    return annotations, {**totals, "num_partitions": P, "num_groups": G}
