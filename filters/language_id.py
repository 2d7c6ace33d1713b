"""Language identification: tag each page with its language, then keep English.

RefinedWeb (Penedo et al. 2023, §3.2) runs the fastText language classifier
of CCNet (lid.176) over the whole page and keeps pages whose top language is
English with a score above 0.65. DCLM (Li et al. 2024) splits this into an
enricher that stores ``{language: probability}`` under
``<key_prefix>_<model>`` and a ``language_filter`` that reads it.

The model is lid.176.ftz (the quantized release of lid.176, 917 kB), shipped
in ``filters/models/``; see ``LICENSE-lid176.md`` there. Set
``DCLM_LID_MODEL`` to a path to use another file, such as the full
lid.176.bin that DCLM used.
"""
from __future__ import annotations

import contextlib
import io
import os
import string
from functools import lru_cache
from typing import Optional, Sequence, Union

from filters.operator import ENRICHER, FILTER, Operator

FASTTEXT = "fasttext"
LANGDETECT = "langdetect"
_DEFAULT_MODEL = os.path.join(os.path.dirname(__file__), "models", "lid.176.ftz")
_LABEL_PREFIX = "__label__"
# DCLM gives no prediction for a page of nothing but spaces and ASCII
# punctuation; other whitespace (newlines, tabs) does not count, so a page
# of blank lines still gets a prediction, as in DCLM.
_NOT_LANGUAGE = frozenset(string.punctuation + " ")


@lru_cache(maxsize=4)
def _fasttext_model(path: str):
    """Load a fastText model once per process (each Ray worker loads its own)."""
    import fasttext

    if not os.path.exists(path):
        raise FileNotFoundError(f"language ID model not found: {path!r}")
    # Some fastText builds print a deprecation warning on every load; it
    # would repeat in every worker's log.
    with contextlib.redirect_stderr(io.StringIO()):
        return fasttext.load_model(path)


def lid_model_path() -> str:
    return os.environ.get("DCLM_LID_MODEL") or _DEFAULT_MODEL


def _no_language(text: str) -> bool:
    return all(ch in _NOT_LANGUAGE for ch in text)


def fasttext_language(text: str) -> dict:
    """Top-1 language of ``text`` as ``{"en": 0.93}``; ``{}`` if there is nothing to classify."""
    if _no_language(text):
        return {}
    model = _fasttext_model(lid_model_path())
    # fastText classifies one line. DCLM deletes the newlines rather than
    # turning them into spaces, gluing the words on either side of a line
    # break together; that changes scores (a page at 0.65 flips), so we do
    # the same.
    line = text.replace("\n", "")
    try:
        labels, probs = model.predict(line, k=1)
    except (UnicodeError, TypeError):
        # pybind11 refuses strings with lone surrogates (left by broken
        # decoding); replace them rather than lose the page.
        line = line.encode("utf-8", "replace").decode("utf-8")
        labels, probs = model.predict(line, k=1)
    if not labels:
        return {}
    # Softmax rounding can put the top score a hair above 1.
    return {labels[0][len(_LABEL_PREFIX):]: min(float(probs[0]), 1.0)}


def _langdetect_languages(text: str, seed: Optional[int]) -> dict:
    try:
        from langdetect import DetectorFactory, detect_langs
        from langdetect.lang_detect_exception import LangDetectException
    except ImportError as exc:
        raise ImportError("detect_lang_whole_page_enricher(model='langdetect') needs the "
                          "langdetect package (pip install langdetect); the default "
                          "model is 'fasttext'") from exc
    if _no_language(text):
        return {}
    if seed is not None:
        DetectorFactory.seed = seed  # langdetect samples n-grams at random
    try:
        return {r.lang: float(r.prob) for r in detect_langs(text)}
    except LangDetectException:  # no usable features, e.g. only digits
        return {}


def detect_lang_whole_page_enricher(page: dict, model: str = FASTTEXT,
                                    key_prefix: str = "language_id_whole_page",
                                    overwrite: bool = False, seed: Optional[int] = None) -> list[dict]:
    """Store the page's language under ``f"{key_prefix}_{model}"``
    (RefinedWeb, Penedo et al. 2023; DCLM, Li et al. 2024).

    With ``model="fasttext"`` (lid.176) the value is the top-1 language and
    its probability, e.g. ``{"en": 0.93}``; with ``model="langdetect"`` (the
    C4 recipe's choice, optional package) every candidate language is kept.
    An empty dict means there was no text to classify. ``seed`` only
    matters for langdetect: fastText is deterministic.
    """
    key = f"{key_prefix}_{model}"
    if key in page and not overwrite:
        raise ValueError(f"detect_lang_whole_page_enricher: page already has {key!r}; "
                         "pass overwrite: true to recompute it")
    if model == FASTTEXT:
        value = fasttext_language(page["text"])
    elif model == LANGDETECT:
        value = _langdetect_languages(page["text"], seed)
    else:
        raise ValueError(f"detect_lang_whole_page_enricher: model must be "
                         f"{FASTTEXT!r} or {LANGDETECT!r}, not {model!r}")
    return [{**page, key: value}]


