"""Check of LSH candidate edges against all entries of the MinHash signatures.

On by default (``MinHashConfig.verify_threshold``, 0.8); FineWeb and DCLM
join every candidate pair.

LSH makes a pair a candidate when one band of ``rows_per_band`` entries
matches, which happens by chance for pairs well below the threshold (14×8:
P(0.6) ≈ 0.38). Comparing all ``num_hashes`` entries estimates the pair's
Jaccard with standard error ``√(J(1−J)/num_hashes)`` (≈ 0.04 at 112), so
``verify_threshold`` drops most of those chance candidates for little recall.

Signatures stay where they were computed (in each shard's ``ShardMeta``, 16
bits per entry); the edges travel to them, never the reverse:

1. bucket tasks route each edge to the shard group of its ``child``;
2. per group: attach the child's signature, route to the parent's group;
3. per group: attach the parent's signature, keep the edge if the share of
   equal entries reaches the threshold, route it to the node partitions of
   both endpoints for connected components.

Edges are far fewer than band rows (about one per duplicate document), so
the two extra shuffles are small next to the band-row shuffle.
"""
from __future__ import annotations

import numpy as np

from dedup.jaccard import estimated_jaccard_16bit
from dedup.partitioning import concat_parts, split_by_partition, unpack_doc_index
from dedup.star_contraction import route_to_both_ends
from pipelines.deduplication.ray_tasks import submit, transpose
from pipelines.deduplication.shard_sketch import stored_signatures


def _group_of(nodes: np.ndarray, num_groups: int) -> np.ndarray:
    shard, _ = unpack_doc_index(nodes)
    return shard % num_groups


def route_by_child_group(child: np.ndarray, parent: np.ndarray, num_groups: int) -> list:
    """Bucket output routed to the shard group of each edge's child."""
    return split_by_partition(_group_of(child, num_groups), num_groups, child, parent)


def _attach_child_body(inputs: list, num_metas: int, num_groups: int) -> list:
    metas = {m.shard_index: m for m in inputs[:num_metas]}
    child, parent = concat_parts(inputs[num_metas:], (np.int64, np.int64))
    child_sig = stored_signatures(child, metas)
    return split_by_partition(_group_of(parent, num_groups), num_groups,
                              child, parent, child_sig)


def _verify_body(inputs: list, num_metas: int, num_partitions: int,
                 threshold: float) -> list:
    metas = {m.shard_index: m for m in inputs[:num_metas]}
    parts = inputs[num_metas:]
    child, parent = concat_parts([p[:2] for p in parts], (np.int64, np.int64))
    width = max((p[2].shape[1] for p in parts), default=0)
    child_sig = np.concatenate([p[2] for p in parts] + [np.zeros((0, width), np.uint16)])
    similar = estimated_jaccard_16bit(child_sig, stored_signatures(parent, metas)) >= threshold
    return route_to_both_ends(child[similar], parent[similar], num_partitions)


def verify_candidate_edges(edges_by_task: list[list], metas_by_group: list[list],
                           num_partitions: int, threshold: float) -> list[list]:
    """Verified edge parts ``[task][node partition]``, ready for components.

    ``edges_by_task[t][g]``: bucket-task output routed by child shard group;
    ``metas_by_group[g]``: refs of the ``ShardMeta`` of every shard in group g.
    """
    num_groups = len(metas_by_group)
    by_child_group = transpose(edges_by_task, num_groups)
    attached = [submit(_attach_child_body, num_groups, metas_by_group[g] + by_child_group[g],
                       num_metas=len(metas_by_group[g]), num_groups=num_groups)
                for g in range(num_groups)]
    by_parent_group = transpose(attached, num_groups)
    return [submit(_verify_body, num_partitions, metas_by_group[g] + by_parent_group[g],
                   num_metas=len(metas_by_group[g]), num_partitions=num_partitions,
                   threshold=threshold)
            for g in range(num_groups)]
