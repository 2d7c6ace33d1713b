"""Gopher's repetition filters, under DCLM's names.

Source: Rae et al. 2021, "Scaling Language Models: Methods, Analysis &
Insights from Training Gopher", table A1; used by RefinedWeb (Penedo et al.
2023) and by DCLM (Li et al. 2024), whose ``content_filters.py`` provides
``massive_web_repetition_filters`` (all thirteen limits) and the single
``repetition_filter(granularity, max_fraction, ...)``.

Every measure is a fraction and a page is dropped when one exceeds its limit:

====================================  ================================  =====
signal column                         measure                           limit
====================================  ================================  =====
``gopher_dup_line_frac``              lines that occur more than once    0.30
``gopher_dup_para_frac``              same for paragraphs                0.30
``gopher_dup_line_char_frac``         their characters / all characters  0.20
``gopher_dup_para_char_frac``         same for paragraphs                0.20
``gopher_top_{2,3,4}gram_char_frac``  characters of the most frequent    0.20, 0.18, 0.16
                                      n-gram x its count / all
``gopher_dup_{5..10}gram_char_frac``  characters of words covered by a   0.15 down to 0.10
                                      repeated n-gram / all
====================================  ================================  =====

Definitions are DCLM's.  Where datatrove's ``GopherRepetitionFilter`` differs:

* a duplicated line counts with *all* its occurrences here ("a a b" has
  2/3 duplicate lines); datatrove counts only the repeats after the first
  (1/3);
* lines and paragraphs are stripped and blank ones dropped, and character
  fractions divide by the characters of those segments; datatrove keeps the
  segments raw (``splitlines`` / ``\\n{2,}``) and divides by ``len(text)``;
* n-grams are over words from Unicode word segmentation without punctuation
  (DCLM: uniseg), and their length is the sum of word lengths without
  spaces, over the same total; datatrove joins nltk tokens (punctuation
  included) with spaces and divides by ``len(text)``;
* for the top n-gram, ties in count are broken by the longest n-gram;
* for 5- to 10-grams a word covered by several repeated n-grams counts once;
  datatrove scans left to right and skips ahead n words after each repeat.

A page with no non-blank line is dropped; a page with a single line (or
paragraph) has no duplicates; a page with fewer than n words has no n-grams.
"""
from __future__ import annotations

import math
from collections import Counter
from itertools import accumulate, compress

from filters.operator import FILTER, Operator
from filters.text_units import split_lines, split_paragraphs, split_words

_NAN = float("nan")

# (column, limit) in DCLM's order of evaluation.
_SEGMENT_LIMITS = (
    ("gopher_dup_line_frac", 0.30),
    ("gopher_dup_para_frac", 0.30),
    ("gopher_dup_line_char_frac", 0.20),
    ("gopher_dup_para_char_frac", 0.20),
)
_TOP_NGRAM_LIMITS = ((2, 0.20), (3, 0.18), (4, 0.16))
_DUP_NGRAM_LIMITS = ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))
_LIMITS = dict(
    _SEGMENT_LIMITS
    + tuple((f"gopher_top_{n}gram_char_frac", limit) for n, limit in _TOP_NGRAM_LIMITS)
    + tuple((f"gopher_dup_{n}gram_char_frac", limit) for n, limit in _DUP_NGRAM_LIMITS)
)
_PARAGRAPH_COLUMNS = ("gopher_dup_para_frac", "gopher_dup_para_char_frac")
# The line and paragraph measures are undefined (NaN) for a blank page, which
# must be dropped; the n-gram measures never are.
_SEGMENT_COLUMNS = frozenset(column for column, _ in _SEGMENT_LIMITS)


# -- measures -----------------------------------------------------------------

def _duplicate_fractions(segments: list[str]) -> tuple[float, float]:
    """(share of segments that are duplicated, share of their characters)."""
    if not segments:
        return _NAN, _NAN
    if len(segments) == 1:
        return 0.0, 0.0
    counts = Counter(segments)
    dup_count = dup_chars = 0
    for segment, count in counts.items():
        if count > 1:
            dup_count += count
            dup_chars += len(segment) * count
    return dup_count / len(segments), dup_chars / sum(len(s) for s in segments)


