"""Exact Jaccard similarity of shingle sets: the ground truth MinHash estimates.

``jaccard`` compares two documents. ``all_pairs_intersections`` gives the
exact intersection size of every pair in a sample at once, through an
inverted index (shingle -> documents holding it): pairs that share no shingle
have intersection 0 and are never touched, so the cost follows the number of
(shingle, pair) co-occurrences instead of n^2 set intersections in Python.
``estimated_jaccard_16bit`` is the estimate from two stored (truncated)
MinHash signatures, with which the dedup checks its candidate pairs.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|A ∩ B| / |A ∪ B| of two arrays of shingle hashes (duplicates ignored).

    Two empty sets are identical (1.0).
    """
    a = np.unique(a)
    b = np.unique(b)
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return 1.0 if union == 0 else inter / union


def set_jaccard(a: set, b: set) -> float:
    """Jaccard of two Python sets (string shingles, test fixtures)."""
    union = len(a | b)
    return 1.0 if union == 0 else len(a & b) / union


def all_pairs_intersections(shingle_sets: Sequence[np.ndarray],
                            max_pairs_per_chunk: int = 20_000_000) -> np.ndarray:
    """Dense ``n × n`` int64 matrix of exact intersection sizes.

    ``shingle_sets[i]`` must hold unique values (as ``shingle_hashes`` returns).
    The diagonal holds each set's size. Memory is ``8·n²`` bytes, so keep ``n``
    to a few thousand.
    """
    n = len(shingle_sets)
    doc = np.repeat(np.arange(n, dtype=np.int64), [len(s) for s in shingle_sets])
    values = np.concatenate(list(shingle_sets)) if n else np.zeros(0, np.uint64)
    order = np.lexsort((doc, values))
    values, doc = values[order], doc[order]
    # Runs of equal shingle value: each run lists the documents holding it.
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    sizes = np.diff(np.r_[starts, len(values)])
    counts = np.zeros(n * n, dtype=np.int64)
    # Runs of equal size k produce k² ordered (i, j) pairs each; handling all
    # runs of one size together keeps the work in numpy.
    for k in np.unique(sizes):
        run_starts = starts[sizes == k]
        per_chunk = max(1, max_pairs_per_chunk // int(k * k))
        for lo in range(0, len(run_starts), per_chunk):
            members = doc[run_starts[lo:lo + per_chunk, None] + np.arange(k)]
            pairs = members[:, :, None] * n + members[:, None, :]
            counts += np.bincount(pairs.ravel(), minlength=n * n)
    return counts.reshape(n, n)


def all_pairs_jaccard(shingle_sets: Sequence[np.ndarray]) -> np.ndarray:
    """Dense ``n × n`` float64 matrix of exact Jaccard similarities."""
    inter = all_pairs_intersections(shingle_sets).astype(np.float64)
    size = np.diag(inter)
    union = size[:, None] + size[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = np.where(union > 0, inter / union, 1.0)
    return sim


def estimated_jaccard_16bit(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Per row, the Jaccard estimate from two 16-bit truncated signatures.

    Unequal entries still agree on their low 16 bits with chance 2^-16; the
    estimate removes that bias: ``(match − 2^-16) / (1 − 2^-16)``.
    """
    chance = 1.0 / (1 << 16)
    match = np.mean(sig_a == sig_b, axis=1)
    return np.clip((match - chance) / (1.0 - chance), 0.0, 1.0)
