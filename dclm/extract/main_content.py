"""Main-content extraction for the default (resiliparse) extractor.

Bare resiliparse ``main_content=True`` keeps most of an article (recall ~0.95 on
the trafilatura snippet benchmark) but also a good share of boilerplate:
comment forms, author boxes, "related articles" lists, share and newsletter
prompts, photo credits, footers. Trafilatura removes those with a DOM scoring
pass that costs ~10x more time. This module gets that precision back at close
to resiliparse's speed, in two cheap steps:

1. Block pruning inside resiliparse's own traversal (``skip_elements``): a few
   CSS selectors for elements that are boilerplate by tag or class vocabulary
   (forms, footers, author boxes, captions, post meta). Class names are
   unreliable (a layout wrapper may be called ``content-with-footer``, an
   ASP.NET page sits whole in one ``<form>``), so a guard spares any element
   that holds the page's ``<h1>``, a ``<main>``, a table, a definition list or
   a run of sibling paragraphs, ``<br>`` lines or ``<div>`` blocks: those hold
   the article, not chrome. Every selector adds matching work on every
   element of the DOM, so the list only holds selectors that pay for
   themselves.

2. Line filtering of the extracted text (``dclm.extract.boilerplate_lines``). resiliparse writes one block per
   line; asking for its ``minimal_html`` output with links gives each line's
   link density for free. A line is dropped when it is mostly link text, when
   its wording is a known kind of boilerplate (share, comment, newsletter and
   login prompts, ad labels, photo credits, copyright, post meta, bare dates,
   single navigation words), or when it heads a "related articles" block,
   whose title-like lines go with it. Lines before an early ``<h1>``
   (breadcrumbs, datelines) and short non-sentences after the last sentence
   (bylines, menus) are trimmed. The rules are generic web vocabulary in
   German, English, Spanish, French, Italian and Portuguese, and only look at
   lines of at most 250 characters, so running text is left alone. Rules are
   indexed by the words that must occur for them to match, so a line only
   meets the few regular expressions its own words call for.

3. A safety net. Pruning that removes (nearly) everything is a bug, whatever
   the page. When the result is short, or the line rules dropped most of
   what they were given, the same parsed tree is extracted again without
   block pruning and filtered only by the line rules backed by what a line
   says; if ours kept under a fifth of that text's words, that text is the
   result. ``extract_main_content_checked`` says when this happened
   (``dclm extract`` counts it as ``extract_fallbacks`` in each shard's
   ledger). It runs on few pages (2 of the 1,249 dev pages), so it costs
   little.

The output keeps resiliparse's layout: one block per line, a blank line after
paragraphs and headings; preformatted text keeps its indentation.
"""
from __future__ import annotations

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from dclm.extract.boilerplate_lines import clean_lines, clean_lines_measured

__all__ = ["extract_main_content", "extract_main_content_checked", "extract_bare", "SKIP_SELECTORS"]

# ---------------------------------------------------------------------------
# 1. Boilerplate blocks, pruned during extraction.

# An element holding any of these is (part of) the article: never prune it.
# Besides the title and a run of paragraphs, the shapes main text takes where
# it has no <p>: tables and definition lists (reference pages, old table
# layouts, an ASP.NET page's all-enclosing <form>), lines split by <br>, and
# runs of <div> blocks. A footer or author box seldom holds them; when one
# does, the line rules still drop its links and boilerplate wording.
_CONTENT_GUARD = ":not(:has(h1, main, table, dl, p ~ p ~ p, br ~ br ~ br, div ~ div ~ div ~ div))"

_BOILERPLATE_BLOCKS = (
    "form",                      # comment, search, newsletter and login forms
    '[class*="footer" i]',       # page and widget footers (resiliparse only drops the global one)
    '[class*="author" i]',       # author boxes and bios
    '[class*="caption" i]',      # image captions and credits
    '[class*="meta"]',           # post meta: dates, categories, reading time
)

SKIP_SELECTORS = [":is(" + ", ".join(_BOILERPLATE_BLOCKS) + ")" + _CONTENT_GUARD]

