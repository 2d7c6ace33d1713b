"""DCLM's model-based quality score: the probability of ``__label__hq`` under a fastText classifier.

DCLM (Li et al. 2024, §4.4) keeps the pages that a bigram fastText
classifier, trained on instruction-like text (OpenHermes 2.5, r/ELI5)
against RefinedWeb pages, scores as most likely "hq". Its enricher
``classify_fasttext_hq_prob_enricher(model_filename, key)`` stores that
probability under ``key`` (``fasttext_hq_prob`` by default); its models use
the labels ``__label__hq`` and ``__label__cc``, and so do ours
(``pipelines.classifier_training.training``).

* ``score_texts(model_path, texts)`` scores a list in one call: the
  normalization of ``filters.fasttext_text`` runs over the whole batch and
  the exact numpy re-implementation of fastText's prediction
  (``filters.fasttext_linear``) does the rest; fastText's own ``predict``
  (on the whole list) is the fallback for model kinds that one does not cover.
* ``classify_fasttext_hq_prob_enricher`` is the per-page recipe step; it
  calls ``score_texts`` with one text, so both give the same number.

Which text preparation a model gets (``filters.fasttext_text``: ``dclm``,
DCLM's lines joined with spaces, or ``normalize``) is, in this order:

* what the caller forces (``normalize=True/False``, ``--text-prep``);
* the ``text_prep`` of the model's card, ``<model>.metrics.json`` beside it
  (``filters.model_card``), which ``dclm classifier train`` and
  ``build-reference`` write;
* else a guess from the model itself: a vocabulary entirely in normalized
  form gets normalized text, any other gets DCLM's preparation. So DCLM's
  released ``openhermes_reddit_eli5_vs_rw_v2_bigram_200k_train.bin``, which
  has no card, is scored as DCLM's code scores it:
  ``model.predict(" ".join(text.strip().splitlines()))``, P(``__label__hq``).

The score is the model's softmax probability of ``hq``. fastText's
``predict`` reports probabilities plus 1e-5 (it clips the log at
``log(p + 1e-5)``), which DCLM then stores; the difference is at most 1e-5.
Models are loaded once per process and kept by path (and file time and
size, so a retrained file is reloaded).
"""
from __future__ import annotations

import contextlib
import io
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

import numpy as np

from filters.fasttext_linear import SELFCHECK_TOLERANCE, LinearFastText, selfcheck
from filters.fasttext_model_file import ModelFileError, is_fasttext_file, read_model_facts
from filters.fasttext_text import tokenize_batch
from filters.model_card import card_stamp, card_text_prep, read_card
from filters.operator import ENRICHER, Operator

LABEL_PREFIX = "__label__"
HQ_LABEL = "hq"
DEFAULT_KEY = "fasttext_hq_prob"
MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
REFERENCE_MODEL = "quality_reference.ftz"
# Documents scored per numpy batch: large enough to amortize the calls,
# small enough that the per-character arrays stay in cache.
SCORE_BATCH = 128
# fastText's predict adds this to every probability it reports.
_PREDICT_OFFSET = 1e-5


class QualityModelError(ValueError):
    """The classifier file is missing, is not a fastText model, or lacks the ``hq`` label."""


def resolve_model_path(model_filename: str) -> str:
    """An existing path as given, else a file of that name in ``filters/models/``.

    DCLM names models by file name inside its model directory; ours is
    ``filters/models`` (``quality_reference.ftz`` ships there).
    """
    if os.path.exists(model_filename):
        return os.path.abspath(model_filename)
    shipped = os.path.join(MODELS_DIR, model_filename)
    if os.path.exists(shipped):
        return shipped
    raise QualityModelError(f"quality model not found: {model_filename!r} (looked for it as a path "
                            f"and in {MODELS_DIR})")


@dataclass
class QualityModel:
    """A loaded classifier, ready to score batches for one label."""

    path: str
    model: object                        # fasttext.FastText._FastText
    label: str                           # with the __label__ prefix
    text_prep: str                       # "dclm" or "normalize": what scoring does unless told
    text_prep_from: str                  # "card" or "vocabulary": where text_prep came from
    linear: Optional[LinearFastText]

    def probabilities(self, texts: Sequence[Optional[str]], normalize: Optional[bool] = None) -> np.ndarray:
        """P(label) of each text; ``normalize`` None prepares text as ``text_prep`` says."""
        if normalize is None:
            normalize = self.text_prep == "normalize"
        out = np.empty(len(texts), dtype=np.float64)
        for at in range(0, len(texts), SCORE_BATCH):
            batch = tokenize_batch(texts[at: at + SCORE_BATCH], normalize=normalize)
            if self.linear is not None:
                out[at: at + SCORE_BATCH] = self.linear.probabilities(batch)
            else:
                out[at: at + SCORE_BATCH] = self.predict_lines(batch.texts())
        return out

    def predict_lines(self, lines: Sequence[str]) -> np.ndarray:
        """fastText's own ``predict`` on prepared one-line texts, all in one call."""
        if not lines:
            return np.zeros(0)
        labels, probs = self.model.predict(list(lines), k=-1)
        out = np.zeros(len(lines))
        for i, (names, values) in enumerate(zip(labels, probs, strict=True)):
            if self.label in names:
                out[i] = values[list(names).index(self.label)] - _PREDICT_OFFSET
        return np.clip(out, 0.0, 1.0)


