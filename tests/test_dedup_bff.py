"""BFF pieces: tokens, paragraph n-grams, Bloom filter, old-both decisions."""
import random

import numpy as np
import pytest

from dedup.bff_decide import decide_shard
from dedup.bff_ngrams import paragraphs, shard_ngrams, tokenize
from dedup.bloom_filter import BloomFilter, expected_fp_rate, optimal_size
from pipelines.deduplication.bff_dedup import bff_decision_table


def test_tokenize_splits_like_word_boundaries():
    assert tokenize("Don't stop: U.S. costs $3,000.50 (e.g. now)!") == [
        "Don't", "stop", ":", "U.S", ".", "costs", "$", "3,000.50", "(", "e.g", ".", "now", ")", "!"]
    assert tokenize("a,b  c") == ["a", ",", "b", "c"]
    assert tokenize("") == []


def test_paragraphs_round_trip():
    text = "one\n\ntwo three\n"
    assert paragraphs(text) == ["one", "", "two three", ""]
    assert "\n".join(paragraphs(text)) == text
    assert paragraphs(None) == [""]


def test_ngram_layout_and_short_paragraphs():
    long = " ".join(f"w{i}" for i in range(15))            # 15 tokens: 3 windows of 13
    short = " ".join(f"s{i}" for i in range(5))             # 5 tokens
    grams = shard_ngrams([f"{long}\n{short}", short, None], ngram=13, min_ngram=13)
    assert grams.para_offsets.tolist() == [0, 3, 3, 3, 3]   # short paragraphs: nothing
    assert grams.doc_offsets.tolist() == [0, 2, 3, 4]
    relaxed = shard_ngrams([f"{long}\n{short}", short], ngram=13, min_ngram=5)
    assert np.diff(relaxed.para_offsets).tolist() == [3, 1, 1]
    # The same short paragraph gives the same single n-gram wherever it is.
    assert relaxed.keys[3] == relaxed.keys[4]
    # Windows never cross a paragraph edge: the same 13 tokens split over two
    # lines produce no n-gram.
    split = shard_ngrams([" ".join(f"w{i}" for i in range(7)) + "\n"
                          + " ".join(f"w{i}" for i in range(7, 13))])
    assert split.num_ngrams == 0


def test_bloom_filter_sizing_and_membership():
    bits, hashes = optimal_size(100_000, 1e-4)
    assert 19 <= bits / 100_000 <= 19.3 and hashes == 13
    bloom = BloomFilter.for_count(20_000, 1e-3)
    keys = np.arange(1, 20_001, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    bloom.add(keys)
    assert bloom.contains(keys).all()                        # no false negatives
    others = keys + np.uint64(1)
    fp = bloom.contains(others).mean()
    assert fp < 3 * expected_fp_rate(bloom.num_bits, bloom.num_hashes, 20_000) + 1e-3
    assert 0.4 < bloom.fill_ratio() < 0.6                    # optimal filters are half full


def _reference_old_both(texts, ngram, threshold):
    """Sequential BFF old-both with an exact set (no false positives)."""
    seen, para_removed, doc_removed = set(), [], []
    for text in texts:
        total = contained = 0
        for para in paragraphs(text):
            tokens = tokenize(para)
            grams = [tuple(tokens[i:i + ngram]) for i in range(len(tokens) - ngram + 1)]
            hits = sum(g in seen for g in grams)
            total, contained = total + len(grams), contained + hits
            gone = bool(grams) and hits / len(grams) > threshold
            para_removed.append(gone)
            if not gone:
                seen.update(grams)
        doc_removed.append(total > 0 and contained / total > threshold)
    return para_removed, doc_removed


def _corpus(seed=3, docs=300):
    rng = random.Random(seed)
    vocab = [f"v{i}" for i in range(400)]
    pool = [" ".join(rng.choice(vocab) for _ in range(rng.randint(3, 40))) for _ in range(120)]
    texts = []
    for _ in range(docs):
        lines = [rng.choice(pool) if rng.random() < 0.6 else
                 " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 30)))
                 for _ in range(rng.randint(1, 8))]
        if rng.random() < 0.2 and lines:                    # repeat a line inside the doc
            lines.append(lines[0])
        texts.append("\n".join(lines))
    return texts


@pytest.mark.parametrize("batch_ngrams", [50, 1 << 20])
def test_decisions_match_sequential_reference(batch_ngrams):
    texts = _corpus()
    grams = shard_ngrams(texts, ngram=5, min_ngram=5)
    bloom = BloomFilter.for_count(grams.num_ngrams, 1e-9)    # no false positives in practice
    got = decide_shard(grams, bloom, threshold=0.8, batch_ngrams=batch_ngrams)
    para_removed, doc_removed = _reference_old_both(texts, 5, 0.8)
    assert got.para_removed.tolist() == para_removed
    assert got.doc_removed.tolist() == doc_removed
    assert 0 < sum(para_removed) < len(para_removed) and 0 < sum(doc_removed) < len(texts)


def test_filter_carries_over_between_shards():
    texts = _corpus(docs=120)
    first, second = shard_ngrams(texts[:60], 5, 5), shard_ngrams(texts[60:], 5, 5)
    bloom = BloomFilter.for_count(first.num_ngrams + second.num_ngrams, 1e-9)
    a, b = decide_shard(first, bloom, 0.8), decide_shard(second, bloom, 0.8)
    para_removed, doc_removed = _reference_old_both(texts, 5, 0.8)
    assert a.para_removed.tolist() + b.para_removed.tolist() == para_removed
    assert a.doc_removed.tolist() + b.doc_removed.tolist() == doc_removed


def test_decision_table_rewrites_and_drops():
    import pyarrow as pa

    line = " ".join(f"w{i}" for i in range(20))
    other = " ".join(f"x{i}" for i in range(20))
    fresh = " ".join(f"z{i}" for i in range(40))
    texts = [f"{line}\n{other}", f"{line}\nshort\n" + " ".join(f"y{i}" for i in range(20)),
             line, f"{line}\nok", f"{other}\n{fresh}"]
    grams = shard_ngrams(texts, 13, 13)
    decisions = decide_shard(grams, BloomFilter.for_count(grams.num_ngrams, 1e-9), 0.8)
    table = bff_decision_table(decisions, pa.table({"text": texts}), "text", 13, annotate=False)
    rows = table.to_pylist()
    assert rows[0]["keep"] and rows[0]["text"] is None                  # first copy untouched
    assert rows[1]["keep"] and rows[1]["text"] == "short\n" + " ".join(f"y{i}" for i in range(20))
    assert not rows[2]["keep"] and rows[2]["reason"] == "bff_duplicate"
    assert rows[2]["detail"] == "8/8 13-grams seen before"
    # "ok" has no n-grams, so all of the document's n-grams were seen: it goes.
    assert not rows[3]["keep"] and rows[3]["reason"] == "bff_duplicate"
    # 8 of 36 n-grams seen: the document stays, its repeated paragraph goes.
    assert rows[4]["keep"] and rows[4]["text"] == fresh
