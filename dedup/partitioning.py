"""Hash partitioning of numpy columns: the shuffle primitive of the dedup stages.

Every distributed stage of MinHash clustering ends by cutting its output rows
into ``P`` parts by a key (band key, node id, shard group), one part per
downstream task. These helpers do that cut with one stable argsort and keep
the row order inside a part deterministic, so results never depend on
scheduling.

Document ids are packed global integers: ``doc_index = shard << 32 | row``.
They need no global counting pass (a shard task knows its own number and
rows), stay unique across shards, and sort by (shard, row).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from dedup.hashing64 import mix64

ROW_BITS = 32
_ROW_MASK = np.int64((1 << ROW_BITS) - 1)


def pack_doc_index(shard_index: int, rows: np.ndarray) -> np.ndarray:
    """Global int64 index of rows ``rows`` of shard ``shard_index``."""
    rows = np.asarray(rows, dtype=np.int64)
    if shard_index < 0 or shard_index >= 1 << 31:
        raise ValueError(f"shard index out of range: {shard_index}")
    if len(rows) and (rows.min() < 0 or rows.max() > int(_ROW_MASK)):
        raise ValueError("a shard may hold at most 2^32 rows")
    return (np.int64(shard_index) << np.int64(ROW_BITS)) | rows


def unpack_doc_index(doc_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(shard, row)`` arrays of packed global indices."""
    doc_index = np.asarray(doc_index, dtype=np.int64)
    return doc_index >> np.int64(ROW_BITS), doc_index & _ROW_MASK


def node_partition(nodes: np.ndarray, num_partitions: int) -> np.ndarray:
    """Partition number (int64) of each node id.

    Node ids are structured (shard in the high bits, consecutive rows in the
    low bits); mixing them first spreads them evenly over partitions.
    """
    return (mix64(nodes) % np.uint64(num_partitions)).astype(np.int64)


def key_partition(keys: np.ndarray, num_partitions: int) -> np.ndarray:
    """Partition number of already well-mixed uint64 keys (LSH band keys)."""
    return (np.asarray(keys, dtype=np.uint64) % np.uint64(num_partitions)).astype(np.int64)


def split_by_partition(partition: np.ndarray, num_partitions: int,
                       *columns: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Cut equally long columns into ``num_partitions`` tuples of columns.

    Part ``p`` holds the rows whose ``partition`` equals ``p``, in their
    original order. Columns may be numpy arrays or pyarrow arrays (string ids
    stay in Arrow form); ``None`` columns stay ``None`` in every part.
    """
    order = np.argsort(partition, kind="stable")
    bounds = np.searchsorted(partition[order], np.arange(num_partitions + 1))
    sorted_columns = [_take(c, order) for c in columns]
    return [tuple(None if c is None else c[bounds[p]:bounds[p + 1]] for c in sorted_columns)
            for p in range(num_partitions)]


def _take(column, order: np.ndarray):
    if column is None:
        return None
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        return column.take(pa.array(order, pa.int64()))
    return np.asarray(column)[order]


def concat_parts(parts: list[tuple[np.ndarray, ...]],
                 dtypes: tuple) -> tuple[np.ndarray, ...]:
    """Column-wise concatenation of parts received from upstream tasks."""
    return tuple(np.concatenate([part[i] for part in parts] + [np.zeros(0, dtype)])
                 .astype(dtype, copy=False) for i, dtype in enumerate(dtypes))
