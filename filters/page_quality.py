"""Page-level quality heuristics of Gopher and RefinedWeb, under DCLM's names.

Sources: Rae et al. 2021, "Scaling Language Models: Methods, Analysis &
Insights from Training Gopher" (appendix A, the "quality filters"); Penedo et
al. 2023, "The RefinedWeb Dataset for Falcon LLM" (which reuses them); Li et
al. 2024, "DataComp-LM" (whose ``content_filters.py`` fixes the names,
parameters and defaults used here).

Definitions follow DCLM, not datatrove's ``GopherQualityFilter``.  The
differences someone comparing the two will meet:

* words: DCLM (and we) split on white space, so ``"end."`` is one word of
  four characters; datatrove uses nltk ``word_tokenize`` and drops tokens that
  are pure punctuation, which lowers word counts and mean word length;
* ``symbol_ratio_filter`` adds ``#`` and ellipses (``...``, ``. . .``, ``…``)
  into one ratio; datatrove checks hashes and ellipses separately, each
  against 0.1;
* ``bullet_count_filter`` knows the bullets ``● • * -`` and ignores blank
  lines; datatrove counts ``•`` (and, in recent versions, ``-``) over all
  lines, blank ones included.  Same for the ellipsis lines;
* ``alphabetic_word_ratio_filter``: DCLM's ``max_ratio`` (0.2) bounds the
  share of words *without* a letter; datatrove's ``max_non_alpha_words_ratio``
  (0.8) is a lower bound on the share of words *with* one;
* ``stop_word_filter`` matches lower-cased white-space tokens exactly, so
  ``"the,"`` is not a stop word; datatrove matches case-sensitive nltk tokens
  (and, in recent versions, counts distinct stop words).

Pages with no words are dropped by the word-based filters (their ratios are
undefined, stored as NaN) and kept by the line-based ones, as in DCLM.
"""
from __future__ import annotations

import math

from filters.operator import FILTER, Operator
from filters.sentences import check_tokenizer, split_sentences
from filters.text_units import count_words, split_lines, split_paragraphs

_NAN = float("nan")
_INF = float("inf")

_STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
_SYMBOLS = ("#", "...", ". . .", "\u2026")
_BULLETS = ("●", "•", "*", "-")
_ELLIPSES = ("...", ". . .", "\u2026")


def _defined(value: float) -> bool:
    return not math.isnan(value)


# -- page length --------------------------------------------------------------

_LENGTH_TYPES = ("char", "word", "sentence", "line", "paragraph")
_WORD_COLUMNS = {"fasttext": "word_count", "split": "split_word_count", "uniseg": "uniseg_word_count"}


def _length_column(length_type: str, model: str, ignore_punctuation: bool,
                   tokenizer: str = "blingfire") -> str:
    if length_type not in _LENGTH_TYPES:
        raise ValueError(f"length_type must be one of {', '.join(_LENGTH_TYPES)}, not {length_type!r}")
    if length_type == "sentence":
        # Sentence splitters disagree, so each has its own column.
        return "sentence_count" if tokenizer == "blingfire" else f"{tokenizer}_sentence_count"
    if length_type != "word":
        return f"{length_type}_count"
    # Different tokenizations give different numbers, so they get their own
    # columns; the plain name is DCLM's default count (fastText tokens).
    name = _WORD_COLUMNS.get(model)
    if name is None:
        raise ValueError(f"model must be one of {', '.join(_WORD_COLUMNS)}, not {model!r}")
    return name if ignore_punctuation else name + "_with_punct"


def page_length_filter_signals(page: dict, length_type: str, model: str = "fasttext",
                               ignore_punctuation: bool = False, tokenizer: str = "blingfire",
                               tokenizer_lang=None, **_unused) -> dict:
    text = page["text"]
    column = _length_column(length_type, model, ignore_punctuation, tokenizer)
    if length_type == "char":
        value = len(text)
    elif length_type == "word":
        value = count_words(text, ignore_punctuation=ignore_punctuation, model=model)
    elif length_type == "sentence":
        value = len(split_sentences(text, tokenizer, tokenizer_lang))
    elif length_type == "line":
        value = len(split_lines(text))
    else:
        value = len(split_paragraphs(text))
    return {column: value}


def page_length_filter_keep(signals: dict, length_type: str, min_length: float = 1,
                            max_length: float = _INF, model: str = "fasttext",
                            ignore_punctuation: bool = False, tokenizer: str = "blingfire",
                            **_unused) -> bool:
    value = signals[_length_column(length_type, model, ignore_punctuation, tokenizer)]
    return min_length <= value <= max_length


def _check_page_length(length_type: str = "word", tokenizer: str = "blingfire", tokenizer_lang=None,
                       **_unused) -> None:
    if length_type == "sentence":
        check_tokenizer(tokenizer, tokenizer_lang)


