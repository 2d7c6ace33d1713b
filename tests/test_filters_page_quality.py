"""Gopher / RefinedWeb page-quality filters: thresholds, signals vs decision, purity."""
import copy
import math

import pytest

from filters import page_quality as pq
from filters.operator import FILTER

REAL_TEXTS = [
    # prose
    "The committee met on Tuesday to review the budget. Members agreed that the new library "
    "should open next spring, and that the old building will be converted into a community centre.\n"
    "According to the chair, the cost of the project has risen by about 12% since last year, mostly "
    "because of higher prices for steel and concrete. \"We have to be careful with the money,\" she said.\n\n"
    "A public meeting is planned for March 3 at 7 p.m. in the town hall. Residents are invited to attend...",
    # navigation / list page
    "Home\nAbout us\nProducts\n- Shoes\n- Bags\n- Hats\n* Sale\n• Contact\nLogin | Register\n© 2024 Shop Inc.",
    # spam with hashes and ellipses
    "#deal #sale #cheap ... buy now … best price #1 . . . click here ... ### !!! $$$ 100% 200% 300%",
    # German prose
    "Die Stadt hat am Montag beschlossen, das alte Schwimmbad zu sanieren. Die Arbeiten sollen im "
    "Herbst beginnen und etwa zwei Jahre dauern. Der Bürgermeister sagte, dass die Kosten von der "
    "Landesregierung übernommen werden.",
    "",
    "   \n\n  ",
]

ALL = {op.name: op for op in pq.OPERATORS}


def words(n, word="word"):
    return " ".join([word] * n)


def keeps(func, text, **params):
    return func({"text": text}, **params) != []


# -- registry ---------------------------------------------------------------------

def test_operator_names_and_kinds():
    assert list(ALL) == ["page_length_filter", "word_length_filter", "symbol_ratio_filter",
                         "bullet_count_filter", "ellipsis_count_filter", "alphabetic_word_ratio_filter",
                         "stop_word_filter"]
    for op in pq.OPERATORS:
        assert op.kind == FILTER and op.signals is not None and op.keep is not None


# -- page_length_filter ------------------------------------------------------------

REFINEDWEB_WORDS = dict(length_type="word", min_length=50, max_length=100000, ignore_punctuation=True)


@pytest.mark.parametrize("n,kept", [(49, False), (50, True), (51, True)])
def test_page_length_min_words(n, kept):
    # punctuation-only tokens and tokens starting with punctuation are not words
    text = words(n) + " - … (aside) | --"
    assert keeps(pq.page_length_filter, text, **REFINEDWEB_WORDS) is kept
    assert pq.page_length_filter_signals({"text": text}, **REFINEDWEB_WORDS) == {"word_count": n}


@pytest.mark.parametrize("n,kept", [(9, True), (10, True), (11, False)])
def test_page_length_max_words(n, kept):
    assert keeps(pq.page_length_filter, words(n), length_type="word", min_length=1, max_length=10) is kept


def test_page_length_words_split_like_fasttext():
    # DCLM's default tokenizer (fastText) does not split on a no-break space; str.split does
    text = "ten\xa0km run today"
    assert pq.page_length_filter_signals({"text": text}, length_type="word", ignore_punctuation=True) == \
        {"word_count": 3}
    assert pq.page_length_filter_signals({"text": text}, length_type="word", ignore_punctuation=True,
                                         model="split") == {"split_word_count": 4}


def test_page_length_word_with_punctuation_counts_every_token():
    text = "one - two …"
    assert pq.page_length_filter_signals({"text": text}, length_type="word") == {"word_count_with_punct": 4}
    assert pq.page_length_filter_signals({"text": text}, length_type="word", model="uniseg",
                                         ignore_punctuation=True) == {"uniseg_word_count": 2}


@pytest.mark.parametrize("n,kept", [(189999, True), (190000, True), (190001, False)])
def test_page_length_max_chars(n, kept):
    assert keeps(pq.page_length_filter, "x" * n, length_type="char", max_length=190000) is kept


