"""BFF's "old-both" decisions for a stream of documents against one Bloom filter.

The rule (DCLM ``bff --remove-type old-both``, the DCLM-Baseline setting),
applied to documents in order and, inside a document, paragraphs in order:

* a paragraph whose n-grams were seen before in a share *strictly above*
  ``threshold`` is removed; otherwise all its n-grams are added to the
  filter. "Seen before" includes earlier paragraphs of the same document but
  not the paragraph itself: containment is checked before insertion;
* a paragraph without n-grams (shorter than ``min_ngram`` tokens) is kept
  and adds nothing;
* the whole document is removed when, over all its paragraphs, the share
  of seen n-grams is strictly above ``threshold`` (its kept paragraphs'
  n-grams stay in the filter, as in BFF). A document without n-grams is
  kept.

Sequential semantics, vectorized by batch. Checking a batch of n-grams
against the filter as it was before the batch is one numpy call; what a
sequential pass would see in addition is n-grams inserted earlier *in the
same batch*. Those can only be n-grams whose key occurs at least twice in
the batch and is absent from the filter ("repeats"). Paragraphs holding no
repeat are decided from the batch-start check alone; only the paragraphs
holding repeats are walked in order in Python, with an exact set of the
repeat keys that kept paragraphs inserted. Then all kept paragraphs' n-grams
are added to the filter at once.

The one difference from a filter updated key by key: inside a batch,
membership is exact, so a batch cannot produce Bloom false positives
against itself (only against earlier batches). Batches are cut at fixed
document counts, so the result is still a deterministic function of the
input order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedup.bff_ngrams import ShardNgrams
from dedup.bloom_filter import BloomFilter

DEFAULT_THRESHOLD = 0.8
BATCH_NGRAMS = 1 << 20       # n-grams per vectorized batch (cut at document edges)


@dataclass
class ShardDecisions:
    """Per paragraph: removed or not; per document: n-gram counts and verdict."""

    para_removed: np.ndarray     # bool, one per paragraph of the shard
    doc_ngrams: np.ndarray       # int64, n-grams per document
    doc_seen: np.ndarray         # int64, n-grams already seen, per document
    doc_removed: np.ndarray      # bool

    @property
    def num_docs(self) -> int:
        return len(self.doc_removed)


def _segment_sums(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum of ``values[offsets[i]:offsets[i+1]]`` for each i (empty → 0)."""
    totals = np.r_[0, np.cumsum(values, dtype=np.int64)]
    return totals[offsets[1:]] - totals[offsets[:-1]]


def _over(seen: np.ndarray, total: np.ndarray, threshold: float) -> np.ndarray:
    """``seen / total > threshold``, false where total is 0 (NaN in BFF)."""
    return (total > 0) & (seen > threshold * total)


def _decide_batch(keys: np.ndarray, para_offsets: np.ndarray, bloom: BloomFilter,
                  threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Removed flag and seen count per paragraph of a batch; updates ``bloom``.

    ``para_offsets`` index into ``keys`` and start at 0.
    """
    num_paras = len(para_offsets) - 1
    lengths = np.diff(para_offsets)
    para_of = np.repeat(np.arange(num_paras), lengths)
    pre = bloom.contains(keys)
    seen = _segment_sums(pre.astype(np.int64), para_offsets)
    # Repeats: keys absent from the filter that occur more than once here.
    fresh = np.flatnonzero(~pre)
    _, inverse, counts = np.unique(keys[fresh], return_inverse=True, return_counts=True)
    repeat = fresh[counts[inverse] > 1]
    removed = _over(seen, lengths, threshold)
    if len(repeat):
        involved = np.unique(para_of[repeat])
        repeat_para = para_of[repeat]
        bounds = np.searchsorted(repeat_para, involved, side="left")
        ends = np.searchsorted(repeat_para, involved, side="right")
        repeat_keys = keys[repeat].tolist()
        inserted: set[int] = set()
        for p, lo, hi in zip(involved.tolist(), bounds.tolist(), ends.tolist(), strict=True):
            mine = repeat_keys[lo:hi]
            count = int(seen[p]) + sum(1 for key in mine if key in inserted)
            seen[p] = count
            gone = count > threshold * int(lengths[p])
            removed[p] = gone
            if not gone:
                inserted.update(mine)
    kept_keys = keys[~removed[para_of]] if len(keys) else keys
    bloom.add(kept_keys)
    return removed, seen


def decide_shard(ngrams: ShardNgrams, bloom: BloomFilter,
                 threshold: float = DEFAULT_THRESHOLD,
                 batch_ngrams: int = BATCH_NGRAMS) -> ShardDecisions:
    """Old-both decisions for one shard's documents, in order; updates ``bloom``."""
    para_offsets, doc_offsets = ngrams.para_offsets, ngrams.doc_offsets
    num_paras = len(para_offsets) - 1
    removed = np.zeros(num_paras, dtype=bool)
    seen = np.zeros(num_paras, dtype=np.int64)
    # Cut batches at document edges, each about ``batch_ngrams`` n-grams.
    doc_start_keys = para_offsets[doc_offsets]
    cuts = np.unique(np.searchsorted(doc_start_keys,
                                     np.arange(0, ngrams.num_ngrams, batch_ngrams), "left"))
    doc_cuts = np.r_[cuts[cuts < ngrams.num_docs], ngrams.num_docs]
    if doc_cuts[0] != 0:
        doc_cuts = np.r_[0, doc_cuts]
    for d0, d1 in zip(doc_cuts[:-1], doc_cuts[1:], strict=True):
        p0, p1 = doc_offsets[d0], doc_offsets[d1]
        k0, k1 = para_offsets[p0], para_offsets[p1]
        r, s = _decide_batch(ngrams.keys[k0:k1], para_offsets[p0:p1 + 1] - k0, bloom, threshold)
        removed[p0:p1], seen[p0:p1] = r, s
    doc_ngrams = _segment_sums(np.diff(para_offsets), doc_offsets)
    doc_seen = _segment_sums(seen, doc_offsets)
    return ShardDecisions(para_removed=removed, doc_ngrams=doc_ngrams, doc_seen=doc_seen,
                          doc_removed=_over(doc_seen, doc_ngrams, threshold))
