"""Issue #18: pruning must never throw a page's main text away.

Each hand-written page in ``extraction_shapes`` reproduces one way the old
pruning emptied a page (measured before the fix: every one of them came out
empty, as the site name only, or without its post). Fast: no Ray, no corpus.
"""
from __future__ import annotations

import io
import json
import re
from collections import Counter

import pytest
from extraction_shapes import SHAPES
from resiliparse.extract.html2text import extract_plain_text
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from dclm.extract.html_text import EXTRACTORS, get_checked_extractor, get_extractor
from dclm.extract.main_content import extract_main_content, extract_main_content_checked
from dclm.runtime.executor import ShardJob
from dclm.runtime.ledger import ShardLedger, summarize_run
from pipelines.extract import extract_shard

_TOKEN = re.compile(r"[\u3400-\u9fff]|\w+")


def _recall(text: str, gold: str) -> float:
    got, want = Counter(_TOKEN.findall(text.lower())), Counter(_TOKEN.findall(gold.lower()))
    return sum((got & want).values()) / sum(want.values())


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_keeps_its_main_text(shape):
    html, gold = SHAPES[shape]
    text = extract_main_content(html)
    assert _recall(text, gold) >= 0.85, text
    # The gold's first body line (after the title) is there verbatim.
    body = gold.split("\n")[1]
    assert " ".join(body.split()) in " ".join(text.split())


def test_comment_thread_stays_out_when_the_post_is_recovered():
    html, _ = SHAPES["short post, comments-open class"]
    text, fell_back = extract_main_content_checked(html)
    assert fell_back
    assert "laundry is done" in text and "wish me luck" in text
    assert "Thanks for writing this" not in text and "Reader 3" not in text


def test_guarded_pruning_needs_no_fallback():
    """Tables, definition lists, <br> lines and <div> runs are guarded at the mechanism."""
    for shape in ("drug page in an ASP.NET form", "glossary in a meta-named wrapper",
                  "div text in a footer-named layout"):
        assert extract_main_content_checked(SHAPES[shape][0])[1] is False, shape


LONG = ("The survey covered four hundred households across the valley and asked each one how often "
        "the water supply had failed during the summer months, and how long each failure lasted. ")


def test_safety_net_catches_what_the_guard_misses():
    # Two long paragraphs in a wrapper named like post meta: nothing in the
    # guard applies, so block pruning removes the whole text.
    html = (f'<html><body><h2>Water survey</h2><div class="entry-meta-block"><p>{LONG * 3}</p>'
            f"<p>{LONG * 2}</p></div></body></html>")
    text, fell_back = extract_main_content_checked(html)
    assert fell_back and text.count("four hundred households") == 5


def test_no_fallback_on_an_ordinary_short_page():
    html = "<html><body><article><h1>Note</h1><p>Back on Monday.</p></article></body></html>"
    assert extract_main_content_checked(html) == ("Note\n\nBack on Monday.", False)


def test_short_post_with_a_real_comment_thread_keeps_only_the_post():
    posts = "".join(f'<li class="comment" id="comment-{i}"><p>{LONG}</p></li>' for i in range(20))
    html = ('<html><body><div class="post"><h2>Short</h2><div class="entry">Back on Monday, see you then.</div>'
            f'</div><div id="comments"><ol class="commentlist">{posts}</ol></div></body></html>')
    text, fell_back = extract_main_content_checked(html)
    assert not fell_back and "Back on Monday" in text and "households" not in text


def test_resiliparse_bare_is_dclms_exact_extraction():
    assert "resiliparse-bare" in EXTRACTORS
    bare = get_extractor("resiliparse-bare")
    for html, _ in SHAPES.values():
        assert bare(html) == extract_plain_text(html, main_content=True)
    assert get_checked_extractor("resiliparse-bare")(SHAPES["drug page in an ASP.NET form"][0])[1] is False


def _warc(path, pages: list[str]) -> None:
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for i, html in enumerate(pages):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            record = writer.create_warc_record(f"https://example.org/{i}", "response",
                                               payload=io.BytesIO(html.encode()), http_headers=http)
            writer.write_record(record)


def test_fallbacks_are_counted_in_the_ledger_and_summed_in_stats(tmp_path):
    fallback_page = SHAPES["short post, comments-open class"][0]
    plain_page = SHAPES["drug page in an ASP.NET form"][0]
    ledgers = []
    for name, pages in (("a", [fallback_page, plain_page, fallback_page]), ("b", [plain_page])):
        _warc(tmp_path / f"{name}.warc.gz", pages)
        job = ShardJob(name=name, input=str(tmp_path / f"{name}.warc.gz"), output=str(tmp_path / f"{name}.parquet"),
                       ledger=str(tmp_path / ".dclm" / "ledger" / f"{name}.json"))
        extract_shard(job)
        ledgers.append(ShardLedger.from_dict(json.loads((tmp_path / ".dclm" / "ledger" / f"{name}.json").read_text())))
    assert [ledger.details["extract_fallbacks"] for ledger in ledgers] == [2, 0]
    assert ledgers[0].steps[0].kept == 3
    assert summarize_run(ledgers, {}, "extract", 1.0)["extract_fallbacks"] == 2