@pytest.mark.parametrize("n,kept", [(2, False), (3, True), (4, True)])
def test_page_length_min_sentences(n, kept):
    text = " ".join(["This is a sentence."] * n)
    params = dict(length_type="sentence", min_length=3)   # blingfire, DCLM's default
    assert keeps(pq.page_length_filter, text, **params) is kept
    assert pq.page_length_filter_signals({"text": text}, **params) == {"sentence_count": n}


def test_page_length_sentences_with_nltk():
    params = dict(length_type="sentence", min_length=3, tokenizer="nltk", tokenizer_lang="english")
    try:
        pq.OPERATORS[0].check(**params)
    except ImportError as exc:
        assert "punkt" in str(exc)  # the data is not a package; say how to get it
        pytest.skip("nltk's punkt data is not installed")
    text = " ".join(["This is a sentence."] * 3)
    assert pq.page_length_filter_signals({"text": text}, **params) == {"nltk_sentence_count": 3}


@pytest.mark.parametrize("n,kept", [(2, False), (3, True), (4, True)])
def test_page_length_lines_ignore_blank_lines(n, kept):
    text = "\n \n".join(["a line"] * n) + "\n\n"
    assert keeps(pq.page_length_filter, text, length_type="line", min_length=3) is kept


@pytest.mark.parametrize("n,kept", [(2, True), (3, True), (4, False)])
def test_page_length_max_paragraphs(n, kept):
    text = "\n\n\n".join(["line one\nline two"] * n)
    assert keeps(pq.page_length_filter, text, length_type="paragraph", max_length=3) is kept
    assert pq.page_length_filter_signals({"text": text}, length_type="paragraph") == {"paragraph_count": n}


def test_page_length_rejects_unknown_type():
    with pytest.raises(ValueError):
        pq.page_length_filter({"text": "x"}, length_type="token")


# -- word_length_filter -------------------------------------------------------------

@pytest.mark.parametrize("other,kept", [("ab", False), ("abc", True), ("abcd", True)])
def test_mean_word_length_min(other, kept):
    text = words(9, "abc") + " " + other  # mean 2.9 / 3.0 / 3.1
    assert keeps(pq.word_length_filter, text, min_length=3, max_length=10) is kept


@pytest.mark.parametrize("other,kept", [("a" * 9, True), ("a" * 10, True), ("a" * 11, False)])
def test_mean_word_length_max(other, kept):
    text = words(9, "a" * 10) + " " + other  # mean 9.9 / 10.0 / 10.1
    assert keeps(pq.word_length_filter, text, min_length=3, max_length=10) is kept


def test_mean_word_length_counts_attached_punctuation_and_drops_empty():
    assert pq.word_length_filter_signals({"text": "end. go!"}) == {"mean_word_length": 3.5}
    assert math.isnan(pq.word_length_filter_signals({"text": " \n "})["mean_word_length"])
    assert not keeps(pq.word_length_filter, "   ")


# -- symbol_ratio_filter ------------------------------------------------------------

@pytest.mark.parametrize("symbols,kept", [("#a", True), ("#a b…", True), ("#a b… c...", False)])
def test_symbol_ratio(symbols, kept):
    # 20 words in all; 1, 2 or 3 symbols -> 0.05, 0.1, 0.15
    body = symbols.split()
    text = " ".join(body + ["word"] * (20 - len(body)))
    assert len(text.split()) == 20
    assert keeps(pq.symbol_ratio_filter, text, max_symbol_to_word_ratio=0.1) is kept


def test_symbol_ratio_counts_every_symbol_kind():
    text = "a # b ... c . . . d \u2026 e f g h i j k l m n o p q r s t"
    assert pq.symbol_ratio_filter_signals({"text": text}) == {"symbol_to_word_ratio": 4 / len(text.split())}
    assert not keeps(pq.symbol_ratio_filter, "")


# -- bullet_count_filter ------------------------------------------------------------

@pytest.mark.parametrize("bullets,total,kept", [(8, 10, True), (9, 10, True), (19, 20, False)])
def test_bullet_ratio(bullets, total, kept):
    marks = ["●", "•", "*", "-"]
    lines = [f"  {marks[i % 4]} item {i}" for i in range(bullets)] + ["plain line"] * (total - bullets)
    text = "\n\n".join(lines)  # blank lines are not counted
    assert pq.bullet_count_filter_signals({"text": text}) == {"bullet_start_ratio": bullets / total}
    assert keeps(pq.bullet_count_filter, text, max_bullet_start_ratio=0.9) is kept


