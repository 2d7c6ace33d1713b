"""URL steps: move_url_modifier and url_substring_filter in all of DCLM's modes."""
from __future__ import annotations

import copy
import os
import re

import pytest

from filters import url_filters as uf
from filters.operator import FILTER, MODIFIER

BANLISTS = os.path.join(os.path.dirname(uf.__file__), "banlists")


def page(url: str, **extra) -> dict:
    return {"id": "<urn:uuid:2>", "url": url, "text": "Some text.", "metadata": {}, **extra}


def kept(url: str, **params) -> bool:
    p = page(url)
    before = copy.deepcopy(p)
    out = uf.url_substring_filter(p, **params)
    assert p == before
    assert out in ([], [p])
    # The filter is exactly its signals plus its decision.
    signals = uf.url_substring_filter_signals(p, **params)
    assert uf.url_substring_filter_keep(signals, **params) is bool(out)
    return bool(out)


# --- move_url_modifier --------------------------------------------------------

def test_move_url_modifier_copies_warc_uri():
    p = {"text": "t", "metadata": {"WARC-Target-URI": "https://a.org/x"}}
    before = copy.deepcopy(p)
    out = uf.move_url_modifier(p)
    assert out[0]["url"] == "https://a.org/x" and out[0] is not p
    assert p == before


def test_move_url_modifier_without_header_is_a_no_op():
    p = page("https://a.org/x")
    assert uf.move_url_modifier(p)[0] is p


# --- exact domain match -------------------------------------------------------

# clean_domain: the fix for DCLM's "www." quirk (tested against DCLM below).
DOMAIN = dict(banlist=["example.com"], exact_domain_match=True, ignore_chars=["www"], clean_domain=True)


@pytest.mark.parametrize("url, is_kept", [
    ("https://example.com/page", False),
    ("https://www.example.com/page", False),     # "www" ignored
    ("http://EXAMPLE.com:8080/x", False),        # case and port do not matter
    ("https://user@example.com/", False),
    ("https://sub.example.com/", True),          # exact: subdomains are other hosts
    ("https://notexample.com/", True),
    ("https://example.com.evil.net/", True),
    ("https://other.org/example.com", True),     # the path is not the host
    ("not a url", True),
])
def test_exact_domain(url, is_kept):
    assert kept(url, **DOMAIN) is is_kept


def test_exact_domain_entry_with_www_matches_too():
    params = dict(banlist=["www.example.com"], exact_domain_match=True, ignore_chars=["www"],
                  clean_domain=True)
    assert not kept("https://example.com/", **params)
    assert not kept("https://www.example.com/", **params)


def test_exact_domain_entry_reduced_to_nothing_bans_nothing():
    assert kept("", banlist=["www", "www."], exact_domain_match=True, ignore_chars=["www"],
                clean_domain=True)


def test_exact_domain_ignores_num_banned_substrs():
    assert not kept("https://example.com/", num_banned_substrs=3, **DOMAIN)


def test_refinedweb_high_quality_domains():
    # DCLM's refinedweb.yaml names hosts exactly ("en.wikipedia.org").
    hq = ["arxiv.org", "github.com", "en.wikipedia.org", "stackoverflow.com"]
    params = dict(banlist=hq, exact_domain_match=True, ignore_chars=["www"], clean_domain=True)
    assert not kept("https://arxiv.org/abs/2406.11794", **params)
    assert not kept("https://www.github.com/mlfoundations/dclm", **params)
    assert not kept("https://en.wikipedia.org/wiki/Language_model", **params)
    assert kept("https://de.wikipedia.org/wiki/Sprachmodell", **params)
    assert kept("https://example.com/en.wikipedia.org", **params)


# --- substrings and words -----------------------------------------------------

def test_substring_match_default():
    params = dict(banlist=["porn"])
    assert not kept("https://site.com/pornstar-videos", **params)
    assert not kept("https://PORN.example/", **params)
    assert kept("https://site.com/popcorn", **params)


def test_case_sensitive():
    assert kept("https://site.com/PORN", banlist=["porn"], case_sensitive=True)
    assert not kept("https://site.com/porn", banlist=["porn"], case_sensitive=True)


def test_whole_word_match():
    params = dict(banlist=["sex"], match_substrings=False)
    assert not kept("https://site.com/sex/video", **params)
    assert not kept("https://site.com/free-sex-video", **params)
    assert kept("https://www.sussex.ac.uk/", **params)
    assert kept("https://site.com/sexagesimal", **params)


# --- DCLM's own behaviour (outputs of DCLM's url_substring_filter) -----------

@pytest.mark.parametrize("url, is_kept", [
    ("https://reddit.com/r/x", False),
    ("https://www.reddit.com/r/x", True),       # "www" removed leaves ".reddit.com"
    ("https://reddit.com:443/r/x", True),       # DCLM compares the netloc, port included
    ("https://REDDIT.com/r/x", False),          # case-folded
])
def test_dclm_exact_domain_quirks(url, is_kept):
    assert kept(url, banlist=["reddit.com"], exact_domain_match=True, ignore_chars=["www"]) is is_kept


def test_dclm_ignore_chars_apply_to_the_url_only():
    # DCLM never matches an entry that holds an ignored character ...
    strict = dict(banlist=["g-spot"], ignore_chars=["-", "."])
    assert kept("https://foo.blogspot.com/x", **strict)
    assert kept("https://best-g-spot.example/x", **strict)
    assert not kept("https://best-g-spot.example/x", banlist=["g-spot"])
    # ... and normalize_banlist (the opt-in) revives it, blogspot and all.
    assert not kept("https://foo.blogspot.com/x", normalize_banlist=True, **strict)


