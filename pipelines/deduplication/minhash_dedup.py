"""MinHash near-duplicate removal over Parquet shards, as Ray tasks.

``minhash_dedup_annotations(shard_paths, config)`` runs, with ``S`` shards,
``P`` hash partitions and ``G = min(S, P)`` shard groups:

1. sketch, one task per shard: shingles → signatures → band keys, band rows
   cut into ``P`` parts (``shard_sketch``, ``lsh_buckets``);
2. cluster, ``P`` tasks per step (``components``): labels per node; with
   ``verify_threshold``, candidate edges are first checked against the full
   signatures (``candidate_verification``);
3. join, one task per shard group: each clustered node gets its ``id``,
   keep-rule value and stored signature, rows routed by cluster label;
4. pick, one task per label partition: the cluster's keeper (``keep_rule``);
   with ``keeper_threshold``, each other member is removed only if its
   signature matches the keeper's well enough (``keeper_check``). Removals
   are routed back by shard group; members that failed are banded again
   from their stored signatures (one task per shard group) and go through
   steps 2–4 among themselves, for at most ``keeper_rounds`` rounds;
5. annotate, one task per shard group: per shard, an Arrow table aligned
   with the shard's rows: ``minhash_cluster`` (id of the document kept in
   its place; a kept document names itself) and ``minhash_keep``.

Only fingerprints and counts ever reach the driver; the annotations stay in
the object store until ``write_deduplicated_shards`` (or the caller's own
writer task) consumes them. The caller owns ``ray.init``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dedup.cluster_stats import merge_cluster_stats
from dedup.keeper_check import settle_clusters, unverified_band_rows
from dedup.lsh_buckets import center_ranks, partition_band_rows
from dedup.minhash_config import MinHashConfig
from dedup.partitioning import concat_parts, node_partition, split_by_partition, unpack_doc_index
from pipelines.deduplication.candidate_verification import verify_candidate_edges
from pipelines.deduplication.components import ComponentsResult, connected_components, lsh_candidate_edges, shard_group
from pipelines.deduplication.ray_tasks import cluster_cpus, submit, transpose
from pipelines.deduplication.shard_sketch import ShardMeta, sketch_shard, stored_ids, stored_signatures
from pipelines.deduplication.stage_timer import StageTimer

CLUSTER_COLUMN = "minhash_cluster"
KEEP_COLUMN = "minhash_keep"
# Every shuffle makes tasks × P objects, so P is capped by default; past a few
# hundred CPUs, pass num_partitions explicitly (and expect P² objects a step).
DEFAULT_MAX_PARTITIONS = 64


@dataclass
class MinHashDedupResult:
    """Per-shard annotation refs (in input order) and run facts."""

    annotations: list                  # refs of pa.Table(minhash_cluster, minhash_keep)
    num_partitions: int
    num_groups: int
    rounds: int                        # star-contraction rounds, all keeper rounds
    removed: int                       # documents not kept, over all shards
    clusters: dict = field(default_factory=dict)   # merge_cluster_stats of all partitions
    keeper_rounds: int = 1             # clustering rounds run by the keeper check
    unverified_kept: int = 0           # failed their last check and were kept


def _sketch_body(inputs: list, path: str, shard_index: int, config: MinHashConfig,
                 num_partitions: int) -> list:
    band_keys, doc_index, meta = sketch_shard(path, shard_index, config)
    return [meta] + partition_band_rows(band_keys, doc_index, num_partitions,
                                        center_ranks(meta.ids))


def _split_metas(inputs: list, num_metas: int) -> tuple[dict[int, ShardMeta], list]:
    metas = {meta.shard_index: meta for meta in inputs[:num_metas]}
    return metas, inputs[num_metas:]


def _join_body(inputs: list, num_metas: int, num_partitions: int,
               with_signatures: bool) -> list:
    """Attach id, keep value (and signature) to clustered nodes; route by label."""
    metas, parts = _split_metas(inputs, num_metas)
    node, label = concat_parts(parts, (np.int64, np.int64))
    shard, row = unpack_doc_index(node)
    has_priority = any(m.priority is not None for m in metas.values())
    ids, priority, order = [], [], []
    for shard_index, meta in metas.items():
        picked = np.flatnonzero(shard == shard_index)
        order.append(picked)
        ids.append(meta.ids.take(pa.array(row[picked])))
        if has_priority:
            priority.append(meta.priority[row[picked]])
    order = np.concatenate(order + [np.zeros(0, np.int64)])
    if len(order) != len(node):
        raise RuntimeError("labels arrived for shards outside this group")
    node, label = node[order], label[order]
    ids = pa.concat_arrays(ids) if ids else pa.array([], pa.string())
    priority = np.concatenate(priority) if has_priority else None
    signatures = stored_signatures(node, metas) if with_signatures else None
    return split_by_partition(node_partition(label, num_partitions), num_partitions,
                              label, node, ids, priority, signatures)


def _pick_body(inputs: list, num_groups: int, threshold: float | None) -> list:
    """Keepers and checked removals of this label partition's clusters.

    Outputs: this partition's statistics (a label lives in exactly one
    partition, so they add up), then per shard group the removed
    ``(node, keeper id)``, then per shard group the unverified nodes.
    """
    label, node = concat_parts([part[:2] for part in inputs], (np.int64, np.int64))
    ids = pa.concat_arrays([part[2] for part in inputs] + [pa.array([], pa.string())])
    with_priority = [part[3] for part in inputs if part[3] is not None]
    priority = np.concatenate(with_priority) if with_priority else None
    with_signatures = [part[4] for part in inputs if part[4] is not None]
    signatures = np.concatenate(with_signatures) if with_signatures else None
    settled = settle_clusters(label, node, ids, priority, signatures, threshold)
    removed, unverified = settled["removed_node"], settled["unverified_node"]
    return ([settled["stats"]]
            + split_by_partition(shard_group(removed, num_groups), num_groups, removed,
                                 settled["removed_winner_id"].cast(pa.string()))
            + split_by_partition(shard_group(unverified, num_groups), num_groups, unverified))


def _reband_body(inputs: list, num_metas: int, config: MinHashConfig,
                 num_partitions: int) -> list:
    """Band rows of this group's unverified documents, for the next round."""
    metas, parts = _split_metas(inputs, num_metas)
    (node,) = concat_parts(parts, (np.int64,))
    return unverified_band_rows(node, stored_signatures(node, metas),
                                center_ranks(stored_ids(node, metas)), config.num_bands,
                                config.rows_per_band, config.seed, num_partitions)