def _extract_options() -> dict:
    """The most capable extraction settings this resiliparse accepts.

    ``minimal_html`` output, ``comments`` and ``skip_elements`` with ``:has()``
    need a recent resiliparse (2.x is what the figures above were measured
    with). An older one gets the same line rules without link density or
    block pruning instead of an error on every page.
    """
    probe = HTMLTree.parse("<html><body><div class='footer'><h1>t</h1><p>a</p></div></body></html>")
    for options in (
        dict(preserve_formatting="minimal_html", links=True, comments=False, skip_elements=SKIP_SELECTORS),
        dict(preserve_formatting="minimal_html", links=True, comments=False),
        dict(preserve_formatting="minimal_html", links=True),
        dict(preserve_formatting=True),
    ):
        try:
            extract_plain_text(probe, main_content=True, list_bullets=False, alt_texts=False, **options)
        except Exception:  # unknown keyword, unknown value, unsupported selector
            continue
        return options
    return {}


_EXTRACT_OPTIONS = _extract_options()

# ---------------------------------------------------------------------------
# 3. The safety net.

# Its extraction: the same, without block pruning.
_UNPRUNED_OPTIONS = {key: value for key, value in _EXTRACT_OPTIONS.items() if key != "skip_elements"}
# resiliparse's comment pruning drops any element with a class token that
# holds "comment", which on some themes is the post itself (Sandbox and its
# children write ``class="post ... comments-open"``). When that left nothing,
# comment threads are pruned by their usual names instead: whole class
# tokens and ids (WordPress, Blogger, Disqus).
_COMMENT_THREADS = ('[id="comments"], [class~="comments"], [class~="commentlist"], [class~="comment-list"], '
                    '[class~="comment"], [id="respond"], [id="disqus_thread"], [id="comments-block"]')
_UNPRUNED_WITH_COMMENTS = None
if "comments" in _EXTRACT_OPTIONS:
    _UNPRUNED_WITH_COMMENTS = {**_UNPRUNED_OPTIONS, "comments": True}
    if "skip_elements" in _EXTRACT_OPTIONS:
        _UNPRUNED_WITH_COMMENTS["skip_elements"] = [_COMMENT_THREADS]

# The pruned text is checked against the unpruned one when it is shorter
# than this, or when the line rules dropped over four fifths of their input.
_CHECK_BELOW_CHARS = 600
_MAX_LOSS = 5           # fall back when ours keeps under 1/5 of the reference's words
_NEAR_EMPTY_WORDS = 25  # reference this small: resiliparse's comment pruning may have taken the post


def extract_main_content(html: str) -> str:
    """Main text of an HTML page, one block per line."""
    return extract_main_content_checked(html)[0]


def extract_main_content_checked(html: str) -> tuple[str, bool]:
    """Main text of an HTML page, and whether the safety net replaced the pruned text.

    The pruned text is checked only when it is short or the line rules
    dropped most of what they were given: a second extraction of the same
    tree costs about as much as the first, so checking every page would not
    be cheap, and a long result is one that the guarded block pruning and
    the line rules left most of. The reference is resiliparse's main
    content without our block pruning, filtered only by the line rules
    backed by what a line says (link density, boilerplate wording, "related
    articles" headings): what is left there is text for which we have no
    evidence that it is boilerplate.
    """
    tree = HTMLTree.parse(html)
    marked = extract_plain_text(tree, main_content=True, list_bullets=False, alt_texts=False, **_EXTRACT_OPTIONS)
    text, given = clean_lines_measured(marked)
    if len(text) >= _CHECK_BELOW_CHARS and len(text) * _MAX_LOSS >= given:
        return text, False
    words = len(text.split())
    reference = _unpruned(tree, _UNPRUNED_OPTIONS)
    reference_words = len(reference.split())
    if words * _MAX_LOSS < reference_words:
        return reference, True
    if reference_words < _NEAR_EMPTY_WORDS and _UNPRUNED_WITH_COMMENTS is not None:
        with_comments = _unpruned(tree, _UNPRUNED_WITH_COMMENTS)
        if words * _MAX_LOSS < len(with_comments.split()):
            return with_comments, True
    return text, False


def _unpruned(tree: HTMLTree, options: dict) -> str:
    marked = extract_plain_text(tree, main_content=True, list_bullets=False, alt_texts=False, **options)
    return clean_lines(marked, safe=True)


def extract_bare(html: str) -> str:
    """DCLM's own extraction, unchanged: resiliparse ``extract_plain_text(html, main_content=True)``."""
    return extract_plain_text(html, main_content=True)
