"""Training a fastText quality classifier the way DCLM does, reproducibly.

DCLM (Li et al. 2024, §4.4 and App. G) trains a supervised fastText model
(Joulin et al. 2017) with word bigrams on two labels, ``__label__hq`` for
the positives (OpenHermes 2.5 and r/ExplainLikeImFive) and ``__label__cc``
for the negatives (RefinedWeb pages). Here:

* the text of both classes goes through ``filters.fasttext_text`` first, the
  same normalization ``filters.quality_classifier`` applies when scoring;
* an optional cap per class, and a stratified held-out split (10% by
  default), are drawn with the seed; the held-out documents are never
  written to the training file;
* training is deterministic: documents are shuffled with the seed, and
  fastText runs with one thread (its updates are lock-free across threads,
  so only a single thread makes them repeatable), the same ``seed``, and in
  a fresh process (``filters.fasttext_fit`` explains why); the same inputs
  and options give a byte-identical model file;
* the held-out set is scored through ``filters.quality_classifier`` (the
  path every recipe uses) and precision, recall and F1 at 0.5 plus ROC-AUC
  are written beside the model as ``<model>.metrics.json``.

``--quantize`` stores a compressed model (fastText's product quantization,
Joulin et al. 2016 "FastText.zip"), keeping the ``cutoff`` most useful rows
and retraining the output layer on the same training file.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from dataclasses import asdict, dataclass
from typing import Optional, Sequence

import numpy as np

from filters.classifier_data import (LabeledDoc, TrainingDataError, cap_per_class, read_documents,
                                     shuffled, split_holdout)
from filters.classifier_metrics import binary_metrics
from filters.fasttext_fit import fit_in_fresh_process
from filters.fasttext_text import normalize_texts
from filters.quality_classifier import HQ_LABEL, LABEL_PREFIX, score_texts
from dclm.digests import file_sha256 as _sha256

NEGATIVE_LABEL = "cc"          # DCLM's name for the web-page class
METRICS_SUFFIX = ".metrics.json"


@dataclass(frozen=True)
class TrainConfig:
    """fastText options (DCLM's bigram model by default) and the data options around them."""

    dim: int = 100
    word_ngrams: int = 2
    epoch: int = 5
    lr: float = 0.1
    min_count: int = 1
    bucket: int = 2_000_000
    seed: int = 42
    max_per_class: Optional[int] = None
    holdout: float = 0.1
    quantize: bool = False
    cutoff: int = 100_000        # rows kept by --quantize (words and n-gram buckets)


@dataclass
class TrainResult:
    model_path: str
    metrics_path: str
    metrics: dict
    heldout: list[LabeledDoc]
    heldout_scores: np.ndarray


def metrics_path_for(model_path: str) -> str:
    """``quality.bin`` -> ``quality.metrics.json``, beside the model."""
    return os.path.splitext(model_path)[0] + METRICS_SUFFIX




def _write_training_file(path: str, docs: Sequence[LabeledDoc]) -> dict:
    """One ``__label__x normalized text`` line per document; returns counts per label."""
    counts = {HQ_LABEL: 0, NEGATIVE_LABEL: 0}
    texts = normalize_texts([d.text for d in docs])
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for doc, text in zip(docs, texts):
            if not text:           # nothing left after normalization: nothing to learn from
                continue
            label = HQ_LABEL if doc.label else NEGATIVE_LABEL
            fh.write(f"{LABEL_PREFIX}{label} {text}\n")
            counts[label] += 1
    return counts


def _fit(train_file: str, output: str, config: TrainConfig) -> None:
    """Train in a fresh process (see ``filters.fasttext_fit``) and move the model into place."""
    # Save beside the target, then rename: a reader never sees half a model.
    directory = os.path.dirname(os.path.abspath(output))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.basename(output), dir=directory)
    os.close(fd)
    try:
        fit_in_fresh_process({**asdict(config), "train_file": train_file, "output": tmp})
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)    # mkstemp makes it private; a model is meant to be shared
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def train_classifier(positives: Sequence[LabeledDoc], negatives: Sequence[LabeledDoc], output: str,
                     config: TrainConfig = TrainConfig(), extra: Optional[dict] = None) -> TrainResult:
    """Train on labeled documents, evaluate on the held-out split, write model and metrics.

    ``extra`` is stored in the metrics file as is (e.g. how the data was made).
    """
    if not positives:
        raise TrainingDataError("the positive (hq) set is empty: no document to learn 'hq' from")
    if not negatives:
        raise TrainingDataError("the negative (cc) set is empty: no document to learn 'cc' from")
    docs = cap_per_class(list(positives) + list(negatives), config.max_per_class, config.seed)
    train, heldout = split_holdout(docs, config.holdout, config.seed)
    with tempfile.TemporaryDirectory(prefix="dclm-classifier-") as tmp:
        train_file = os.path.join(tmp, "train.txt")
        counts = _write_training_file(train_file, shuffled(train, config.seed))
        if not counts[HQ_LABEL] or not counts[NEGATIVE_LABEL]:
            raise TrainingDataError(f"after normalization the training split has {counts[HQ_LABEL]} "
                                    f"positive and {counts[NEGATIVE_LABEL]} negative documents; "
                                    "both classes need at least one")
        _fit(train_file, output, config)
    labels = np.array([d.label for d in heldout], dtype=np.int8)
    scores = score_texts(output, [d.text for d in heldout]) if heldout else np.zeros(0)
    metrics = {
        "model": os.path.basename(output),
        "model_sha256": _sha256(output),
        "model_bytes": os.path.getsize(output),
        "labels": {"positive": LABEL_PREFIX + HQ_LABEL, "negative": LABEL_PREFIX + NEGATIVE_LABEL},
        "text_normalization": "filters.fasttext_text (lower case, punctuation spaced, white space folded)",
        "config": asdict(config),
        "documents": {
            "positive": sum(d.label == 1 for d in docs),
            "negative": sum(d.label == 0 for d in docs),
            "train": {"positive": counts[HQ_LABEL], "negative": counts[NEGATIVE_LABEL]},
            "heldout": {"positive": int(labels.sum()), "negative": int((labels == 0).sum())},
        },
        "heldout": binary_metrics(labels, scores) if len(heldout) else None,
        "environment": {"python": platform.python_version(), "platform": sys.platform},
        **({"extra": extra} if extra else {}),
    }
    metrics_path = metrics_path_for(output)
    tmp_metrics = metrics_path + ".tmp"
    with open(tmp_metrics, "w", encoding="utf-8") as fh:
        json.dump(metrics, fh, indent=2, sort_keys=False, allow_nan=True)
        fh.write("\n")
    os.replace(tmp_metrics, metrics_path)
    return TrainResult(output, metrics_path, metrics, heldout, scores)


