"""C4 rules: substring_filter (DCLM), c4_line_modifier, c4_page_filter, c4_quality_filter."""
import copy

import pytest

from filters import c4
from filters.operator import FILTER, MODIFIER

REAL_TEXTS = [
    "The committee met on Tuesday to review the budget for next year. Members agreed that the new "
    "library should open in spring.\nThe chair said the cost has risen by about 12% since last year [3].\n"
    "Please enable JavaScript to view the comments powered by our partner.\n"
    "This website uses cookies to improve your experience while you navigate.\n"
    "Share this\nA public meeting is planned for March 3 in the town hall. Everyone is welcome to come.",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do eiusmod tempor incididunt ut labore.",
    "function f() { return 1; }\nvar x = {a: 1};",
    "Die Stadt hat am Montag beschlossen, das alte Schwimmbad zu sanieren. Die Arbeiten sollen im "
    "Herbst beginnen. Sie dauern zwei Jahre.",
    "",
]

ALL = {op.name: op for op in c4.OPERATORS}
SENTENCE = "This line has five words."


def keeps(func, text, **params):
    return func({"text": text}, **params) != []


def test_operator_names_and_kinds():
    assert list(ALL) == ["substring_filter", "c4_line_modifier", "c4_page_filter", "c4_quality_filter"]
    assert ALL["substring_filter"].kind == FILTER and ALL["c4_page_filter"].kind == FILTER
    assert ALL["c4_line_modifier"].kind == MODIFIER and ALL["c4_quality_filter"].kind == MODIFIER
    assert ALL["substring_filter"].signals and ALL["c4_page_filter"].keep


# -- substring_filter ---------------------------------------------------------------

@pytest.mark.parametrize("text,matches", [("Nothing to see here.", 0), ("Some LOREM IPSUM text.", 1),
                                          ("lorem ipsum, Lorem Ipsum", 2)])
def test_substring_count_and_decision(text, matches):
    params = dict(banlist=["lorem ipsum"])
    assert c4.substring_filter_signals({"text": text}, **params) == {"substring_lorem_ipsum_count": matches}
    assert keeps(c4.substring_filter, text, **params) is (matches == 0)


def test_substring_curly_bracket_is_literal():
    assert c4.substring_filter_signals({"text": "a { b"}, banlist="{") == {"substring_x7b_count": 1}
    assert not keeps(c4.substring_filter, "var x = {};", banlist="{")
    assert keeps(c4.substring_filter, "no brackets (here) [at all]", banlist="{")
    # entries are literal strings, not regular expressions
    assert keeps(c4.substring_filter, "abc", banlist=["a.c"])
    assert not keeps(c4.substring_filter, "x a.c y", banlist=["a.c"])


@pytest.mark.parametrize("text,kept", [("You are an asset.", True), ("Kick his ass.", False),
                                       ("ASS-backwards", False), ("glass", True)])
def test_substring_exact_word(text, kept):
    assert keeps(c4.substring_filter, text, banlist=["ass", "two words"], exact_word=True) is kept


def test_substring_exact_word_multiword_entry():
    assert not keeps(c4.substring_filter, "it has two words here", banlist=["two words"], exact_word=True)
    assert keeps(c4.substring_filter, "it has two wordsmiths", banlist=["two words"], exact_word=True)


def test_substring_location_and_case():
    assert not keeps(c4.substring_filter, "Sign in to continue", banlist="sign in", location="prefix")
    assert keeps(c4.substring_filter, "Please sign in", banlist="sign in", location="prefix")
    assert not keeps(c4.substring_filter, "Please sign in", banlist="sign in", location="suffix")
    assert keeps(c4.substring_filter, "Sign in to continue", banlist="sign in", case_sensitive=True)
    assert not keeps(c4.substring_filter, "sign in to continue", banlist="sign in", case_sensitive=True)
    with pytest.raises(ValueError):
        c4.substring_filter({"text": "x"}, banlist="x", location="middle")


