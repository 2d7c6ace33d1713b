"""Cluster-size statistics of a MinHash run, computed where the clusters live.

Each pick task of ``minhash_dedup`` holds whole clusters (all rows of one
label), so it can count them locally; the driver only adds up a few numbers
per task. Sizes go in power-of-two bins ("2", "3-4", "5-8", …): web
duplicate clusters have a long tail, and exact sizes would make the
histogram as long as the number of distinct sizes.
"""
from __future__ import annotations

import numpy as np


def size_bin(size: int) -> str:
    """Bin label of a cluster size >= 2: "2", "3-4", "5-8", "9-16", …"""
    if size <= 2:
        return "2"
    upper = 1 << (int(size) - 1).bit_length()
    return f"{upper // 2 + 1}-{upper}"


def cluster_size_stats(label: np.ndarray) -> dict:
    """Statistics of the clusters whose members' labels are given (one row each)."""
    _, sizes = np.unique(np.asarray(label), return_counts=True)
    histogram: dict[str, int] = {}
    for size, count in zip(*np.unique(sizes, return_counts=True), strict=True):
        name = size_bin(int(size))
        histogram[name] = histogram.get(name, 0) + int(count)
    return {"clusters": int(len(sizes)), "clustered_documents": int(sizes.sum()),
            "largest": int(sizes.max()) if len(sizes) else 0, "histogram": histogram}


def merge_cluster_stats(parts: list[dict]) -> dict:
    """Statistics of the union of disjoint sets of clusters."""
    histogram: dict[str, int] = {}
    for part in parts:
        for name, count in part["histogram"].items():
            histogram[name] = histogram.get(name, 0) + count
    ordered = dict(sorted(histogram.items(), key=lambda kv: int(kv[0].split("-")[0])))
    return {"clusters": sum(p["clusters"] for p in parts),
            "clustered_documents": sum(p["clustered_documents"] for p in parts),
            "largest": max((p["largest"] for p in parts), default=0),
            "histogram": ordered}
