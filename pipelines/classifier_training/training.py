"""Training a fastText quality classifier the way DCLM does, reproducibly.

DCLM (Li et al. 2024, §4.4 and App. G) trains a supervised fastText model
(Joulin et al. 2017) with word bigrams on two labels, ``__label__hq`` for
the positives (OpenHermes 2.5 and r/ExplainLikeImFive) and ``__label__cc``
for the negatives (RefinedWeb pages), 200k of each. Here:

* an optional cap per class, then a stratified, grouped held-out split
  (10% by default; ``pipelines.classifier_training.data``) are drawn with the seed; the
  held-out documents are never written to the training file;
* the training split's text is prepared as ``config.text_prep`` says
  (``filters.fasttext_text``: ``dclm``, DCLM's lines joined by spaces, or
  ``normalize``), and the classes are balanced (``pipelines.classifier_training.balance``,
  ``config.balance``), both only in the training split;
* training is deterministic: documents are shuffled with the seed, and
  fastText runs with one thread (its updates are lock-free across threads,
  so only a single thread makes them repeatable), the same ``seed``, and in
  a fresh process (``pipelines.classifier_training.fasttext_fit`` explains why); the same inputs
  and options give a byte-identical model file;
* the held-out set is scored through ``filters.quality_classifier`` with
  the same preparation, and precision, recall and F1 at 0.5 plus ROC-AUC are
  written beside the model in its card, ``<model>.metrics.json``
  (``filters.model_card``), with ``text_prep``, which scoring reads back.

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

from dclm.io.digests import file_sha256 as _sha256
from filters.fasttext_text import prepare_texts
from filters.model_card import METRICS_SUFFIX, metrics_path_for  # noqa: F401  (re-exported)
from filters.quality_classifier import HQ_LABEL, LABEL_PREFIX, score_texts
from pipelines.classifier_training.balance import balance, class_counts
from pipelines.classifier_training.data import (
    Fields,
    LabeledDoc,
    TrainingDataError,
    cap_per_class,
    read_labeled,
    shuffled,
    split_holdout,
)
from pipelines.classifier_training.fasttext_fit import fit_in_fresh_process
from pipelines.classifier_training.metrics import binary_metrics

NEGATIVE_LABEL = "cc"          # DCLM's name for the web-page class
TEXT_PREP_RULES = {
    "dclm": "DCLM's: ' '.join(text.strip().splitlines()), case kept; fastText splits on white space",
    "normalize": "filters.fasttext_text: lower case, punctuation spaced, white space folded",
}
PREPARE_CHUNK = 2_000          # documents prepared per call: bounds the per-character arrays


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
    text_prep: str = "normalize"  # "dclm" or "normalize" (filters.fasttext_text)
    balance: str = "upsample"     # "upsample", "downsample" or "none" (pipelines.classifier_training.balance)


@dataclass
class TrainResult:
    model_path: str
    metrics_path: str
    metrics: dict
    heldout: list[LabeledDoc]
    heldout_scores: np.ndarray


def _prepared(docs: Sequence[LabeledDoc], text_prep: str) -> list[LabeledDoc]:
    """The documents with their text as the training line; those left empty are dropped."""
    out: list[LabeledDoc] = []
    for at in range(0, len(docs), PREPARE_CHUNK):
        chunk = docs[at: at + PREPARE_CHUNK]
        lines = prepare_texts([d.text for d in chunk], text_prep)
        out += [LabeledDoc(line, d.label, d.group) for d, line in zip(chunk, lines, strict=True) if line]
    return out


def _write_training_file(path: str, docs: Sequence[LabeledDoc]) -> None:
    """One ``__label__x prepared text`` line per (already prepared) document."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for doc in docs:
            fh.write(f"{LABEL_PREFIX}{HQ_LABEL if doc.label else NEGATIVE_LABEL} {doc.text}\n")


def _fit(train_file: str, output: str, config: TrainConfig) -> None:
    """Train in a fresh process (see ``pipelines.classifier_training.fasttext_fit``) and move the model into place."""
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
        # A card left from the model this one replaces would describe the wrong file.
        if os.path.exists(metrics_path_for(output)):
            os.unlink(metrics_path_for(output))
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _groups(docs: Sequence[LabeledDoc]) -> dict[str, int]:
    return {"positive": len({d.group for d in docs if d.label == 1}),
            "negative": len({d.group for d in docs if d.label == 0})}


