"""Exact-text and URL keys, and the distributed keep-the-first-occurrence step."""
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dedup.exact_keys import hash128, key_strings, normalize_exact_text, normalize_url


@pytest.mark.parametrize("url, expected", [
    ("https://www.Example.COM/Path/?utm_source=x&a=1", "example.com/Path"),
    ("http://example.com/path/", "example.com/path"),
    ("HTTP://WWW.EXAMPLE.COM:80/a#section", "example.com/a"),
    ("https://example.com:443/?ref=home", "example.com"),
    ("https://example.com/feed?id=3", "example.com/feed?id=3"),
    ("https://example.com/a?feed=rss", "example.com/a"),
    ("https://example.com:8080/a?b=1", "example.com:8080/a?b=1"),
    ("www.example.com/x", "example.com/x"),
    ("https://example.com/a?q=1&utm_medium=x", "example.com/a?q=1&utm_medium=x"),  # as C4: only "?utm_"
])
def test_url_normalization(url, expected):
    assert normalize_url(url) == expected


def test_exact_text_normalization():
    assert normalize_exact_text("  Hello\u00a0 WORLD\n\n ﬁne ") == "hello world fine"
    assert normalize_exact_text("Straße") == normalize_exact_text("STRASSE")
    assert normalize_exact_text("a.b") != normalize_exact_text("a b")   # punctuation kept
    assert normalize_exact_text(" A ", raw=True) == " A "


def test_keys_and_hashes():
    keys, present = key_strings(["https://a.com/", None, " ", "http://www.a.com"], "url")
    assert keys[0] == keys[3] == "a.com" and present.tolist() == [True, False, False, True]
    hi, lo = hash128(keys)
    assert (hi[0], lo[0]) == (hi[3], lo[3]) and (hi[1], lo[1]) == (0, 0)


def _write(path, ids, texts, urls):
    pq.write_table(pa.table({"id": ids, "text": texts, "url": urls}), path)


def test_first_occurrence_keeps_earliest_shard_then_row(tmp_path, ray_session):
    from dedup.first_occurrence import first_occurrence_annotations

    _write(tmp_path / "a.parquet", ["a0", "a1", "a2"], ["X y", "other", "x  Y"],
           ["http://s.com/1", "http://s.com/2", None])
    _write(tmp_path / "b.parquet", ["b0", "b1"], ["x y", "unique"],
           ["https://www.s.com/1/", None])
    paths = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    for partitions in (1, 3):
        refs, facts = first_occurrence_annotations(paths, column="text", kind="text",
                                                   reason="exact_duplicate",
                                                   num_partitions=partitions)
        a, b = ray_session.get(refs)
        assert a.column("keep").to_pylist() == [True, True, False]
        assert a.column("duplicate_of").to_pylist() == [None, None, "a0"]
        assert b.column("keep").to_pylist() == [False, True]
        assert b.column("reason").to_pylist() == ["exact_duplicate", None]
        assert facts["removed"] == 2 and facts["duplicate_groups"] == 1
    refs, facts = first_occurrence_annotations(paths, column="url", kind="url",
                                               reason="url_duplicate")
    a, b = ray_session.get(refs)
    assert a.column("keep").to_pylist() == [True, True, True]       # a null URL never matches
    assert b.column("duplicate_of").to_pylist() == ["a0", None]