def _ngram_fractions(words: list[str], wanted: dict[int, str]) -> dict[int, float]:
    """Character fractions for the n-gram sizes in ``wanted`` (n -> "most_common" | "all").

    n-grams are numbered level by level: the n-gram starting at word j is
    identified by the ids of the (n-1)-grams starting at j and j+1.  An
    n-gram can only repeat if both of those repeat, so each level keeps only
    the positions where that holds.  On ordinary text few positions survive
    the first levels, and once nothing repeats every longer n-gram is unique.
    The result equals counting every n-gram with a Counter, much faster.
    """
    result = {n: 0.0 for n in wanted}
    if not words or not wanted:
        return result
    lengths = [len(w) for w in words]
    prefix = [0, *accumulate(lengths)]
    total_chars = prefix[-1]
    max_n = max(wanted)
    # At level 1 the words themselves serve as ids.
    n = 1
    counts = Counter(words)
    repeated = {j: w for j, w in enumerate(words) if counts[w] > 1}
    while repeated:  # once nothing repeats, nothing longer repeats either
        mode = wanted.get(n)
        if mode == "most_common":
            top = max(counts.values())
            longest = max(prefix[j + n] - prefix[j] for j, i in repeated.items() if counts[i] == top)
            result[n] = longest * top / total_chars
        elif mode == "all":
            covered = bytearray(len(words))
            ones = b"\x01" * n
            for j in repeated:
                covered[j:j + n] = ones
            result[n] = sum(compress(lengths, covered)) / total_chars
        if n == max_n:
            break
        interned: dict = {}
        candidates = {
            j: interned.setdefault((i, nxt), len(interned))
            for j, i in repeated.items()
            if (nxt := repeated.get(j + 1)) is not None
        }
        counts = Counter(candidates.values())
        repeated = {j: i for j, i in candidates.items() if counts[i] > 1}
        n += 1
    return result


def _default_ngram_mode(n: int) -> str:
    if n in (2, 3, 4):
        return "most_common"
    if 5 <= n <= 10:
        return "all"
    raise ValueError("without ngram_char_ratio the n-gram size must be between 2 and 10")


# -- massive_web_repetition_filters --------------------------------------------

def massive_web_repetition_filters_signals(page: dict, skip_paragraph: bool = False, **_unused) -> dict:
    text = page["text"]
    signals = {}
    line_frac, line_char_frac = _duplicate_fractions(split_lines(text))
    signals["gopher_dup_line_frac"] = line_frac
    signals["gopher_dup_line_char_frac"] = line_char_frac
    if not skip_paragraph:
        para_frac, para_char_frac = _duplicate_fractions(split_paragraphs(text))
        signals["gopher_dup_para_frac"] = para_frac
        signals["gopher_dup_para_char_frac"] = para_char_frac
    wanted = {n: "most_common" for n, _ in _TOP_NGRAM_LIMITS}
    wanted.update((n, "all") for n, _ in _DUP_NGRAM_LIMITS)
    fractions = _ngram_fractions(split_words(text, ignore_punctuation=True, model="uniseg"), wanted)
    for n, _ in _TOP_NGRAM_LIMITS:
        signals[f"gopher_top_{n}gram_char_frac"] = fractions[n]
    for n, _ in _DUP_NGRAM_LIMITS:
        signals[f"gopher_dup_{n}gram_char_frac"] = fractions[n]
    return signals


def massive_web_repetition_filters_keep(signals: dict, skip_paragraph: bool = False, **_unused) -> bool:
    for column, limit in _LIMITS.items():
        if skip_paragraph and column in _PARAGRAPH_COLUMNS:
            continue
        value = signals[column]
        if math.isnan(value) or value > limit:
            return False
    return True


