"""The evaluation items a comparison leaves out: those its pool, or its classifiers' data, contain.

Every recipe's documents come from the same pool, so one exclusion list,
computed against the whole pool (the shared extraction, before any recipe),
serves every run and keeps the evaluation identical across recipes. A
recipe's fastText classifier saw its positives too: a model card that lists
the evaluation items its training data overlaps (``extra.eval_item_overlap``,
as ``dclm classifier build-reference`` writes) adds those items, and
``--decontaminate-against`` adds any other corpus (JSONL, Parquet or text).

The pool is scanned shard by shard in Ray tasks: each returns the evaluation
13-grams it found, so only a few kilobytes come back per shard. The result,
``DIR/exclusions.json``, is reused while its sources are unchanged.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from dclm.evaluation.item_contamination import (
    EvalUnits,
    eval_units,
    exclusion_document,
    matched_ngrams,
    write_exclusions,
)

EXCLUSIONS = "exclusions.json"
CARD_KEY = "eval_item_overlap"


def _scan_shard(path: str, wanted: np.ndarray) -> np.ndarray:
    from dclm.io.parquet_shards import iter_rows

    return matched_ngrams((row.get("text") for row in iter_rows(path, columns=["text"])), wanted)


def scan_pool(shards: list[str], wanted: np.ndarray) -> np.ndarray:
    """Evaluation n-grams found in any shard, one Ray task per shard (Ray must be running)."""
    import ray

    scan = ray.remote(num_cpus=1)(_scan_shard)
    wanted_ref = ray.put(wanted)
    found = ray.get([scan.remote(path, wanted_ref) for path in shards])
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.uint64)


def classifier_cards(recipes) -> list[tuple[str, dict]]:
    """(model path, card) of every fastText classifier the recipes use, when a card sits beside it."""
    from filters.quality_classifier import QualityModelError, resolve_model_path
    from pipelines.classifier_training.training import metrics_path_for

    cards: dict[str, dict] = {}
    for _, recipe in recipes:
        for step in recipe.steps:
            model = step.kwargs.get("model_filename")
            if step.name != "classify_fasttext_hq_prob_enricher" or not model:
                continue
            try:
                path = resolve_model_path(model)
            except QualityModelError:
                continue            # the recipe run reports a missing model itself
            card = Path(metrics_path_for(path))
            if path not in cards and card.is_file():
                cards[path] = json.loads(card.read_text(encoding="utf-8"))
    return sorted(cards.items())


def _corpus_texts(paths: list[str]):
    from pipelines.classifier_training.data import input_files, read_texts

    for path in input_files(paths):
        yield from read_texts(path)


def _digest(values) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode("utf-8")).hexdigest()


def _sources(extracted_shards: list[str], cards: list[tuple[str, dict]], extra: list[str]) -> list[dict]:
    from dclm.io.digests import file_sha256

    sources = [{"name": "pool", "kind": "the shared extraction of the comparison's input",
                "shards": len(extracted_shards),
                "sha256": _digest([Path(p).name for p in extracted_shards])}]
    for path, card in cards:
        overlap = _card_listing(card)
        sources.append({"name": f"classifier:{Path(path).name}", "kind": "the positives behind a recipe's "
                        "classifier, as its model card lists them" if overlap else
                        "a recipe's classifier whose card lists no evaluation overlap",
                        "sha256": card.get("model_sha256") or file_sha256(path)})
    for path in extra:
        sources.append({"name": f"corpus:{Path(path).name}", "kind": "--decontaminate-against",
                        "sha256": file_sha256(path) if Path(path).is_file() else _digest(sorted(
                            str(p) for p in Path(path).rglob("*") if p.is_file()))})
    return sources


def _card_listing(card: dict) -> Optional[dict]:
    return card.get(CARD_KEY) or (card.get("extra") or {}).get(CARD_KEY)


def card_overlap(units: EvalUnits, card: dict) -> dict[str, list]:
    """The card's listed items that exist in this evaluation (other task sets list other tasks)."""
    overlap = _card_listing(card) or {}
    known: dict[str, set] = {}
    for name, ident in units.names:
        known.setdefault(name, set()).add(ident)
    return {task: sorted(set(ids) & known[task]) for task, ids in (overlap.get("excluded") or {}).items()
            if task in known and set(ids) & known[task]}


def compute_exclusions(output: Path, task_set: str, extracted_shards: list[str], recipes, extra: list[str],
                       log: Callable[[str], None]) -> tuple[Path, dict]:
    """Write (or reuse) ``output/exclusions.json``; returns its path and content."""
    path = output / EXCLUSIONS
    cards = classifier_cards(recipes)
    sources = _sources(extracted_shards, cards, extra)
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old.get("sources") == sources and old.get("task_set") == task_set:
            return path, old
    units = eval_units(task_set)
    wanted = units.unique_hashes()
    log(f"decontamination: {len(units.names):,} evaluation items and passages, {len(wanted):,} 13-grams; "
        f"scanning the pool ({len(extracted_shards)} shards)")
    matched = {"pool": scan_pool(extracted_shards, wanted)}
    for extra_path in extra:
        matched[f"corpus:{Path(extra_path).name}"] = matched_ngrams(_corpus_texts([extra_path]), wanted)
    document = exclusion_document(units, matched, sources, task_set)
    # Cards list items, not n-grams: merge them after the n-gram part.
    for model_path, card in cards:
        listed = card_overlap(units, card)
        name = f"classifier:{Path(model_path).name}"
        document["excluded_by_source"][name] = {task: len(ids) for task, ids in listed.items()}
        for task, ids in listed.items():
            document["excluded"][task] = sorted(set(document["excluded"].get(task, [])) | set(ids))
    document["excluded_counts"] = {task: len(ids) for task, ids in sorted(document["excluded"].items())}
    write_exclusions(path, document)
    return path, json.loads(path.read_text(encoding="utf-8"))


def exclusions_line(document: dict) -> str:
    counts = document.get("excluded_counts", {})
    total = sum(counts.values())
    shown = ", ".join(f"{task} {n}" for task, n in counts.items() if n) or "none"
    return f"decontamination: {total} evaluation items overlap the pool or the classifiers' data ({shown})"


def read_document(path: Optional[Path]) -> Optional[dict]:
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
