"""Finding evaluation text inside training documents: 13-gram overlap on normalized words.

A document is flagged when at least ``min_matches`` of its word 13-grams also
occur in an evaluation set (GPT-3's and OLMo's contamination test uses
13-grams; shorter ones match boilerplate, longer ones miss paraphrased
copies). Words are normalized so formatting does not hide a copy: lowercased,
then every maximal run of Unicode word characters is one word (punctuation and
whitespace only separate words). "Don't stop!" is ``don t stop``.

The evaluation side is every text a model is scored on: for each item and
choice, context + continuation as the model sees it (few-shot demonstrations
included), for every task of the chosen set (default ``full``, which contains
``core``), plus the held-out bpb passages.
Texts shorter than 13 words add no n-grams. N-grams are labelled with the task
they came from: the 0-shot task name, so HellaSwag's 0- and 5-shot files both
count as ``hellaswag_zeroshot``.

Hashing: each word gets xxh3-64; an n-gram is the polynomial
``sum(word_hash[i+j] * P**(n-1-j))`` mod 2**64, computed for all positions at
once with numpy. The index is a sorted uint64 array with a parallel bitmask of
task labels; a document's n-grams are looked up with one ``searchsorted``.
With ~2.3M evaluation n-grams, a false match has probability ~1e-13 per
n-gram. Building the index from the files takes 20-50 s, so it is cached on disk
(keyed by the files' sha256, n and the labels) and in memory.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
import xxhash

NGRAM = 13
INDEX_VERSION = 1              # bump when normalization or hashing changes: old caches stop matching
_WORD = re.compile(r"\w+")
_P = np.uint64(0x9E3779B97F4A7C15)   # odd 64-bit multiplier (golden ratio): mixes every bit
CACHE_ENV = "DCLM_CACHE_DIR"


def normalize_words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngram_hashes(words: list[str], n: int = NGRAM) -> np.ndarray:
    """uint64 hash of every word n-gram, in order (empty when there are fewer than n words)."""
    if len(words) < n:
        return np.zeros(0, dtype=np.uint64)
    # xxhash >= 4 hashes bytes only.
    word_hashes = np.fromiter((xxhash.xxh3_64_intdigest(w.encode("utf-8", "surrogatepass")) for w in words),
                             dtype=np.uint64, count=len(words))
    count = len(words) - n + 1
    acc = np.zeros(count, dtype=np.uint64)
    for j in range(n):                       # Horner's rule over the window; uint64 wraps mod 2**64
        acc = acc * _P + word_hashes[j:j + count]
    return acc


def text_ngrams(text: str, n: int = NGRAM) -> np.ndarray:
    return ngram_hashes(normalize_words(text), n)


@dataclass(frozen=True)
class NgramIndex:
    """Sorted unique n-gram hashes, a bitmask of labels per hash, and the labels' names."""

    hashes: np.ndarray       # uint64, sorted, unique
    masks: np.ndarray        # uint64, bit i set when labels[i] contains the n-gram
    labels: tuple[str, ...]
    n: int

    def __len__(self) -> int:
        return len(self.hashes)

    def match(self, hashes: np.ndarray) -> tuple[int, int]:
        """(bitmask of labels hit, number of the given n-grams found in the index)."""
        if len(hashes) == 0 or len(self.hashes) == 0:
            return 0, 0
        pos = np.searchsorted(self.hashes, hashes)
        pos[pos == len(self.hashes)] = 0
        hit = self.hashes[pos] == hashes
        found = int(hit.sum())
        if not found:
            return 0, 0
        return int(np.bitwise_or.reduce(self.masks[pos[hit]])), found

    def labels_of(self, mask: int) -> list[str]:
        return [label for i, label in enumerate(self.labels) if mask >> i & 1]

    def check(self, text: str, min_matches: int = 1) -> tuple[list[str], int]:
        """(labels whose n-grams the text contains, matched n-gram count); no labels below min_matches."""
        mask, found = self.match(text_ngrams(text, self.n))
        if found < min_matches:
            return [], found
        return self.labels_of(mask), found

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        with open(tmp, "wb") as fh:
            np.savez(fh, hashes=self.hashes, masks=self.masks, labels=np.array(self.labels), n=np.array(self.n))
        os.replace(tmp, path)        # atomic: a concurrent reader sees the old file or the whole new one

    @classmethod
    def load(cls, path: Path) -> "NgramIndex":
        with np.load(path) as data:
            return cls(data["hashes"], data["masks"], tuple(str(x) for x in data["labels"]), int(data["n"]))


