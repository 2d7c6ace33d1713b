"""The one n-gram builder: each caller's word rule, batched hashing, overlap by document, the index file."""
from __future__ import annotations

import numpy as np
import pytest

from dclm.evaluation.decontaminate import DECONTAMINATION_WORDS
from dclm.evaluation.ngrams import (
    LETTERS_DIGITS,
    WORD_CHARS,
    NgramIndex,
    build_index,
    matched_ngrams,
    ngrams_by_text,
    overlapping_documents,
    text_ngrams,
)
from pipelines.classifier_training.reference import REFERENCE_WORDS

WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "while", "seven", "tired", "wizards",
         "quietly", "brew"]


def test_each_caller_keeps_its_word_rule():
    assert DECONTAMINATION_WORDS is WORD_CHARS and REFERENCE_WORDS is LETTERS_DIGITS
    # The underscore is the difference: a word character for \w+, a separator for [^\W_]+.
    assert WORD_CHARS.split("Don't stop_now!") == ["don", "t", "stop_now"]
    assert LETTERS_DIGITS.split("Don't stop_now!") == ["don", "t", "stop", "now"]
    assert WORD_CHARS.split("Café 3.5\u00a0KM") == LETTERS_DIGITS.split("Café 3.5\u00a0KM") == ["café", "3", "5", "km"]


def test_the_rules_give_different_ngrams_through_the_one_builder():
    glued = " ".join(WORDS[:6]) + " " + "_".join(WORDS[6:8]) + " " + " ".join(WORDS[8:])
    plain = " ".join(WORDS)
    # [^\W_]+ sees the same 15 words in both texts; \w+ sees 14 in the glued one, none of its 13-grams shared.
    assert np.array_equal(text_ngrams(glued, rule=LETTERS_DIGITS), text_ngrams(plain, rule=LETTERS_DIGITS))
    assert len(text_ngrams(glued, rule=WORD_CHARS)) == 2
    assert not set(text_ngrams(glued, rule=WORD_CHARS).tolist()) & set(text_ngrams(plain, rule=WORD_CHARS).tolist())
    assert overlapping_documents([glued], [plain], rule=LETTERS_DIGITS) == {0: 3}
    assert overlapping_documents([glued], [plain], rule=WORD_CHARS) == {}
    index = build_index({"eval": [plain]}, rule=WORD_CHARS)
    assert index.check(glued) == ([], 0) and index.check(plain.upper()) == (["eval"], 3)


@pytest.mark.parametrize("rule", [WORD_CHARS, LETTERS_DIGITS])
def test_batched_hashes_are_the_per_text_hashes_without_windows_across_texts(rule):
    texts = [" ".join(WORDS), "too short", "", " ".join(reversed(WORDS)) + " and_more words"]
    hashes, owner = ngrams_by_text(texts, rule=rule)
    for i, text in enumerate(texts):
        assert np.array_equal(hashes[owner == i], text_ngrams(text, rule=rule))
    assert len(hashes) == sum(len(text_ngrams(t, rule=rule)) for t in texts)
    assert len(ngrams_by_text(["a b c"] * 10, rule=rule)[0]) == 0


def test_overlap_counts_each_documents_shared_ngrams_with_repeats():
    eval_text = " ".join(WORDS)
    documents = ["nothing shared here at all " * 4, "Copied: " + eval_text + ". And again: " + eval_text, "short"]
    assert overlapping_documents(documents, iter([eval_text]), rule=LETTERS_DIGITS) == {1: 6}
    wanted = np.unique(text_ngrams(eval_text, rule=WORD_CHARS))
    assert np.array_equal(matched_ngrams([None, documents[1]], wanted, rule=WORD_CHARS), wanted)
    assert len(matched_ngrams(documents[::2], wanted, rule=WORD_CHARS)) == 0


def test_the_index_file_keeps_its_word_rule(tmp_path):
    index = build_index({"x": [" ".join(WORDS)]}, rule=LETTERS_DIGITS)
    index.save(tmp_path / "i.npz")
    assert NgramIndex.load(tmp_path / "i.npz").rule is LETTERS_DIGITS
    # A file written before word rules were recorded does not load (get_index then rebuilds it).
    np.savez(tmp_path / "old.npz", hashes=index.hashes, masks=index.masks, labels=np.array(index.labels),
             n=np.array(13))
    with pytest.raises(KeyError):
        NgramIndex.load(tmp_path / "old.npz")
