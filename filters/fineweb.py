"""FineWeb's extra quality filters (Penedo et al. 2024, "The FineWeb Datasets:
Decanting the Web for the Finest Text Data at Scale", section 3.3).

FineWeb applies these after the Gopher and C4 filters.  DCLM has no such
step, so the names are ours, one operator per rule; parameter names and
defaults are those of datatrove's ``FineWebQualityFilter``, and so are the
definitions and the direction of every comparison:

=================================  ==========================================  ==================
operator / signal column           measure                                     kept when
=================================  ==========================================  ==================
fineweb_line_punctuation_filter    lines ending in ``. ' " ! ?`` / all lines    ratio > 0.12
  ``fineweb_line_punct_ratio``
fineweb_short_line_filter          lines of <= 30 characters / all lines        ratio < 0.67
  ``fineweb_short_line_ratio``
fineweb_duplicate_char_filter      characters of repeated non-blank lines       ratio < 0.01
  ``fineweb_char_dup_ratio``       (first occurrence excluded) / characters
                                   of the page without newlines
fineweb_list_ratio_filter          newlines / words                             ratio <= 0.3
  ``fineweb_list_ratio``
=================================  ==========================================  ==================

"All lines" are ``text.split("\\n")`` unstripped, blank lines included, as in
datatrove (so a line ending in ``". "`` does not end in punctuation).

Differences from datatrove: its list ratio divides by the number of nltk
``word_tokenize`` tokens; we count treebank-like tokens with a regular
expression (``text_units.split_treebank_tokens``: punctuation marks are tokens,
contractions split), which agrees on ordinary prose but not on every URL or
abbreviation.  Where datatrove would divide by zero (a page that is only
newlines, a page without tokens) we define the duplicate ratio as 0 and the
list ratio as infinite if the page has a newline, else 0.
"""
from __future__ import annotations

from filters.operator import FILTER, Operator
from filters.text_units import split_treebank_tokens

_STOP_CHARS = (".", "'", '"', "!", "?")


def _variant(column: str, suffix: str) -> str:
    # A non-default measurement parameter gets its own column, so that two
    # settings never share one name in an annotated shard.
    return f"{column}_{suffix}" if suffix else column


# -- line punctuation -------------------------------------------------------------

def _punct_column(stop_chars) -> str:
    chars = tuple(stop_chars)
    if chars == _STOP_CHARS:
        return "fineweb_line_punct_ratio"
    return _variant("fineweb_line_punct_ratio", "_".join("".join(f"{ord(c):x}" for c in s) for s in chars))


def fineweb_line_punctuation_filter_signals(page: dict, stop_chars=_STOP_CHARS, **_unused) -> dict:
    lines = page["text"].split("\n")
    ends = tuple(stop_chars)
    return {_punct_column(stop_chars): sum(1 for line in lines if line.endswith(ends)) / len(lines)}


def fineweb_line_punctuation_filter_keep(signals: dict, line_punct_thr: float = 0.12,
                                         line_punct_exclude_zero: bool = False, stop_chars=_STOP_CHARS,
                                         **_unused) -> bool:
    ratio = signals[_punct_column(stop_chars)]
    return ratio > line_punct_thr or (ratio == 0 and line_punct_exclude_zero)


def fineweb_line_punctuation_filter(page: dict, line_punct_thr: float = 0.12, line_punct_exclude_zero: bool = False,
                                    stop_chars=_STOP_CHARS) -> list[dict]:
    """Drop pages where at most ``line_punct_thr`` of the lines end in terminal punctuation.

    With ``line_punct_exclude_zero`` a page with no such line at all is kept
    (for languages or formats without end marks).
    """
    params = dict(line_punct_thr=line_punct_thr, line_punct_exclude_zero=line_punct_exclude_zero,
                  stop_chars=stop_chars)
    signals = fineweb_line_punctuation_filter_signals(page, stop_chars=stop_chars)
    return [page] if fineweb_line_punctuation_filter_keep(signals, **params) else []


# -- short lines ------------------------------------------------------------------

