"""Distributed connected components of LSH candidates, with Ray Core tasks.

Data flow (``P`` hash partitions, ``G`` shard groups; no task ever holds all
edges, all band keys or all labels):

1. per shard (done by the caller, ``pipelines/deduplication/minhash_dedup.py``): band rows
   ``(band, key, rank, doc)`` cut into ``P`` parts by key hash range;
2. per key partition: equal ``(band, key)`` → star edges ``doc → bucket centre``,
   routed to the node partitions of both endpoints (``lsh_buckets``); by
   default first checked against the stored signatures (``candidate_verification``);
3. per node partition, repeated: large-star, then small-star, each a
   shuffle of edges between ``P`` tasks (``star_contraction``). The driver
   only collects one fingerprint per task per round to detect convergence;
4. per node partition: ``(node, label)`` pairs (label = smallest global index
   of the component), routed to shard group ``shard mod G`` for the keep step.

All task bodies are plain functions of numpy arrays; ``ray_tasks.submit`` runs
them. The caller must have initialized Ray.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedup.lsh_buckets import bucket_edges_step
from dedup.partitioning import split_by_partition, unpack_doc_index
from dedup.star_contraction import (
    combine_fingerprints,
    label_step,
    large_star_step,
    route_to_both_ends,
    small_star_step,
)
from pipelines.deduplication.candidate_verification import route_by_child_group
from pipelines.deduplication.ray_tasks import submit, transpose


@dataclass
class ComponentsResult:
    """Labels routed by shard group, and how the clustering went."""

    labels_by_group: list[list]       # [group] -> refs of (node, label) parts
    rounds: int                       # large-star + small-star rounds run
    star_edges: int                   # edges of the final star graph
    # = clustered documents − clusters, i.e. the documents a dedup removes.


def _bucket_body(inputs: list, num_partitions: int, child_groups: int | None) -> list:
    child, parent = bucket_edges_step(inputs)
    if child_groups is not None:                 # on to candidate verification
        return route_by_child_group(child, parent, child_groups)
    return route_to_both_ends(child, parent, num_partitions)


def _large_star_body(inputs: list, num_partitions: int) -> list:
    return large_star_step(inputs, num_partitions)


def _small_star_body(inputs: list, num_partitions: int) -> list:
    fingerprint, parts = small_star_step(inputs, num_partitions)
    return [fingerprint] + parts


def shard_group(node: np.ndarray, num_groups: int) -> np.ndarray:
    """Group of a packed doc index: its shard number modulo ``num_groups``."""
    shard, _ = unpack_doc_index(node)
    return shard % num_groups


def _label_body(inputs: list, num_groups: int) -> list:
    node, label = label_step(inputs)
    return split_by_partition(shard_group(node, num_groups), num_groups, node, label)


def lsh_candidate_edges(band_parts: list[list], num_partitions: int,
                        child_groups: int | None = None) -> list[list]:
    """Phase 2: ``band_parts[shard][p]`` → edge parts ``[task][node partition]``.

    With ``child_groups`` the edges are routed ``[task][shard group of child]``
    instead, the input of ``candidate_verification.verify_candidate_edges``.
    """
    by_partition = transpose(band_parts, num_partitions)
    outputs = num_partitions if child_groups is None else child_groups
    return [submit(_bucket_body, outputs, by_partition[p], num_partitions=num_partitions,
                   child_groups=child_groups)
            for p in range(num_partitions)]


def connected_components(edge_parts: list[list], num_partitions: int, num_groups: int,
                         max_rounds: int = 100) -> ComponentsResult:
    """Phase 3 and 4: star contraction rounds until the edge set stops changing."""
    import ray

    P = num_partitions
    inputs = transpose(edge_parts, P)            # inputs[p]: refs routed to p
    previous = None
    for rounds in range(1, max_rounds + 1):  # noqa: B007 (rounds is returned after the loop)
        ls = [submit(_large_star_body, P, inputs[p], num_partitions=P) for p in range(P)]
        ls_inputs = transpose(ls, P)
        ss = [submit(_small_star_body, P + 1, ls_inputs[p], num_partitions=P)
              for p in range(P)]
        inputs = transpose([out[1:] for out in ss], P)
        fingerprint = combine_fingerprints(ray.get([out[0] for out in ss]))
        if fingerprint == previous:
            break
        previous = fingerprint
    else:
        raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
    labels = [submit(_label_body, num_groups, inputs[p], num_groups=num_groups)
              for p in range(P)]
    return ComponentsResult(labels_by_group=transpose(labels, num_groups),
                            rounds=rounds, star_edges=fingerprint[0])


def lsh_clusters(band_parts: list[list], num_partitions: int, num_groups: int,
                 max_rounds: int = 100) -> ComponentsResult:
    """Phases 2–4 from the per-shard band-row parts of phase 1."""
    edges = lsh_candidate_edges(band_parts, num_partitions)
    return connected_components(edges, num_partitions, num_groups, max_rounds)