def build_index(texts_by_label: dict[str, Iterable[str]], n: int = NGRAM) -> NgramIndex:
    labels = tuple(texts_by_label)
    if len(labels) > 64:
        raise ValueError(f"{len(labels)} labels; the bitmask holds 64")
    all_hashes, all_masks = [], []
    for bit, label in enumerate(labels):
        parts = [text_ngrams(text, n) for text in set(texts_by_label[label])]
        unique = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint64)
        all_hashes.append(unique)
        all_masks.append(np.full(len(unique), np.uint64(1) << np.uint64(bit), dtype=np.uint64))
    hashes = np.concatenate(all_hashes) if all_hashes else np.zeros(0, dtype=np.uint64)
    masks = np.concatenate(all_masks) if all_masks else np.zeros(0, dtype=np.uint64)
    order = np.argsort(hashes, kind="stable")
    hashes, masks = hashes[order], masks[order]
    if len(hashes):
        starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
        hashes, masks = hashes[starts], np.bitwise_or.reduceat(masks, starts)
    return NgramIndex(hashes, masks, labels, n)


def eval_sources(task_set: str = "full", only: Optional[Iterable[str]] = None,
                 root: Optional[Path] = None) -> dict[str, list[tuple[object, Path]]]:
    """{label: [(task spec or None for the passages, file)]} for every available task of ``task_set``.

    ``only`` keeps the named labels (0-shot task names or ``coqa_passages``).
    """
    from dclm.evaluation.heldout_text import HELDOUT_NAME, heldout_path
    from dclm.evaluation.tasks import CORE_TASKS, available_tasks, get_task_set, requests_path

    label_of_source = {spec.source: spec.name for spec in CORE_TASKS}
    wanted = set(only) if only else None
    sources: dict[str, list[tuple[object, Path]]] = {}
    specs, _ = available_tasks(get_task_set(task_set), root)
    for spec in specs:
        label = label_of_source.get(spec.source, spec.name)
        if wanted is None or label in wanted:
            sources.setdefault(label, []).append((spec, requests_path(spec, root)))
    if (wanted is None or HELDOUT_NAME in wanted) and heldout_path(root) is not None:
        sources[HELDOUT_NAME] = [(None, heldout_path(root))]
    if wanted is not None and wanted - set(sources):
        raise ValueError(f"no evaluation texts for {sorted(wanted - set(sources))}; labels are "
                         f"{sorted({s.name for s in CORE_TASKS} | {HELDOUT_NAME})}")
    return sources


def eval_texts(sources: dict[str, list[tuple[object, Path]]], root: Optional[Path] = None) -> dict[str, list[str]]:
    """Every scored text of each label: context + continuation of each choice, or the passage."""
    from dclm.evaluation.heldout_text import load_heldout_documents
    from dclm.evaluation.tasks import load_items

    texts: dict[str, list[str]] = {}
    for label, entries in sources.items():
        out = texts.setdefault(label, [])
        for spec, _ in entries:
            if spec is None:
                out.extend(doc.text for doc in load_heldout_documents(root=root))
            else:
                out.extend(context + continuation for item in load_items(spec, root=root)
                           for context, continuation in item.choices)
    return texts


def index_key(files: list[Path], labels: Iterable[str], n: int) -> str:
    """Cache key: the bytes of every source file, the labels, n and the index version."""
    digest = hashlib.sha256(f"v{INDEX_VERSION}:n{n}:{','.join(sorted(labels))}".encode())
    for path in sorted(files):
        with open(path, "rb") as fh:
            digest.update(hashlib.sha256(fh.read()).digest())
    return digest.hexdigest()[:32]


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "dclm") / "eval_ngrams"


_MEMO: dict[tuple, tuple[NgramIndex, str]] = {}


def get_index(n: int = NGRAM, task_set: str = "full", only: Optional[Iterable[str]] = None,
              root: Optional[Path] = None) -> tuple[NgramIndex, str]:
    """(the index, its key), from memory, the disk cache, or built from the task files."""
    memo_key = (n, task_set, tuple(sorted(only)) if only else None, str(root))
    if memo_key in _MEMO:
        return _MEMO[memo_key]
    sources = eval_sources(task_set, only, root)
    key = index_key([path for entries in sources.values() for _, path in entries], sources, n)
    path = cache_dir() / f"{key}.npz"
    index = None
    if path.is_file():
        try:
            index = NgramIndex.load(path)
        except (OSError, ValueError, KeyError):
            index = None             # a damaged cache is rebuilt, not trusted
    if index is None:
        index = build_index(eval_texts(sources, root), n)
        try:
            index.save(path)
        except OSError:
            pass                     # read-only home: the index still works, only uncached
    _MEMO[memo_key] = (index, key)
    return index, key