def _annotate_body(inputs: list, num_metas: int) -> list:
    """One annotation table per shard of the group, rows aligned with the shard."""
    metas, parts = _split_metas(inputs, num_metas)
    (node,) = concat_parts([part[:1] for part in parts], (np.int64,))
    winner_id = pa.concat_arrays([part[1] for part in parts] + [pa.array([], pa.string())])
    shard, row = unpack_doc_index(node)
    tables = []
    for meta in inputs[:num_metas]:           # input order = order of returns
        mine = np.flatnonzero(shard == meta.shard_index)
        # Row r takes its own id, or its keeper's id appended after the ids.
        source = np.arange(meta.num_rows, dtype=np.int64)
        source[row[mine]] = meta.num_rows + np.arange(len(mine))
        cluster = pa.concat_arrays([meta.ids.cast(pa.string()),
                                    winner_id.take(pa.array(mine, pa.int64()))])
        keep = np.ones(meta.num_rows, dtype=bool)
        keep[row[mine]] = False
        tables.append(pa.table({CLUSTER_COLUMN: cluster.take(pa.array(source)),
                                KEEP_COLUMN: pa.array(keep)}))
    return tables


def _shard_groups(num_shards: int, num_groups: int) -> list[list[int]]:
    return [list(range(g, num_shards, num_groups)) for g in range(num_groups)]


def _cluster(band_parts: list, metas_by_group: list, P: int, config: MinHashConfig,
             timer: StageTimer) -> ComponentsResult:
    """Step 2 of the module docstring: band rows → labels by shard group."""
    G = len(metas_by_group)
    if config.verify_threshold is None:
        edges = lsh_candidate_edges(band_parts, P)
        timer.wait("buckets", edges)
    else:
        edges = lsh_candidate_edges(band_parts, P, child_groups=G)
        timer.wait("buckets", edges)
        edges = verify_candidate_edges(edges, metas_by_group, P, config.verify_threshold)
        timer.wait("verify", edges)
    clusters = connected_components(edges, P, G, config.max_rounds)
    timer.wait("components", clusters.labels_by_group)
    return clusters