def train_from_paths(positive_paths: Sequence[str], negative_paths: Sequence[str], output: str,
                     config: TrainConfig = TrainConfig()) -> TrainResult:
    """``dclm classifier train``: read both classes (see ``filters.classifier_data``) and train."""
    positives = read_documents(positive_paths, label=1)
    negatives = read_documents(negative_paths, label=0)
    if not positives:
        raise TrainingDataError(f"no positive document found in {', '.join(positive_paths)}")
    if not negatives:
        raise TrainingDataError(f"no negative document found in {', '.join(negative_paths)}")
    return train_classifier(positives, negatives, output, config)


def format_metrics(metrics: dict) -> str:
    """The few lines the CLI prints after training."""
    docs = metrics["documents"]
    lines = [f"model: {metrics['model']} ({metrics['model_bytes']:,} bytes, sha256 {metrics['model_sha256'][:16]})",
             f"documents: {docs['positive']} positive, {docs['negative']} negative; trained on "
             f"{docs['train']['positive']} + {docs['train']['negative']}, held out "
             f"{docs['heldout']['positive']} + {docs['heldout']['negative']}"]
    held = metrics.get("heldout")
    if held:
        lines.append(f"held-out: precision {held['precision']:.3f}  recall {held['recall']:.3f}  "
                     f"F1 {held['f1']:.3f}  (at {held['threshold']})  ROC-AUC {held['roc_auc']:.3f}")
    else:
        lines.append("held-out: none (--holdout 0)")
    return "\n".join(lines)
