"""Connected components by alternating large-star / small-star rounds.

The algorithm is Kiveris et al., "Connected Components in MapReduce and
Beyond" (SoCC 2014). It rewrites the edge set, never a global label table, so
each step only needs the edges of the nodes in one partition:

* large-star, at node ``u`` with neighbors ``N(u)``: let ``m = min(N(u) ∪ {u})``;
  replace every edge ``(u, v)`` with ``v > u`` by ``(v, m)``.
* small-star, at node ``u`` with its smaller neighbors ``S(u)``: let
  ``m = min(S(u) ∪ {u})``; replace those edges by ``(v, m)`` for every
  ``v ∈ S(u) ∪ {u}``, ``v ≠ m``.

Both keep the components and shrink paths; the fixed point of a
large-star + small-star round is a star per component, centred on its
smallest node, so a node's label is ``min(node, neighbors)``.

Edges are held as ``(child, parent)`` with ``child > parent``. Between steps
they are shuffled by node: large-star needs every edge at both endpoints,
small-star only at its larger endpoint. Convergence test: small-star hashes
the edge set it receives (the large-star output); when that hash repeats, the
round changed nothing and the graph is final. The step functions below are
the task bodies of the Ray version (``pipelines/deduplication/components.py``);
``connected_components_local`` runs the same steps in one process.
"""
from __future__ import annotations

import numpy as np

from dedup.hashing64 import mix64
from dedup.partitioning import concat_parts, node_partition, split_by_partition

EdgeParts = list[tuple[np.ndarray, np.ndarray]]
_EDGE_DTYPES = (np.int64, np.int64)