def minhash_dedup_annotations(shard_paths: Sequence[str], config: MinHashConfig,
                              timings: dict | None = None) -> MinHashDedupResult:
    """Cluster all shards; per-shard annotation refs (see module docstring).

    ``timings`` (optional) receives seconds per phase: signatures, buckets,
    components, keep (join, pick and annotate); later keeper rounds add to
    the same phases.
    """
    import ray

    timer = StageTimer(timings)
    num_shards = len(shard_paths)
    P = config.num_partitions or min(cluster_cpus(), DEFAULT_MAX_PARTITIONS)
    G = max(1, min(num_shards, P))
    sketches = [submit(_sketch_body, P + 1, path=str(path), shard_index=s,
                       config=config, num_partitions=P)
                for s, path in enumerate(shard_paths)]
    metas = [out[0] for out in sketches]
    groups = _shard_groups(num_shards, G)
    metas_by_group = [[metas[s] for s in group] for group in groups]
    band_parts = [out[1:] for out in sketches]
    timer.wait("signatures", sketches)
    threshold = config.keeper_threshold
    removed_by_group: list[list] = [[] for _ in range(G)]
    stats, rounds = [], 0
    for keeper_round in range(1, config.keeper_rounds + 1):
        clusters = _cluster(band_parts, metas_by_group, P, config, timer)
        rounds += clusters.rounds
        joined = [submit(_join_body, P, metas_by_group[g] + clusters.labels_by_group[g],
                         num_metas=len(groups[g]), num_partitions=P,
                         with_signatures=threshold is not None)
                  for g in range(G)]
        picked = [submit(_pick_body, 1 + 2 * G, parts, num_groups=G, threshold=threshold)
                  for parts in transpose(joined, P)]
        round_stats = ray.get([out[0] for out in picked])
        stats.extend(round_stats)
        for g in range(G):
            removed_by_group[g].extend(out[1 + g] for out in picked)
        timer.mark("keep")
        unverified = sum(s["unverified"] for s in round_stats)
        if unverified == 0 or keeper_round == config.keeper_rounds:
            break
        unverified_by_group = transpose([out[1 + G:] for out in picked], G)
        band_parts = [submit(_reband_body, P, metas_by_group[g] + unverified_by_group[g],
                             num_metas=len(groups[g]), config=config, num_partitions=P)
                      for g in range(G)]
    annotations: list = [None] * num_shards
    for g in range(G):
        if not groups[g]:
            continue
        refs = submit(_annotate_body, len(groups[g]), metas_by_group[g] + removed_by_group[g],
                      num_metas=len(groups[g]))
        for s, ref in zip(groups[g], refs, strict=True):
            annotations[s] = ref
    timer.wait("keep", annotations)
    return MinHashDedupResult(annotations=annotations, num_partitions=P, num_groups=G,
                              rounds=rounds, removed=sum(s["removed"] for s in stats),
                              clusters=merge_cluster_stats(stats), keeper_rounds=keeper_round,
                              unverified_kept=unverified)


def annotate_table(table: pa.Table, annotation: pa.Table,
                   drop_removed: bool = True) -> pa.Table:
    """Shard table with ``minhash_cluster`` set; removed rows dropped (or flagged)."""
    if table.num_rows != annotation.num_rows:
        raise ValueError(f"annotation has {annotation.num_rows} rows, "
                         f"shard has {table.num_rows}")
    for name in (CLUSTER_COLUMN, KEEP_COLUMN):
        if name in table.column_names:
            table = table.drop_columns([name])
    table = table.append_column(CLUSTER_COLUMN, annotation.column(CLUSTER_COLUMN))
    if drop_removed:
        return table.filter(annotation.column(KEEP_COLUMN))
    return table.append_column(KEEP_COLUMN, annotation.column(KEEP_COLUMN))


def _write_body(inputs: list, in_path: str, out_path: str, drop_removed: bool) -> list:
    (annotation,) = inputs
    table = annotate_table(pq.read_table(in_path), annotation, drop_removed)
    tmp_path = f"{out_path}.tmp-{os.getpid()}"
    pq.write_table(table, tmp_path)
    os.replace(tmp_path, out_path)               # readers never see a partial file
    kept = int(np.count_nonzero(annotation.column(KEEP_COLUMN).to_numpy()))
    return [{"input": in_path, "output": out_path, "in": annotation.num_rows,
             "kept": kept, "removed": annotation.num_rows - kept}]


def write_deduplicated_shards(shard_paths: Sequence[str], annotations: list,
                              output_dir: str, drop_removed: bool = True) -> list[dict]:
    """One writer task per shard: ``output_dir/<input file name>``; per-shard stats."""
    import ray

    os.makedirs(output_dir, exist_ok=True)
    refs = [submit(_write_body, 1, [annotation], in_path=str(path),
                   out_path=os.path.join(output_dir, os.path.basename(str(path))),
                   drop_removed=drop_removed)[0]
            for path, annotation in zip(shard_paths, annotations, strict=True)]
    return ray.get(refs)


def run_minhash_dedup(shard_paths: Sequence[str], output_dir: str,
                      config: MinHashConfig, drop_removed: bool = True) -> dict:
    """Cluster, then write every shard; a run summary with per-shard stats."""
    result = minhash_dedup_annotations(shard_paths, config)
    shards = write_deduplicated_shards(shard_paths, result.annotations, output_dir,
                                       drop_removed)
    return {"shards": shards, "in": sum(s["in"] for s in shards),
            "kept": sum(s["kept"] for s in shards),
            "removed": sum(s["removed"] for s in shards), "rounds": result.rounds,
            "num_partitions": result.num_partitions, "num_groups": result.num_groups}
