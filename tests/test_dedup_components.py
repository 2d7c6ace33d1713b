"""Clustering of LSH candidates: star contraction, Ray version and keep rule."""
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dedup.jaccard import estimated_jaccard_16bit
from dedup.keep_rule import KeepRule, pick_representatives
from dedup.lsh_buckets import band_rows, bucket_star_edges, candidate_pairs, center_ranks, partition_band_rows
from dedup.minhash import lsh_band_keys
from dedup.minhash_config import DEFAULT_KEEPER_THRESHOLD, DEFAULT_VERIFY_THRESHOLD, MinHashConfig
from dedup.partitioning import pack_doc_index
from dedup.star_contraction import connected_components_local, initial_parts
from dedup.union_find import union_find_labels
from pipelines.deduplication.components import connected_components, lsh_clusters
from pipelines.deduplication.minhash_dedup import (
    CLUSTER_COLUMN,
    KEEP_COLUMN,
    annotate_table,
    minhash_dedup_annotations,
    run_minhash_dedup,
)
from pipelines.deduplication.shard_sketch import sketch_shard

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_runtime():
    started = not ray.is_initialized()
    if started:
        # address="local": never attach to another Ray instance on this host.
        ray.init(address="local", num_cpus=2, include_dashboard=False,
                 log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


def _random_graph(rng, kind, n):
    if kind == "random":
        m = int(rng.integers(0, 2 * n))
        return rng.integers(0, n, m), rng.integers(0, n, m)
    if kind == "path":                      # worst case: long chains, shuffled labels
        order = rng.permutation(n)
        return order[:-1], order[1:]
    # Packed (shard, row) indices spread over a few shards.
    m = int(rng.integers(1, 2 * n))
    shard = rng.integers(0, 4, size=(2, m))
    row = rng.integers(0, n // 4 + 1, size=(2, m))
    return (shard[0] << 32) + row[0], (shard[1] << 32) + row[1]


@pytest.mark.parametrize("kind", ["random", "path", "packed"])
def test_local_star_contraction_equals_union_find(kind):
    rng = np.random.default_rng(len(kind))
    for _ in range(40):
        n = int(rng.integers(2, 200))
        u, v = _random_graph(rng, kind, n)
        P = int(rng.integers(1, 6))
        node, label, _ = connected_components_local(u, v, P)
        ref_node, ref_label = union_find_labels(u, v)
        assert np.array_equal(node, ref_node) and np.array_equal(label, ref_label)


@pytest.mark.parametrize("ranked", [False, True])
def test_bucket_stars_have_the_components_of_all_candidate_pairs(ranked):
    rng = np.random.default_rng(4)
    keys = rng.integers(0, 6, size=(60, 5)).astype(np.uint64)   # many collisions
    docs = pack_doc_index(2, np.arange(60))
    rank = rng.permutation(60).astype(np.uint64) if ranked else None
    parts = partition_band_rows(keys, docs, 3, rank)
    star = [bucket_star_edges(*part) for part in parts]
    child = np.concatenate([c for c, _ in star])
    parent = np.concatenate([p for _, p in star])
    assert np.all(child > parent)
    big, small = candidate_pairs(keys, docs)
    assert np.array_equal(union_find_labels(child, parent)[1], union_find_labels(big, small)[1])
    # Every edge of a bucket touches its centre: the member of lowest rank.
    order = np.arange(60, dtype=np.uint64) if rank is None else rank
    band, key = 0, keys[0, 0]
    members = np.flatnonzero(keys[:, band] == key)
    centre = docs[members[np.argmin(order[members])]]
    in_bucket = set(docs[members].tolist())
    star_edges = {(c, p) for c, p in zip(child.tolist(), parent.tolist(), strict=True)
                  if c in in_bucket and p in in_bucket}
    for other in set(docs[members].tolist()) - {int(centre)}:
        assert (max(other, int(centre)), min(other, int(centre))) in star_edges


def test_ray_components_equal_union_find(ray_runtime):
    rng = np.random.default_rng(21)
    for kind in ("random", "path", "packed"):
        u, v = _random_graph(rng, kind, 150)
        P = 3
        parts = [[ray.put(p) for p in initial_parts(u, v, P)]]
        # One upstream "task" whose P outputs are the initial parts.
        result = connected_components(parts, P, num_groups=2)
        pairs = [ray.get(ref) for group in result.labels_by_group for ref in group]
        node = np.concatenate([p[0] for p in pairs])
        label = np.concatenate([p[1] for p in pairs])
        order = np.argsort(node)
        ref_node, ref_label = union_find_labels(u, v)
        assert np.array_equal(node[order], ref_node)
        assert np.array_equal(label[order], ref_label)
        assert result.star_edges == len(ref_node) - len(np.unique(ref_label))


def test_pick_representatives_rule():
    label = np.array([5, 5, 5, 9, 9, 9])
    node = np.array([10, 11, 12, 20, 21, 22])
    ids = pa.array(["b", "a", "c", "x", "y", "z"])
    _, winner, winner_id = pick_representatives(label, node, ids, None)
    assert dict(zip(node.tolist(), winner_id.to_pylist(), strict=True)) == {
        10: "a", 11: "a", 12: "a", 20: "x", 21: "x", 22: "x"}
    score = np.array([0.1, 0.5, 0.5, -np.inf, -np.inf, 2.0])
    got_node, _, winner_id = pick_representatives(label, node, ids, score)
    result = dict(zip(got_node.tolist(), winner_id.to_pylist(), strict=True))
    assert result[10] == "a"             # tie on 0.5 between a and c: lowest id
    assert result[20] == "z"             # -inf (null / NaN) ranks lowest
    assert KeepRule.parse("lowest_id") == KeepRule() and KeepRule.parse("s").column == "s"


def _write_shards(tmp_path, num_shards=3, docs_per_shard=60, seed=0):
    """Families of near-duplicates (a few word substitutions) spread over shards."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(3000)]
    bases = [[rng.choice(vocab) for _ in range(120)] for _ in range(30)]
    paths, k = [], 0
    for s in range(num_shards):
        rows = {"id": [], "text": [], "score": []}
        for _ in range(docs_per_shard):
            words = list(rng.choice(bases))
            for _ in range(rng.choice([0, 0, 1, 2, 6, 10, 40])):
                words[rng.randrange(len(words))] = rng.choice(vocab)
            rows["id"].append(f"doc-{rng.randrange(10**6):06d}-{k}")
            rows["text"].append(" ".join(words))
            rows["score"].append(rng.choice([0.1, 0.5, 0.9, None]))
            k += 1
        path = tmp_path / f"shard-{s}.parquet"
        pq.write_table(pa.table(rows), path)
        paths.append(str(path))
    return paths


def _reference(paths, config):
    """Single-process MinHash dedup: candidate pairs, union-find, keep rule, keeper check.

    With verification, the edges checked are the bucket stars (member → the
    member of lowest id hash), as in the distributed version. With the keeper check, members
    failing it are banded again from their 16-bit signatures and clustered
    among themselves, round after round.
    """
    keys, docs, ids, prio, sigs = [], [], [], [], []
    for s, path in enumerate(paths):
        k, d, meta = sketch_shard(path, s, config)
        keys.append(k), docs.append(d), ids.extend(meta.ids.to_pylist())
        prio.extend(meta.priority.tolist() if meta.priority is not None else [0.0] * len(d))
        sigs.append(meta.signatures)
    docs, keys = np.concatenate(docs), np.concatenate(keys)
    sig = np.concatenate(sigs) if config.keeps_signatures else None
    position = {d: i for i, d in enumerate(docs.tolist())}
    rows = lambda nodes: [position[n] for n in nodes.tolist()]   # noqa: E731
    ranks = center_ranks(pa.array(ids))         # star centres: by hash of the id
    cluster, keep = list(ids), [True] * len(ids)
    active = docs
    for round_ in range(config.keeper_rounds):
        if round_ > 0:
            keys = lsh_band_keys(sig[rows(active)].astype(np.uint64), config.num_bands,
                                 config.rows_per_band, config.seed)
        if config.verify_threshold is None:
            edges = candidate_pairs(keys, active)
        else:
            child, parent = bucket_star_edges(*band_rows(keys, active, ranks[rows(active)]))
            ok = (estimated_jaccard_16bit(sig[rows(child)], sig[rows(parent)])
                  >= config.verify_threshold)
            edges = child[ok], parent[ok]
        members = {}
        for n, lab in zip(*union_find_labels(*edges), strict=True):
            members.setdefault(int(lab), []).append(int(n))
        unverified = []
        for group in members.values():
            best = min(group, key=lambda n: (-prio[position[n]], ids[position[n]], n))
            for n in group:
                if n == best:
                    continue
                if (config.keeper_threshold is None or estimated_jaccard_16bit(
                        sig[[position[n]]], sig[[position[best]]])[0] >= config.keeper_threshold):
                    cluster[position[n]] = ids[position[best]]
                    keep[position[n]] = False
                else:
                    unverified.append(n)
        active = np.array(sorted(unverified), dtype=np.int64)
        if not len(active):
            break
    return cluster, keep


@pytest.mark.parametrize("keep,verify,keeper", [(None, None, None), ("score", None, None),
                                                (None, 0.8, None), (None, None, 0.775),
                                                ("score", 0.7, 0.85), (None, 0.8, 0.725)])
def test_ray_dedup_equals_single_process_reference(ray_runtime, tmp_path, keep, verify, keeper):
    paths = _write_shards(tmp_path)
    config = MinHashConfig(keep=keep, num_partitions=3, batch_rows=17, verify_threshold=verify,
                           keeper_threshold=keeper)
    result = minhash_dedup_annotations(paths, config)
    tables = ray.get(result.annotations)
    cluster = sum((t.column(CLUSTER_COLUMN).to_pylist() for t in tables), [])
    kept = sum((t.column(KEEP_COLUMN).to_pylist() for t in tables), [])
    ref_cluster, ref_keep = _reference(paths, config)
    assert cluster == ref_cluster and kept == ref_keep
    assert result.removed == len(kept) - sum(kept) > 0
    if keeper is not None and verify is None:
        # The shards hold chains of edits, so some members fail against their
        # keeper and need a second round.
        assert result.keeper_rounds >= 2


def test_keep_rule_independent_of_shard_order(ray_runtime, tmp_path):
    paths = _write_shards(tmp_path, seed=3)
    config = MinHashConfig(keep="score", num_partitions=2)

    def kept_ids(order):
        tables = ray.get(minhash_dedup_annotations([paths[i] for i in order], config).annotations)
        out = {}
        for i, table in zip(order, tables, strict=True):
            ids = pq.read_table(paths[i], columns=["id"]).column("id").to_pylist()
            out.update(zip(ids, zip(table.column(CLUSTER_COLUMN).to_pylist(),
                                    table.column(KEEP_COLUMN).to_pylist(), strict=True), strict=True))
        return out

    assert kept_ids([0, 1, 2]) == kept_ids([2, 0, 1])


def test_run_writes_kept_rows(ray_runtime, tmp_path):
    paths = _write_shards(tmp_path, num_shards=2, docs_per_shard=30, seed=5)
    summary = run_minhash_dedup(paths, str(tmp_path / "out"), MinHashConfig(num_partitions=2))
    assert summary["in"] == 60 and summary["kept"] + summary["removed"] == 60
    for stats in summary["shards"]:
        table = pq.read_table(stats["output"])
        assert table.num_rows == stats["kept"]
        assert CLUSTER_COLUMN in table.column_names and KEEP_COLUMN not in table.column_names
    flagged = annotate_table(pa.table({"id": ["a", "b"]}),
                             pa.table({CLUSTER_COLUMN: ["a", "a"], KEEP_COLUMN: [True, False]}),
                             drop_removed=False)
    assert flagged.column(KEEP_COLUMN).to_pylist() == [True, False]


def test_lsh_clusters_handles_no_candidates(ray_runtime):
    keys = np.arange(20, dtype=np.uint64).reshape(10, 2)
    parts = partition_band_rows(keys, pack_doc_index(0, np.arange(10)), 2)
    band_parts = [[ray.put(p) for p in parts]]
    result = lsh_clusters(band_parts, 2, 1)
    assert result.star_edges == 0
    assert all(len(ray.get(ref)[0]) == 0 for ref in result.labels_by_group[0])


def test_empty_shards_and_null_text(ray_runtime, tmp_path):
    empty = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"id": pa.array([], pa.string()), "text": pa.array([], pa.string())}),
                   empty)
    odd = tmp_path / "odd.parquet"
    pq.write_table(pa.table({"id": ["b", "a", "c"], "text": [None, "", "some words here"]}), odd)
    result = minhash_dedup_annotations([str(empty), str(odd)], MinHashConfig(num_partitions=2))
    first, second = ray.get(result.annotations)
    assert first.num_rows == 0
    # Null and empty text share the empty-text shingle: one cluster, "a" kept.
    assert second.column(CLUSTER_COLUMN).to_pylist() == ["a", "a", "c"]
    assert second.column(KEEP_COLUMN).to_pylist() == [False, True, True]
    assert minhash_dedup_annotations([], MinHashConfig(num_partitions=2)).annotations == []


def test_config_from_recipe():
    chosen = MinHashConfig.from_recipe(threshold=0.8)
    assert (chosen.num_bands, chosen.rows_per_band) == (9, 12)
    given = MinHashConfig.from_recipe(ngram=5, num_bands=14, rows_per_band=8, threshold=0.8,
                                      keep="fasttext_hq_prob", verify_threshold=0.8)
    assert (given.num_bands, given.rows_per_band, given.num_hashes) == (14, 8, 112)
    assert given.keep == KeepRule("fasttext_hq_prob") and given.verify_threshold == 0.8
    assert MinHashConfig.from_recipe(keep="id").keep == KeepRule()
    # Both checks follow the recipe's threshold unless given, and can be off.
    assert (chosen.verify_threshold, chosen.keeper_threshold) == (0.8, 0.8)
    assert given.keeper_threshold == 0.8
    default = MinHashConfig.from_recipe()
    assert (default.verify_threshold, default.keeper_threshold) == (
        DEFAULT_VERIFY_THRESHOLD, DEFAULT_KEEPER_THRESHOLD) == (0.8, 0.725)
    off = MinHashConfig.from_recipe(threshold=0.7, verify_threshold=None, keeper_threshold=None)
    assert (off.verify_threshold, off.keeper_threshold, off.num_bands) == (None, None, 14)
    assert MinHashConfig(verify_threshold=None, keeper_threshold=None).keeps_signatures is False
    for bad in ({"verify_threshold": 1.5}, {"keeper_threshold": 0.0}, {"keeper_rounds": 0}):
        with pytest.raises(ValueError):
            MinHashConfig(**bad)
