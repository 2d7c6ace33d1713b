"""Gopher repetition filters: every limit just under, at and just over, plus the contract."""
import copy
import math
from collections import Counter
from fractions import Fraction

import pytest

from filters import repetition as rep
from filters.operator import FILTER

LIMITS = {
    "gopher_dup_line_frac": 0.30, "gopher_dup_para_frac": 0.30,
    "gopher_dup_line_char_frac": 0.20, "gopher_dup_para_char_frac": 0.20,
    "gopher_top_2gram_char_frac": 0.20, "gopher_top_3gram_char_frac": 0.18, "gopher_top_4gram_char_frac": 0.16,
    "gopher_dup_5gram_char_frac": 0.15, "gopher_dup_6gram_char_frac": 0.14, "gopher_dup_7gram_char_frac": 0.13,
    "gopher_dup_8gram_char_frac": 0.12, "gopher_dup_9gram_char_frac": 0.11, "gopher_dup_10gram_char_frac": 0.10,
}
NGRAM_LIMITS = [(2, 0.20), (3, 0.18), (4, 0.16), (5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)]

REAL_TEXTS = [
    "The committee met on Tuesday to review the budget. Members agreed that the new library should open "
    "next spring.\nThe chair said the cost has risen by about 12% since last year.\n\n"
    "A public meeting is planned for March 3 in the town hall. Residents are invited to attend.",
    "Home\nProducts\nHome\nProducts\nHome\nContact\n\nHome\n\nHome",
    "buy cheap shoes online buy cheap shoes online buy cheap shoes online best price buy cheap shoes online",
    "Click here to subscribe.\n\nClick here to subscribe.\n\nOur story begins in 1999, when two friends "
    "opened a small bakery in the old town.\n\nClick here to subscribe.",
    "Die Stadt hat am Montag beschlossen, das alte Schwimmbad zu sanieren. Die Arbeiten sollen im Herbst beginnen.",
    "",
    " \n \n",
]


def unique_words(n_chars):
    """Distinct words (``u0000``-style, never a repeat) adding up to exactly n_chars characters."""
    out = []
    while n_chars > 7:
        out.append(f"u{len(out):03d}")
        n_chars -= 4
    if n_chars >= 4:
        out.append(f"u{len(out):0{n_chars - 1}d}")
    elif n_chars:
        out.append("zyx"[:n_chars])
    return out


def ngram_page(n, limit, delta=0):
    """One line whose only repeated n-gram (twice, far apart) covers `limit` of the word characters.

    delta = +1 adds a character of filler (fraction just under the limit),
    delta = -1 removes one (just over).
    """
    fraction = Fraction(str(limit))
    chars = n
    while (2 * chars / fraction).denominator != 1 or 2 * chars / fraction - 2 * chars < 16:
        chars += n
    total = int(2 * chars / fraction)
    size = chars // n
    gram = [chr(ord("a") + k) * size for k in range(n)]
    filler = unique_words(total - 2 * chars + delta)
    half = len(filler) // 2
    words = gram + filler[:half] + gram + filler[half:]
    assert sum(map(len, words)) == total + delta
    return " ".join(words)


def keeps(func, text, **params):
    return func({"text": text}, **params) != []


def test_operator_names_and_kinds():
    assert [op.name for op in rep.OPERATORS] == ["massive_web_repetition_filters", "repetition_filter"]
    assert all(op.kind == FILTER and op.signals and op.keep for op in rep.OPERATORS)


# -- repetition_filter, one measure at a time ---------------------------------------------

@pytest.mark.parametrize("copies,kept", [(2, True), (3, True), (4, False)])
@pytest.mark.parametrize("granularity,sep", [("line", "\n"), ("paragraph", "\n\n")])
def test_duplicate_segment_fraction(granularity, sep, copies, kept):
    # 10 segments; one of them `copies` times: all copies count -> 0.2 / 0.3 / 0.4
    segments = ["same text"] * copies + [f"segment {i}" for i in range(10 - copies)]
    text = sep.join(segments)
    column = "gopher_dup_line_frac" if granularity == "line" else "gopher_dup_para_frac"
    signals = rep.repetition_filter_signals({"text": text}, granularity=granularity, count_characters=False)
    assert signals == {column: copies / 10}
    assert keeps(rep.repetition_filter, text, granularity=granularity, max_fraction=0.3,
                 count_characters=False) is kept


