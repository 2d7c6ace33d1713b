"""Issue 15, page cases 13-15: a page the parser cannot finish, gzip transfer coding, wrong charsets.

Each WARC is written in the test with warcio; extraction is the real one
(``iter_extracted``: the record reader, the page worker, resiliparse).
"""
from __future__ import annotations

import gzip
import time
import zlib
from pathlib import Path

from hostile_archives import warc_of_pages as _warc

from dclm.runtime.ledger import ShardLedger
from pipelines.extract import iter_extracted

NORMAL = (b"<html><head><title>Fine</title></head><body><p>This ordinary page has a paragraph of plain "
          b"English words, long enough to be kept as the main content of the page.</p></body></html>")




def _extract(path: Path, **options) -> tuple[list[dict], ShardLedger]:
    ledger = ShardLedger(path.name, "extract", str(path), "")
    return list(iter_extracted(str(path), path.name, ledger, **options)), ledger


HTML = [("Content-Type", "text/html; charset=utf-8")]


def test_case13_a_page_the_parser_cannot_finish_is_cut_at_the_limit(tmp_path):
    deep = b"<html><body>" + b"<div>" * 100_000 + b"deep" + b"</div>" * 100_000 + b"</body></html>"
    warc = _warc(tmp_path / "deep.warc.gz", [(deep, HTML), (NORMAL, HTML), (deep, HTML), (NORMAL, HTML)])
    assert warc.stat().st_size < 20_000
    began = time.perf_counter()
    docs, ledger = _extract(warc, time_limit_s=1.0)
    elapsed = time.perf_counter() - began
    counts = ledger.step("extract")
    assert counts.errors["extraction_timeout"] == 2
    assert [d["url"] for d in docs] == ["http://example.com/1", "http://example.com/3"]
    assert elapsed < 30, elapsed
    assert sum("took over 1.0s" in m["reason"] for m in ledger.details["malformed_records"]) == 2


def test_case14_a_gzip_transfer_coding_is_decoded(tmp_path):
    pages = [(gzip.compress(NORMAL), HTML + [("Transfer-Encoding", "gzip")]),
             (zlib.compress(NORMAL), HTML + [("Transfer-Encoding", "deflate")]),
             (b"\x1f\x8b\x08garbage", HTML + [("Transfer-Encoding", "gzip")]),
             (NORMAL, HTML + [("Transfer-Encoding", "br")])]
    docs, ledger = _extract(_warc(tmp_path / "te.warc.gz", pages))
    assert [d["url"] for d in docs] == ["http://example.com/0", "http://example.com/1"]
    assert all("ordinary page" in d["text"] and "\ufffd" not in d["text"] for d in docs)
    assert ledger.step("extract").errors["malformed_record"] == 2
    reasons = [m["reason"] for m in ledger.details["malformed_records"]]
    assert any("Transfer-Encoding gzip" in r for r in reasons) and any("'br' is not supported" in r for r in reasons)


def test_case15_a_wrong_charset_header_falls_back_to_a_plausible_decoding(tmp_path):
    utf16 = NORMAL.decode().encode("utf-16-le")
    even_ascii = NORMAL + b" " * (len(NORMAL) % 2)
    pages = [(utf16, [("Content-Type", "text/html; charset=utf-8")]),
             (even_ascii, [("Content-Type", "text/html; charset=utf-16")]),
             (NORMAL.decode().encode("utf-16"), [("Content-Type", "text/html; charset=utf-16")])]
    docs, _ = _extract(_warc(tmp_path / "charsets.warc.gz", pages))
    assert len(docs) == 3
    for doc in docs:
        assert "This ordinary page has a paragraph" in doc["text"], doc["text"][:100]
        assert "\x00" not in doc["text"] and "<" not in doc["text"]
