"""Sentences as DCLM's recipes count them: blingfire or nltk punkt.

``page_length_filter(length_type: sentence)`` and
``detect_lang_paragraph_enricher`` take DCLM's ``tokenizer`` parameter;
``blingfire`` is DCLM's default, ``nltk`` (punkt, English for C4) is what
its ``c4.yaml`` asks for. Both split the whole text (not line by line) and
drop sentences that are empty once stripped, as DCLM's ``split_sentences``
does. Without ``tokenizer`` our rule-based splitter
(``filters.text_units.split_sentences``) is used, as before.

blingfire is a dependency. nltk is optional and its punkt data is not a
package: a recipe asking for ``tokenizer: nltk`` stops at load unless
``python -m nltk.downloader punkt`` has been run.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Optional

TOKENIZERS = ("blingfire", "nltk")


def check_tokenizer(tokenizer: Optional[str], tokenizer_lang: Optional[str] = None) -> None:
    """Raise ValueError/ImportError now if ``tokenizer`` cannot split sentences here."""
    if tokenizer is None:
        return
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, not {tokenizer!r}")
    if tokenizer == "blingfire":
        _blingfire()
    else:
        _punkt(tokenizer_lang)


def _blingfire():
    try:
        import blingfire
    except ImportError as exc:
        raise ImportError("tokenizer: blingfire needs the blingfire package (pip install blingfire)") from exc
    return blingfire


@lru_cache(maxsize=4)
def _punkt(tokenizer_lang: Optional[str]):
    try:
        import nltk
    except ImportError as exc:
        raise ImportError("tokenizer: nltk needs the nltk package (pip install nltk) and its punkt "
                          "data (python -m nltk.downloader punkt)") from exc
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    if tokenizer_lang not in ("en", "english"):
        # DCLM: an untrained punkt tokenizer for any other language.
        return PunktSentenceTokenizer()
    # C4's English punkt model. Recent nltk ships it as "punkt_tab" and
    # refuses the old pickle; either gives the same parameters.
    for resource in ("tokenizers/punkt_tab/english/", "tokenizers/punkt/english.pickle"):
        try:
            nltk.data.find(resource)
        except LookupError:
            continue
        try:
            from nltk.tokenize import _get_punkt_tokenizer  # nltk >= 3.8.2
            return _get_punkt_tokenizer("english")
        except ImportError:
            return nltk.data.load("tokenizers/punkt/english.pickle")
    raise ImportError("tokenizer: nltk needs nltk's English punkt data, which is not installed: "
                      "run python -m nltk.downloader punkt_tab (nltk >= 3.8.2) or punkt")


def split_sentences(text: str, tokenizer: str = "blingfire",
                    tokenizer_lang: Optional[str] = None) -> list[str]:
    """DCLM's ``split_sentences``: stripped, non-empty sentences of ``text``."""
    if not text:
        return []
    if tokenizer == "blingfire":
        _, offsets = _blingfire().text_to_sentences_and_offsets(text)
    elif tokenizer == "nltk":
        offsets = list(_punkt(tokenizer_lang).span_tokenize(text))
    else:
        raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, not {tokenizer!r}")
    return [piece for start, end in offsets if (piece := text[start:end].strip())]
