"""FineWeb quality filters: thresholds in datatrove's directions, signals vs decision, purity."""
import copy
import math

import pytest

from filters import fineweb as fw
from filters.operator import FILTER

REAL_TEXTS = [
    "The committee met on Tuesday to review the budget. Members agreed that the new library should open "
    "next spring.\nThe chair said the cost has risen by about 12% since last year.\n\n"
    "A public meeting is planned for March 3 in the town hall. Residents are invited to attend.",
    "Home\nAbout us\nProducts\nShoes\nBags\nContact\nHome\nLogin",
    "Subscribe to our newsletter!\nSubscribe to our newsletter!\nWe write about gardening, cooking and "
    "travel, and we publish a new long-form story every week.",
    "Ein Satz ohne Zeilenumbruch, aber mit Punkt am Ende.",
    "",
    "\n\n\n",
]

ALL = {op.name: op for op in fw.OPERATORS}


def keeps(func, text, **params):
    return func({"text": text}, **params) != []


def test_operator_names_and_kinds():
    assert list(ALL) == ["fineweb_line_punctuation_filter", "fineweb_short_line_filter",
                         "fineweb_duplicate_char_filter", "fineweb_list_ratio_filter"]
    assert all(op.kind == FILTER and op.signals and op.keep for op in fw.OPERATORS)


# -- line punctuation: kept when ratio > 0.12 ------------------------------------------

@pytest.mark.parametrize("ended,kept", [(2, False), (3, False), (4, True)])
def test_line_punctuation_ratio(ended, kept):
    ends = [".", "'", '"', "!", "?"]
    lines = [f"line {i}{ends[i % 5]}" for i in range(ended)] + ["no end mark", "ends with space. ", ""] * 10
    lines = lines[:25]  # 25 lines: 2, 3 or 4 of them end in punctuation -> 0.08, 0.12, 0.16
    text = "\n".join(lines)
    assert fw.fineweb_line_punctuation_filter_signals({"text": text}) == {"fineweb_line_punct_ratio": ended / 25}
    assert keeps(fw.fineweb_line_punctuation_filter, text, line_punct_thr=0.12) is kept


def test_line_punctuation_exclude_zero_and_custom_marks():
    text = "Title\nanother line without marks"
    assert not keeps(fw.fineweb_line_punctuation_filter, text)
    assert keeps(fw.fineweb_line_punctuation_filter, text, line_punct_exclude_zero=True)
    custom = fw.fineweb_line_punctuation_filter_signals({"text": "a。\nb"}, stop_chars=["。"])
    assert list(custom.values()) == [0.5] and list(custom) != ["fineweb_line_punct_ratio"]
    assert keeps(fw.fineweb_line_punctuation_filter, "a。\nb", stop_chars=["。"])


# -- short lines: kept when ratio < 0.67 -----------------------------------------------

@pytest.mark.parametrize("short,kept", [(66, True), (67, False), (68, False)])
def test_short_line_ratio(short, kept):
    lines = ["s" * 30] * short + ["l" * 31] * (100 - short)  # 30 chars is short, 31 is not
    text = "\n".join(lines)
    assert fw.fineweb_short_line_filter_signals({"text": text}) == {"fineweb_short_line_ratio": short / 100}
    assert keeps(fw.fineweb_short_line_filter, text, short_line_thr=0.67) is kept


def test_short_line_counts_blank_lines_and_custom_length():
    assert fw.fineweb_short_line_filter_signals({"text": "x" * 40 + "\n\n"}) == {"fineweb_short_line_ratio": 2 / 3}
    signals = fw.fineweb_short_line_filter_signals({"text": "x" * 40}, short_line_length=50)
    assert signals == {"fineweb_short_line_ratio_50": 1.0}
    assert not keeps(fw.fineweb_short_line_filter, "x" * 40, short_line_length=50)


# -- duplicated line characters: kept when ratio < 0.01 --------------------------------------