def massive_web_repetition_filters(page: dict, skip_paragraph: bool = False) -> list[dict]:
    """Gopher's repetition removal: drop the page if any of the 13 measures passes its limit.

    ``skip_paragraph`` leaves out the paragraph measures, for extractors that
    do not separate paragraphs by blank lines.
    """
    signals = massive_web_repetition_filters_signals(page, skip_paragraph=skip_paragraph)
    return [page] if massive_web_repetition_filters_keep(signals, skip_paragraph=skip_paragraph) else []


# -- repetition_filter: one measure at a time --------------------------------------

def _repetition_column(granularity, count_characters: bool, ngram_char_ratio, ignore_case: bool) -> str:
    suffix = "_lower" if ignore_case else ""
    if isinstance(granularity, str):
        if granularity not in ("line", "paragraph"):
            raise ValueError("granularity must be 'line', 'paragraph' or an n-gram size")
        unit = "line" if granularity == "line" else "para"
        return f"gopher_dup_{unit}{'_char' if count_characters else ''}_frac{suffix}"
    if isinstance(granularity, bool) or not isinstance(granularity, int) or granularity < 1:
        raise ValueError("granularity must be 'line', 'paragraph' or an n-gram size")
    mode = ngram_char_ratio or _default_ngram_mode(granularity)
    if mode == "most_common":
        return f"gopher_top_{granularity}gram_char_frac{suffix}"
    if mode == "all":
        return f"gopher_dup_{granularity}gram_char_frac{suffix}"
    raise ValueError("ngram_char_ratio must be 'most_common', 'all' or None")


def repetition_filter_signals(page: dict, granularity, count_characters: bool = True,
                              ngram_char_ratio=None, ignore_case: bool = False, **_unused) -> dict:
    column = _repetition_column(granularity, count_characters, ngram_char_ratio, ignore_case)
    text = page["text"].lower() if ignore_case else page["text"]
    if isinstance(granularity, str):
        segments = split_lines(text) if granularity == "line" else split_paragraphs(text)
        count_frac, char_frac = _duplicate_fractions(segments)
        return {column: char_frac if count_characters else count_frac}
    mode = ngram_char_ratio or _default_ngram_mode(granularity)
    words = split_words(text, ignore_punctuation=True, model="uniseg")
    return {column: _ngram_fractions(words, {granularity: mode})[granularity]}


def repetition_filter_keep(signals: dict, granularity, max_fraction: float, count_characters: bool = True,
                           ngram_char_ratio=None, ignore_case: bool = False, **_unused) -> bool:
    value = signals[_repetition_column(granularity, count_characters, ngram_char_ratio, ignore_case)]
    return not math.isnan(value) and value <= max_fraction


def repetition_filter(page: dict, granularity, max_fraction: float, count_characters: bool = True,
                      ngram_char_ratio=None, ignore_case: bool = False, cache=None) -> list[dict]:
    """One Gopher repetition measure: drop the page if it exceeds ``max_fraction``.

    ``granularity`` is ``"line"``, ``"paragraph"`` or an n-gram size.
    ``count_characters`` chooses, for lines and paragraphs, between the share
    of characters and the share of segments.  ``ngram_char_ratio`` is
    ``"most_common"`` (the top n-gram) or ``"all"`` (every repeated n-gram);
    by default 2-4-grams use the first and 5-10-grams the second, as in
    Gopher.  ``ignore_case`` lower-cases before comparing.  ``cache`` is
    DCLM's memo between calls and is accepted and ignored.
    """
    params = dict(granularity=granularity, max_fraction=max_fraction, count_characters=count_characters,
                  ngram_char_ratio=ngram_char_ratio, ignore_case=ignore_case)
    return [page] if repetition_filter_keep(repetition_filter_signals(page, **params), **params) else []


OPERATORS = [
    Operator(name="massive_web_repetition_filters", kind=FILTER, func=massive_web_repetition_filters,
             signals=massive_web_repetition_filters_signals, keep=massive_web_repetition_filters_keep),
    Operator(name="repetition_filter", kind=FILTER, func=repetition_filter,
             signals=repetition_filter_signals, keep=repetition_filter_keep),
]
