"""Every removed document is checked against the document kept in its place.

Connected components are transitive: in a chain A ~ B ~ C each link may be
a true near-duplicate while A and C are not (J(A, C) < 0.7 happens often
for variants of variants). Removing C "as a duplicate of A" is then a false
positive, however good each LSH candidate was. So, after the keep rule has
chosen each cluster's keeper, every other member is compared with the
keeper itself, all ``num_hashes`` signature entries (16-bit, see
``jaccard.estimated_jaccard_16bit``):

* estimate >= ``keeper_threshold``: the member is removed, its keeper named;
* below: the member is *unverified*. It is neither removed nor lost: the
  unverified documents of the whole run are banded again (from their stored
  signatures) and clustered among themselves, and the next round checks
  them against their new keepers. Each round settles at least every
  cluster's keeper, so the unverified set shrinks; whatever is still
  unverified after ``keeper_rounds`` rounds is kept.

So every removed document has a kept representative whose estimated Jaccard
is at least the threshold. Nothing here needs more than one cluster at a
time: the pick task of a label partition already holds whole clusters, and
the members' signatures travel with them (``minhash_dedup._join_body``).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pyarrow as pa

from dedup.cluster_stats import cluster_size_stats
from dedup.jaccard import estimated_jaccard_16bit
from dedup.keep_rule import rank_clusters
from dedup.lsh_buckets import partition_band_rows
from dedup.minhash import lsh_band_keys


def settle_clusters(label: np.ndarray, node: np.ndarray, ids: pa.Array,
                    priority: Optional[np.ndarray], signatures: Optional[np.ndarray],
                    threshold: Optional[float]) -> dict:
    """Keepers, checked removals and unverified members of whole clusters.

    One input row per clustered document (``signatures``: its 16-bit
    signature row; unused when ``threshold`` is None, which removes every
    non-keeper as plain clustering does). Returns a dict with

    * ``removed_node``, ``removed_winner_id``: removed documents and the id
      of their keeper;
    * ``unverified_node``: members that failed the check;
    * ``stats``: ``cluster_size_stats`` of the clusters as settled (a keeper
      and its removed members; a keeper left alone is no cluster), plus
      ``removed`` and ``unverified`` counts.
    """
    node = np.asarray(node, dtype=np.int64)
    order, winner = rank_clusters(label, node, ids, priority)
    member = order != winner                  # every row but the keepers
    rows, keepers = order[member], winner[member]
    if threshold is None:
        passed = np.ones(len(rows), dtype=bool)
    else:
        similarity = estimated_jaccard_16bit(signatures[rows], signatures[keepers])
        passed = similarity >= threshold
    removed_keepers = node[keepers[passed]]
    # Rows of a settled cluster: each removed member plus its keeper once.
    settled_labels = np.concatenate((removed_keepers, np.unique(removed_keepers)))
    stats = cluster_size_stats(settled_labels)
    stats.update(removed=int(passed.sum()), unverified=int((~passed).sum()))
    winner_ids = ids.take(pa.array(keepers[passed], pa.int64())) if len(ids) else ids
    return {"removed_node": node[rows[passed]], "removed_winner_id": winner_ids,
            "unverified_node": node[rows[~passed]], "stats": stats}


def unverified_band_rows(nodes: np.ndarray, signatures: np.ndarray, ranks: np.ndarray,
                         num_bands: int, rows_per_band: int, seed: int,
                         num_partitions: int) -> list:
    """Band rows of unverified documents for the next round, cut by key.

    The keys come from the stored 16-bit signatures, not the full ones: two
    band rows that differ collide only if all their entries agree on the low
    16 bits by chance (2^-16 each), so the candidates are those of the first
    round, restricted to these documents. ``ranks``: ``center_ranks`` of
    their ids, as in the first round.
    """
    keys = lsh_band_keys(signatures.astype(np.uint64), num_bands, rows_per_band, seed)
    return partition_band_rows(keys, np.asarray(nodes, dtype=np.int64), num_partitions, ranks)
