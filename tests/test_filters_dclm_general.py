"""DCLM's general-purpose mappers: each expected value is what DCLM's own code returned."""
from __future__ import annotations

import pytest

from filters import dclm_general as dg
from filters import language_id as lid
from filters import page_quality as pq
from filters.registry import OPERATORS


def run(name: str, page: dict, **kwargs):
    return OPERATORS[name].func(page, **kwargs)


def test_key_name_modifier():
    assert run("key_name_modifier", {"content": "hello", "url": "u"}) == [{"url": "u", "text": "hello"}]
    with pytest.warns(UserWarning, match="allow_overwrite"):
        assert run("key_name_modifier", {"content": "hello", "text": "t"}) == [{"content": "hello", "text": "t"}]
    assert run("key_name_modifier", {"content": "hello", "text": "t"}, allow_overwrite=True) == [{"text": "hello"}]
    page = {"text": "no content key"}
    assert run("key_name_modifier", page)[0] is page


def test_split_and_join_lines():
    # DCLM: "a\nb\n" -> ["a", "b", ""] and back; here the text stays a string, marked.
    split = run("split_lines_modifier", {"text": "a\nb\n"})
    assert split == [{"text": "a\nb\n", dg.SPLIT_DELIMITER: "\n"}]
    assert run("join_lines_modifier", split[0]) == [{"text": "a\nb\n"}]
    assert run("join_lines_modifier", split[0], delimiter=" ") == [{"text": "a b "}]
    assert run("split_lines_modifier", {"text": ""}) == []                  # DCLM drops it too
    assert run("join_lines_modifier", {"text": "", dg.SPLIT_DELIMITER: "\n"}) == []
    page = {"text": "never split"}
    assert run("join_lines_modifier", page)[0] is page


@pytest.mark.parametrize("text, kwargs, kept", [
    ("ab!!!!!!!!", {}, False),                       # 0.2 < 0.25: the "max" is a minimum
    ("abc!!!!!!!!", {}, True),
    ("ab!!", {"max_alnum_ratio": 0.5}, True),        # exactly at it: kept
    ("", {}, False),
])
def test_alphanumeric_char_ratio_filter(text, kwargs, kept):
    assert bool(run("alphanumeric_char_ratio_filter", {"text": text}, **kwargs)) is kept


def test_line_length_filter():
    # splitlines: "\r" ends a line too, so the longest line is "123456".
    assert run("line_length_filter", {"text": "12345\r123456"}, max_length=5) == []
    assert run("line_length_filter", {"text": "1234567\n123"}, length_type="avg", max_length=5) != []
    assert run("line_length_filter", {"text": ""}) == []
    with pytest.raises(ValueError):
        run("line_length_filter", {"text": "x"}, length_type="median")


def test_line_counter_enricher():
    assert run("line_counter_enricher", {"text": "a\n\n b \n  \nc"})[0]["num_lines"] == 3
    out = run("line_counter_enricher", {"text": "a\n\nb\n\n"}, paragraph_end="\n\n", remove_empty=False, key="n")
    assert out[0]["n"] == 3


@pytest.mark.parametrize("min_length, kept", [(3, True), (4, True), (5, False)])
def test_page_length_sentences_blingfire(min_length, kept):
    # blingfire: "One here." "Two there!" "Three?" "Four" -> 4 sentences.
    text = "One here. Two there! Three?\nFour"
    assert bool(pq.page_length_filter({"text": text}, length_type="sentence", min_length=min_length)) is kept


def test_detect_lang_paragraph_enricher():
    text = "This is an English sentence. Das ist ein deutscher Satz. ... !!"
    out = lid.detect_lang_paragraph_enricher({"text": text}, model="fasttext", tokenizer="blingfire")[0]
    value = out["language_id_paragraph_fasttext"]
    assert {lang: v["number_of_sentences"] for lang, v in value.items()} == {"en": 1, "de": 1}
    # DCLM with the same lid.176.ftz: en 0.92644, de 0.99999.
    assert value["en"]["average_probability"] == pytest.approx(0.92644, abs=1e-4)
    assert value["de"]["average_probability"] == pytest.approx(0.99999, abs=1e-4)


def test_langdetect_whole_page_seeded():
    pytest.importorskip("langdetect")
    text = "This is an English sentence about the weather and the sea."
    out = lid.detect_lang_whole_page_enricher({"text": text}, model="langdetect", seed=0)[0]
    assert out["language_id_whole_page_langdetect"] == {"en": pytest.approx(0.999997, abs=1e-5)}


def test_signals_and_keep_agree():
    for name, page, kwargs in [("alphanumeric_char_ratio_filter", {"text": "ab!!"}, {"max_alnum_ratio": 0.5}),
                               ("line_length_filter", {"text": "abc\nde"}, {"max_length": 2})]:
        op = OPERATORS[name]
        keep = op.keep(op.signals(page, **kwargs), **kwargs)
        assert (op.func(page, **kwargs) == [page]) is keep


def test_tokens_filter_reports_missing_transformers():
    try:
        import transformers  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="transformers"):
            OPERATORS["alphabetic_characters_to_tokens_filter"].check()
    else:
        pytest.skip("transformers is installed")
    assert dg.alphabetic_characters_to_tokens_filter_keep({"alpha_chars_per_token": float("nan")}) is False