def _short_line_column(short_line_length: int) -> str:
    return _variant("fineweb_short_line_ratio", "" if short_line_length == 30 else str(short_line_length))


def fineweb_short_line_filter_signals(page: dict, short_line_length: int = 30, **_unused) -> dict:
    lines = page["text"].split("\n")
    short = sum(1 for line in lines if len(line) <= short_line_length)
    return {_short_line_column(short_line_length): short / len(lines)}


def fineweb_short_line_filter_keep(signals: dict, short_line_thr: float = 0.67, short_line_length: int = 30,
                                   **_unused) -> bool:
    return signals[_short_line_column(short_line_length)] < short_line_thr


def fineweb_short_line_filter(page: dict, short_line_thr: float = 0.67, short_line_length: int = 30) -> list[dict]:
    """Drop pages where ``short_line_thr`` or more of the lines have at most ``short_line_length`` characters."""
    params = dict(short_line_thr=short_line_thr, short_line_length=short_line_length)
    return [page] if fineweb_short_line_filter_keep(fineweb_short_line_filter_signals(page, **params), **params) else []


# -- characters in duplicated lines -------------------------------------------------

def fineweb_duplicate_char_filter_signals(page: dict, **_unused) -> dict:
    text = page["text"]
    seen = set()
    dup_chars = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        if line in seen:
            dup_chars += len(line)
        else:
            seen.add(line)
    n_chars = len(text) - text.count("\n")
    return {"fineweb_char_dup_ratio": dup_chars / n_chars if n_chars else 0.0}


def fineweb_duplicate_char_filter_keep(signals: dict, char_duplicates_ratio: float = 0.01, **_unused) -> bool:
    return signals["fineweb_char_dup_ratio"] < char_duplicates_ratio


def fineweb_duplicate_char_filter(page: dict, char_duplicates_ratio: float = 0.01) -> list[dict]:
    """Drop pages where repeated lines hold ``char_duplicates_ratio`` or more of the characters.

    Only the second and later copies of a line count, and lines are compared
    unstripped.
    """
    params = dict(char_duplicates_ratio=char_duplicates_ratio)
    return [page] if fineweb_duplicate_char_filter_keep(fineweb_duplicate_char_filter_signals(page), **params) else []


# -- newlines per word -----------------------------------------------------------

def fineweb_list_ratio_filter_signals(page: dict, **_unused) -> dict:
    text = page["text"]
    newlines = text.count("\n")
    n_tokens = len(split_treebank_tokens(text))
    if not n_tokens:
        return {"fineweb_list_ratio": float("inf") if newlines else 0.0}
    return {"fineweb_list_ratio": newlines / n_tokens}


def fineweb_list_ratio_filter_keep(signals: dict, new_line_ratio: float = 0.3, **_unused) -> bool:
    return signals["fineweb_list_ratio"] <= new_line_ratio


def fineweb_list_ratio_filter(page: dict, new_line_ratio: float = 0.3) -> list[dict]:
    """Drop list-like pages: more than ``new_line_ratio`` newlines per word."""
    params = dict(new_line_ratio=new_line_ratio)
    return [page] if fineweb_list_ratio_filter_keep(fineweb_list_ratio_filter_signals(page), **params) else []


OPERATORS = [
    Operator(name="fineweb_line_punctuation_filter", kind=FILTER, func=fineweb_line_punctuation_filter,
             signals=fineweb_line_punctuation_filter_signals, keep=fineweb_line_punctuation_filter_keep),
    Operator(name="fineweb_short_line_filter", kind=FILTER, func=fineweb_short_line_filter,
             signals=fineweb_short_line_filter_signals, keep=fineweb_short_line_filter_keep),
    Operator(name="fineweb_duplicate_char_filter", kind=FILTER, func=fineweb_duplicate_char_filter,
             signals=fineweb_duplicate_char_filter_signals, keep=fineweb_duplicate_char_filter_keep),
    Operator(name="fineweb_list_ratio_filter", kind=FILTER, func=fineweb_list_ratio_filter,
             signals=fineweb_list_ratio_filter_signals, keep=fineweb_list_ratio_filter_keep),
]
