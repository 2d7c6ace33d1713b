"""Reading documents in the formats people have (format told by content), and writing DCLM's JSONL."""
from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from dclm.io.document_fields import InputNotes
from dclm.io.document_files import (
    InputFormatError,
    iter_document_batches,
    iter_documents,
    iter_records,
    read_documents_table,
    sniff_format,
)
from dclm.io.document_writers import JsonlShardWriter, write_documents_table
from dclm.io.parquet_schema import CORE_SCHEMA, json_columns
from dclm.io.parquet_shards import iter_rows, write_rows

# Two records as DCLM's pool ships them: no id column, the WARC headers under metadata.
POOL_RECORDS = [
    {"text": "First page text.", "url": "https://a.example/1",
     "metadata": {"WARC-Record-ID": "<urn:uuid:aaaa>", "WARC-Date": "2019-01-01T00:00:00Z"}},
    {"text": "Second page text.", "url": "https://b.example/2",
     "metadata": {"WARC-Record-ID": "<urn:uuid:bbbb>", "WARC-Target-URI": "https://b.example/2"},
     "fasttext_openhermes_reddit_eli5_vs_rw_v2_bigram_200k_train_prob": 0.25},
]


def _jsonl_bytes(records) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def _write(path, data: bytes, compression: str) -> None:
    if compression == "gz":
        data = gzip.compress(data)
    elif compression == "zst":
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)


@pytest.mark.parametrize("compression, expected", [("", "jsonl"), ("gz", "jsonl.gz"), ("zst", "jsonl.zst")])
def test_jsonl_is_told_by_its_bytes_not_its_name(tmp_path, compression, expected):
    path = tmp_path / "shard.bin"          # a name that says nothing
    _write(path, _jsonl_bytes(POOL_RECORDS), compression)
    assert sniff_format(str(path)) == expected
    notes = InputNotes()
    docs = list(iter_documents(str(path), notes))
    assert [d["text"] for d in docs] == ["First page text.", "Second page text."]
    # id from DCLM's metadata.WARC-Record-ID; every other field kept as it was
    assert [d["id"] for d in docs] == ["<urn:uuid:aaaa>", "<urn:uuid:bbbb>"]
    assert docs[0]["metadata"]["WARC-Date"] == "2019-01-01T00:00:00Z"
    assert docs[1]["fasttext_openhermes_reddit_eli5_vs_rw_v2_bigram_200k_train_prob"] == 0.25
    assert notes.to_dict()["id_from"] == {"metadata.WARC-Record-ID": 2}
    assert notes.to_dict()["url_from"] == {"url": 2}
    assert notes.format == expected


def test_parquet_and_warc_are_told_by_their_bytes(tmp_path, corpus):
    parquet = tmp_path / "docs.jsonl"      # a misleading name
    pq.write_table(pa.table({"text": ["a b c"], "dump": ["CC-MAIN-2024-10"]}), parquet)
    assert sniff_format(str(parquet)) == "parquet"
    warc = next((corpus / "warc").glob("*.warc.gz"))
    assert sniff_format(str(warc)) == "warc"


def test_a_file_in_no_known_format_fails_with_one_line_naming_it(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"just some words, not a shard\n")
    with pytest.raises(InputFormatError) as caught:
        sniff_format(str(path))
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    assert "Parquet" in message and "JSONL" in message and "WARC" in message
    assert caught.value.retriable is False


def test_fineweb_style_parquet_keeps_its_columns_and_gets_no_new_id(tmp_path):
    path = tmp_path / "fineweb.parquet"
    pq.write_table(pa.table({"text": ["one", "two"], "id": ["<urn:1>", "<urn:2>"], "dump": ["d", "d"],
                             "url": ["https://x/1", "https://x/2"], "token_count": [1, 1]}), path)
    docs = list(iter_documents(str(path)))
    assert [d["id"] for d in docs] == ["<urn:1>", "<urn:2>"]
    assert docs[0]["dump"] == "d" and docs[0]["token_count"] == 1


def test_records_without_any_id_get_file_and_line(tmp_path):
    path = tmp_path / "plain.jsonl"
    path.write_bytes(_jsonl_bytes([{"text": "x"}, {"text": "y"}]))
    notes = InputNotes()
    docs = list(iter_documents(str(path), notes))
    assert [d["id"] for d in docs] == ["plain.jsonl:1", "plain.jsonl:2"]
    assert notes.id_from == {"file:line": 2} and notes.url_from == {"none": 2}


def test_bad_lines_are_counted_with_their_numbers_and_the_rest_is_read(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"text": "good one"}\n'
                     b'{"text": "broken\n'              # line 2: not JSON
                     b'\n'                              # blank: not a record
                     b'{"title": "no text here"}\n'     # line 4: no text
                     b'[1, 2]\n'                        # line 5: not an object
                     b'{"text": 7}\n'                   # line 6: text not a string
                     b'{"text": "good two"}\n')
    notes = InputNotes()
    docs = list(iter_documents(str(path), notes))
    assert [d["text"] for d in docs] == ["good one", "good two"]
    assert notes.lines == 6
    assert [item["line"] for item in notes.listed] == [2, 4, 5, 6]
    assert sum(notes.bad_lines.values()) == 4
    assert notes.bad_lines["jsonl_missing_text"] == 2