def _sentence_languages(sentence: str, model: str) -> dict:
    if model == FASTTEXT:
        # Unlike the whole-page enricher, DCLM passes each sentence as it is;
        # fastText refuses one containing a newline and the page fails, as there.
        labels, probs = _fasttext_model(lid_model_path()).predict(sentence, k=1)
        return {labels[0][len(_LABEL_PREFIX):]: float(probs[0])} if labels else {}
    from langdetect import detect_langs
    return {r.lang: float(r.prob) for r in detect_langs(sentence)}


def detect_lang_paragraph_enricher(page: dict, model: str, tokenizer: str,
                                   key_prefix: str = "language_id_paragraph",
                                   overwrite: bool = False) -> list[dict]:
    """Per-sentence language ID, averaged per language (DCLM, Li et al. 2024).

    Stores under ``f"{key_prefix}_{model}"`` a dict ``{language:
    {"average_probability": p, "number_of_sentences": n}}`` over the
    sentences of ``tokenizer`` (``blingfire`` or ``nltk``) that are not only
    spaces and punctuation. With ``model: langdetect`` every candidate of
    each sentence counts, as in DCLM.
    """
    from filters.sentences import split_sentences

    if model not in (FASTTEXT, LANGDETECT):
        raise ValueError(f"detect_lang_paragraph_enricher: model must be {FASTTEXT!r} or "
                         f"{LANGDETECT!r}, not {model!r}")
    key = f"{key_prefix}_{model}"
    if key in page and not overwrite:
        raise ValueError(f"detect_lang_paragraph_enricher: page already has {key!r}; "
                         "pass overwrite: true to recompute it")
    found: dict[str, list[float]] = {}
    for sentence in split_sentences(page["text"], tokenizer):
        if _no_language(sentence):
            continue
        for lang, prob in _sentence_languages(sentence, model).items():
            found.setdefault(lang, []).append(prob)
    value = {lang: {"average_probability": sum(p) / len(p), "number_of_sentences": len(p)}
             for lang, p in found.items()}
    return [{**page, key: value}]


def _check_paragraph_enricher(model: str = FASTTEXT, tokenizer: str = "blingfire", **_unused) -> None:
    from filters.sentences import check_tokenizer

    check_tokenizer(tokenizer)
    if model == LANGDETECT:
        import langdetect  # noqa: F401 - fail at load, not on the first page


def language_filter_signals(page: dict, keep_languages: Union[str, Sequence[str]],
                            key: str = "language_id_whole_page_langdetect",
                            threshold: float = 0.0) -> dict:
    """``language_prob``: the best probability among ``keep_languages`` (0.0 if none was predicted)."""
    if key not in page:
        raise KeyError(f"language_filter: page has no {key!r}; run "
                       "detect_lang_whole_page_enricher first (its key is "
                       "<key_prefix>_<model>)")
    if isinstance(keep_languages, str):
        keep_languages = [keep_languages]
    scores = page[key] or {}
    return {"language_prob": max((float(scores[lang]) for lang in keep_languages
                                  if lang in scores), default=0.0)}


def language_filter_keep(signals: dict, threshold: float = 0.0, **_step_params) -> bool:
    # Strictly above, as in DCLM: threshold 0.65 drops a page scored 0.65.
    return signals["language_prob"] > threshold


def language_filter(page: dict, keep_languages: Union[str, Sequence[str]],
                    key: str = "language_id_whole_page_langdetect",
                    threshold: float = 0.0) -> list[dict]:
    """Keep pages whose language is in ``keep_languages`` with probability above ``threshold``.

    RefinedWeb (Penedo et al. 2023) keeps English above 0.65
    (``key: language_id_whole_page_fasttext``); C4 (Raffel et al. 2020)
    keeps English above 0.99 with langdetect. ``key`` defaults to DCLM's
    langdetect key, so fastText recipes must name theirs.
    """
    signals = language_filter_signals(page, keep_languages, key=key, threshold=threshold)
    return [page] if language_filter_keep(signals, threshold=threshold) else []


OPERATORS = [
    Operator("detect_lang_whole_page_enricher", ENRICHER, detect_lang_whole_page_enricher),
    Operator("detect_lang_paragraph_enricher", ENRICHER, detect_lang_paragraph_enricher,
             check=_check_paragraph_enricher),
    Operator("language_filter", FILTER, language_filter,
             signals=language_filter_signals, keep=language_filter_keep),
]