@pytest.mark.parametrize("extra,kept", [(1, True), (0, False), (-1, False)])
def test_duplicate_char_ratio(extra, kept):
    # "abcde" twice: 5 duplicated characters (the first copy does not count) out of 500 (+extra)
    filler = [f"unique line {i:04d} zzz" for i in range(24)] + ["ten chars."]  # 24 * 20 + 10 = 490
    filler[-1] = filler[-1] + "y" * extra if extra >= 0 else filler[-1][:extra]
    text = "\n".join(["abcde"] + filler[:12] + ["abcde", ""] + filler[12:])
    assert len(text.replace("\n", "")) == 500 + extra
    assert fw.fineweb_duplicate_char_filter_signals({"text": text}) == {"fineweb_char_dup_ratio": 5 / (500 + extra)}
    assert keeps(fw.fineweb_duplicate_char_filter, text, char_duplicates_ratio=0.01) is kept


def test_duplicate_char_compares_unstripped_non_blank_lines():
    text = "same\nsame \nsame\n\n\n"
    assert fw.fineweb_duplicate_char_filter_signals({"text": text}) == {"fineweb_char_dup_ratio": 4 / 13}
    assert fw.fineweb_duplicate_char_filter_signals({"text": "\n\n"}) == {"fineweb_char_dup_ratio": 0.0}


# -- list ratio: kept when newlines / words <= 0.3 ------------------------------------------

@pytest.mark.parametrize("n_words,kept", [(11, True), (10, True), (9, False)])
def test_list_ratio(n_words, kept):
    words = [f"w{i}" for i in range(n_words)]
    text = " ".join(words[:3]) + "\n" + " ".join(words[3:6]) + "\n" + " ".join(words[6:]) + "\n"
    assert fw.fineweb_list_ratio_filter_signals({"text": text}) == {"fineweb_list_ratio": 3 / n_words}
    assert keeps(fw.fineweb_list_ratio_filter, text, new_line_ratio=0.3) is kept


def test_list_ratio_counts_punctuation_tokens():
    # treebank-like tokens: "Hello", ",", "world", "!", "Don", "'t", "stop", "." -> 8
    assert fw.fineweb_list_ratio_filter_signals({"text": "Hello, world!\nDon't stop."}) == \
        {"fineweb_list_ratio": 1 / 8}
    assert math.isinf(fw.fineweb_list_ratio_filter_signals({"text": "\n\n"})["fineweb_list_ratio"])
    assert fw.fineweb_list_ratio_filter_signals({"text": ""}) == {"fineweb_list_ratio": 0.0}


# -- contract ------------------------------------------------------------------------

PARAM_SETS = {
    "fineweb_line_punctuation_filter": [{}, dict(line_punct_thr=0.5, line_punct_exclude_zero=True)],
    "fineweb_short_line_filter": [{}, dict(short_line_thr=0.5, short_line_length=10)],
    "fineweb_duplicate_char_filter": [{}, dict(char_duplicates_ratio=0.5)],
    "fineweb_list_ratio_filter": [{}, dict(new_line_ratio=0.1)],
}


@pytest.mark.parametrize("name", list(PARAM_SETS))
def test_func_is_keep_of_signals_and_pure(name):
    op = ALL[name]
    for params in PARAM_SETS[name]:
        for text in REAL_TEXTS:
            page = {"text": text, "url": "https://example.com/", "id": "x", "metadata": {"k": "v"}}
            before = copy.deepcopy(page)
            out = op.func(page, **params)
            signals = op.signals(page, **params)
            assert page == before
            assert out == ([page] if op.keep(signals, **params) else [])
            assert all(isinstance(v, float) for v in signals.values())


def test_real_text_decisions():
    prose, nav, dup = REAL_TEXTS[:3]
    for op in fw.OPERATORS:
        assert op.func({"text": prose}) != [], op.name
    assert not keeps(fw.fineweb_line_punctuation_filter, nav)
    assert not keeps(fw.fineweb_short_line_filter, nav)
    assert not keeps(fw.fineweb_list_ratio_filter, nav)
    assert not keeps(fw.fineweb_duplicate_char_filter, dup)
