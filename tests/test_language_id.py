"""Language ID with the shipped lid.176.ftz, and language_filter's threshold."""
from __future__ import annotations

import copy
import os

import pytest

from filters import language_id as lid
from filters.operator import ENRICHER, FILTER

ENGLISH = ("The committee met on Tuesday to discuss the new budget for the public library.\n"
           "Most members agreed that the opening hours should be extended during the summer.")
GERMAN = ("Der Ausschuss traf sich am Dienstag, um den neuen Haushalt der Stadtbibliothek zu "
          "besprechen.\nDie meisten Mitglieder waren sich einig, dass die Öffnungszeiten im "
          "Sommer verlängert werden sollten.")
KEY = "language_id_whole_page_fasttext"


def page(text: str, **extra) -> dict:
    return {"id": "<urn:uuid:3>", "url": "https://example.com", "text": text, "metadata": {}, **extra}


def enrich(text: str) -> dict:
    p = page(text)
    before = copy.deepcopy(p)
    out = lid.detect_lang_whole_page_enricher(p, model="fasttext", key_prefix="language_id_whole_page")
    assert p == before and len(out) == 1 and out[0] is not p
    return out[0]


def test_shipped_model_exists():
    assert os.path.getsize(lid._DEFAULT_MODEL) > 500_000


def test_english_page():
    value = enrich(ENGLISH)[KEY]
    assert list(value) == ["en"]
    assert 0.65 < value["en"] <= 1.0
    assert isinstance(value["en"], float)


def test_german_page():
    value = enrich(GERMAN)[KEY]
    assert list(value) == ["de"] and value["de"] > 0.65


def test_nothing_to_classify():
    assert enrich(" ... !! --")[KEY] == {}
    assert enrich("")[KEY] == {}
    # As in DCLM, only spaces and ASCII punctuation mean "nothing": a
    # newline makes fastText classify what is left.
    assert len(enrich(" ... !!\n\n--")[KEY]) == 1


def test_newlines_are_deleted_not_spaced(monkeypatch):
    seen = []

    class Model:
        def predict(self, line, k=1):
            seen.append(line)
            return ["__label__en"], [0.9]
    monkeypatch.setattr(lid, "_fasttext_model", lambda path: Model())
    lid.fasttext_language("one\ntwo\n\nthree")
    assert seen == ["onetwothree"]  # DCLM: text.replace("\n", "")


def test_broken_unicode_does_not_crash():
    assert list(enrich(ENGLISH + " \ud800")[KEY]) == ["en"]


def test_key_prefix_and_overwrite():
    p = page(ENGLISH)
    out = lid.detect_lang_whole_page_enricher(p, model="fasttext", key_prefix="lid")[0]
    assert "lid_fasttext" in out
    with pytest.raises(ValueError, match="overwrite"):
        lid.detect_lang_whole_page_enricher(out, model="fasttext", key_prefix="lid")
    again = lid.detect_lang_whole_page_enricher({**out, "text": GERMAN}, model="fasttext",
                                                key_prefix="lid", overwrite=True)[0]
    assert list(again["lid_fasttext"]) == ["de"]


def test_unknown_model():
    with pytest.raises(ValueError, match="model"):
        lid.detect_lang_whole_page_enricher(page(ENGLISH), model="cld3")


def test_langdetect_is_optional():
    try:
        import langdetect  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="langdetect"):
            lid.detect_lang_whole_page_enricher(page(ENGLISH), model="langdetect", seed=0)
        return
    out = lid.detect_lang_whole_page_enricher(page(ENGLISH), model="langdetect", seed=0)[0]
    assert out["language_id_whole_page_langdetect"]["en"] > 0.9


def test_model_loaded_once_per_process():
    lid.fasttext_language(ENGLISH)
    misses = lid._fasttext_model.cache_info().misses
    for _ in range(3):
        lid.fasttext_language(GERMAN)
    assert lid._fasttext_model.cache_info().misses == misses


def test_fasttext_still_trainable():
    import fasttext

    assert callable(fasttext.train_supervised)


# --- language_filter ----------------------------------------------------------

@pytest.mark.parametrize("prob, is_kept", [(0.64, False), (0.65, False), (0.66, True)])
def test_language_filter_threshold(prob, is_kept):
    p = page("x", **{KEY: {"en": prob}})
    params = dict(key=KEY, keep_languages=["en"], threshold=0.65)
    before = copy.deepcopy(p)
    out = lid.language_filter(p, **params)
    assert p == before
    assert out == ([p] if is_kept else [])
    signals = lid.language_filter_signals(p, **params)
    assert signals == {"language_prob": prob}
    assert lid.language_filter_keep(signals, **params) is is_kept


def test_language_filter_other_or_missing_language():
    params = dict(key=KEY, keep_languages=["en"], threshold=0.65)
    assert lid.language_filter(page("x", **{KEY: {"de": 0.99}}), **params) == []
    assert lid.language_filter(page("x", **{KEY: {}}), **params) == []
    assert lid.language_filter_signals(page("x", **{KEY: {}}), **params) == {"language_prob": 0.0}


def test_language_filter_several_languages_and_string():
    p = page("x", **{KEY: {"fr": 0.9}})
    assert lid.language_filter(p, keep_languages=["en", "fr"], key=KEY, threshold=0.5) == [p]
    assert lid.language_filter(p, keep_languages="fr", key=KEY, threshold=0.5) == [p]


def test_language_filter_needs_the_enricher():
    with pytest.raises(KeyError, match="detect_lang_whole_page_enricher"):
        lid.language_filter(page("x"), keep_languages=["en"], key=KEY)


def test_refinedweb_steps_end_to_end():
    params = dict(key=KEY, keep_languages=["en"], threshold=0.65)
    assert lid.language_filter(enrich(ENGLISH), **params)
    assert lid.language_filter(enrich(GERMAN), **params) == []


def test_operators_registered():
    ops = {op.name: op for op in lid.OPERATORS}
    assert ops["detect_lang_whole_page_enricher"].kind == ENRICHER
    assert ops["language_filter"].kind == FILTER
    assert ops["language_filter"].signals is lid.language_filter_signals