@pytest.mark.parametrize("extra,kept", [(1, True), (0, True), (-1, False)])
@pytest.mark.parametrize("granularity,sep", [("line", "\n"), ("paragraph", "\n\n")])
def test_duplicate_segment_char_fraction(granularity, sep, extra, kept):
    # a 10-character segment twice (20 chars) among 80 (+extra) other characters: 20/100 at the limit
    others = [f"distinct{i:02d}" for i in range(8)]
    others[-1] = others[-1] + "x" * extra if extra >= 0 else others[-1][:extra]
    text = sep.join(["abcdefghij"] + others[:4] + ["  abcdefghij  "] + others[4:])  # stripped before comparing
    assert keeps(rep.repetition_filter, text, granularity=granularity, max_fraction=0.2) is kept


@pytest.mark.parametrize("n,limit", NGRAM_LIMITS)
@pytest.mark.parametrize("delta,kept", [(1, True), (0, True), (-1, False)])
def test_ngram_fraction(n, limit, delta, kept):
    text = ngram_page(n, limit, delta)
    assert keeps(rep.repetition_filter, text, granularity=n, max_fraction=limit) is kept
    if delta == 0:
        column = f"gopher_{'top' if n <= 4 else 'dup'}_{n}gram_char_frac"
        assert rep.repetition_filter_signals({"text": text}, granularity=n) == {column: limit}


def test_top_ngram_ties_take_the_longest():
    text = "ab cd ab cd xyzw vuts xyzw vuts"
    assert rep.repetition_filter_signals({"text": text}, granularity=2) == {"gopher_top_2gram_char_frac": 16 / 24}


def test_duplicated_ngrams_count_each_word_once_and_ignore_punctuation():
    # "a b c d e" repeats, overlapping copies: every word of the 6 is covered
    text = "a, b; c d (e) a b c d e"
    assert rep.repetition_filter_signals({"text": text}, granularity=5) == {"gopher_dup_5gram_char_frac": 1.0}


def test_ngram_options():
    text = "Alpha beta alpha BETA gamma"
    assert rep.repetition_filter_signals({"text": text}, granularity=2, ignore_case=True) == \
        {"gopher_top_2gram_char_frac_lower": 18 / 23}
    assert rep.repetition_filter_signals({"text": text}, granularity=2, ngram_char_ratio="all") == \
        {"gopher_dup_2gram_char_frac": 0.0}
    with pytest.raises(ValueError):
        rep.repetition_filter({"text": text}, granularity=11, max_fraction=0.1)
    with pytest.raises(ValueError):
        rep.repetition_filter({"text": text}, granularity="sentence", max_fraction=0.1)


def test_blank_and_single_segment_pages():
    assert not keeps(rep.repetition_filter, "", granularity="line", max_fraction=0.3)
    assert not keeps(rep.repetition_filter, " \n ", granularity="line", max_fraction=0.3)
    assert keeps(rep.repetition_filter, "only one line", granularity="line", max_fraction=0.0)
    assert keeps(rep.repetition_filter, "too few", granularity=5, max_fraction=0.0)


def test_ngram_fractions_match_a_plain_counter():
    words = ("a bb a bb ccc a bb ccc dd a bb ccc dd e a bb ccc dd e f " * 3 + "g h a bb").split()
    wanted = {n: mode for n in range(1, 11) for mode in ["all"]}
    got = rep._ngram_fractions(words, wanted)
    total = sum(map(len, words))
    for n in range(1, 11):
        grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
        counts = Counter(grams)
        covered = {i + k for i, g in enumerate(grams) if counts[g] > 1 for k in range(n)}
        assert got[n] == sum(len(words[i]) for i in covered) / total


