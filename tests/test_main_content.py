"""The default extractor: boilerplate that bare resiliparse keeps goes, the article stays."""
from __future__ import annotations

import pytest
from conftest import WARC_DIR
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from dclm.extract.html_text import decode_html
from dclm.extract.main_content import extract_main_content
from dclm.io.warc_records import Record, iter_archive


def _flat(text: str) -> str:
    return " ".join(text.split())


def _bare(html: str) -> str:
    return extract_plain_text(HTMLTree.parse(html), main_content=True, preserve_formatting=True,
                              list_bullets=False, alt_texts=False)


# Real pages of the first dev WARC: (URL, article text that must stay,
# boilerplate that bare resiliparse keeps and we must drop).
REAL_PAGES = {
    "footer and social links": (
        "http://www.pointofsail-kiel.de/artikel/ben-wilson-surf.html",
        ["So manch einer der eingefleischten", "Our search for perfection never ends"],
        ["Bei uns wirst du frei nach dem Motto", "Folge uns auch in den sozialen"],
    ),
    "comment form": (
        "https://wolfgangschmale.eu/abgebrochene-forschung-eine-neue-studie-von-heinz-duchhardt/",
        ["[1] Wer im Wissenschaftsbetrieb würde", "[8] Historiker oder Geschichte als Fach"],
        ["Wenn Sie diesen Blogeintrag kommentieren", "Diese Website verwendet Akismet"],
    ),
    "related articles": (
        "https://www.proplanta.de/agrar-nachrichten/energie/bayern-fordert-hoehere-erloesobergrenzen-fuer-"
        "bioenergie_article1670823962.html",
        ["Wie der Ressortchef am Dienstag", "Unterdessen pochte die Leiterin"],
        ["Weitere Artikel zum Thema", "Kommentierte Artikel"],
    ),
    "author box": (
        "https://www.dwutygodnik.com/artykul/9491-winda-w-chmurach.html",
        ["Aleksandra Zbroja przedstawia się", "Mireczka, i bez niego."],
        ["Historyczka nowoczesnej kultury polskiej", "11 minut czytania"],
    ),
}


@pytest.fixture(scope="module")
def dev_pages(corpus) -> dict[str, str]:
    wanted = {url for url, _, _ in REAL_PAGES.values()}
    pages = {}
    for event in iter_archive(str(WARC_DIR / "CC-MAIN-DEV-00000.warc.gz")):
        if isinstance(event, Record) and event.rec_type == "response":
            url = event.header("WARC-Target-URI")
            if url in wanted:
                pages[url] = decode_html(event.payload, event.content_type)
    assert set(pages) == wanted
    return pages


@pytest.mark.parametrize("case", sorted(REAL_PAGES))
def test_real_page_loses_boilerplate_keeps_article(dev_pages, case):
    url, article, boilerplate = REAL_PAGES[case]
    html = dev_pages[url]
    ours, bare = _flat(extract_main_content(html)), _flat(_bare(html))
    for snippet in boilerplate:
        assert snippet in bare, f"bare resiliparse no longer keeps {snippet!r}: pick another case"
        assert snippet not in ours
    for snippet in article:
        assert snippet in ours


def test_real_page_keeps_line_structure(dev_pages):
    url = REAL_PAGES["related articles"][0]
    text = extract_main_content(dev_pages[url])
    lines = text.split("\n")
    assert len([line for line in lines if line]) > 5          # one block per line, not one blob
    assert "\n\n\n" not in text and text == text.strip()
    assert all(line == line.strip() for line in lines)


ARTICLE = """<!doctype html><html><head><title>t</title></head><body>
<div class="top"><a href="/">Home</a> &gt; <a href="/news">News</a> &gt; <a href="/news/x">Energy</a></div>
<div id="page"><div class="wrap"><div class="inner">
<article>
<p class="dateline">12.12.2022, 08:30 Uhr</p>
<h1>Wind power grows again</h1>
<p>Wind turbines produced more electricity this year than ever before, the agency said on Monday.</p>
<p>Offshore parks in the North Sea delivered most of the increase, while onshore building stalled.</p>
<p>Operators expect another rise next year if permits keep coming faster &amp; cheaper.</p>
<p>Share this article</p>
<p>Foto: dpa</p>
<h2>Related articles</h2>
<p><a href="/a">Solar parks hit record</a></p>
<p>Battery prices fall</p>
<p>Grid expansion delayed</p>
<pre>capacity = {
    "offshore": 8.1,
}</pre>
<p>Copyright © 2022 Example Media. All rights reserved.</p>
</article>
</div></div></div>
<div class="footer-links"><ul><li><a href="/imprint">Imprint</a></li><li><a href="/privacy">Privacy</a></li></ul></div>
</body></html>"""


def test_synthetic_article():
    text = extract_main_content(ARTICLE)
    for kept in ("Wind power grows again", "Wind turbines produced more electricity",
                 "Offshore parks in the North Sea", "faster & cheaper."):
        assert kept in text
    for dropped in ("Home", "12.12.2022", "Share this article", "Foto: dpa", "Related articles",
                    "Solar parks hit record", "Battery prices fall", "Copyright", "Imprint"):
        assert dropped not in text
    # Preformatted text is never filtered and keeps its indentation.
    assert '    "offshore": 8.1,' in text.split("\n")
    # Paragraphs keep their blank line; the title comes first.
    assert text.startswith("Wind power grows again\n\nWind turbines produced")


def test_running_text_with_boilerplate_words_is_kept():
    sentence = ("In a long comment on the newsletter controversy, the editor explained why readers who share "
                "articles on social media should also subscribe, and why the cookie banner had been removed.")
    html = f"<html><body><article><h1>Editorial</h1><p>{sentence}</p></article></body></html>"
    assert sentence in extract_main_content(html)


def test_guard_spares_a_wrapper_with_a_boilerplate_class():
    paragraphs = "".join(f"<p>Paragraph number {i} of the article, a full sentence of text.</p>" for i in range(4))
    html = f'<html><body><div class="content with-author-box"><h1>Title</h1>{paragraphs}</div></body></html>'
    text = extract_main_content(html)
    assert "Paragraph number 0" in text and "Paragraph number 3" in text


def test_short_pages_are_not_emptied():
    assert extract_main_content("<p>hello &amp; world</p>") == "hello & world"
    assert extract_main_content("plain text") == "plain text"
    assert extract_main_content("") == ""