def test_substring_banlist_from_file(tmp_path):
    path = tmp_path / "badwords.txt"
    path.write_text("# a comment line\nbadword\nworse phrase\n\n", encoding="utf-8")
    params = dict(banlist_from_fname=str(path), exact_word=True)
    assert keeps(c4.substring_filter, "A perfectly fine page.", **params)  # blank entry ignored
    assert keeps(c4.substring_filter, "a comment line", **params)
    assert not keeps(c4.substring_filter, "A page with a Worse Phrase in it.", **params)
    assert c4.substring_filter_signals({"text": "badword badwords"}, **params) == {"substring_badwords_word_count": 1}


def test_substring_columns_differ_per_setting():
    a = c4._substring_column(["lorem ipsum"], None, "any", False, False)
    b = c4._substring_column("{", None, "any", False, False)
    d = c4._substring_column(None, "baselines/mappers/banlists/ldnoobw.txt", "any", False, True)
    assert len({a, b, d}) == 3 and d == "substring_ldnoobw_word_count"


# -- c4_line_modifier ---------------------------------------------------------------

def cleaned(text, **params):
    out = c4.c4_line_modifier({"text": text, "url": "u"}, **params)
    return out[0]["text"] if out else None


@pytest.mark.parametrize("n_words,kept", [(4, False), (5, True), (6, True)])
def test_line_min_words(n_words, kept):
    line = " ".join(["word"] * n_words) + "."
    assert (cleaned(f"{line}\n{SENTENCE}") == f"{line}\n{SENTENCE}") is kept


@pytest.mark.parametrize("length,kept", [(999, True), (1000, True), (1001, False)])
def test_line_max_word_length(length, kept):
    line = "a b c d " + "x" * (length - 1) + "."  # the period belongs to the word
    assert (line in (cleaned(f"{line}\n{SENTENCE}") or "")) is kept


@pytest.mark.parametrize("ending,kept", [(".", True), ("?", True), ("!", True), ('"', True), ("'", False),
                                         ("...", False), (":", False), ("", False)])
def test_line_end_marks(ending, kept):
    line = "one two three four five" + ending
    assert (line in (cleaned(f"  {line}  \n{SENTENCE}") or "").split("\n")) is kept


def test_line_rules_javascript_policy_citations():
    text = ("Please enable JavaScript in your browser now.\nThis site uses cookies for the best experience.\n"
            "Read our Privacy Policy before you sign up.\nThe river is long [12] and cold [edit].\n" + SENTENCE)
    assert cleaned(text) == "The river is long  and cold .\n" + SENTENCE
    assert "JavaScript" in cleaned(text, filter_javascript=False)
    assert "Privacy Policy" in cleaned(text, filter_policy=False)
    assert "[12]" in cleaned(text, remove_citations=False)


def test_line_words_counted_after_citation_removal():
    # five words with the marks, four ("one two three  .") without
    assert cleaned("one two three [1] [2].\n" + SENTENCE) == SENTENCE


def test_line_modifier_returns_copy_or_nothing():
    page = {"text": "short\nno end mark here at all", "url": "u"}
    assert c4.c4_line_modifier(page) == []
    page = {"text": SENTENCE + "\nmenu", "url": "u", "id": "1"}
    out = c4.c4_line_modifier(page)
    assert out == [{"text": SENTENCE, "url": "u", "id": "1"}] and out[0] is not page
    assert page["text"] == SENTENCE + "\nmenu"


def test_line_modifier_leaves_page_rule_lines_for_the_page_filter():
    # C4 drops these pages; the modifier keeps the evidence so that c4_page_filter can
    assert "lorem ipsum" in cleaned("Lorem ipsum in a javascript example here.\n" + SENTENCE).lower()
    assert "{" in cleaned("Our cookie policy is {simple} and short.\n" + SENTENCE)
    # but C4 tests javascript before the bracket, so such a line just goes
    assert cleaned("Enable javascript: {tracking} is on.\n" + SENTENCE) == SENTENCE


# -- c4_page_filter -----------------------------------------------------------------

@pytest.mark.parametrize("n,kept", [(2, False), (3, True), (4, True)])
def test_page_min_sentences(n, kept):
    text = " ".join(["It rains."] * (n - 1)) + "\nA line without an end mark"
    assert c4.c4_page_filter_signals({"text": text})["c4_sentence_count"] == n
    assert keeps(c4.c4_page_filter, text, min_num_sentences=3) is kept


