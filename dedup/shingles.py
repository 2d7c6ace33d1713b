"""Text normalization and hashed word n-gram shingles for MinHash dedup.

Normalization (``normalize_text``), in this order:

1. Unicode NFKC, so that compatibility forms (full-width letters, ligatures,
   superscripts, non-breaking spaces) compare equal to their plain forms;
2. lowercase;
3. every punctuation or symbol character (Unicode categories ``P*`` and
   ``S*``) becomes a space, so "end.Start" and "end. Start" give the same words;
4. digits are kept (``fold_digits=True`` maps every decimal digit to ``0``, so
   pages that differ only in dates, prices or counters collide);
5. whitespace runs are folded: the text is split on any Unicode whitespace.

A shingle is a run of ``ngram`` consecutive words (default 5). Each word is
hashed once with xxh3_64 and the ``ngram`` word hashes of a shingle are folded
into one 64-bit value with a vectorized, order-sensitive mix (numpy over all
positions at once). This costs one xxhash call per word instead of one string
join and hash per shingle, and gives the same set semantics: two shingles
collide only if their word sequences are equal (up to 2^-64 chance).

A document with fewer than ``ngram`` words (including an empty one) gets a
single shingle made of all its words, so short pages still deduplicate
against exact copies of themselves.
"""
from __future__ import annotations

import functools
import sys
import unicodedata
from typing import Iterable

import numpy as np
import xxhash

from dedup.hashing64 import mix64

DEFAULT_NGRAM = 5

# Constants of the word-hash fold: any odd multiplier with well-spread bits
# works; these are the murmur3 finalizer's.
_FOLD_START = np.uint64(0xFF51AFD7ED558CCD)
_FOLD_MUL = np.uint64(0xC4CEB9FE1A85EC53)


@functools.cache
def _punctuation_to_space() -> dict[int, str]:
    """Translation table mapping every punctuation/symbol code point to space.

    Built once per process (about 0.25 s): ``str.translate`` with it is ~40x
    faster than a regular expression, and Python's ``re`` has no ``\\p{P}``.
    """
    return {cp: " " for cp in range(sys.maxunicode + 1)
            if unicodedata.category(chr(cp))[0] in "PS"}


@functools.cache
def _digits_to_zero() -> dict[int, str]:
    """Translation table mapping every Unicode decimal digit to ASCII ``0``."""
    return {cp: "0" for cp in range(sys.maxunicode + 1)
            if unicodedata.category(chr(cp)) == "Nd"}


def normalize_text(text: str, *, fold_digits: bool = False) -> str:
    """Canonical form of ``text`` used for shingling (see module docstring).

    Returns the normalized words joined by single spaces.
    """
    return " ".join(normalized_words(text, fold_digits=fold_digits))


@functools.cache
def _punctuation_split() -> tuple[bytes, frozenset]:
    """The same mapping in two parts: a 256-byte table for ASCII, a set for the rest."""
    table = _punctuation_to_space()
    ascii_table = bytes(32 if b in table else b for b in range(128)) + bytes(range(128, 256))
    return ascii_table, frozenset(chr(cp) for cp in table if cp >= 128)


def punctuation_to_space(text: str) -> str:
    """``text.translate(_punctuation_to_space())``, about 4x faster.

    ``str.translate`` with a dict does a dict lookup per character as soon as
    a text holds one non-ASCII character (most web pages: typographic
    quotes). Instead, ASCII punctuation is replaced by a byte table on the
    UTF-8 form (UTF-8 never uses bytes < 128 inside a multi-byte character),
    and each distinct non-ASCII punctuation character present by
    ``str.replace``. Identical output for every code point (tested).
    """
    ascii_table, others = _punctuation_split()
    out = text.encode("utf-8", "surrogatepass").translate(ascii_table)
    out = out.decode("utf-8", "surrogatepass")
    if not out.isascii():
        present = others.intersection(out)
        if len(present) > 64:                  # pathological text: one pass is cheaper
            return out.translate(_punctuation_to_space())
        for char in present:
            out = out.replace(char, " ")
    return out


