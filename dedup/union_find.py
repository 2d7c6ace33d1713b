"""Single-process union-find: the reference the distributed clustering must match.

Used by tests (brute-force check of ``star_contraction`` and the Ray version)
and by benchmarks to turn a peer's candidate pairs into clusters. It holds
every node in one dict, so it is for samples, not for a crawl.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np


class UnionFind:
    """Disjoint sets over hashable nodes; each set's root is its smallest node."""

    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, x):
        parent = self.parent
        root = parent.setdefault(x, x)
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:           # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # Linking the larger root under the smaller keeps roots = minima.
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra

    def union_all(self, pairs: Iterable[tuple]) -> "UnionFind":
        for a, b in pairs:
            self.union(a, b)
        return self


def union_find_labels(child: np.ndarray, parent: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``(node, label)`` for every node on an edge, sorted by node.

    ``label`` is the smallest node of the component, as in
    ``star_contraction.connected_components_local``. Self loops are ignored.
    """
    pairs = [(a, b) for a, b in zip(np.asarray(child).tolist(), np.asarray(parent).tolist(), strict=True)
             if a != b]
    uf = UnionFind().union_all(pairs)
    nodes = sorted(uf.parent)
    return (np.array(nodes, dtype=np.int64),
            np.array([uf.find(n) for n in nodes], dtype=np.int64))
