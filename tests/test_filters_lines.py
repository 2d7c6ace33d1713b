"""Line modifiers: each threshold just under, at and just over; pages never mutated."""
from __future__ import annotations

import copy

import pytest

from filters import line_modifiers as lm
from filters.operator import MODIFIER


def page(text: str) -> dict:
    return {"id": "<urn:uuid:1>", "url": "https://example.com/a", "text": text,
            "metadata": {"WARC-Date": "2024-01-01T00:00:00Z"}}


def text_of(result: list[dict]) -> str:
    assert len(result) == 1
    return result[0]["text"]


BODY = "this is a normal line of text."


# --- uppercase_ratio_line_modifier (0.5) --------------------------------------

@pytest.mark.parametrize("line, kept", [
    ("Abcd", True),    # 0.25: under
    ("ABcd", True),    # 0.50: at the threshold, kept
    ("ABCd", False),   # 0.75: over
])
def test_uppercase_ratio_threshold(line, kept):
    out = text_of(lm.uppercase_ratio_line_modifier(page(f"{BODY}\n{line}")))
    assert (line in out.split("\n")) is kept


def test_uppercase_ratio_counts_spaces_and_custom_ratio():
    # "AB cd" has 2 uppercase of 5 characters = 0.4
    assert text_of(lm.uppercase_ratio_line_modifier(page(f"{BODY}\nAB cd"), max_ratio=0.4)).endswith("AB cd")
    assert text_of(lm.uppercase_ratio_line_modifier(page(f"{BODY}\nAB cd"), max_ratio=0.39)) == BODY


def test_uppercase_ratio_drops_page_left_empty():
    assert lm.uppercase_ratio_line_modifier(page("ALL CAPS TITLE\nMORE SHOUTING")) == []


# --- numeric_ratio_line_modifier (0.999999) -----------------------------------

def test_numeric_ratio_default_removes_only_all_digit_lines():
    out = text_of(lm.numeric_ratio_line_modifier(page(f"{BODY}\n12345\n1234a\n2024")))
    assert out.split("\n") == [BODY, "1234a"]


def test_numeric_ratio_default_boundary():
    at = "1" * 999_999 + "a"        # exactly 0.999999 digits: kept
    over = "1" * 1_000_000          # 1.0: removed
    out = text_of(lm.numeric_ratio_line_modifier(page(f"{BODY}\n{at}\n{over}")))
    assert out.split("\n") == [BODY, at]


@pytest.mark.parametrize("line, kept", [("1abc", True), ("12ab", True), ("123a", False)])
def test_numeric_ratio_custom_threshold(line, kept):
    out = text_of(lm.numeric_ratio_line_modifier(page(f"{BODY}\n{line}"), max_ratio=0.5))
    assert (line in out.split("\n")) is kept


# --- counter_line_modifier ----------------------------------------------------

@pytest.mark.parametrize("line", ["3 likes", "12 comments", "1.2K views", "- 4,000 Shares -",
                                  "10M followers", "7 downloads"])
def test_counter_lines_removed(line):
    assert text_of(lm.counter_line_modifier(page(f"{BODY}\n{line}\n{BODY}"))) == f"{BODY}\n{BODY}"


@pytest.mark.parametrize("line", ["I have 3 likes for cats", "3 like", "likes 3", "Views: many"])
def test_counter_like_text_kept(line):
    p = page(f"{BODY}\n{line}")
    assert lm.counter_line_modifier(p) == [p]


# --- line_length_modifier (words) ---------------------------------------------

def test_line_length_min_length():
    text = "one\ntwo words\nthree words here\n\nlast line here"
    out = text_of(lm.line_length_modifier(page(text), min_length=2))
    # 1 word: under, removed; 2 words: at, kept; 3: over, kept; empty kept.
    assert out == "two words\nthree words here\n\nlast line here"


def test_line_length_max_length():
    text = "a b\na b c\na b c d"
    assert text_of(lm.line_length_modifier(page(text), max_length=3)) == "a b\na b c"


def test_line_length_defaults_keep_everything():
    p = page("x\n\ny z")
    assert lm.line_length_modifier(p) == [p]


# --- word_length_modifier (C4) ------------------------------------------------

def test_word_length_modifier():
    text = "short words only\nhas abcdef word\nhas abcde word"
    out = text_of(lm.word_length_modifier(page(text), max_length=5, model="split"))
    assert out == "short words only\nhas abcde word"


# --- substring_line_modifier --------------------------------------------------

def test_substring_remove_only_refinedweb_cart():
    text = f"{BODY}\n3 items in cart\nItems In Cart"
    out = text_of(lm.substring_line_modifier(page(text), banlist="items in cart",
                                             max_length=10, remove_substring_only=True))
    # The substring goes; a line left empty goes too.
    assert out == f"{BODY}\n3"