def normalized_words(text: str, *, fold_digits: bool = False) -> list[str]:
    """Words of ``text`` after NFKC, lowercasing and punctuation stripping."""
    text = punctuation_to_space(unicodedata.normalize("NFKC", text).lower())
    if fold_digits:
        text = text.translate(_digits_to_zero())
    return text.split()


def fold_hashes(word_hashes: np.ndarray, ngram: int, seed: int) -> np.ndarray:
    """One 64-bit hash per window of ``ngram`` consecutive word hashes.

    Each step ``h = (h ^ w) * odd`` is a bijection of ``w`` for a fixed ``h``,
    and the xor-shift between steps makes the fold order-sensitive, so
    "a b c" and "c b a" get different values.
    """
    windows = len(word_hashes) - ngram + 1
    h = np.full(windows, _FOLD_START ^ np.uint64(seed & 0xFFFFFFFFFFFFFFFF),
                dtype=np.uint64)
    for offset in range(ngram):  # ngram steps, each vectorized over all windows
        h ^= word_hashes[offset:offset + windows]
        h *= _FOLD_MUL
        h ^= h >> np.uint64(29)
    return mix64(h)


def hash_words(words: list[str], seed: int = 0) -> np.ndarray:
    """xxh3_64 of each word's UTF-8 bytes, as a uint64 array."""
    if not words:
        return np.zeros(0, dtype=np.uint64)
    # Words hold no spaces, so one encode of the joined text and a bytes split
    # is cheaper than encoding word by word.
    encoded = " ".join(words).encode("utf-8").split(b" ")
    digest = xxhash.xxh3_64_intdigest
    return np.fromiter((digest(w, seed) for w in encoded), dtype=np.uint64,
                       count=len(encoded))


def shingle_hashes(text: str, ngram: int = DEFAULT_NGRAM, *,
                   fold_digits: bool = False, seed: int = 0) -> np.ndarray:
    """Sorted, unique uint64 hashes of the word ``ngram``-grams of ``text``.

    A text with fewer than ``ngram`` words yields exactly one hash, of all its
    words (an empty text hashes the empty word sequence).
    """
    if ngram < 1:
        raise ValueError(f"ngram must be >= 1, got {ngram}")
    words = normalized_words(text, fold_digits=fold_digits)
    word_hashes = hash_words(words, seed)
    if len(words) < ngram:
        # One window spanning every word; for zero words the fold is just the
        # seeded start value, so all empty texts share one shingle.
        return fold_hashes(word_hashes, len(words), seed)
    return np.unique(fold_hashes(word_hashes, ngram, seed))


def shingle_batch(texts: Iterable[str], ngram: int = DEFAULT_NGRAM, *,
                  fold_digits: bool = False, seed: int = 0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Shingle many texts into one flat array, the layout MinHash consumes.

    Returns ``(values, offsets)``: document ``i`` owns
    ``values[offsets[i]:offsets[i + 1]]`` (sorted, unique, never empty), and
    ``offsets`` has one more entry than there are texts.
    """
    arrays = [shingle_hashes(t, ngram, fold_digits=fold_digits, seed=seed)
              for t in texts]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    values = np.concatenate(arrays) if arrays else np.zeros(0, np.uint64)
    return values, offsets


def word_ngrams(text: str, ngram: int = DEFAULT_NGRAM, *,
                fold_digits: bool = False) -> set[str]:
    """The same shingles as ``shingle_hashes``, as space-joined strings.

    Slow reference form: benchmarks feed it to peers (datasketch) that hash
    shingles themselves, and tests use it to check the hashed form.
    """
    words = normalized_words(text, fold_digits=fold_digits)
    if len(words) < ngram:
        return {" ".join(words)}
    return {" ".join(words[i:i + ngram]) for i in range(len(words) - ngram + 1)}
