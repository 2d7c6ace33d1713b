"""LSH buckets to candidate edges, one hash range of band keys at a time.

Phase 1 (per input shard): every document contributes one row
``(band, key, doc_index)`` per band; rows are partitioned by the key's value
(keys are uniform 64-bit hashes, so ``key mod P`` balances the parts).

Phase 2 (per partition): rows with equal ``(band, key)`` form a bucket of
candidate duplicates. Rather than all pairs of a bucket (quadratic in its
size), each member is linked to the bucket's *centre*: a star, with the same
connected components and ``size − 1`` edges.

The centre is the member with the smallest *rank*, a hash of its id
(``center_ranks``), not the smallest doc index: when edges are checked one
by one (``candidate_verification``) the components depend on which edges
exist, and doc indices depend on how the shards are numbered, ids do not.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import xxhash

from dedup.partitioning import concat_parts, key_partition, split_by_partition
from dedup.star_contraction import unique_edges

BandRows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]   # band, key, rank, doc
_ROW_DTYPES = (np.uint16, np.uint64, np.uint64, np.int64)


def center_ranks(ids: pa.Array) -> np.ndarray:
    """Per document, xxh3_64 of its id's UTF-8 bytes: the order of star centres."""
    digest = xxhash.xxh3_64_intdigest
    return np.fromiter((digest(("" if i is None else i).encode("utf-8"))
                        for i in ids.cast(pa.string()).to_pylist()),
                       dtype=np.uint64, count=len(ids))


def band_rows(band_keys: np.ndarray, doc_index: np.ndarray,
              rank: np.ndarray | None = None) -> BandRows:
    """Flatten a ``(docs, bands)`` key matrix into ``(band, key, rank, doc)`` rows.

    Without ``rank`` the doc index ranks the documents (tests, benchmarks).
    """
    band_keys = np.asarray(band_keys, dtype=np.uint64)
    num_docs, num_bands = band_keys.shape
    if num_bands > np.iinfo(np.uint16).max:
        raise ValueError("at most 65535 bands")
    doc_index = np.asarray(doc_index, dtype=np.int64)
    rank = doc_index.astype(np.uint64) if rank is None else np.asarray(rank, dtype=np.uint64)
    band = np.tile(np.arange(num_bands, dtype=np.uint16), num_docs)
    return (band, band_keys.ravel(), np.repeat(rank, num_bands),
            np.repeat(doc_index, num_bands))


def partition_band_rows(band_keys: np.ndarray, doc_index: np.ndarray, num_partitions: int,
                        rank: np.ndarray | None = None) -> list[BandRows]:
    """Phase 1 output: band rows cut into ``num_partitions`` parts by key."""
    band, key, rank, doc = band_rows(band_keys, doc_index, rank)
    return split_by_partition(key_partition(key, num_partitions), num_partitions,
                              band, key, rank, doc)


def bucket_star_edges(band: np.ndarray, key: np.ndarray, rank: np.ndarray, doc: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Phase 2: ``(child, parent)`` edges linking each bucket member to its centre.

    Edges are distinct and have ``child > parent``; documents alone in all
    their buckets produce nothing.
    """
    order = np.lexsort((doc, rank, key, band))
    band, key, doc = band[order], key[order], doc[order]
    starts = np.ones(len(doc), dtype=bool)
    starts[1:] = (band[1:] != band[:-1]) | (key[1:] != key[:-1])
    # Sorted by rank inside a bucket: its first row holds the centre.
    center = doc[np.flatnonzero(starts)][np.cumsum(starts) - 1]
    member, center = doc[~starts], center[~starts]
    return unique_edges(np.maximum(member, center), np.minimum(member, center))


def bucket_edges_step(incoming: list[BandRows]) -> tuple[np.ndarray, np.ndarray]:
    """Task body of phase 2: concatenate the received parts, emit star edges."""
    return bucket_star_edges(*concat_parts(incoming, _ROW_DTYPES))


def candidate_pairs(band_keys: np.ndarray, doc_index: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Every pair sharing at least one band key, as ``(larger, smaller)`` arrays.

    Single-process and quadratic in bucket size: for benchmarks and tests that
    score candidate pairs, not for the pipeline.
    """
    band, key, _, doc = band_rows(band_keys, doc_index)
    order = np.lexsort((doc, key, band))
    band, key, doc = band[order], key[order], doc[order]
    starts = np.flatnonzero(np.r_[True, (band[1:] != band[:-1]) | (key[1:] != key[:-1])])
    ends = np.r_[starts[1:], len(doc)]
    big, small = [], []
    for lo, hi in zip(starts[ends - starts > 1], ends[ends - starts > 1], strict=True):
        members = doc[lo:hi]
        i, j = np.triu_indices(len(members), k=1)
        big.append(members[j])
        small.append(members[i])
    if not big:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return unique_edges(np.concatenate(big), np.concatenate(small))
