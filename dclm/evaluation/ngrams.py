r"""Word n-grams, hashed, and the sets that test a text against the evaluation data.

This is the one n-gram builder behind every evaluation-overlap check:
``dclm decontaminate`` and the evaluation-item exclusions
(``dclm.evaluation.decontaminate``, ``dclm.evaluation.item_contamination``)
and the reference classifier's check of its positives
(``pipelines.classifier_training.reference``).

Overlap is measured as in GPT-3 (Brown et al. 2020, App. C) and DCLM (Li et
al. 2024, whose decontamination also uses word 13-grams): a text overlaps an
evaluation set when they share a word 13-gram. Shorter n-grams match
boilerplate; longer ones miss lightly edited copies.

What a word is differs between the callers, and each keeps the rule its
results were produced with, so it is a required, named argument (a
``WordRule``). Both rules lower-case the text first:

* ``WORD_CHARS``, ``\w+``: a word is a run of Unicode word characters, the
  underscore included; ``dclm decontaminate`` and the item exclusions use it.
* ``LETTERS_DIGITS``, ``[^\W_]+``: letters and digits only, so an underscore
  separates words; the reference classifier uses it.

"Don't stop_now!" is ``don t stop_now`` under the first and ``don t stop
now`` under the second.

Hashing: each word is hashed with xxh3-64 and a window of n words becomes
``sum(word_hash[i+j] * P**(n-1-j))`` mod 2**64, for all positions at once with
numpy. A hash depends only on the words, so hashes agree across calls,
processes and machines, and an index can be cached on disk. Two different
n-grams are confused only by a 64-bit collision (~1e-13 per n-gram against
millions of evaluation n-grams), which would report an overlap that is not
there, never hide one.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xxhash

NGRAM = 13
_P = np.uint64(0x9E3779B97F4A7C15)   # odd 64-bit multiplier (golden ratio): mixes every bit
# Texts are hashed in batches of about this many characters: one numpy pass per
# batch instead of one per text, while the batch's word list stays ~100 MB.
BATCH_CHARS = 10_000_000


@dataclass(frozen=True)
class WordRule:
    """How a text is cut into words: lower-cased, then every match of ``regex`` is one word."""

    name: str
    regex: re.Pattern

    def split(self, text: str) -> list[str]:
        # Lower-casing first: a copy in capitals is still a copy.
        return self.regex.findall(text.lower())


WORD_CHARS = WordRule("word_chars", re.compile(r"\w+"))
LETTERS_DIGITS = WordRule("letters_digits", re.compile(r"[^\W_]+"))
WORD_RULES = {rule.name: rule for rule in (WORD_CHARS, LETTERS_DIGITS)}


def ngram_hashes(words: Sequence[str], n: int = NGRAM) -> np.ndarray:
    """uint64 hash of every window of n consecutive words, in order (empty when there are fewer than n)."""
    if len(words) < n:
        return np.zeros(0, dtype=np.uint64)
    # xxhash >= 4 hashes bytes only; surrogatepass so that no string can fail to encode.
    word_hashes = np.fromiter((xxhash.xxh3_64_intdigest(w.encode("utf-8", "surrogatepass")) for w in words),
                              dtype=np.uint64, count=len(words))
    count = len(words) - n + 1
    acc = np.zeros(count, dtype=np.uint64)
    for j in range(n):                       # Horner's rule over the window; uint64 wraps mod 2**64
        acc = acc * _P + word_hashes[j:j + count]
    return acc


def text_ngrams(text: str, n: int = NGRAM, *, rule: WordRule) -> np.ndarray:
    """The n-gram hashes of one text, in order."""
    return ngram_hashes(rule.split(text), n)


def ngrams_by_text(texts: Sequence[str], n: int = NGRAM, *, rule: WordRule) -> tuple[np.ndarray, np.ndarray]:
    """(n-gram hashes of all ``texts``, index of the text each comes from), in one numpy pass.

    The same hashes as ``text_ngrams`` text by text: the words of all texts are
    hashed as one sequence and the windows that span two texts are dropped.
    """
    words: list[str] = []
    counts = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        found = rule.split(text)
        counts[i] = len(found)
        words += found
    hashes = ngram_hashes(words, n)
    if not len(hashes):
        return hashes, np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), counts)
    first, last = owner[:len(hashes)], owner[n - 1:]
    inside = first == last                   # the window's first and last word come from one text
    return hashes[inside], first[inside]


def _batches(texts: Iterable[str | None], max_chars: int = BATCH_CHARS) -> Iterator[list[str]]:
    """``texts`` in lists of about ``max_chars`` characters (None counts as an empty text)."""
    batch: list[str] = []
    size = 0
    for text in texts:
        batch.append(text or "")
        size += len(batch[-1])
        if size >= max_chars:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _lookup(table: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``table``, found) for each hash; ``table`` is sorted and unique."""
    if not len(table):
        return np.zeros(len(hashes), dtype=np.int64), np.zeros(len(hashes), dtype=bool)
    pos = np.searchsorted(table, hashes)
    pos[pos == len(table)] = 0               # past the end: any valid slot, the comparison then fails
    return pos, table[pos] == hashes