@pytest.mark.parametrize("n_words, touched", [(9, True), (10, True), (11, False)])
def test_substring_max_length(n_words, touched):
    line = " ".join(["w"] * (n_words - 3) + ["items", "in", "cart"])
    out = lm.substring_line_modifier(page(f"{BODY}\n{line}"), banlist="items in cart",
                                     max_length=10, remove_substring_only=True)
    assert ("items in cart" not in text_of(out)) is touched


def test_substring_suffix_only_at_the_end():
    text = f"{BODY}\nGreat article Read more...\nRead more abc\nRead more... at the start"
    out = text_of(lm.substring_line_modifier(page(text), banlist="Read more...", location="suffix",
                                             max_length=10, remove_substring_only=True))
    assert out.split("\n") == [BODY, "Great article", "Read more abc", "Read more... at the start"]


def test_substring_prefix():
    text = f"{BODY}\nSign-in to comment\nPlease Sign-in"
    out = text_of(lm.substring_line_modifier(page(text), banlist="Sign-in", location="prefix",
                                             max_length=10, remove_substring_only=True))
    assert out.split("\n") == [BODY, "to comment", "Please Sign-in"]


def test_substring_c4_whole_line_and_case():
    text = f"{BODY}\nPlease enable JavaScript to view.\nWe use cookies, see our Privacy Policy."
    out = text_of(lm.substring_line_modifier(page(text), banlist=["javascript"]))
    assert out == f"{BODY}\nWe use cookies, see our Privacy Policy."
    out = text_of(lm.substring_line_modifier(page(text), banlist=["terms of use", "privacy policy"]))
    assert out == f"{BODY}\nPlease enable JavaScript to view."
    p = page(text)
    assert lm.substring_line_modifier(p, banlist=["javascript"], case_sensitive=True) == [p]


def test_substring_bad_location():
    with pytest.raises(ValueError, match="location"):
        lm.substring_line_modifier(page(BODY), banlist="x", location="middle")


# --- newline_removal_modifier -------------------------------------------------

@pytest.mark.parametrize("gap, expected_gap", [(1, 1), (2, 2), (3, 2), (6, 2)])
def test_newline_removal(gap, expected_gap):
    out = text_of(lm.newline_removal_modifier(page("a" + "\n" * gap + "b"), max_consecutive=2))
    assert out == "a" + "\n" * expected_gap + "b"


def test_newline_removal_custom():
    assert text_of(lm.newline_removal_modifier(page("a\n\nb"), max_consecutive=1)) == "a\nb"


# --- citation_removal_modifier ------------------------------------------------

def test_citation_removal():
    out = text_of(lm.citation_removal_modifier(page("Paris[1] is[edit] big[citation needed].[]")))
    assert out == "Paris is big."
    p = page("A list [a] stays [ 1 ].")
    assert lm.citation_removal_modifier(p) == [p]


# --- punctuation_line_modifier ------------------------------------------------

def test_punctuation_line_modifier():
    text = 'Menu\nA sentence.\nA question?\n"Quoted"\nTrailing ...\nUnicode \u2026\n\nwow!'
    out = text_of(lm.punctuation_line_modifier(page(text)))
    assert out == 'A sentence.\nA question?\n"Quoted"\nTrailing ...\nUnicode \u2026\n\nwow!'
    out = text_of(lm.punctuation_line_modifier(page(text), remove_ellipses=True))
    assert out == 'A sentence.\nA question?\n"Quoted"\n\nwow!'


# --- within_page_dedup --------------------------------------------------------

def test_within_page_dedup_lines():
    text = "Home\nBody text.\nhome \n\n\nBody text.\nEnd"
    assert text_of(lm.within_page_dedup(page(text))) == "Home\nBody text.\n\n\nEnd"
    assert text_of(lm.within_page_dedup(page(text), normalize=False)) == "Home\nBody text.\nhome \n\n\nEnd"


def test_within_page_dedup_paragraphs():
    text = "Para one.\nline\n\nPara two.\n\npara one.\nLINE"
    out = text_of(lm.within_page_dedup(page(text), granularity="paragraph"))
    assert out == "Para one.\nline\n\nPara two."
    with pytest.raises(ValueError):
        lm.within_page_dedup(page(text), granularity="sentence")


# --- shared contract ----------------------------------------------------------

CALLS = [
    (lm.uppercase_ratio_line_modifier, {}),
    (lm.numeric_ratio_line_modifier, {}),
    (lm.counter_line_modifier, {}),
    (lm.line_length_modifier, {"min_length": 2}),
    (lm.word_length_modifier, {"max_length": 15}),
    (lm.substring_line_modifier, {"banlist": "Sign-in", "location": "prefix", "remove_substring_only": True}),
    (lm.punctuation_line_modifier, {"remove_ellipses": True}),
    (lm.newline_removal_modifier, {"max_consecutive": 2}),
    (lm.citation_removal_modifier, {}),
    (lm.within_page_dedup, {"granularity": "line"}),
]
MESSY = ("SHOUTING HEADER\nsupercalifragilistic.\n12345\n3 likes\nword\nSign-in now\nA cite[1].\n\n\n\n"
         "http://x.com ok.\nword")