def test_records_come_as_the_file_has_them(tmp_path):
    """iter_records: no text required, nothing filled in; bad lines still noted and skipped."""
    path = tmp_path / "answers.jsonl.gz"
    _write(path, _jsonl_bytes([{"instruction": "Why?", "output": "Because."}, "not an object",
                               POOL_RECORDS[0]]), "gz")
    notes = InputNotes()
    records = list(iter_records(str(path), notes))
    assert records == [(1, {"instruction": "Why?", "output": "Because."}), (3, POOL_RECORDS[0])]
    assert notes.format == "jsonl.gz" and notes.lines == 3 and notes.listed[0]["line"] == 2
    assert not notes.id_from and not notes.url_from
    parquet = tmp_path / "rows"
    write_rows(str(parquet), [{"id": "1", "url": "https://x/1", "text": "one"}])
    assert list(iter_records(str(parquet), columns=["text"])) == [(1, {"text": "one"})]


def test_a_truncated_zstd_file_fails_naming_the_file(tmp_path):
    records = [{"text": f"document number {i} " * 20} for i in range(400)]
    whole = zstandard.ZstdCompressor().compress(_jsonl_bytes(records))
    path = tmp_path / "cut.jsonl.zst"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputFormatError) as caught:
        list(iter_documents(str(path)))
    assert str(path) in str(caught.value) and "truncated" in str(caught.value)


def test_warc_where_documents_are_expected_says_extract_first(corpus):
    warc = next((corpus / "warc").glob("*.warc.gz"))
    with pytest.raises(InputFormatError, match="extract it first"):
        list(iter_documents(str(warc)))


def test_our_parquet_has_no_map_columns_and_dicts_come_back(tmp_path):
    path = tmp_path / "ours.parquet"
    rows = [{"id": "1", "url": "u", "text": "t", "source": "s", "date": "", "metadata": {"k": "v"},
             "language_id_whole_page_fasttext": {"en": 0.9}},
            {"id": "2", "url": "u", "text": "t2", "source": "s", "date": "", "metadata": {},
             "language_id_whole_page_fasttext": {"de": 0.7, "en": 0.2}}]
    write_rows(str(path), rows)
    schema = pq.read_schema(path)
    assert not any(pa.types.is_map(f.type) or pa.types.is_struct(f.type) for f in schema)
    assert json_columns(schema) == {"metadata", "language_id_whole_page_fasttext"}
    assert list(iter_rows(str(path))) == rows
    assert pq.read_table(path).column("metadata").to_pylist() == ['{"k":"v"}', "{}"]


@pytest.mark.parametrize("suffix", [".jsonl.zst", ".jsonl.gz"])
def test_jsonl_output_is_dclm_layout_and_byte_identical_on_rewrite(tmp_path, suffix):
    rows = [{"id": "a", "url": "https://a", "text": "Alpha.", "metadata": {"WARC-Record-ID": "<a>"}, "score": 0.5},
            {"id": "b", "url": "https://b", "text": "Beta.", "metadata": {}, "score": 0.25}]
    written = []
    for attempt in range(2):
        path = tmp_path / f"out{attempt}{suffix}"
        with JsonlShardWriter(str(path)) as writer:
            for row in rows:
                writer.write(dict(row))
        written.append(path.read_bytes())
    assert written[0] == written[1]
    assert [d for d in iter_documents(str(tmp_path / f"out0{suffix}"))] == rows
    # The same rows through a whole Arrow table give the same documents.
    table_path = tmp_path / f"table{suffix}"
    table = pa.Table.from_pylist(rows[:1]).replace_schema_metadata(CORE_SCHEMA.metadata)
    table = table.set_column(table.schema.get_field_index("metadata"), "metadata",
                             pa.array(['{"WARC-Record-ID":"<a>"}']))
    write_documents_table(str(table_path), table)
    assert list(iter_documents(str(table_path))) == rows[:1]


def test_tables_and_batches_read_jsonl_like_parquet(tmp_path):
    path = tmp_path / "pool.jsonl.zst"
    _write(path, _jsonl_bytes(POOL_RECORDS), "zst")
    table = read_documents_table(str(path))
    assert table.column("id").to_pylist() == ["<urn:uuid:aaaa>", "<urn:uuid:bbbb>"]
    batches = list(iter_document_batches(str(path), ["text", "id"], batch_size=1))
    assert [b.column("id").to_pylist() for b in batches] == [["<urn:uuid:aaaa>"], ["<urn:uuid:bbbb>"]]


@pytest.mark.parametrize("data", [gzip.compress(b"plain words, not JSON\n"), gzip.compress(b""),
                                  b"\x28\xb5\x2f\xfd" + b"not really zstd", b"\x1f\x8b" + b"not really gzip"])
def test_compressed_files_of_no_known_format_are_refused_by_name(tmp_path, data):
    path = tmp_path / "mystery.jsonl.gz"
    path.write_bytes(data)
    with pytest.raises(InputFormatError, match="not a format dclm reads"):
        sniff_format(str(path))


def test_columns_asked_for_come_in_that_order(tmp_path):
    path = tmp_path / "pool.jsonl"
    path.write_bytes(_jsonl_bytes(POOL_RECORDS))
    table = read_documents_table(str(path), columns=["text", "id"])
    assert table.column_names == ["text", "id"]
    assert table.column(0).to_pylist() == ["First page text.", "Second page text."]