def matched_ngrams(texts: Iterable[str | None], wanted: np.ndarray, n: int = NGRAM, *,
                   rule: WordRule) -> np.ndarray:
    """The members of ``wanted`` (sorted, unique uint64) that occur in any of ``texts``, sorted.

    ``texts`` is streamed: only the matches are kept, so the evaluation sets'
    tens of millions of n-grams never need to be held at once.
    """
    found = [np.zeros(0, dtype=np.uint64)]
    for batch in _batches(texts):
        grams = np.unique(ngrams_by_text(batch, n, rule=rule)[0])
        found.append(grams[_lookup(wanted, grams)[1]])
    return np.unique(np.concatenate(found))


def overlapping_documents(documents: Sequence[str], eval_texts: Iterable[str], n: int = NGRAM, *,
                          rule: WordRule) -> dict[int, int]:
    """{index of a document: number of its n-grams (with repeats) found in ``eval_texts``}, for documents with any."""
    keys, owner = ngrams_by_text(list(documents), n, rule=rule)
    if not len(keys):
        return {}                            # no document is long enough: the eval texts need not be read
    matched = matched_ngrams(eval_texts, np.unique(keys), n, rule=rule)
    hit = _lookup(matched, keys)[1]
    counts = np.bincount(owner[hit], minlength=len(documents))
    return {int(i): int(c) for i, c in enumerate(counts) if c}


@dataclass(frozen=True)
class NgramIndex:
    """Sorted unique n-gram hashes, a bitmask of labels per hash, the labels' names, n and the word rule."""

    hashes: np.ndarray       # uint64, sorted, unique
    masks: np.ndarray        # uint64, bit i set when labels[i] contains the n-gram
    labels: tuple[str, ...]
    n: int
    rule: WordRule           # texts are checked with the rule the index was built with

    def __len__(self) -> int:
        return len(self.hashes)

    def match(self, hashes: np.ndarray) -> tuple[int, int]:
        """(bitmask of labels hit, number of the given n-grams found in the index)."""
        if len(hashes) == 0 or len(self.hashes) == 0:
            return 0, 0
        pos, hit = _lookup(self.hashes, hashes)
        found = int(hit.sum())
        if not found:
            return 0, 0
        return int(np.bitwise_or.reduce(self.masks[pos[hit]])), found

    def labels_of(self, mask: int) -> list[str]:
        return [label for i, label in enumerate(self.labels) if mask >> i & 1]

    def check(self, text: str, min_matches: int = 1) -> tuple[list[str], int]:
        """(labels whose n-grams the text contains, matched n-gram count); no labels below min_matches."""
        mask, found = self.match(text_ngrams(text, self.n, rule=self.rule))
        if found < min_matches:
            return [], found
        return self.labels_of(mask), found

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        with open(tmp, "wb") as fh:
            np.savez(fh, hashes=self.hashes, masks=self.masks, labels=np.array(self.labels), n=np.array(self.n),
                     rule=np.array(self.rule.name))
        os.replace(tmp, path)        # atomic: a concurrent reader sees the old file or the whole new one

    @classmethod
    def load(cls, path: Path) -> NgramIndex:
        """The saved index; KeyError when the file lacks a field or names an unknown word rule."""
        with np.load(path) as data:
            return cls(data["hashes"], data["masks"], tuple(str(x) for x in data["labels"]), int(data["n"]),
                       WORD_RULES[str(data["rule"])])


def build_index(texts_by_label: dict[str, Iterable[str]], n: int = NGRAM, *, rule: WordRule) -> NgramIndex:
    """The index of every n-gram of every label's texts; an n-gram of several labels has all their bits."""
    labels = tuple(texts_by_label)
    if len(labels) > 64:
        raise ValueError(f"{len(labels)} labels; the bitmask holds 64")
    all_hashes, all_masks = [], []
    for bit, label in enumerate(labels):
        parts = [np.unique(ngrams_by_text(batch, n, rule=rule)[0]) for batch in _batches(set(texts_by_label[label]))]
        unique = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint64)
        all_hashes.append(unique)
        all_masks.append(np.full(len(unique), np.uint64(1) << np.uint64(bit), dtype=np.uint64))
    hashes = np.concatenate(all_hashes) if all_hashes else np.zeros(0, dtype=np.uint64)
    masks = np.concatenate(all_masks) if all_masks else np.zeros(0, dtype=np.uint64)
    order = np.argsort(hashes, kind="stable")
    hashes, masks = hashes[order], masks[order]
    if len(hashes):
        # One entry per hash, with the bits of every label that has it.
        starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
        hashes, masks = hashes[starts], np.bitwise_or.reduceat(masks, starts)
    return NgramIndex(hashes, masks, labels, n, rule)
