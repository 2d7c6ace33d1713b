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
    from pipelines.deduplication.first_occurrence import first_occurrence_annotations

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


# --- DCLM's exact_dedup parameters (dedup.dclm_keys) ---------------------------

def test_dclm_normalizers_are_dclms():
    from dedup.dclm_keys import NORMALIZERS, normalizer

    # DCLM's normalize_url removes the scheme anywhere and keeps the host's case.
    assert NORMALIZERS["normalize_url"]("https://www.Example.com/a/?utm_x=1") == "Example.com/a"
    assert NORMALIZERS["normalize_url"]("see http://a.com/") == "see a.com"
    assert NORMALIZERS["normalize_whitespace_and_lowercase"]("  A b \n") == "a b"
    assert NORMALIZERS["hash_text"]("a") == "0cc175b9c0f1b6a831c399e269772661"
    with pytest.raises(ValueError, match="ccnet"):
        normalizer("ccnet_dedup_normalizer")


def test_dclm_selection_keeps_smallest_selected_value(tmp_path):
    from pipelines.deduplication import first_occurrence as fo

    _write(tmp_path / "a.parquet", ["a0", "a1"], [" Same text", "other"], ["http://z.com", "http://q.com"])
    _write(tmp_path / "b.parquet", ["b0"], ["same TEXT "], ["http://b.com"])
    _write(tmp_path / "c.parquet", ["c0"], ["unrelated"], [None])   # a shard with no selected value
    paths = [str(tmp_path / name) for name in ("a.parquet", "b.parquet", "c.parquet")]
    key_kwargs = dict(column="text", id_column="id", kind="dclm", raw=False,
                      normalize="normalize_whitespace_and_lowercase", selection_column="url")
    for partitions in (1, 3):
        for reverse in (False, True):
            (a, b, c), _ = _in_process(fo, paths, partitions, key_kwargs,
                                       lambda members: dict(reason="exact_duplicate"), reverse)
            if not reverse:   # "http://b.com" < "http://z.com": the later page survives
                assert a.column("keep").to_pylist() == [False, True]
                assert a.column("duplicate_of")[0].as_py() == "b0" and b.column("keep").to_pylist() == [True]
            else:
                assert a.column("keep").to_pylist() == [True, True] and b.column("keep").to_pylist() == [False]
            assert c.column("keep").to_pylist() == [True]


def test_dclm_exact_dedup_step_validates():
    from dclm.errors import UsageError
    from dedup.step_settings import global_step_settings

    global_step_settings("exact_dedup", {"content_key": "url", "normalize": "normalize_url"})
    global_step_settings("exact_dedup", {"content_key": "text", "normalize": "normalize_whitespace_and_lowercase",
                                      "selection_key": "url", "selection_normalize": "hash_text"})
    with pytest.raises(UsageError, match="no_such"):
        global_step_settings("exact_dedup", {"content_key": "url", "normalize": "no_such"})


def _in_process(module, paths, partitions, key_kwargs, annotate_kwargs, selection_reverse=False):
    """The three phases of a first-occurrence style dedup, called directly (no Ray)."""
    from pipelines.deduplication.ray_tasks import transpose

    keyed = [module._key_body([], path=p, shard_index=s, num_partitions=partitions, **key_kwargs)
             for s, p in enumerate(paths)]
    groups = min(len(paths), partitions)
    found = [module._find_body(parts, num_groups=groups, selection_reverse=selection_reverse)
             for parts in transpose([out[1:] for out in keyed], partitions)]
    by_group = transpose([out[1:] for out in found], groups)
    tables = {}
    for g in range(groups):
        members = list(range(g, len(paths), groups))
        out = module._annotate_body([keyed[s][0] for s in members] + by_group[g], shard_indices=members,
                                    **annotate_kwargs(members))
        tables.update(zip(members, out, strict=True))
    return [tables[s] for s in range(len(paths))], [f[0] for f in found]


def _line_dedup_in_process(paths, partitions=2, **kwargs):
    from pipelines.deduplication import dclm_lines as dl

    tables, stats = _in_process(dl, paths, partitions, dict(column="text", delimiter="\n", **kwargs),
                                lambda members: dict(paths=[paths[s] for s in members], column="text",
                                                     delimiter="\n"))
    return tables, sum(s["removed_lines"] for s in stats)


def test_dclm_line_dedup(tmp_path):
    """exact_dedup on the lines of split_lines_modifier, as in DCLM's c4.yaml."""
    from dedup.dclm_keys import NORMALIZERS

    pages = {"a0": ("Shared line\nown a0\n\nshared line ", "http://z.com"),
             "a1": ("only\nown a0", "http://y.com"),
             "b0": ("  SHARED LINE\n\nb0 line", "http://b.com"),
             "b1": ("own A0", "http://x.com")}
    _write(tmp_path / "a.parquet", ["a0", "a1"], [pages["a0"][0], pages["a1"][0]], [pages["a0"][1], pages["a1"][1]])
    _write(tmp_path / "b.parquet", ["b0", "b1"], [pages["b0"][0], pages["b1"][0]], [pages["b0"][1], pages["b1"][1]])
    paths = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    for partitions in (1, 3):
        (a, b), removed = _line_dedup_in_process(paths, partitions, normalize="normalize_whitespace_and_lowercase",
                                                 selection_column="url", selection_normalize="hash_text")
        texts = {}
        for table, ids in ((a, ["a0", "a1"]), (b, ["b0", "b1"])):
            for i, keep, new in zip(ids, table.column("keep").to_pylist(), table.column("text").to_pylist(),
                                    strict=True):
                texts[i] = (new if new is not None else pages[i][0]) if keep else None
        lines = {i: t.split("\n") for i, t in texts.items() if t is not None}
        md5 = {i: NORMALIZERS["hash_text"](url) for i, (_, url) in pages.items()}
        # Each normalized line survives once, in the page with the smallest md5(url)
        # among those holding it (then its first copy); the empty line is a line too.
        for key, holders in (("shared line", ["a0", "b0"]), ("", ["a0", "b0"]), ("own a0", ["a0", "a1", "b1"])):
            owner = min(holders, key=md5.get)
            found = [(i, n) for i, ls in lines.items() for n, line in enumerate(ls) if line.strip().lower() == key]
            assert len(found) == 1 and found[0][0] == owner, (key, found, owner)
        assert removed == 5
        # A page whose every line went is dropped (DCLM: at join_lines_modifier).
        for table in (a, b):
            for keep, reason in zip(table.column("keep").to_pylist(), table.column("reason").to_pylist(), strict=True):
                assert keep or reason == "exact_duplicate_lines"
    # The decision tables are what pipelines.deduplication.write applies to a shard.
    from pipelines.deduplication.write import apply_decisions

    out, keep, modified = apply_decisions(pq.read_table(paths[0]), a, annotate=False)
    assert out.column("id").to_pylist() == [i for i, k in zip(["a0", "a1"], keep, strict=True) if k]
    assert [t.split("\n") for t in out.column("text").to_pylist()] == [lines[i] for i in out.column("id").to_pylist()]
