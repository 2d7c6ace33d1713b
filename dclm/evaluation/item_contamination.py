"""Which evaluation items a training corpus has seen: 13-gram overlap per item, and the exclusion file.

``dclm decontaminate`` asks the training side's question (which documents
contain evaluation text?). A comparison asks the other one: which evaluation
items could a model have memorised from the pool it was trained on, or from
the data behind a classifier that chose its documents? Those items are left
out of every run's evaluation, the same for every recipe, so that no recipe
gains by keeping the copies.

An item is its own text only: for a 0-shot task the whole prompt and every
choice, for a few-shot task the last block of the prompt (the demonstrations
are shared by every item and would otherwise take all of them down together)
and the choices; a held-out passage is the passage. It is contaminated when
any of its word 13-grams occurs in the corpus (GPT-3's test, Brown et al.
2020 App. C), built by ``dclm.evaluation.ngrams`` with the word rule of
``dclm decontaminate`` (``DECONTAMINATION_WORDS``).

The exclusion file (``exclusions.json``) lists, per task or held-out set, the
ids left out, with the corpora it was computed against and a digest; eval
reports carry that digest, so a report says exactly which items it skipped.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

from dclm.evaluation import ngrams
from dclm.evaluation.decontaminate import DECONTAMINATION_WORDS
from dclm.evaluation.ngrams import NGRAM, text_ngrams

FORMAT = "dclm-eval-exclusions/1"


@dataclass(frozen=True)
class EvalUnits:
    """Every item's n-grams: ``hashes[i]`` belongs to unit ``owner[i]``, named ``names[owner[i]]``."""

    names: list[tuple[str, object]]      # (task or held-out set, doc id or passage id)
    hashes: np.ndarray                   # uint64
    owner: np.ndarray                    # int64, index into names
    totals: dict[str, int]               # items per task or set, short ones (no 13-gram) included

    def unique_hashes(self) -> np.ndarray:
        return np.unique(self.hashes)

    def contaminated(self, matched: np.ndarray) -> dict[str, list]:
        """{task or set: sorted ids} of the units with at least one n-gram in ``matched``."""
        if not len(matched) or not len(self.hashes):
            return {}
        hit_units = np.unique(self.owner[np.isin(self.hashes, matched)])
        out: dict[str, list] = {}
        for unit in hit_units.tolist():
            name, ident = self.names[unit]
            out.setdefault(name, []).append(ident)
        return {name: sorted(ids) for name, ids in sorted(out.items())}


def _own_text(context: str, shots: int) -> str:
    # OLMES separates demonstrations from the item by a blank line.
    return context.rsplit("\n\n", 1)[-1] if shots else context


def eval_units(task_set_name: str, root: Optional[Path] = None, n: int = NGRAM) -> EvalUnits:
    """Every item of every available task of the set (all items, not a sample) and every held-out passage."""
    from dclm.evaluation.heldout_text import load_heldout_set
    from dclm.evaluation.tasks import available_tasks, get_task_set, load_items

    task_set = get_task_set(task_set_name)
    specs, _ = available_tasks(task_set, root)
    names: list[tuple[str, object]] = []
    parts: list[np.ndarray] = []
    owners: list[np.ndarray] = []

    totals: dict[str, int] = {}

    def add(name: str, ident, texts: Iterable[str]) -> None:
        totals[name] = totals.get(name, 0) + 1
        grams = [text_ngrams(t, n, rule=DECONTAMINATION_WORDS) for t in texts]
        grams = [g for g in grams if len(g)]
        if not grams:
            return                       # fewer than n words: it cannot overlap anything
        unique = np.unique(np.concatenate(grams))
        owners.append(np.full(len(unique), len(names), dtype=np.int64))
        parts.append(unique)
        names.append((name, ident))

    for spec in specs:
        for item in load_items(spec, root=root):
            own = {_own_text(context, spec.num_shots) + continuation for context, continuation in item.choices}
            add(spec.name, item.doc_id, sorted(own))
    for name in task_set.heldout_sets:
        try:
            documents = load_heldout_set(name, root=root)
        except FileNotFoundError:
            continue
        for doc in documents:
            add(name, doc.story_id, [doc.text])
    hashes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    return EvalUnits(names, hashes, owner, totals)


def matched_ngrams(texts: Iterable[Optional[str]], wanted: np.ndarray, n: int = NGRAM) -> np.ndarray:
    """The members of ``wanted`` (sorted, unique uint64) that occur in any of ``texts``.

    The word rule is fixed here: the items' n-grams were cut with it, and a
    corpus cut another way would miss copies.
    """
    return ngrams.matched_ngrams(texts, wanted, n, rule=DECONTAMINATION_WORDS)


def exclusion_document(units: EvalUnits, matched_by_source: dict[str, np.ndarray], sources: list[dict],
                       task_set: str) -> dict:
    """The exclusion file's content: per source and in all, which items overlap."""
    all_matched = (np.unique(np.concatenate(list(matched_by_source.values())))
                   if matched_by_source else np.zeros(0, dtype=np.uint64))
    excluded = units.contaminated(all_matched)
    by_source = {name: {task: len(ids) for task, ids in units.contaminated(matched).items()}
                 for name, matched in sorted(matched_by_source.items())}
    return {"format": FORMAT, "ngram": NGRAM, "task_set": task_set, "sources": sources,
            "items_checked": dict(sorted(units.totals.items())),
            "excluded_counts": {task: len(ids) for task, ids in excluded.items()},
            "excluded_by_source": by_source, "excluded": excluded}


def write_exclusions(path: Path, document: dict) -> str:
    """Write the file atomically; returns its sha256."""
    from dclm.io.atomic_files import write_bytes_atomic

    data = (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8")
    write_bytes_atomic(str(path), data)
    return hashlib.sha256(data).hexdigest()


def read_exclusions(path) -> tuple[dict[str, set], dict]:
    """({task or set: ids}, summary for eval reports) from an exclusion file."""
    data = Path(path).read_bytes()
    document = json.loads(data)
    if document.get("format") != FORMAT:
        raise ValueError(f"{path}: not an exclusion file (format {document.get('format')!r}, expected {FORMAT})")
    excluded = {name: set(ids) for name, ids in document["excluded"].items()}
    summary = {"sha256": hashlib.sha256(data).hexdigest(), "ngram": document["ngram"],
               "sources": [s.get("name") for s in document.get("sources", [])],
               "counts": document["excluded_counts"]}
    return excluded, summary