def page_length_filter(page: dict, length_type: str, min_length: float = 1, max_length: float = _INF,
                       model: str = "fasttext", ignore_punctuation: bool = False,
                       ignore_whitespace: bool = True, tokenizer: str = "blingfire",
                       tokenizer_lang=None, remove_empty: bool = True) -> list[dict]:
    """Keep pages whose length, in ``length_type`` units, is within [min_length, max_length].

    Gopher and RefinedWeb keep 50 to 100,000 words (``length_type: word``,
    ``ignore_punctuation: True``); C4 keeps pages of at least 3 sentences and
    at most 190,000 characters.  Words are counted as in
    ``text_units.split_words``: ``model`` is ``fasttext`` (DCLM's default,
    reproduced exactly), ``split`` or ``uniseg``; each has its own signal
    column.  ``ignore_whitespace``, ``tokenizer``, ``tokenizer_lang`` and
    ``remove_empty`` are DCLM's other splitter options, accepted so its
    recipes run unchanged: blank units never count. Sentences come from
    ``tokenizer``, as in DCLM: ``blingfire`` (DCLM's default) or ``nltk``
    punkt (C4's, ``tokenizer_lang: english``); see ``filters.sentences``.
    """
    params = dict(length_type=length_type, min_length=min_length, max_length=max_length,
                  model=model, ignore_punctuation=ignore_punctuation, tokenizer=tokenizer,
                  tokenizer_lang=tokenizer_lang)
    return [page] if page_length_filter_keep(page_length_filter_signals(page, **params), **params) else []


# -- mean word length ---------------------------------------------------------

def word_length_filter_signals(page: dict, **_unused) -> dict:
    words = page["text"].split()
    if not words:
        return {"mean_word_length": _NAN}
    return {"mean_word_length": sum(map(len, words)) / len(words)}


def word_length_filter_keep(signals: dict, min_length: float = 0, max_length: float = _INF, **_unused) -> bool:
    mean = signals["mean_word_length"]
    return _defined(mean) and min_length <= mean <= max_length


def word_length_filter(page: dict, min_length: float = 0, max_length: float = _INF) -> list[dict]:
    """Keep pages whose mean word length (white-space tokens) is within [min_length, max_length].

    Gopher / RefinedWeb use 3 to 10 characters.  Punctuation stays attached to
    its word, as in DCLM.  A page without words is dropped.
    """
    params = dict(min_length=min_length, max_length=max_length)
    return [page] if word_length_filter_keep(word_length_filter_signals(page), **params) else []


# -- symbol to word ratio -----------------------------------------------------

def symbol_ratio_filter_signals(page: dict, **_unused) -> dict:
    text = page["text"]
    n_words = len(text.split())
    if not n_words:
        return {"symbol_to_word_ratio": _NAN}
    n_symbols = sum(text.count(symbol) for symbol in _SYMBOLS)
    return {"symbol_to_word_ratio": n_symbols / n_words}


def symbol_ratio_filter_keep(signals: dict, max_symbol_to_word_ratio: float = 0.1, **_unused) -> bool:
    ratio = signals["symbol_to_word_ratio"]
    return _defined(ratio) and ratio <= max_symbol_to_word_ratio


def symbol_ratio_filter(page: dict, max_symbol_to_word_ratio: float = 0.1) -> list[dict]:
    """Drop pages with more than ``max_symbol_to_word_ratio`` hashes and ellipses per word (Gopher: 0.1).

    Occurrences of ``#``, ``...``, ``. . .`` and ``…`` are counted with
    ``str.count`` each (so ``"...."`` is one ellipsis) and summed, as DCLM does.
    """
    params = dict(max_symbol_to_word_ratio=max_symbol_to_word_ratio)
    return [page] if symbol_ratio_filter_keep(symbol_ratio_filter_signals(page), **params) else []


# -- bullet and ellipsis lines ------------------------------------------------

def bullet_count_filter_signals(page: dict, **_unused) -> dict:
    lines = split_lines(page["text"])
    if not lines:
        return {"bullet_start_ratio": 0.0}
    return {"bullet_start_ratio": sum(1 for line in lines if line.startswith(_BULLETS)) / len(lines)}


def bullet_count_filter_keep(signals: dict, max_bullet_start_ratio: float = 0.9, **_unused) -> bool:
    return signals["bullet_start_ratio"] <= max_bullet_start_ratio


def bullet_count_filter(page: dict, max_bullet_start_ratio: float = 0.9) -> list[dict]:
    """Drop pages where more than ``max_bullet_start_ratio`` of the lines start with a bullet (Gopher: 0.9).

    Lines are stripped and blank ones ignored, so an indented bullet counts.
    """
    params = dict(max_bullet_start_ratio=max_bullet_start_ratio)
    return [page] if bullet_count_filter_keep(bullet_count_filter_signals(page), **params) else []


