"""url_removal_modifier: DCLM's exact outputs, then the opt-in fixes.

Every expected text in the "DCLM" cases is what DCLM's own
``url_removal_modifier`` (baselines/mappers/modifiers.py) returned for the
same input; the TLDs involved (com, org, th, buy, in) are in both lists.
"""
from __future__ import annotations

import pytest

from filters import url_removal as ur
from filters.registry import OPERATORS


def page(text: str) -> dict:
    return {"id": "<urn:uuid:1>", "url": "https://example.com/a", "text": text}


def removed(text: str, **kwargs):
    out = ur.url_removal_modifier(page(text), **kwargs)
    return out[0]["text"] if out else None


@pytest.mark.parametrize("text, dclm", [
    # The text starts with a TLD ("Th"), so DCLM looks for URLs; the \s{0,10}
    # before "example.org" takes the newline and joins the two lines.
    ("The site example.com is\nexample.org great", "The site is great"),
    # "Buy" starts with the TLD "buy": URLs go, with the full stop after them.
    ("Buy it, linking to Amazon.com.", "Buy it, linking to"),
    # "He" is no TLD: DCLM's anchored check fails and every URL stays.
    ("He linked to Amazon.com.", "He linked to Amazon.com."),
    # The URL regex is case-sensitive although the check is not.
    ("In 2020 see example.COM or Example.com/x", "In 2020 see example.COM or"),
    ("Comments\nsee https://www.example.com/path?x=1 now", "Comments\nsee now"),
    # IPv4 runs on every page; 319 fits no octet, so that number survives.
    ("Population 1.121.319.953 and host 10.0.0.1 here", "Population 1.121.319.953 and host here"),
    ("com.example", "com.example"),
    ("10.0.0.1", None),                              # emptied: dropped
])
def test_dclm_outputs(text, dclm):
    assert removed(text) == dclm


def test_unchanged_page_is_returned_as_is():
    p = page("He linked to Amazon.com.")
    assert ur.url_removal_modifier(p)[0] is p


def test_whitespace_only_page_is_kept_as_in_dclm():
    p = page(" \n ")
    assert ur.url_removal_modifier(p) == [p]
    assert ur.url_removal_modifier(page("")) == []


def test_anchor_tld_check_false_searches_every_page():
    assert removed("He linked to Amazon.com.", anchor_tld_check=False) == "He linked to"
    assert removed("Visit https://www.example.com/path?x=1&y=2 for more.",
                   anchor_tld_check=False) == "Visit for more."


def test_keep_line_breaks():
    text = "The list:\nexample.org is one"
    assert removed(text) == "The list: is one"
    assert removed(text, keep_line_breaks=True) == "The list:\n is one"


@pytest.mark.parametrize("text", ["e.g. this costs 3.14 dollars.", "It ended.It began.", "Use Node.js here."])
def test_leaves_prose(text):
    assert removed(text, anchor_tld_check=False) == text


def test_custom_tld_file(tmp_path):
    tlds = tmp_path / "tlds.txt"
    tlds.write_text("zz\n")
    assert removed("zz: go to site.zz or site.com", tlds_filepath=str(tlds)) == "zz: go to or site.com"
    with pytest.raises(OSError, match="missing.txt"):
        removed("a.com b", tlds_filepath=str(tmp_path / "missing.txt"))


def test_escaped_tlds_match_only_their_escaped_text(tmp_path):
    # DCLM escapes each TLD twice, so "xn--p1ai" only matches "xn\-\-p1ai".
    tlds = tmp_path / "tlds.txt"
    tlds.write_text("xn--p1ai\ncom\n")
    assert removed("com: site.xn--p1ai", tlds_filepath=str(tlds)) == "com: site.xn--p1ai"
    assert removed("com: site.xn\\-\\-p1ai", tlds_filepath=str(tlds)) == "com:"


def test_registered():
    assert OPERATORS["url_removal_modifier"].func is ur.url_removal_modifier


@pytest.mark.parametrize("keep_line_breaks", [False, True])
def test_fast_scan_equals_the_plain_regexes(keep_line_breaks):
    """The probe-and-walk-back scan removes exactly what DCLM's re.sub calls remove."""
    import random

    remover = ur._remover(ur._TLDS_FILE, keep_line_breaks)
    rng = random.Random(7)
    pieces = list("ab.c/:-_ \n\t w1290.") + [".com", ".org", "http://", "https://", "ftp://", ".co.uk", "www.",
                                            "10.0.0.1", "1.121.319.953", "Th", "\u00a0", "x" * 300, ".COM"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        for anchor in (True, False):
            want = text
            if not anchor or remover.starts_with_tld.match(text):
                want = remover.url.sub("", want)
            want = remover.ipv4.sub("", want)
            assert remover.remove(text, anchor) == want, text