# What DCLM's code returns for a page of blank lines: only the modifiers
# that strip their result (or remove every whitespace line) drop it.
BLANK_PAGE_KEPT = {"word_length_modifier", "newline_removal_modifier", "citation_removal_modifier",
                   "within_page_dedup"}
# DCLM never drops a page in these two, not even an empty one.
EMPTY_PAGE_KEPT = {"newline_removal_modifier", "within_page_dedup"}


@pytest.mark.parametrize("func, kwargs", CALLS, ids=lambda c: getattr(c, "__name__", ""))
def test_input_not_mutated_and_output_is_new(func, kwargs):
    p = page(MESSY)
    before = copy.deepcopy(p)
    out = func(p, **kwargs)
    assert p == before
    assert len(out) == 1 and out[0] is not p
    assert out[0]["text"] != MESSY
    assert {k: v for k, v in out[0].items() if k != "text"} == {k: v for k, v in p.items() if k != "text"}


@pytest.mark.parametrize("func, kwargs", CALLS, ids=lambda c: getattr(c, "__name__", ""))
def test_clean_page_returned_as_is_and_blank_pages_as_dclm(func, kwargs):
    p = page("Nothing to clean here, friend.")
    assert func(p, **kwargs) == [p] and func(p, **kwargs)[0] is p
    empty, blank = page(""), page(" \n\t")
    assert func(empty, **kwargs) == ([empty] if func.__name__ in EMPTY_PAGE_KEPT else [])
    assert func(blank, **kwargs) == ([blank] if func.__name__ in BLANK_PAGE_KEPT else [])


def test_operators_registered():
    names = {op.name for op in lm.OPERATORS}
    assert {"uppercase_ratio_line_modifier", "numeric_ratio_line_modifier", "counter_line_modifier",
            "line_length_modifier", "substring_line_modifier", "newline_removal_modifier",
            "citation_removal_modifier", "punctuation_line_modifier", "within_page_dedup"} <= names
    assert all(op.kind == MODIFIER and op.signals is None and op.keep is None for op in lm.OPERATORS)


# --- DCLM's exact outputs -------------------------------------------------------
# Each expected text is what DCLM's own modifier (baselines/mappers/modifiers.py)
# returned for the same input: whitespace and empty pages included.

@pytest.mark.parametrize("func, kwargs, text, dclm", [
    # No strip: leading and trailing blank lines survive.
    (lm.line_length_modifier, {"min_length": 2}, "\n\nA line here\nword\n\n", "\n\nA line here\n\n"),
    (lm.punctuation_line_modifier, {"remove_ellipses": True},
     "  Ends well.\nno end\nWait...\n\n", "  Ends well.\n\n"),
    # Strip, even when no line is removed.
    (lm.uppercase_ratio_line_modifier, {}, "\n  fine line  \n", "fine line"),
    (lm.numeric_ratio_line_modifier, {"max_ratio": 0.999999}, "12345\n fine \n", "fine"),
    (lm.counter_line_modifier, {}, "Post\n12K Likes\n", "Post"),
    # Entries are regular expressions: "..." matches "!!!".
    (lm.substring_line_modifier,
     {"banlist": "Read more...", "location": "suffix", "max_length": 10, "remove_substring_only": True},
     "Intro text\nGreat article Read more!!!\n   \nlast", "Intro text\nGreat article\nlast"),
    # remove_substring_only also removes whitespace-only lines.
    (lm.substring_line_modifier, {"banlist": "items in cart", "max_length": 10, "remove_substring_only": True},
     "3 items in cart\n \nbody", "3\nbody"),
    (lm.citation_removal_modifier, {}, "[1]", None),
    (lm.within_page_dedup, {}, "a\nA\n\n", "a\n\n"),
    (lm.newline_removal_modifier, {"max_consecutive": 2}, "", ""),
])
def test_dclm_outputs(func, kwargs, text, dclm):
    out = func(page(text), **kwargs)
    assert (out[0]["text"] if out else None) == dclm


def test_literal_banlist_matches_plain_text_only():
    kwargs = {"banlist": "Read more...", "location": "suffix", "max_length": 10,
              "remove_substring_only": True, "literal_banlist": True}
    text = "Intro text\nGreat article Read more!!!\nGood one Read more..."
    assert text_of(lm.substring_line_modifier(page(text), **kwargs)) == \
        "Intro text\nGreat article Read more!!!\nGood one"
