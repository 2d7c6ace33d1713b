"""Removed documents are checked against their keeper, not just linked to it.

Chains of edits (each variant made from the previous one) put documents in
one connected component although the ends of a chain share few shingles.
These tests build such chains and check what the keeper check promises:
every removed document's signature matches its keeper's at the threshold
(and its exact Jaccard is close to that), the documents that fail are
clustered again rather than lost, and the round bound keeps the rest.
"""
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dedup.jaccard import estimated_jaccard_16bit, jaccard
from dedup.keeper_check import settle_clusters
from dedup.minhash_config import DEFAULT_KEEPER_THRESHOLD, DEFAULT_VERIFY_THRESHOLD, MinHashConfig
from dedup.shingles import shingle_hashes
from pipelines.deduplication.minhash_dedup import CLUSTER_COLUMN, KEEP_COLUMN, minhash_dedup_annotations
from pipelines.deduplication.shard_sketch import sketch_shard

ray = pytest.importorskip("ray")


def test_settle_clusters_checks_each_member_against_its_keeper():
    rng = np.random.default_rng(0)
    keeper_sig = rng.integers(0, 1 << 16, size=100, dtype=np.uint16)

    def like_keeper(shared: int) -> np.ndarray:
        sig = keeper_sig.copy()
        sig[shared:] ^= 1                      # entries past `shared` differ
        return sig

    # Cluster 7: keeper "a" (lowest id), "b" shares 90 entries, "c" 60.
    # Cluster 3: keeper "x", "y" shares 80; "z" is another cluster's keeper-like row.
    label = np.array([7, 7, 7, 3, 3])
    node = np.array([10, 11, 12, 20, 21])
    ids = pa.array(["a", "b", "c", "x", "y"])
    signatures = np.stack([keeper_sig, like_keeper(90), like_keeper(60),
                           keeper_sig, like_keeper(80)])
    settled = settle_clusters(label, node, ids, None, signatures, 0.75)
    assert settled["removed_node"].tolist() == [21, 11]          # sorted by label
    assert settled["removed_winner_id"].to_pylist() == ["x", "a"]
    assert settled["unverified_node"].tolist() == [12]
    stats = settled["stats"]
    assert (stats["removed"], stats["unverified"]) == (2, 1)
    assert stats["clusters"] == 2 and stats["clustered_documents"] == 4
    # Without a threshold every non-keeper is removed, as plain clustering does.
    plain = settle_clusters(label, node, ids, None, None, None)
    assert sorted(plain["removed_node"].tolist()) == [11, 12, 21]
    assert len(plain["unverified_node"]) == 0 and plain["stats"]["largest"] == 3


def _chain_shards(tmp_path, num_chains=12, length=7, rate=0.025, seed=1):
    """Chains of variants: each one substitutes ``rate`` of the previous one's words.

    Neighbours in a chain have J ≈ 0.8, the ends J well below 0.5; ids sort
    along the chain, so the lowest-id rule keeps the chain's first text.
    """
    rng = random.Random(seed)
    vocab = [f"v{i}" for i in range(5000)]
    rows = []
    for c in range(num_chains):
        words = [rng.choice(vocab) for _ in range(300)]
        for k in range(length):
            rows.append({"id": f"chain{c:02d}-{k}", "text": " ".join(words)})
            words = [rng.choice(vocab) if rng.random() < rate else w for w in words]
    rng.shuffle(rows)
    paths = []
    for s in range(3):
        path = tmp_path / f"chains-{s}.parquet"
        pq.write_table(pa.Table.from_pylist(rows[s::3]), path)
        paths.append(str(path))
    return paths


def _run(paths, config):
    result = minhash_dedup_annotations(paths, config)
    tables = ray.get(result.annotations)
    decided = {}
    for path, table in zip(paths, tables, strict=True):
        ids = pq.read_table(path, columns=["id"]).column("id").to_pylist()
        decided.update(zip(ids, zip(table.column(CLUSTER_COLUMN).to_pylist(),
                                    table.column(KEEP_COLUMN).to_pylist(), strict=True), strict=True))
    return result, decided


def _texts(paths):
    table = pa.concat_tables(pq.read_table(p) for p in paths)
    return dict(zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True))


@pytest.mark.parametrize("verify", [None, DEFAULT_VERIFY_THRESHOLD])
def test_every_removed_document_matches_its_keeper(ray_session, tmp_path, verify):
    paths = _chain_shards(tmp_path)
    texts = _texts(paths)
    shingles = {i: shingle_hashes(t) for i, t in texts.items()}
    # The default keeper check, alone and after the default candidate check.
    config = MinHashConfig(num_partitions=2, verify_threshold=verify)
    threshold = config.keeper_threshold
    assert threshold == DEFAULT_KEEPER_THRESHOLD
    signatures = {}
    for s, path in enumerate(paths):
        _, _, meta = sketch_shard(path, s, config)
        signatures.update(zip(meta.ids.to_pylist(), meta.signatures, strict=True))

    plain, plain_decided = _run(paths, MinHashConfig(num_partitions=2, verify_threshold=None,
                                                     keeper_threshold=None))
    checked, decided = _run(paths, config)
    removed = {i: keeper for i, (keeper, keep) in decided.items() if not keep}
    plain_removed = {i: keeper for i, (keeper, keep) in plain_decided.items() if not keep}

    # Plain clustering removes chain ends as "duplicates" of a distant keeper.
    assert min(jaccard(shingles[i], shingles[k]) for i, k in plain_removed.items()) < 0.5
    assert len(removed) >= 20
    for doc, keeper in removed.items():
        assert decided[keeper] == (keeper, True)               # the keeper is kept
        estimate = estimated_jaccard_16bit(signatures[doc][None], signatures[keeper][None])[0]
        assert estimate >= threshold
        assert jaccard(shingles[doc], shingles[keeper]) >= 0.65
    assert checked.removed == len(removed) < plain.removed == len(plain_removed)
    assert checked.clusters["clustered_documents"] - checked.clusters["clusters"] == len(removed)
    if verify is None:
        # Documents that failed were clustered again among themselves:
        # removed in a later round against a keeper that plain clustering
        # removed.
        assert checked.keeper_rounds >= 2
        assert any(plain_decided[keeper][1] is False for keeper in removed.values())


def test_round_bound_keeps_the_unsettled(ray_session, tmp_path):
    paths = _chain_shards(tmp_path, seed=2)

    def config(**kwargs):
        return MinHashConfig(verify_threshold=None, **kwargs)

    once, decided_once = _run(paths, config(num_partitions=2, keeper_rounds=1))
    full, decided_full = _run(paths, config(num_partitions=2))
    assert once.keeper_rounds == 1 and once.unverified_kept > 0
    # Round 1 is the same in both runs: what it removed stays removed, and
    # what it left unverified is kept by the bounded run.
    removed_once = {i for i, (_, keep) in decided_once.items() if not keep}
    removed_full = {i for i, (_, keep) in decided_full.items() if not keep}
    assert removed_once < removed_full
    assert len(removed_once) == once.removed
    kept_once = sum(keep for _, keep in decided_once.values())
    assert kept_once == len(decided_once) - once.removed
    # Same input, same decisions.
    assert _run(paths, config(num_partitions=3))[1] == decided_full