def train_classifier(positives: Sequence[LabeledDoc], negatives: Sequence[LabeledDoc], output: str,
                     config: TrainConfig = TrainConfig(), extra: Optional[dict] = None) -> TrainResult:
    """Train on labeled documents, evaluate on the held-out split, write model and card.

    ``extra`` is stored in the card as is (e.g. how the data was made).
    """
    if not positives:
        raise TrainingDataError("the positive (hq) set is empty: no document to learn 'hq' from")
    if not negatives:
        raise TrainingDataError("the negative (cc) set is empty: no document to learn 'cc' from")
    docs = cap_per_class(list(positives) + list(negatives), config.max_per_class, config.seed)
    train, heldout = split_holdout(docs, config.holdout, config.seed)
    prepared = _prepared(train, config.text_prep)
    before = class_counts(prepared)
    if not before["positive"] or not before["negative"]:
        raise TrainingDataError(f"after text preparation the training split has {before['positive']} "
                                f"positive and {before['negative']} negative documents; "
                                "both classes need at least one")
    balanced = balance(prepared, config.balance, config.seed)
    after = class_counts(balanced)
    with tempfile.TemporaryDirectory(prefix="dclm-classifier-") as tmp:
        train_file = os.path.join(tmp, "train.txt")
        _write_training_file(train_file, shuffled(balanced, config.seed))
        _fit(train_file, output, config)
    labels = np.array([d.label for d in heldout], dtype=np.int8)
    # The card is not written yet: say the preparation rather than let scoring guess it.
    scores = (score_texts(output, [d.text for d in heldout], normalize=config.text_prep == "normalize")
              if heldout else np.zeros(0))
    metrics = {
        "model": os.path.basename(output),
        "model_sha256": _sha256(output),
        "model_bytes": os.path.getsize(output),
        "labels": {"positive": LABEL_PREFIX + HQ_LABEL, "negative": LABEL_PREFIX + NEGATIVE_LABEL},
        "text_prep": config.text_prep,
        "text_prep_rule": TEXT_PREP_RULES[config.text_prep],
        "balance": {"mode": config.balance, "applied_to": "training split only",
                    "before": before, "after": after},
        "config": asdict(config),
        "documents": {
            **class_counts(docs),
            "groups": _groups(docs),
            "train": after,
            "train_empty_after_prep": {k: v - before[k] for k, v in class_counts(train).items()},
            "heldout": {"positive": int(labels.sum()), "negative": int((labels == 0).sum())},
            "heldout_groups": _groups(heldout),
        },
        "heldout": binary_metrics(labels, scores) if len(heldout) else None,
        "environment": {"python": platform.python_version(), "platform": sys.platform},
        **({"extra": extra} if extra else {}),
    }
    metrics_path = write_card(output, metrics)
    return TrainResult(output, metrics_path, metrics, heldout, scores)


def write_card(model_path: str, metrics: dict) -> str:
    """Write ``metrics`` as the model's card (atomically); returns its path."""
    metrics_path = metrics_path_for(model_path)
    tmp_metrics = metrics_path + ".tmp"
    with open(tmp_metrics, "w", encoding="utf-8") as fh:
        json.dump(metrics, fh, indent=2, sort_keys=False, allow_nan=True)
        fh.write("\n")
    os.replace(tmp_metrics, metrics_path)
    return metrics_path


def _check_fields_found(fields: Fields, reports: dict) -> None:
    """Refuse field options that no input had: a typo would otherwise change nothing, silently."""
    if fields.text != Fields().text and not any(r.text_from.get(fields.text_name) for r in reports.values()):
        raise TrainingDataError(f"--text-fields {','.join(fields.text)}: no row of any input has all of "
                                "these fields")
    if fields.group and not any(set(r.grouped_by) & set(fields.group) for r in reports.values()):
        raise TrainingDataError(f"--group-field {','.join(fields.group)}: no row of any input has it")


def train_from_paths(positive_paths: Sequence[str], negative_paths: Sequence[str], output: str,
                     config: TrainConfig = TrainConfig(), fields: Fields = Fields()) -> TrainResult:
    """``dclm classifier train``: read both classes (see ``pipelines.classifier_training.data``) and train.

    The card records every input file (size and sha256) and which fields its
    rows' text and groups came from.
    """
    positives, pos_report = read_labeled(positive_paths, label=1, fields=fields)
    negatives, neg_report = read_labeled(negative_paths, label=0, fields=fields)
    wanted = " or ".join(dict.fromkeys([fields.text_name, "text"]))
    for name, docs, paths in (("positive", positives, positive_paths), ("negative", negatives, negative_paths)):
        if not docs:
            raise TrainingDataError(f"no {name} document found in {', '.join(map(str, paths))} (JSONL and "
                                    f"Parquet rows need non-empty {wanted!r} fields; see --text-fields)")
    _check_fields_found(fields, {"positive": pos_report, "negative": neg_report})
    extra = {"inputs": {"text_fields": list(fields.text), "group_fields": list(fields.group),
                        "positive": pos_report.as_dict(), "negative": neg_report.as_dict()}}
    return train_classifier(positives, negatives, output, config, extra=extra)


def format_metrics(metrics: dict) -> str:
    """The few lines the CLI prints after training."""
    docs = metrics["documents"]
    bal = metrics["balance"]
    lines = [f"model: {metrics['model']} ({metrics['model_bytes']:,} bytes, sha256 {metrics['model_sha256'][:16]}), "
             f"text prep {metrics['text_prep']}",
             f"documents: {docs['positive']} positive, {docs['negative']} negative; held out "
             f"{docs['heldout']['positive']} + {docs['heldout']['negative']}; trained on "
             f"{docs['train']['positive']} + {docs['train']['negative']} (balance {bal['mode']}, from "
             f"{bal['before']['positive']} + {bal['before']['negative']})"]
    held = metrics.get("heldout")
    if held:
        lines.append(f"held-out: precision {held['precision']:.3f}  recall {held['recall']:.3f}  "
                     f"F1 {held['f1']:.3f}  (at {held['threshold']})  ROC-AUC {held['roc_auc']:.3f}")
    else:
        lines.append("held-out: none (--holdout 0)")
    return "\n".join(lines)