def test_page_lorem_ipsum_and_curly_bracket():
    good = "One sentence. Two sentences. Three sentences."
    assert keeps(c4.c4_page_filter, good)
    assert not keeps(c4.c4_page_filter, good + " LOREM Ipsum.")
    assert not keeps(c4.c4_page_filter, good + " {")
    assert keeps(c4.c4_page_filter, good + " {", filter_curly_bracket=False)
    assert keeps(c4.c4_page_filter, good + " lorem ipsum", filter_lorem_ipsum=False)
    assert keeps(c4.c4_page_filter, "Hi.", min_num_sentences=-1)
    assert c4.c4_page_filter_signals({"text": good + " {"}) == \
        {"c4_lorem_ipsum": 0, "c4_curly_bracket": 1, "c4_sentence_count": 4}


# -- c4_quality_filter --------------------------------------------------------------

def test_quality_filter_matches_reference_order():
    body = "\n".join([SENTENCE] * 3)
    assert c4.c4_quality_filter({"text": body}) == [{"text": body}]
    # a lorem ipsum line without end mark is removed before it can drop the page
    assert keeps(c4.c4_quality_filter, "lorem ipsum dolor sit amet\n" + body)
    assert not keeps(c4.c4_quality_filter, "Lorem ipsum dolor sit amet.\n" + body)
    # javascript is tested before the bracket, the policy after it
    assert keeps(c4.c4_quality_filter, "Turn on javascript {now} for this page.\n" + body)
    assert not keeps(c4.c4_quality_filter, "Our cookie policy is {simple} and short.\n" + body)
    assert keeps(c4.c4_quality_filter, "Our cookie policy is {simple} and short.\n" + body,
                 filter_curly_bracket=False)
    assert not keeps(c4.c4_quality_filter, SENTENCE + "\n" + SENTENCE)
    assert keeps(c4.c4_quality_filter, SENTENCE + "\n" + SENTENCE, min_num_sentences=2)


def test_quality_filter_is_line_modifier_then_page_filter():
    for text in REAL_TEXTS:
        page = {"text": text, "url": "u"}
        via_steps = [q for p in c4.c4_line_modifier(page) for q in c4.c4_page_filter(p)]
        assert c4.c4_quality_filter(page) == via_steps


# -- contract ------------------------------------------------------------------------

PARAM_SETS = {
    "substring_filter": [dict(banlist=["lorem ipsum"]), dict(banlist="{"),
                         dict(banlist=["cookies", "javascript"], exact_word=True, location="any"),
                         dict(banlist="share this", location="suffix", case_sensitive=False)],
    "c4_page_filter": [{}, dict(min_num_sentences=5, filter_curly_bracket=False)],
    "c4_line_modifier": [{}, dict(min_words_per_line=3, filter_policy=False)],
    "c4_quality_filter": [{}, dict(min_num_sentences=5)],
}


@pytest.mark.parametrize("name", list(PARAM_SETS))
def test_contract_and_purity(name):
    op = ALL[name]
    for params in PARAM_SETS[name]:
        for text in REAL_TEXTS:
            page = {"text": text, "url": "https://example.com/", "id": "x", "metadata": {"k": "v"}}
            before = copy.deepcopy(page)
            out = op.func(page, **params)
            assert page == before
            if op.kind == FILTER:
                signals = op.signals(page, **params)
                assert page == before
                assert out == ([page] if op.keep(signals, **params) else [])
                assert all(isinstance(v, int) for v in signals.values())
            else:
                assert all(p is not page and p["url"] == page["url"] for p in out)


def test_real_text_decisions():
    news = REAL_TEXTS[0]
    out = c4.c4_quality_filter({"text": news})
    assert out and "JavaScript" not in out[0]["text"] and "cookies" not in out[0]["text"]
    assert "Share this" not in out[0]["text"] and "[3]" not in out[0]["text"]
    assert not keeps(c4.c4_quality_filter, REAL_TEXTS[1])
    assert not keeps(c4.substring_filter, REAL_TEXTS[2], banlist="{")
