"""Charset decoding order, the per-document time limit, and the ledger's invariant checks."""
from __future__ import annotations

import time

import pytest

from dclm.extract.html_text import charset_from_content_type, decode_html, get_extractor
from dclm.extract.time_limit import DocumentTimeout, time_limit
from dclm.runtime.ledger import ShardLedger, StepCounts, summarize_run


def test_charset_order_header_then_meta_then_detection():
    text = "<html><head><meta charset='windows-1251'></head><body>Привет, мир</body></html>"
    payload = text.encode("windows-1251")
    assert "Привет" in decode_html(payload, "text/html; charset=windows-1251")
    assert "Привет" in decode_html(payload, "text/html")                  # from <meta>
    utf8 = "<html><body>Grüße aus Köln, schöne Straße</body></html>".encode()
    assert "Grüße" in decode_html(utf8, None)                              # detected
    assert charset_from_content_type("text/html; charset=no-such-codec") is None
    assert charset_from_content_type('text/html; charset="UTF-8"') == "UTF-8"


def test_valid_utf8_with_no_declared_charset_is_read_as_utf8():
    from conftest import SAMPLE_DIR

    from dclm.extract.html_text import html_encoding
    from dclm.io.warc_records import Record, iter_archive

    # The bundled sample page that detection read as cp1250: "hasnâ€™t".
    (page,) = [e for e in iter_archive(str(SAMPLE_DIR / "CC-MAIN-DEV-00010.warc.gz"))
               if isinstance(e, Record) and e.header("WARC-Target-URI") == "https://ol.example.org/"
               and e.rec_type == "response"]
    assert charset_from_content_type(page.content_type) is None
    html = decode_html(page.payload, page.content_type)
    assert "hasn\u2019t" in html and "\u00e2\u20ac" not in html
    short = "<p>It isn\u2019t \u201cfine\u201d.</p>".encode()
    assert html_encoding(short) == "utf-8" and decode_html(short) == "<p>It isn\u2019t \u201cfine\u201d.</p>"
    # A declaration still wins over valid UTF-8 bytes, and bytes that are not UTF-8 are detected.
    declared = b"<meta charset='windows-1252'>" + short
    assert html_encoding(declared) == "cp1252"
    cp1252 = "<html><body>It isn\u2019t fine, caf\u00e9 cr\u00e8me br\u00fbl\u00e9e</body></html>".encode("cp1252")
    assert html_encoding(cp1252) != "utf-8" and "caf\u00e9" in decode_html(cp1252)


def test_undecodable_bytes_are_replaced_not_fatal():
    assert "abc" in decode_html(b"<p>abc \xff\xfe\xfa</p>", "text/html; charset=utf-8")


def test_unknown_extractor_is_refused():
    with pytest.raises(ValueError, match="unknown extractor"):
        get_extractor("boilerpipe")


def test_time_limit_interrupts_python_work():
    started = time.monotonic()
    with pytest.raises(DocumentTimeout):
        with time_limit(0.2):
            while True:
                pass
    assert time.monotonic() - started < 2
    with time_limit(5):
        assert sum(range(1000)) == 499500


def test_ledger_detects_counts_that_do_not_add_up():
    ledger = ShardLedger(shard="s", stage="t", input="i", output="o")
    a = ledger.step("a")
    a.docs_in, a.kept = 10, 7
    a.dropped["short"] = 3
    b = ledger.step("b")
    b.docs_in, b.kept = 7, 6
    assert ledger.problems() == ["s: step 'b': in=7 but kept+dropped+errors = 6"]
    b.errors["boom"] = 1
    assert ledger.problems() == []
    b.docs_in = 8
    b.kept = 7
    assert any("passed 7 documents" in p for p in ledger.problems())


def test_run_summary_sums_steps_over_shards():
    ledgers = []
    for name in ("x", "y"):
        ledger = ShardLedger(shard=name, stage="t", input=name, output=name)
        step = ledger.step("extract")
        step.docs_in, step.kept = 5, 4
        step.dropped["empty_text"] = 1
        ledgers.append(ledger)
    stats = summarize_run(ledgers, {"z": "ShardError: bad"}, "t", 1.0)
    assert stats["documents_in"] == 10 and stats["documents_out"] == 8
    assert stats["steps"][0]["dropped"] == {"empty_text": 2}
    assert stats["invariant_ok"] and stats["shards_failed"] == {"z": "ShardError: bad"}
    assert StepCounts.from_dict(stats["steps"][0].copy()).imbalance() == 0
