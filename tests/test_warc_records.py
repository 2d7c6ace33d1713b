"""The WARC reader on real and malformed archives: every good record, every bad stretch counted."""
from __future__ import annotations

import gzip
from collections import Counter

import pytest
from conftest import TORTURE_DIR, WARC_DIR

from dclm.errors import ShardError
from dclm.io.warc_records import Record, iter_archive, looks_like_archive


def _read(path):
    records, damaged = Counter(), []
    for event in iter_archive(str(path)):
        if isinstance(event, Record):
            records[event.rec_type] += 1
        else:
            damaged.append(event)
    return records, damaged


def test_common_crawl_excerpt_is_read_whole(corpus):
    records, damaged = _read(WARC_DIR / "CC-MAIN-2020-34-sample.warc.gz")
    assert records == {"warcinfo": 1, "request": 17, "response": 16, "metadata": 16}
    assert damaged == []


def test_payload_is_read_and_offsets_increase(corpus):
    events = list(iter_archive(str(WARC_DIR / "CC-MAIN-2014-35-sample.warc.gz")))
    responses = [e for e in events if e.rec_type == "response"]
    assert len(responses) == 4
    assert any(b"<html" in r.payload.lower() for r in responses)
    offsets = [e.offset for e in events]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)


@pytest.mark.parametrize("name, expected", [
    ("resiliparse-clueweb-quirk.warc.gz", {"warcinfo": 1, "response": 29}),
    ("warcio-bad.arc", {"warcinfo": 1, "response": 3}),
    ("warcio-example.arc.gz", {"warcinfo": 1, "response": 1}),
    ("warcio-example-iana.org-chunked.warc", {"warcinfo": 1, "response": 1, "request": 1}),
    ("warcio-example-trunc.warc", {"warcinfo": 2, "response": 1, "request": 1}),
])
def test_odd_but_readable_archives(corpus, name, expected):
    records, damaged = _read(TORTURE_DIR / name)
    assert dict(records) == expected
    assert damaged == []


@pytest.mark.parametrize("name", ["warcio-example-bad-non-chunked.warc.gz", "warcio-example-bad.warc.gz.bad"])
def test_single_stream_gzip_is_reread_not_rejected(corpus, name):
    # warcio raises ArchiveLoadFailed on these after the first record; every record is recovered.
    records, damaged = _read(TORTURE_DIR / name)
    assert records["response"] >= 1 and records["request"] == 2 and records["revisit"] == 1
    assert damaged == []


def test_wrong_chunk_boundaries_keep_good_records_and_count_the_damage(corpus):
    records, damaged = _read(TORTURE_DIR / "warcio-example-wrong-chunks.warc.gz")
    assert records["response"] == 1
    assert len(damaged) == 1
    assert damaged[0].offset == 516 and "ArchiveLoadFailed" in damaged[0].reason


def test_clipped_response_reports_missing_bytes(corpus):
    events = list(iter_archive(str(TORTURE_DIR / "resiliparse-clipped.warc.gz")))
    (response,) = [e for e in events if e.rec_type == "response"]
    assert response.clipped_bytes > 0
    assert len(response.payload) > 1000


def test_empty_and_foreign_files_are_shard_errors(tmp_path, corpus):
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    with pytest.raises(ShardError, match="empty file"):
        list(iter_archive(str(empty)))
    with pytest.raises(ShardError, match="not a WARC/ARC file"):
        list(iter_archive(str(corpus / "extraction-eval.jsonl")))
    html = tmp_path / "page.warc.gz"
    html.write_bytes(gzip.compress(b"<!doctype html><html><body>hi</body></html>"))
    with pytest.raises(ShardError, match="not a WARC/ARC file"):
        list(iter_archive(str(html)))


def test_missing_file_is_a_shard_error(tmp_path):
    with pytest.raises(ShardError, match="cannot open"):
        list(iter_archive(str(tmp_path / "nope.warc.gz")))


def test_format_sniffing():
    assert looks_like_archive(b"WARC/1.0\r\nWARC-Type: warcinfo")
    assert looks_like_archive(b"filedesc://x.arc 0.0.0.0 2014")
    assert not looks_like_archive(b'{"url": "x"}')
    assert not looks_like_archive(b"")


def test_damage_inside_a_gzip_member_is_skipped_to_the_next_member(tmp_path, corpus):
    # Corrupt the middle of one record of a real CC file: that record is lost,
    # counted once, and every later record is still read.
    data = bytearray((WARC_DIR / "CC-MAIN-2020-34-sample.warc.gz").read_bytes())
    offsets = [e.offset for e in iter_archive(str(WARC_DIR / "CC-MAIN-2020-34-sample.warc.gz"))]
    target = offsets[10]
    data[target + 40: target + 200] = b"\x00" * 160
    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(bytes(data))
    records, damaged = _read(broken)
    assert len(damaged) == 1 and damaged[0].offset == target
    assert sum(records.values()) == len(offsets) - 1


def test_arc_records_get_the_same_ids_on_every_read(corpus):
    from dclm.runtime.ledger import ShardLedger
    from pipelines.extract import iter_extracted

    arc = corpus / "torture" / "warcio-example.arc.gz"
    runs = [[d["id"] for d in iter_extracted(str(arc), arc.name, ShardLedger("s", "t", str(arc), ""))]
            for _ in range(2)]
    assert runs[0] and runs[0] == runs[1]
    assert all(doc_id.startswith("warcio-example.arc.gz@") for doc_id in runs[0])