def ellipsis_count_filter_signals(page: dict, **_unused) -> dict:
    lines = split_lines(page["text"])
    if not lines:
        return {"ellipsis_end_ratio": 0.0}
    return {"ellipsis_end_ratio": sum(1 for line in lines if line.endswith(_ELLIPSES)) / len(lines)}


def ellipsis_count_filter_keep(signals: dict, max_ellipsis_end_ratio: float = 0.3, **_unused) -> bool:
    return signals["ellipsis_end_ratio"] <= max_ellipsis_end_ratio


def ellipsis_count_filter(page: dict, max_ellipsis_end_ratio: float = 0.3) -> list[dict]:
    """Drop pages where more than ``max_ellipsis_end_ratio`` of the lines end with an ellipsis (Gopher: 0.3)."""
    params = dict(max_ellipsis_end_ratio=max_ellipsis_end_ratio)
    return [page] if ellipsis_count_filter_keep(ellipsis_count_filter_signals(page), **params) else []


# -- words without a letter ---------------------------------------------------

def alphabetic_word_ratio_filter_signals(page: dict, **_unused) -> dict:
    words = page["text"].split()
    if not words:
        return {"non_alpha_word_ratio": _NAN}
    # str.isalpha on the whole token is a fast path: most words are letters only.
    no_letter = sum(1 for w in words if not w.isalpha() and not any(c.isalpha() for c in w))
    return {"non_alpha_word_ratio": no_letter / len(words)}


def alphabetic_word_ratio_filter_keep(signals: dict, max_ratio: float = 0.2, **_unused) -> bool:
    ratio = signals["non_alpha_word_ratio"]
    return _defined(ratio) and ratio <= max_ratio


def alphabetic_word_ratio_filter(page: dict, max_ratio: float = 0.2) -> list[dict]:
    """Drop pages where more than ``max_ratio`` of the words contain no letter.

    Gopher keeps pages where at least 80% of the words have an alphabetic
    character, i.e. ``max_ratio`` 0.2 here.  A page without words is dropped.
    """
    params = dict(max_ratio=max_ratio)
    return [page] if alphabetic_word_ratio_filter_keep(alphabetic_word_ratio_filter_signals(page), **params) else []


# -- stop words ---------------------------------------------------------------

def _stop_word_column(count_unique: bool) -> str:
    return "stop_word_unique_count" if count_unique else "stop_word_count"


def stop_word_filter_signals(page: dict, count_unique: bool = False, **_unused) -> dict:
    found = [w for w in page["text"].lower().split() if w in _STOP_WORDS]
    value = len(set(found)) if count_unique else len(found)
    return {_stop_word_column(count_unique): value}


def stop_word_filter_keep(signals: dict, count_unique: bool = False, min_stop_word: int = 2, **_unused) -> bool:
    return signals[_stop_word_column(count_unique)] >= min_stop_word


def stop_word_filter(page: dict, count_unique: bool = False, min_stop_word: int = 2) -> list[dict]:
    """Keep pages with at least ``min_stop_word`` English stop words (Gopher: 2).

    The stop words are Gopher's: the, be, to, of, and, that, have, with.  With
    ``count_unique`` each stop word counts once however often it occurs.
    Lower-casing the whole page once is cheaper than lower-casing every token.
    """
    params = dict(count_unique=count_unique, min_stop_word=min_stop_word)
    return [page] if stop_word_filter_keep(stop_word_filter_signals(page, **params), **params) else []


OPERATORS = [
    Operator(name="page_length_filter", kind=FILTER, func=page_length_filter,
             signals=page_length_filter_signals, keep=page_length_filter_keep,
             check=_check_page_length),
    Operator(name="word_length_filter", kind=FILTER, func=word_length_filter,
             signals=word_length_filter_signals, keep=word_length_filter_keep),
    Operator(name="symbol_ratio_filter", kind=FILTER, func=symbol_ratio_filter,
             signals=symbol_ratio_filter_signals, keep=symbol_ratio_filter_keep),
    Operator(name="bullet_count_filter", kind=FILTER, func=bullet_count_filter,
             signals=bullet_count_filter_signals, keep=bullet_count_filter_keep),
    Operator(name="ellipsis_count_filter", kind=FILTER, func=ellipsis_count_filter,
             signals=ellipsis_count_filter_signals, keep=ellipsis_count_filter_keep),
    Operator(name="alphabetic_word_ratio_filter", kind=FILTER, func=alphabetic_word_ratio_filter,
             signals=alphabetic_word_ratio_filter_signals, keep=alphabetic_word_ratio_filter_keep),
    Operator(name="stop_word_filter", kind=FILTER, func=stop_word_filter,
             signals=stop_word_filter_signals, keep=stop_word_filter_keep),
]