# -- massive_web_repetition_filters ------------------------------------------------------

def test_massive_web_signal_columns():
    signals = rep.massive_web_repetition_filters_signals({"text": REAL_TEXTS[0]})
    assert set(signals) == set(LIMITS)
    skipped = rep.massive_web_repetition_filters_signals({"text": REAL_TEXTS[0]}, skip_paragraph=True)
    assert set(skipped) == set(LIMITS) - {"gopher_dup_para_frac", "gopher_dup_para_char_frac"}


@pytest.mark.parametrize("column", list(LIMITS))
def test_massive_web_keep_at_each_limit(column):
    base = dict.fromkeys(LIMITS, 0.0)
    limit = LIMITS[column]
    for value, kept in [(limit - 1e-9, True), (limit, True), (limit + 1e-9, False), (math.nan, False)]:
        assert rep.massive_web_repetition_filters_keep({**base, column: value}) is kept
    if "para" in column:
        skipped = {k: v for k, v in base.items() if "para" not in k}
        assert rep.massive_web_repetition_filters_keep(skipped, skip_paragraph=True)


@pytest.mark.parametrize("n,limit", NGRAM_LIMITS)
@pytest.mark.parametrize("delta,kept", [(1, True), (0, True), (-1, False)])
def test_massive_web_ngram_limits_on_pages(n, limit, delta, kept):
    assert keeps(rep.massive_web_repetition_filters, ngram_page(n, limit, delta)) is kept


@pytest.mark.parametrize("copies,kept", [(2, True), (3, True), (4, False)])
def test_massive_web_duplicate_line_count_on_pages(copies, kept):
    # a one-character line repeated: the count limit (0.3) decides, the char share stays tiny
    lines = ["x"] * copies + [f"alpha{i} beta{i} gamma{i} delta{i}" for i in range(10 - copies)]
    assert keeps(rep.massive_web_repetition_filters, "\n".join(lines)) is kept


@pytest.mark.parametrize("extra,kept", [(1, True), (0, True), (-1, False)])
def test_massive_web_duplicate_line_chars_on_pages(extra, kept):
    # one 10-char word-line twice among 8 other lines: count share 0.2, char share 20/(100+extra)
    others = [f"distinct{i:02d}" for i in range(8)]
    others[0] = others[0] + "x" * extra if extra >= 0 else others[0][:extra]
    text = "\n".join(["abcdefghij"] + others[:4] + ["abcdefghij"] + others[4:])
    assert keeps(rep.massive_web_repetition_filters, text) is kept


# -- contract ------------------------------------------------------------------------

PARAM_SETS = {
    "massive_web_repetition_filters": [{}, dict(skip_paragraph=True)],
    "repetition_filter": [dict(granularity="line", max_fraction=0.3, count_characters=False),
                          dict(granularity="paragraph", max_fraction=0.2),
                          dict(granularity=2, max_fraction=0.2),
                          dict(granularity=7, max_fraction=0.13, ignore_case=True),
                          dict(granularity=3, max_fraction=0.3, ngram_char_ratio="all", cache={})],
}


@pytest.mark.parametrize("op", rep.OPERATORS, ids=lambda op: op.name)
def test_func_is_keep_of_signals_and_pure(op):
    for params in PARAM_SETS[op.name]:
        for text in REAL_TEXTS:
            page = {"text": text, "url": "https://example.com/", "id": "x", "metadata": {"k": "v"}}
            before = copy.deepcopy(page)
            out = op.func(page, **params)
            signals = op.signals(page, **params)
            assert page == before
            assert out == ([page] if op.keep(signals, **params) else [])
            assert all(isinstance(v, float) for v in signals.values())


def test_real_text_decisions():
    prose, nav, spam, boiler = REAL_TEXTS[:4]
    assert keeps(rep.massive_web_repetition_filters, prose)
    assert not keeps(rep.massive_web_repetition_filters, nav)
    assert not keeps(rep.massive_web_repetition_filters, spam)
    assert not keeps(rep.massive_web_repetition_filters, boiler)
