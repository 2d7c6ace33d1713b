"""All four ``dclm dedup`` methods through the CLI, on the whole shared corpus.

``dclm extract`` runs once over every WARC in ``../shared/corpus/warc``
(1,252 documents); each method then runs twice, the second time with other
hash partitions. The corpus holds duplicates that its provenance explains
(see its README): the trafilatura evaluation set has two pages twice under
different URLs, the Postlight fixtures have the same wired.com article
twice, and the Readability fixtures test one parser behaviour per page, so
many share a page: ``rtl-1`` … ``rtl-4`` are one page in four text
directions, ``lifehacker-working`` and ``lifehacker-post-comment-load`` one
article, and the lorem-ipsum pages (the README's "Latin" row) repeat each
other.
"""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import WARC_DIR, invoke_cli

from dedup.jaccard import jaccard
from dedup.shingles import shingle_hashes

pytestmark = pytest.mark.slow

METHODS = ("minhash", "exact", "url", "bff")
# Documents that are the same page under two URLs (substrings of the URL).
SAME_ARTICLE_TWICE = ("womencantalksports.com", "heavenlynnhealthy.de",
                      "wired.com/2016/08/airplane-tires", "lifehacker-")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory, ray_session, corpus):
    out = tmp_path_factory.mktemp("corpus") / "extracted"
    result = invoke_cli("extract", WARC_DIR, "--output", out, "--num-cpus", "2")
    assert result.code == 0, result
    table = pa.concat_tables(pq.read_table(p) for p in sorted((out / "data").glob("*.parquet")))
    assert table.num_rows > 1200
    return out, table


@pytest.fixture(scope="module")
def runs(extracted, tmp_path_factory):
    """``{method: (first output dir, second output dir)}``."""
    source, _ = extracted
    root = tmp_path_factory.mktemp("dedup_runs")
    outputs = {}
    for method in METHODS:
        first, second = root / f"{method}-1", root / f"{method}-2"
        result = invoke_cli("dedup", method, "--input", source, "--output", first)
        assert result.code == 0, result
        # The second run cuts every shuffle differently; bff has no partitions.
        extra = () if method == "bff" else ("--num-partitions", "3")
        result = invoke_cli("dedup", method, "--input", source, "--output", second, *extra)
        assert result.code == 0, result
        outputs[method] = (first, second)
    return outputs


def _tables(out):
    kept = pa.concat_tables(pq.read_table(p) for p in sorted((out / "data").glob("*.parquet")))
    dropped = pa.concat_tables(pq.read_table(p) for p in sorted((out / ".dclm" / "dropped").glob("*.parquet")))
    return kept, dropped


def _removed(out) -> list[tuple[str, str, str]]:
    """``(id, url, id it duplicates)`` of every removed document (exact, url, minhash).

    A list, not a dict: ids are not unique in this corpus (the Postlight
    WARC repeats one record, the wired.com article, id and all).
    """
    _, dropped = _tables(out)
    return [(doc, url, reason.split(" of ", 1)[1] if " of " in reason else reason)
            for doc, url, reason in zip(dropped.column("id").to_pylist(),
                                        dropped.column("url").to_pylist(),
                                        dropped.column("dropped_reason").to_pylist(), strict=True)]


def _kept_ids(out) -> set[str]:
    return set(_tables(out)[0].column("id").to_pylist())


def test_ledgers_add_up(extracted, runs):
    _, table = extracted
    for method, (out, _) in runs.items():
        stats = json.loads((out / ".dclm" / "stats.json").read_text())
        assert stats["invariant_ok"] and stats["documents_in"] == table.num_rows, method
        kept, dropped = _tables(out)
        assert kept.num_rows == stats["documents_out"]
        assert kept.num_rows + dropped.num_rows == table.num_rows, method
        ledgers = sorted((out / ".dclm" / "ledger").glob("*.json"))
        assert len(ledgers) == len(list((out / "data").glob("*.parquet")))
        for path in ledgers:
            (step,) = json.loads(path.read_text())["steps"]
            assert step["in"] == (step["kept"] + sum(step["dropped"].values())
                                  + sum(step["errors"].values())), (method, path.name)
        assert sorted(kept.column("id").to_pylist() + dropped.column("id").to_pylist()) == \
            sorted(table.column("id").to_pylist())


def test_two_runs_write_identical_bytes(runs):
    for method, (first, second) in runs.items():
        names = sorted(p.relative_to(first) for p in first.rglob("*.parquet"))
        assert names == sorted(p.relative_to(second) for p in second.rglob("*.parquet"))
        for name in names:
            assert (first / name).read_bytes() == (second / name).read_bytes(), (method, name)


def test_known_duplicates_are_found(extracted, runs):
    _, table = extracted
    rows = table.select(["id", "url"]).to_pylist()
    minhash, exact = _removed(runs["minhash"][0]), _removed(runs["exact"][0])
    url = _removed(runs["url"][0])
    for sub in SAME_ARTICLE_TWICE:
        pair = sorted(r["id"] for r in rows if sub in r["url"])
        assert len(pair) == 2, sub
        # MinHash keeps one copy (the lowest id) and names it for the other.
        gone = [(doc, kept) for doc, u, kept in minhash if sub in u]
        assert gone == [(pair[1], pair[0])], sub
    # The wired.com article is the corpus's only repeated URL.
    assert [u for _, u, _ in url] == ["https://www.wired.com/2016/08/airplane-tires/"]
    # rtl-1 … rtl-4: one page; exact dedup keeps one and removes the others.
    rtl = [r["id"] for r in rows if "//rtl-" in r["url"]]
    removed_rtl = {doc: kept for doc, u, kept in exact if "//rtl-" in u}
    survivors = set(rtl) - set(removed_rtl)
    assert len(rtl) == 4 and len(removed_rtl) == 3 and set(removed_rtl.values()) == survivors
    # An exact duplicate is a near duplicate and a repeat of every n-gram:
    # of each group of identical texts, MinHash and BFF keep at most one.
    groups: dict[str, set[str]] = {}
    for doc, _, original in exact:
        groups.setdefault(original, {original}).add(doc)
    assert len(groups) >= 5
    for method in ("minhash", "bff"):
        kept = _kept_ids(runs[method][0])
        for members in groups.values():
            assert len(members & kept) <= 1, (method, members)


def test_minhash_removals_are_checked_against_the_kept_document(extracted, runs):
    _, table = extracted
    text = dict(zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True))
    out = runs["minhash"][0]
    removed, kept = _removed(out), _kept_ids(out)
    stats = json.loads((out / ".dclm" / "stats.json").read_text())
    assert len(removed) == stats["global"]["removed"] >= 20
    for doc, _, keeper in removed:
        assert keeper in kept                              # the named document survives
        similarity = jaccard(shingle_hashes(text[doc]), shingle_hashes(text[keeper]))
        assert similarity >= 0.7, (doc, keeper, similarity)