def test_bullet_ratio_keeps_blank_page():
    assert keeps(pq.bullet_count_filter, "\n\n")


# -- ellipsis_count_filter ----------------------------------------------------------

@pytest.mark.parametrize("ellipses,kept", [(2, True), (3, True), (4, False)])
def test_ellipsis_line_ratio(ellipses, kept):
    ends = ["...", ". . .", "\u2026"]
    lines = [f"to be continued{ends[i % 3]}   " for i in range(ellipses)] + ["done."] * (10 - ellipses)
    assert keeps(pq.ellipsis_count_filter, "\n".join(lines), max_ellipsis_end_ratio=0.3) is kept


# -- alphabetic_word_ratio_filter ---------------------------------------------------

@pytest.mark.parametrize("numbers,kept", [(1, True), (2, True), (3, False)])
def test_non_alphabetic_word_ratio(numbers, kept):
    tokens = ["12", "3.5", "--", "%%"][:numbers] + ["w0rd"] * (10 - numbers)
    assert keeps(pq.alphabetic_word_ratio_filter, " ".join(tokens), max_ratio=0.2) is kept


def test_non_alphabetic_word_ratio_drops_empty():
    assert not keeps(pq.alphabetic_word_ratio_filter, "")


# -- stop_word_filter ---------------------------------------------------------------

@pytest.mark.parametrize("text,kept", [("The cat sat", False), ("The cat and THE dog", True),
                                       ("the of and dog", True)])
def test_stop_word_count(text, kept):
    assert keeps(pq.stop_word_filter, text, count_unique=False, min_stop_word=2) is kept


@pytest.mark.parametrize("text,kept", [("the the the", False), ("the of", True), ("the of with", True)])
def test_stop_word_unique_count(text, kept):
    assert keeps(pq.stop_word_filter, text, count_unique=True, min_stop_word=2) is kept


def test_stop_words_must_be_whole_tokens():
    assert pq.stop_word_filter_signals({"text": "the, of. And"}) == {"stop_word_count": 1}


# -- contract: func == keep(signals), no mutation -----------------------------------

PARAM_SETS = {
    "page_length_filter": [REFINEDWEB_WORDS, dict(length_type="char", max_length=500),
                           dict(length_type="sentence", min_length=3), dict(length_type="line", min_length=2),
                           dict(length_type="paragraph", max_length=2)],
    "word_length_filter": [dict(min_length=3, max_length=10), {}],
    "symbol_ratio_filter": [{}, dict(max_symbol_to_word_ratio=0.5)],
    "bullet_count_filter": [{}, dict(max_bullet_start_ratio=0.2)],
    "ellipsis_count_filter": [{}],
    "alphabetic_word_ratio_filter": [{}, dict(max_ratio=0.05)],
    "stop_word_filter": [{}, dict(count_unique=True, min_stop_word=3)],
}


@pytest.mark.parametrize("name", list(PARAM_SETS))
def test_func_is_keep_of_signals_and_pure(name):
    op = ALL[name]
    for params in PARAM_SETS[name]:
        for text in REAL_TEXTS:
            page = {"text": text, "url": "https://example.com/", "id": "x", "metadata": {"a": "b"}}
            before = copy.deepcopy(page)
            out = op.func(page, **params)
            signals = op.signals(page, **params)
            assert page == before
            assert out == ([page] if op.keep(signals, **params) else [])
            if out:
                assert out[0] is page
            for value in signals.values():
                assert isinstance(value, (int, float))


def test_real_texts_decisions():
    prose, nav, spam = REAL_TEXTS[:3]
    assert keeps(pq.stop_word_filter, prose)
    assert keeps(pq.symbol_ratio_filter, prose)
    assert not keeps(pq.symbol_ratio_filter, spam)
    assert not keeps(pq.stop_word_filter, nav)
    assert not keeps(pq.page_length_filter, nav, **REFINEDWEB_WORDS)
