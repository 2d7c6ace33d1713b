"""Paragraphs, tokens and hashed n-grams for BFF (DCLM's Bloom-filter dedup).

Semantics follow DCLM's BFF (``dedup/bff`` in mlfoundations/dclm):

* paragraphs are the pieces of the text between ``\\n`` characters (an empty
  line is a paragraph with no tokens);
* tokens are Unicode word-boundary segments that are not whitespace. BFF uses
  the ``unicode-segmentation`` crate (UAX #29); ``TOKEN_PATTERN`` is a close
  regular-expression stand-in: runs of letters, digits and underscores,
  joined across ``.``, ``'``, ``’`` and ``:`` inside a word and across ``,``
  or ``;`` between digits ("U.S", "don't", "3,000.50" are one token), and
  every other non-space character (punctuation, symbols) a token of its own.
  It differs from UAX #29 on CJK ideographs (one token per run here, one per
  character there) and a few rare joiners. No case folding: BFF compares
  the raw tokens;
* a paragraph with at least ``ngram`` tokens yields its sliding windows of
  ``ngram`` tokens; one with ``min_ngram`` ≤ tokens < ``ngram`` yields one
  n-gram of all its tokens; a shorter one yields none and is never removed.

Each token is hashed once (xxh3-64) and a window of ``ngram`` token hashes is
folded into one 64-bit n-gram key (``shingles.fold_hashes``), vectorized over
a whole batch of documents: windows that cross a paragraph edge are dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np

from dedup.shingles import fold_hashes, hash_words

TOKEN_PATTERN = re.compile(r"\w+(?:(?:[.'’:]|(?<=\d)[,;](?=\d))\w+)*|[^\w\s]")
DEFAULT_NGRAM = 13
NGRAM_SEED = 0x0BFF


def tokenize(paragraph: str) -> list[str]:
    """Tokens of one paragraph (see module docstring)."""
    return TOKEN_PATTERN.findall(paragraph)


def paragraphs(text: Optional[str]) -> list[str]:
    """The paragraphs BFF works on; joining them with ``\\n`` gives the text back."""
    return (text or "").split("\n")


@dataclass
class ShardNgrams:
    """Hashed n-grams of one shard, in document, paragraph, position order.

    Paragraph ``p`` owns ``keys[para_offsets[p]:para_offsets[p+1]]``; document
    ``d`` owns paragraphs ``doc_offsets[d]:doc_offsets[d+1]``.
    """

    keys: np.ndarray            # uint64
    para_offsets: np.ndarray    # int64, paragraphs + 1
    doc_offsets: np.ndarray     # int64, documents + 1

    @property
    def num_docs(self) -> int:
        return len(self.doc_offsets) - 1

    @property
    def num_ngrams(self) -> int:
        return len(self.keys)


def _batch_ngrams(texts: list[Optional[str]], ngram: int, min_ngram: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(keys, ngrams per paragraph, paragraphs per document)`` of a batch."""
    tokens: list[str] = []
    para_tokens: list[int] = []
    doc_paras = np.zeros(len(texts), dtype=np.int64)
    for d, text in enumerate(texts):
        pieces = paragraphs(text)
        doc_paras[d] = len(pieces)
        for piece in pieces:
            found = TOKEN_PATTERN.findall(piece)
            tokens.extend(found)
            para_tokens.append(len(found))
    lengths = np.asarray(para_tokens, dtype=np.int64)
    token_hashes = hash_words(tokens, NGRAM_SEED) if tokens else np.zeros(0, np.uint64)
    starts = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    # Full windows: fold over the whole batch, keep those inside one paragraph.
    if len(token_hashes) >= ngram:
        folded = fold_hashes(token_hashes, ngram, NGRAM_SEED)
        para_of = np.repeat(np.arange(len(lengths)), lengths)
        inside = para_of[:len(folded)] == para_of[ngram - 1:]
        keys, owner = folded[inside], para_of[:len(folded)][inside]
    else:
        keys, owner = np.zeros(0, np.uint64), np.zeros(0, np.int64)
    per_para = np.bincount(owner, minlength=len(lengths)).astype(np.int64)
    short = np.flatnonzero((lengths >= min_ngram) & (lengths < ngram))
    if len(short):
        # Short paragraphs: one n-gram of all their tokens (rare unless
        # min_ngram < ngram), spliced in at their paragraph's place.
        extra = np.array([fold_hashes(token_hashes[starts[p]:starts[p + 1]], int(lengths[p]),
                                      NGRAM_SEED)[0] for p in short], dtype=np.uint64)
        keys = np.concatenate((keys, extra))
        owner = np.concatenate((owner, short))
        order = np.argsort(owner, kind="stable")
        keys = keys[order]
        per_para[short] = 1
    return keys, per_para, doc_paras


def shard_ngrams(texts: Iterable[Optional[str]], ngram: int = DEFAULT_NGRAM,
                 min_ngram: int = DEFAULT_NGRAM, batch_docs: int = 512) -> ShardNgrams:
    """Hashed n-grams of every document of a shard (see ``ShardNgrams``)."""
    if not 1 <= min_ngram <= ngram:
        raise ValueError("need 1 <= min_ngram <= ngram")
    keys, per_para, per_doc = [], [], []
    batch: list[Optional[str]] = []

    def flush() -> None:
        k, p, d = _batch_ngrams(batch, ngram, min_ngram)
        keys.append(k)
        per_para.append(p)
        per_doc.append(d)
        batch.clear()

    for text in texts:
        batch.append(text)
        if len(batch) >= batch_docs:
            flush()
    if batch:
        flush()
    para_counts = np.concatenate(per_para) if per_para else np.zeros(0, np.int64)
    doc_counts = np.concatenate(per_doc) if per_doc else np.zeros(0, np.int64)
    return ShardNgrams(
        keys=np.concatenate(keys) if keys else np.zeros(0, np.uint64),
        para_offsets=np.r_[0, np.cumsum(para_counts)].astype(np.int64),
        doc_offsets=np.r_[0, np.cumsum(doc_counts)].astype(np.int64))