def _load_fasttext(path: str):
    import fasttext

    # Some fastText builds print a warning on every load; it would repeat in every worker's log.
    with contextlib.redirect_stderr(io.StringIO()):
        return fasttext.load_model(path)


def _vocabulary_is_normalized(words: Sequence[str]) -> bool:
    """True when every word is a single token in normalized form (end-of-line token aside)."""
    words = [w for w in words if w != "</s>"]
    if not words:
        return True
    return tokenize_batch(words).texts() == words


def _text_prep(path: str, words: Sequence[str]) -> tuple[str, str]:
    """(preparation, where it came from): the card's when it has one, else the vocabulary's form."""
    from_card = card_text_prep(read_card(path))
    if from_card:
        return from_card, "card"
    return ("normalize" if _vocabulary_is_normalized(words) else "dclm"), "vocabulary"


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, size: int, label: str, card: tuple[int, int]) -> QualityModel:
    if not is_fasttext_file(path):
        raise QualityModelError(f"{path} is not a fastText model (no fastText header); "
                                "train one with `dclm classifier train`")
    try:
        read_model_facts(path)           # fastText's loader would not survive a damaged file
    except ModelFileError as exc:
        raise QualityModelError(str(exc)) from exc
    try:
        model = _load_fasttext(path)
        labels = list(model.get_labels())
        words = model.get_words(on_unicode_error="replace")
    except (ValueError, RuntimeError, MemoryError) as exc:
        raise QualityModelError(f"{path}: fastText cannot load it: {exc}") from exc
    target = LABEL_PREFIX + label
    if target not in labels:
        shown = ", ".join(labels[:6]) + (f", ... ({len(labels)} labels)" if len(labels) > 6 else "")
        raise QualityModelError(f"{path}: the model's labels are {shown or 'none'}; a quality "
                                f"classifier needs {target} (DCLM's convention: __label__hq vs __label__cc)")
    text_prep, text_prep_from = _text_prep(path, words)
    loaded = QualityModel(path=path, model=model, label=target, text_prep=text_prep,
                          text_prep_from=text_prep_from, linear=None)
    linear = LinearFastText.build(model, path, target)
    if linear is not None:
        worst = selfcheck(linear, loaded.predict_lines, words)
        if worst <= SELFCHECK_TOLERANCE:
            loaded.linear = linear
        else:
            warnings.warn(f"{path}: batch scorer differs from fastText's predict by {worst:.2g}; "
                          "using predict", RuntimeWarning, stacklevel=1)
    return loaded


def load_quality_model(model_filename: str, label: str = HQ_LABEL) -> QualityModel:
    """The classifier at ``model_filename`` (see ``resolve_model_path``), loaded once per process.

    Reloaded when the model file or its card changes.
    """
    path = resolve_model_path(model_filename)
    stat = os.stat(path)
    return _load(path, stat.st_mtime_ns, stat.st_size, label, card_stamp(path))


def score_texts(model_path: str, texts: Sequence[Optional[str]], label: str = HQ_LABEL,
                normalize: Optional[bool] = None) -> np.ndarray:
    """P(``__label__<label>``) for each text, as float64, in input order.

    ``normalize`` None follows the model's card, else its vocabulary (see the
    module docstring); True or False forces our normalization or DCLM's
    preparation.
    """
    return load_quality_model(model_path, label).probabilities(list(texts), normalize=normalize)


TEXT_PREP_CHOICES = {"auto": None, "normalize": True, "dclm": False}


def normalize_flag(text_prep: str) -> Optional[bool]:
    """``auto`` / ``normalize`` / ``dclm`` as the ``normalize`` argument of the scoring functions."""
    if text_prep not in TEXT_PREP_CHOICES:
        raise ValueError(f"text_prep must be one of {', '.join(TEXT_PREP_CHOICES)}, not {text_prep!r}")
    return TEXT_PREP_CHOICES[text_prep]


def classify_fasttext_hq_prob_enricher(page: dict, model_filename: str = REFERENCE_MODEL,
                                       key: str = DEFAULT_KEY, overwrite: bool = False,
                                       normalize: Optional[bool] = None,
                                       text_prep: str = "auto") -> list[dict]:
    """Store P(hq) of the page's text under ``key`` (DCLM, Li et al. 2024).

    ``model_filename`` is a path or a file name in ``filters/models``; the
    default is the shipped reference classifier. ``text_prep`` ``auto``
    prepares text as the model's card says (see the module docstring);
    ``normalize`` (a bool) overrides it. For many pages at once use
    ``score_texts``, which gives the same numbers.
    """
    if key in page and not overwrite:
        raise ValueError(f"classify_fasttext_hq_prob_enricher: page already has {key!r}; "
                         "pass overwrite: true to rescore")
    if normalize is None:
        normalize = normalize_flag(text_prep)
    score = score_texts(model_filename, [page.get("text") or ""], normalize=normalize)[0]
    return [{**page, key: float(score)}]


def check_classifier_step(model_filename: str = REFERENCE_MODEL, text_prep: str = "auto", **_unused) -> None:
    """At recipe load: the model file exists and is a complete fastText model (walked, not loaded)."""
    from filters.fasttext_model_file import read_model_facts

    read_model_facts(resolve_model_path(model_filename))
    normalize_flag(text_prep)


OPERATORS = [
    Operator("classify_fasttext_hq_prob_enricher", ENRICHER, classify_fasttext_hq_prob_enricher,
             check=check_classifier_step),
]
