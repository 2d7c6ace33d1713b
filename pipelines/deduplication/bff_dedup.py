"""BFF dedup over Parquet shards (DCLM-Baseline's method), with Ray.

Phases:

1. n-grams, one task per shard, in parallel: tokenize, hash the paragraph
   n-grams (``bff_ngrams``), return the count (to the driver) and the keys
   (kept in the object store);
2. size: the driver sums the counts of each group and sizes its Bloom
   filter for that many keys at ``fp_rate`` (an upper bound: repeated
   n-grams are counted every time, and DCLM notes that overestimates are the
   safe side). The size is announced before any decision;
3. decide, one actor per group holding its filter: the group's shards are
   fed to it one by one, in order (``bff_decide``);
4. write (``pipelines.deduplication.write``), one task per shard, with
   ``bff_decision_table`` turning decisions into kept/dropped/rewritten rows.

Order, and so which copy survives: shards sorted by name, rows in file
order, one filter for everything (``groups=1``, the default and DCLM's
choice): the first occurrence of a paragraph is kept, later ones are
removed. DCLM's binary shares one filter between threads and shuffles file
order, so its survivors vary from run to run; here they do not. With
``groups=G``, shard ``s`` goes to group ``s mod G`` (like DCLM's
``--shard-num/--total-shards``): G filters, G sequential deciders in
parallel, and no dedup across groups.

Memory: a decider holds its filter and one shard's keys (8 bytes per
n-gram); the keys of waiting shards stay in Ray's object store, which spills
to disk when full.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Callable, Optional, Sequence

import numpy as np
import pyarrow as pa

from dedup.bff_config import BffConfig
from dedup.bff_decide import ShardDecisions, decide_shard
from dedup.bff_ngrams import paragraphs, shard_ngrams
from dedup.bloom_filter import BloomFilter, optimal_size
from pipelines.deduplication.ray_tasks import submit
from pipelines.deduplication.stage_timer import StageTimer


def _ngram_body(inputs: list, path: str, config: BffConfig) -> list:
    from dclm.io.document_files import read_documents_table as read_table

    texts = read_table(path, columns=[config.text_column]).column(0).to_pylist()
    ngrams = shard_ngrams(texts, config.ngram, config.min_ngram)
    return [{"rows": ngrams.num_docs, "ngrams": ngrams.num_ngrams}, ngrams]


class _Decider:
    """One group's Bloom filter; ``decide`` is called once per shard, in order."""

    def __init__(self, num_bits: int, num_hashes: int, threshold: float):
        self.bloom = BloomFilter.empty(num_bits, num_hashes)
        self.threshold = threshold

    def decide(self, ngrams) -> ShardDecisions:
        return decide_shard(ngrams, self.bloom, self.threshold)

    def summary(self) -> dict:
        return {"fill_ratio": round(self.bloom.fill_ratio(), 6), "bytes": self.bloom.size_bytes}


def bff_annotations(shard_paths: Sequence[str], config: BffConfig,
                    timings: Optional[dict] = None,
                    announce: Callable[[str], None] = print) -> tuple[list, dict]:
    """Per-shard ``ShardDecisions`` refs (input order) and run facts."""
    import ray

    timer = StageTimer(timings)
    S, G = len(shard_paths), config.groups
    hashed = [submit(_ngram_body, 2, path=str(p), config=config) for p in shard_paths]
    counts = ray.get([out[0] for out in hashed])
    timer.mark("ngrams")
    decider = ray.remote(num_cpus=0)(_Decider)
    # num_cpus=0: a decider is one sequential process that mostly waits for
    # its next shard; reserving a CPU would starve the writer tasks beside it.
    actors, filters = [], []
    for g in range(G):
        members = list(range(g, S, G))
        expected = sum(counts[s]["ngrams"] for s in members)
        bits, hashes = optimal_size(expected, config.fp_rate)
        bloom = BloomFilter.empty(bits, hashes)
        info = {"group": g, "shards": len(members), "expected_ngrams": expected,
                "bytes": bloom.size_bytes, "num_hashes": bloom.num_hashes,
                "fp_rate_at_expected": bloom.expected_fp_rate(expected)}
        announce(f"bff: group {g}: {len(members)} shards, {expected:,} {config.ngram}-grams "
                 f"→ Bloom filter {bloom.size_bytes / 2**20:,.1f} MiB, {bloom.num_hashes} hashes, "
                 f"false-positive rate {info['fp_rate_at_expected']:.2e} per n-gram")
        filters.append(info)
        actors.append(decider.remote(bloom.num_bits, bloom.num_hashes, config.threshold))
    decisions: list = [None] * S
    for s in range(S):                       # submission order = decision order per actor
        decisions[s] = actors[s % G].decide.remote(hashed[s][1])
    timer.wait("decide", decisions)
    for info, summary in zip(filters, ray.get([a.summary.remote() for a in actors]), strict=True):
        info["fill_ratio"] = summary["fill_ratio"]
    for actor in actors:
        ray.kill(actor)
    return decisions, {"documents": sum(c["rows"] for c in counts),
                       "ngrams": sum(c["ngrams"] for c in counts), "filters": filters,
                       "config": asdict(config)}


def bff_decision_table(decisions: ShardDecisions, table: pa.Table, text_column: str,
                       ngram: int, annotate: bool) -> pa.Table:
    """Writer-side conversion: kept, dropped or rewritten, per row (see dedup_write)."""
    texts = table.column(text_column).to_pylist()
    if len(texts) != decisions.num_docs:
        raise ValueError(f"decisions for {decisions.num_docs} documents, shard has {len(texts)}")
    keep = np.ones(len(texts), dtype=bool)
    reason: list = [None] * len(texts)
    detail: list = [None] * len(texts)
    new_text: list = [None] * len(texts)
    para_removed = decisions.para_removed
    removed_counts = np.zeros(len(texts), dtype=np.int64)
    offset = 0
    for d, text in enumerate(texts):
        pieces = paragraphs(text)
        flags = para_removed[offset:offset + len(pieces)]
        offset += len(pieces)
        removed_counts[d] = int(flags.sum())
        seen, total = int(decisions.doc_seen[d]), int(decisions.doc_ngrams[d])
        if decisions.doc_removed[d]:
            keep[d], reason[d] = False, "bff_duplicate"
            detail[d] = f"{seen}/{total} {ngram}-grams seen before"
        elif removed_counts[d]:
            rewritten = "\n".join(p for p, gone in zip(pieces, flags, strict=True) if not gone)
            if rewritten.strip():
                new_text[d] = rewritten
            else:
                keep[d], reason[d] = False, "bff_all_paragraphs_removed"
    if offset != len(para_removed):
        raise ValueError("paragraph count differs from the n-gram pass (was the text changed?)")
    columns = {"keep": pa.array(keep), "reason": pa.array(reason, pa.string()),
               "detail": pa.array(detail, pa.string()), "text": pa.array(new_text, pa.string())}
    if annotate:
        total = np.maximum(decisions.doc_ngrams, 1)
        columns["bff_duplicate"] = pa.array(np.asarray(decisions.doc_removed, dtype=bool))
        columns["bff_removed_paragraphs"] = pa.array(removed_counts)
        columns["bff_seen_ngram_fraction"] = pa.array(decisions.doc_seen / total)
    return pa.table(columns)
