"""Normalization and shingling for MinHash dedup."""
import numpy as np
import pytest

from dedup.jaccard import jaccard
from dedup.shingles import normalize_text, normalized_words, shingle_batch, shingle_hashes, word_ngrams


def test_normalization_folds_case_width_punctuation_and_space():
    assert normalize_text("  Hello,\tWORLD!\n\u00a0ｆｕｌｌ—width ") == "hello world full width"
    assert normalize_text("end.Start") == normalize_text("end. Start")
    assert normalize_text("e-mail & co_op") == "e mail co op"


def test_digits_kept_unless_folded():
    assert normalized_words("Price: 42 €, 2024") == ["price", "42", "2024"]
    assert normalized_words("Price: 42 €, 2024", fold_digits=True) == ["price", "00", "0000"]
    assert normalized_words("٣ items", fold_digits=True) == ["0", "items"]


def test_non_latin_letters_and_marks_survive():
    # Combining marks (Mn/Mc) are not punctuation: Devanagari words stay whole.
    assert normalized_words("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]
    assert normalized_words("Grüße, café") == ["grüße", "café"]


def test_one_shingle_per_distinct_ngram():
    text = "a b c d e f g a b c d e"
    hashes = shingle_hashes(text, 5)
    assert hashes.dtype == np.uint64
    assert len(hashes) == len(word_ngrams(text, 5)) == 7
    assert np.all(hashes[1:] > hashes[:-1])          # sorted, unique


def test_shingles_are_order_sensitive_and_normalized():
    assert not np.array_equal(shingle_hashes("a b c"), shingle_hashes("c b a"))
    assert np.array_equal(shingle_hashes("One, two; THREE four five."),
                          shingle_hashes("one two three four five"))


def test_hashed_jaccard_matches_string_jaccard():
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in rng.integers(0, 300, size=400)]
    other = list(words)
    for i in rng.choice(len(other), size=20, replace=False):
        other[i] = "edited"
    a, b = " ".join(words), " ".join(other)
    sa, sb = word_ngrams(a), word_ngrams(b)
    assert jaccard(shingle_hashes(a), shingle_hashes(b)) == pytest.approx(
        len(sa & sb) / len(sa | sb))


def test_short_documents_get_one_whole_text_shingle():
    assert len(shingle_hashes("only three words")) == 1
    assert np.array_equal(shingle_hashes("Only three words!"), shingle_hashes("only three words"))
    assert not np.array_equal(shingle_hashes("only three words"), shingle_hashes("only two"))
    assert len(shingle_hashes("")) == 1
    assert np.array_equal(shingle_hashes(""), shingle_hashes(" ... "))


def test_seed_changes_hashes_deterministically():
    text = "the quick brown fox jumps over the lazy dog"
    assert np.array_equal(shingle_hashes(text, seed=7), shingle_hashes(text, seed=7))
    assert not np.array_equal(shingle_hashes(text, seed=7), shingle_hashes(text, seed=8))


def test_batch_layout():
    texts = ["a b c d e f", "", "x y"]
    values, offsets = shingle_batch(texts, 5)
    assert offsets.tolist() == [0, 2, 3, 4]
    for i, text in enumerate(texts):
        assert np.array_equal(values[offsets[i]:offsets[i + 1]], shingle_hashes(text, 5))
    values, offsets = shingle_batch([], 5)
    assert len(values) == 0 and offsets.tolist() == [0]


def test_fast_punctuation_mapping_equals_translate_on_every_code_point():
    import sys

    from dedup.shingles import _punctuation_to_space, punctuation_to_space

    table = _punctuation_to_space()
    every = "".join(chr(cp) for cp in range(sys.maxunicode + 1))
    assert punctuation_to_space(every) == every.translate(table)      # the fallback path
    # The replace path: every mapped code point, and a sample of the others.
    for cp in sorted(table) + list(range(0, sys.maxunicode, 101)):
        text = f"a{chr(cp)}é"
        assert punctuation_to_space(text) == text.translate(table), hex(cp)
    text = "“Quotes” — dashes… and ¡ünïcödé! ©2024 #tag"
    assert punctuation_to_space(text) == text.translate(_punctuation_to_space())