def unique_edges(node: np.ndarray, nbr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``(node, nbr)`` pairs without self loops, sorted by node, nbr."""
    node = np.asarray(node, dtype=np.int64)
    nbr = np.asarray(nbr, dtype=np.int64)
    keep = node != nbr
    node, nbr = node[keep], nbr[keep]
    order = np.lexsort((nbr, node))
    node, nbr = node[order], nbr[order]
    fresh = np.ones(len(node), dtype=bool)
    fresh[1:] = (node[1:] != node[:-1]) | (nbr[1:] != nbr[:-1])
    return node[fresh], nbr[fresh]


def _group_min(node: np.ndarray, nbr: np.ndarray) -> np.ndarray:
    """Per row, ``min(node, every nbr of that node)``; input sorted by node, nbr."""
    if len(node) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.ones(len(node), dtype=bool)
    starts[1:] = node[1:] != node[:-1]
    group = np.cumsum(starts) - 1
    # Sorted by (node, nbr): the first row of a group has its smallest nbr.
    first = np.flatnonzero(starts)
    return np.minimum(node[first], nbr[first])[group]


def large_star(node: np.ndarray, nbr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Large-star at every node present: edges to larger neighbors move to the minimum.

    Input: all edges of these nodes, each listed as ``(node, nbr)``.
    Output: ``(child, parent)`` edges, ``child > parent``.
    """
    node, nbr = unique_edges(node, nbr)
    smallest = _group_min(node, nbr)
    bigger = nbr > node
    return nbr[bigger], smallest[bigger]


def small_star(node: np.ndarray, nbr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Small-star at every node present.

    Input: edges ``(node, nbr)`` with ``nbr < node``, each at its larger end.
    Output: ``(child, parent)`` edges, ``child > parent``.
    """
    node, nbr = unique_edges(node, nbr)
    smallest = _group_min(node, nbr)
    moved = nbr != smallest                    # neighbors other than the minimum
    child = np.concatenate((nbr[moved], node))
    parent = np.concatenate((smallest[moved], smallest))
    return unique_edges(child, parent)


def edge_fingerprint(child: np.ndarray, parent: np.ndarray) -> tuple[int, int]:
    """Order-free hash of a set of distinct edges: (count, wrapping sum of mixes)."""
    mixed = mix64(mix64(child) ^ np.asarray(parent).astype(np.uint64))
    return len(child), int(np.sum(mixed, dtype=np.uint64))


def combine_fingerprints(prints: list[tuple[int, int]]) -> tuple[int, int]:
    """Fingerprint of the union of disjoint edge sets."""
    return (sum(p[0] for p in prints),
            sum(p[1] for p in prints) % (1 << 64))


def route_to_both_ends(child: np.ndarray, parent: np.ndarray,
                       num_partitions: int) -> EdgeParts:
    """Send each edge to the partitions of both endpoints, as ``(node, nbr)``."""
    node = np.concatenate((child, parent))
    nbr = np.concatenate((parent, child))
    return split_by_partition(node_partition(node, num_partitions), num_partitions,
                              node, nbr)


def route_to_larger_end(child: np.ndarray, parent: np.ndarray,
                        num_partitions: int) -> EdgeParts:
    """Send each edge to the partition of its larger endpoint, as ``(node, nbr)``."""
    return split_by_partition(node_partition(child, num_partitions), num_partitions,
                              child, parent)


def large_star_step(incoming: EdgeParts, num_partitions: int) -> EdgeParts:
    """Task body: large-star over received parts, output routed for small-star."""
    node, nbr = concat_parts(incoming, _EDGE_DTYPES)
    return route_to_larger_end(*large_star(node, nbr), num_partitions)


def small_star_step(incoming: EdgeParts, num_partitions: int
                    ) -> tuple[tuple[int, int], EdgeParts]:
    """Task body: fingerprint of the received edges, then small-star.

    Edges arrive at their larger endpoint only, so the fingerprints of all
    partitions add up to the fingerprint of the whole large-star output.
    """
    node, nbr = unique_edges(*concat_parts(incoming, _EDGE_DTYPES))
    fingerprint = edge_fingerprint(node, nbr)
    return fingerprint, route_to_both_ends(*small_star(node, nbr), num_partitions)


def label_step(incoming: EdgeParts) -> tuple[np.ndarray, np.ndarray]:
    """Task body after convergence: ``(node, label)`` for every node received.

    On the final star graph a node's label (its component's smallest node)
    is the minimum of itself and its neighbors. Nodes without edges are
    singletons and never appear.
    """
    node, nbr = unique_edges(*concat_parts(incoming, _EDGE_DTYPES))
    labels = _group_min(node, nbr)
    first = np.ones(len(node), dtype=bool)
    first[1:] = node[1:] != node[:-1]
    return node[first], labels[first]


def initial_parts(child: np.ndarray, parent: np.ndarray,
                  num_partitions: int) -> EdgeParts:
    """Candidate edges (any orientation) routed for the first large-star."""
    child = np.asarray(child, dtype=np.int64)
    parent = np.asarray(parent, dtype=np.int64)
    hi, lo = unique_edges(np.maximum(child, parent), np.minimum(child, parent))
    return route_to_both_ends(hi, lo, num_partitions)


def connected_components_local(child: np.ndarray, parent: np.ndarray,
                               num_partitions: int = 4, max_rounds: int = 100
                               ) -> tuple[np.ndarray, np.ndarray, int]:
    """Single-process run of the partitioned algorithm (tests, small inputs).

    Returns ``(node, label, rounds)`` over the nodes that have edges, sorted by
    node; ``label`` is the smallest node of the node's component.
    """
    P = num_partitions
    parts = [[p] for p in initial_parts(child, parent, P)]   # parts[p]: list of inputs of p
    previous = None
    for rounds in range(1, max_rounds + 1):  # noqa: B007 (rounds is returned after the loop)
        ls_out = [large_star_step(parts[p], P) for p in range(P)]
        ss_out = [small_star_step([ls_out[q][p] for q in range(P)], P) for p in range(P)]
        parts = [[ss_out[q][1][p] for q in range(P)] for p in range(P)]
        fingerprint = combine_fingerprints([fp for fp, _ in ss_out])
        if fingerprint == previous:
            break
        previous = fingerprint
    else:
        raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
    labelled = [label_step(parts[p]) for p in range(P)]
    node = np.concatenate([n for n, _ in labelled] + [np.zeros(0, np.int64)])
    label = np.concatenate([lab for _, lab in labelled] + [np.zeros(0, np.int64)])
    order = np.argsort(node)
    return node[order], label[order], rounds
