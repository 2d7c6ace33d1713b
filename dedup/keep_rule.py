"""Which document of a near-duplicate cluster survives.

The rule is deterministic and independent of shard order and scheduling:

* default: the document with the lowest ``id`` string (byte order);
* ``KeepRule(column="fasttext_hq_prob")``: the highest value of that numeric
  column, ties (and clusters where the column is all null/NaN, which rank
  lowest) broken by the lowest ``id``.

A final tie on ``id`` itself (duplicate ids) goes to the lowest global index.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

LOWEST_ID_NAMES = (None, "", "id", "lowest_id")


@dataclass(frozen=True)
class KeepRule:
    """``column=None``: keep the lowest id; else keep the highest ``column``."""

    column: str | None = None

    @classmethod
    def parse(cls, spec: "str | KeepRule | None") -> "KeepRule":
        """From a recipe value: None/"id"/"lowest_id", or a column name."""
        if isinstance(spec, KeepRule):
            return spec
        return cls(None if spec in LOWEST_ID_NAMES else spec)

    def describe(self) -> str:
        if self.column is None:
            return "lowest id"
        return f"highest {self.column}, then lowest id"


def priority_values(column: pa.ChunkedArray | pa.Array | None, num_rows: int
                    ) -> np.ndarray | None:
    """Column values as float64 for ranking; null and NaN become −inf."""
    if column is None:
        return None
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
            or pa.types.is_boolean(column.type)):
        raise TypeError(f"keep column must be numeric, got {column.type}")
    values = np.asarray(column.cast(pa.float64()).fill_null(float("nan")), dtype=np.float64)
    if len(values) != num_rows:
        raise ValueError("keep column length differs from the shard")
    return np.where(np.isnan(values), -np.inf, values)


def rank_clusters(label: np.ndarray, node: np.ndarray, ids: pa.Array,
                  priority: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Rows ordered cluster by cluster, best first, and each row's winner.

    Inputs are one row per clustered document: its cluster ``label``, global
    ``node`` index, ``id`` and (optional) ``priority``. Returns ``(order,
    winner)``: ``order`` lists input row numbers sorted by label, then rank;
    ``winner[i]`` is the input row number of the survivor of the cluster of
    row ``order[i]``. Callers that carry more columns per row (signatures)
    index them with these.
    """
    if priority is None:
        priority = np.zeros(len(node), dtype=np.float64)
    table = pa.table({
        "label": pa.array(np.asarray(label, dtype=np.int64)),
        "rank": pa.array(-np.asarray(priority, dtype=np.float64)),   # ascending = best first
        "id": ids.cast(pa.large_string()) if len(ids) else pa.array([], pa.large_string()),
        "node": pa.array(np.asarray(node, dtype=np.int64)),
        "row": pa.array(np.arange(len(node), dtype=np.int64)),
    })
    table = table.sort_by([("label", "ascending"), ("rank", "ascending"),
                           ("id", "ascending"), ("node", "ascending")])
    order = table.column("row").to_numpy()
    sorted_label = table.column("label").to_numpy()
    starts = np.ones(len(sorted_label), dtype=bool)
    starts[1:] = sorted_label[1:] != sorted_label[:-1]
    first_of_group = np.flatnonzero(starts)[np.cumsum(starts) - 1]
    return order, order[first_of_group]


def pick_representatives(label: np.ndarray, node: np.ndarray, ids: pa.Array,
                         priority: np.ndarray | None
                         ) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Winner of every cluster, broadcast to its members.

    Same inputs as ``rank_clusters``. Returns ``(node, winner_node,
    winner_id)``, one row per input row, ordered as ``rank_clusters`` orders.
    """
    node = np.asarray(node, dtype=np.int64)
    order, winner = rank_clusters(label, node, ids, priority)
    winner_id = ids.take(pa.array(winner, pa.int64())) if len(ids) else pa.array([], pa.string())
    return node[order], node[winner], winner_id