def test_ignore_chars_defeats_obfuscation():
    params = dict(banlist=["porn"], ignore_chars=["-", "."])
    assert not kept("https://p-o-r-n.example.com/", **params)
    assert not kept("https://por.n-site.com/", **params)
    assert kept("https://p-o-r-n.example.com/", banlist=["porn"])


@pytest.mark.parametrize("url, hits, is_kept", [
    ("https://site.com/cooking", 0, True),
    ("https://site.com/adult-education", 1, True),          # one below the threshold
    ("https://site.com/adult/webcam", 2, False),            # at the threshold
    ("https://site.com/adult-webcam-escort", 3, False),     # over
    ("https://site.com/adult/adult/adult", 1, True),        # repeats are one entry
    ("https://site.com/ADULT/adult", 1, True),              # so are case variants
])
def test_num_banned_substrs(url, hits, is_kept):
    params = dict(banlist=["adult", "webcam", "escort"], num_banned_substrs=2, match_substrings=False)
    assert uf.url_substring_filter_signals(page(url), **params) == {"url_banlist_hits": hits}
    assert kept(url, **params) is is_kept


def test_longer_entry_wins_over_its_prefix():
    params = dict(banlist=["sex", "sexy"], match_substrings=False, num_banned_substrs=1)
    assert uf.url_substring_filter_signals(page("https://a.com/sexy"), **params)["url_banlist_hits"] == 1
    assert not kept("https://a.com/sexy", **params)


def test_banlist_as_string_and_regex_characters_are_literal():
    assert not kept("https://a.com/s&m", banlist="s&m")
    assert kept("https://a.com/sxm", banlist="s.m")
    assert not kept("https://a.com/s.m", banlist="s.m")


def test_url_falls_back_to_warc_header():
    p = {"text": "t", "metadata": {"WARC-Target-URI": "https://example.com/"}}
    assert uf.url_substring_filter(p, **DOMAIN) == []


def test_needs_a_banlist():
    with pytest.raises(ValueError, match="banlist"):
        uf.url_substring_filter(page("https://a.com"))


# --- banlist files ------------------------------------------------------------

def test_banlist_from_file_is_read_once(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("# a comment\nfoo\n\n  bar  \n")
    params = dict(banlist_from_fname=str(path), match_substrings=False)
    assert not kept("https://a.com/foo", **params)
    assert not kept("https://a.com/bar", **params)
    assert kept("https://a.com/comment", **params)
    path.write_text("other\n")   # cached: later pages use the list as first read
    assert not kept("https://a.com/foo", **params)


def test_file_wins_over_inline_banlist(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("foo\n")
    assert kept("https://a.com/bar", banlist=["bar"], banlist_from_fname=str(path))


def test_unreadable_banlist_names_the_file(tmp_path):
    missing = tmp_path / "no_such_list.txt"
    with pytest.raises(OSError, match=re.escape(str(missing))):
        uf.url_substring_filter(page("https://a.com"), banlist_from_fname=str(missing))
    with pytest.raises(ValueError, match="pickle"):
        uf.url_substring_filter(page("https://a.com"), banlist_from_fname=str(tmp_path / "x.pkl"))


def test_shipped_banlists_follow_refinedweb_tiers():
    f = lambda name: os.path.join(BANLISTS, name)  # noqa: E731
    domains = dict(banlist_from_fname=f("url_banned_domains.txt"), exact_domain_match=True,
                   ignore_chars=["www"], clean_domain=True)
    strict = dict(banlist_from_fname=f("url_banned_words_strict.txt"), ignore_chars=["-", "."])
    hard = dict(banlist_from_fname=f("url_banned_words_hard.txt"), match_substrings=False)
    soft = dict(banlist_from_fname=f("url_banned_words_soft.txt"), match_substrings=False,
                num_banned_substrs=2)
    assert not kept("https://www.pornhub.com/view", **domains)
    assert not kept("https://cheap-x.x.x-videos.example/", **strict)
    assert not kept("https://blog.example/nsfw/gallery", **hard)
    assert not kept("https://example.com/nude-webcam", **soft)
    clean = "https://en.wikipedia.org/wiki/Sussex_adult_education"
    for params in (domains, strict, hard, soft):
        assert kept(clean, **params)


def test_dclm_standins_exist():
    assert len(uf.DCLM_BANLIST_STANDINS) == 6
    for path in uf.DCLM_BANLIST_STANDINS.values():
        assert os.path.getsize(path) > 0


def test_operators_registered():
    ops = {op.name: op for op in uf.OPERATORS}
    assert ops["move_url_modifier"].kind == MODIFIER and ops["move_url_modifier"].signals is None
    f = ops["url_substring_filter"]
    assert f.kind == FILTER and f.signals is uf.url_substring_filter_signals
    assert f.keep is uf.url_substring_filter_keep


def test_words_to_regex_matches_exactly_the_words():
    words = ["a", "ab", "abc", "b.c", "x"]
    rx = re.compile(rf"^(?:{uf.words_to_regex(words)})$")
    for w in words:
        assert rx.match(w)
    for w in ["", "abcd", "bxc", "y", "ac"]:
        assert not rx.match(w)
    assert re.compile(uf.words_to_regex([])).search("anything") is None
