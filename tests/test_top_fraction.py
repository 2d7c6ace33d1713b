"""Global top-fraction selection: exactly ceil(f * N) documents over all shards, ties broken by id."""
from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from filters import bookkeeping as bk
from pipelines.top_fraction import check_fraction, find_cut, keep_mask, select_top_fraction


def _write_shards(directory, shards):
    """``shards``: list of lists of (id, score); returns the shard paths in order."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, rows in enumerate(shards):
        path = directory / f"shard-{k:02d}.parquet"
        table = pa.table({"id": pa.array([r[0] for r in rows], pa.string()),
                          "text": pa.array([f"text of {r[0]}" for r in rows], pa.string()),
                          "fasttext_hq_prob": pa.array([r[1] for r in rows], pa.float64())})
        pq.write_table(table, path)
        paths.append(str(path))
    return paths


def _expected(shards, fraction, lower_better=False):
    """Brute force: sort every (score, id, shard, row) and take the first ceil(f * N)."""
    rows = []
    for k, shard in enumerate(shards):
        for r, (doc_id, score) in enumerate(shard):
            s = -np.inf if score is None or np.isnan(score) else (-score if lower_better else score)
            rows.append((-s, doc_id, f"shard-{k:02d}", r))
    rows.sort()
    return {(shard, r) for _, _, shard, r in rows[:math.ceil(fraction * len(rows))]}


def _kept(paths, cut):
    kept = set()
    for path in paths:
        name = path.rsplit("/", 1)[-1][:-len(".parquet")]
        mask = keep_mask(pq.read_table(path), cut, name)
        kept |= {(name, r) for r in np.flatnonzero(mask).tolist()}
    return kept


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.999, 1.0])
def test_cut_keeps_exactly_the_best_with_ties_by_id(tmp_path, fraction):
    rng = np.random.default_rng(0)
    shards = [[(f"id-{rng.integers(0, 400):04d}", float(rng.integers(0, 6)) / 5) for _ in range(n)]
              for n in (37, 0, 50, 13)]            # few distinct scores: many ties, some equal ids
    paths = _write_shards(tmp_path, shards)
    cut = find_cut(paths, "fasttext_hq_prob", fraction)
    total = sum(map(len, shards))
    assert cut.documents_total == total and cut.documents_to_keep == math.ceil(fraction * total)
    kept = _kept(paths, cut)
    assert len(kept) == cut.documents_to_keep
    assert kept == _expected(shards, fraction)


def test_lower_better_and_missing_scores(tmp_path):
    shards = [[("a", 0.3), ("b", float("nan")), ("c", 0.1)], [("d", 0.1), ("e", None), ("f", 0.9)]]
    paths = _write_shards(tmp_path, shards)
    cut = find_cut(paths, "fasttext_hq_prob", 0.5, lower_better=True)
    assert cut.threshold == 0.3 and _kept(paths, cut) == _expected(shards, 0.5, lower_better=True)
    top = find_cut(paths, "fasttext_hq_prob", 0.5)
    assert _kept(paths, top) == {("shard-00", 0), ("shard-00", 2), ("shard-01", 2)}   # NaN/null last
    assert find_cut(paths, "fasttext_hq_prob", 1.0).documents_to_keep == 6


def test_equal_ids_fall_back_to_shard_then_row(tmp_path):
    shards = [[("x", 0.5), ("x", 0.5)], [("x", 0.5)], [("x", 0.5)]]
    paths = _write_shards(tmp_path, shards)
    cut = find_cut(paths, "fasttext_hq_prob", 0.5)
    assert (cut.boundary_shard, cut.boundary_row) == ("shard-00", 1)
    assert _kept(paths, cut) == {("shard-00", 0), ("shard-00", 1)}


def test_empty_run_and_missing_column(tmp_path):
    paths = _write_shards(tmp_path / "empty", [[]])
    cut = find_cut(paths, "fasttext_hq_prob", 0.1)
    assert cut.documents_total == 0 and cut.documents_to_keep == 0 and cut.threshold is None
    with pytest.raises(ValueError, match="no 'nope' column"):
        find_cut(_write_shards(tmp_path / "x", [[("a", 1.0)]]), "nope", 0.1)


@pytest.mark.parametrize("bad", [0, -0.1, 1.01, 2, "abc", None, float("nan")])
def test_top_fraction_outside_zero_one_is_refused(tmp_path, bad):
    with pytest.raises(ValueError, match=r"top fraction selection: top_fraction must be"):
        check_fraction(bad)
    if bad is not None:                  # None means "no top fraction" to quality_filter
        with pytest.raises(ValueError, match=r"top_fraction must be"):
            bk.quality_filter({"id": "a", "text": "t", "fasttext_hq_prob": 0.5}, top_fraction=bad)


def test_quality_filter_top_fraction_is_global():
    page = {"id": "a", "text": "t", "fasttext_hq_prob": 0.5}
    with pytest.raises(bk.TopFractionUnresolvedError, match="global step"):
        bk.quality_filter(page, top_fraction=0.1)
    assert bk.quality_filter_is_global({"key": "fasttext_hq_prob", "top_fraction": 0.1})
    assert not bk.quality_filter_is_global({"threshold": 0.018112})
    # The signal is still available for annotation before the cut is known.
    assert bk.quality_filter_signals(page, top_fraction=0.1) == {"quality_score": 0.5}
    assert bk.quality_filter(page, threshold=0.5) == [page]


def test_select_top_fraction_end_to_end(ray_session, tmp_path):
    rng = np.random.default_rng(5)
    shards = [[(f"doc-{k}-{i:03d}", float(np.round(rng.random(), 2))) for i in range(n)]
              for k, n in enumerate((120, 75, 200))]
    paths = _write_shards(tmp_path / "in", shards)
    code = select_top_fraction(paths, str(tmp_path / "out"), "fasttext_hq_prob", 0.1, progress=False)
    assert code == 0
    out = pq.read_table(sorted((tmp_path / "out" / "data").glob("*.parquet")))
    assert out.num_rows == math.ceil(0.1 * 395) == 40
    stats = json.loads((tmp_path / "out" / ".dclm" / "stats.json").read_text())
    assert stats["params"]["documents_total"] == 395 and stats["params"]["documents_to_keep"] == 40
    assert stats["documents_out"] == 40 and stats["invariant_ok"]
    threshold = stats["params"]["threshold"]
    assert min(out.column("fasttext_hq_prob").to_pylist()) == threshold
    ledger = json.loads((tmp_path / "out" / ".dclm" / "ledger" / "shard-00.json").read_text())
    assert ledger["details"]["threshold"] == threshold
    assert ledger["steps"][0]["dropped"] == {"below_top_fraction":
                                             ledger["steps"][0]["in"] - ledger["steps"][0]["kept"]}
    expected = _expected(shards, 0.1)
    got = {(f"shard-{int(i.split('-')[1]):02d}", int(i.split("-")[2])) for i in out.column("id").to_pylist()}
    assert got == expected


def test_an_empty_shard_that_never_met_the_enricher_is_no_error(tmp_path):
    """Every page of a shard dropped before the classifier: its file has no score column."""
    paths = _write_shards(tmp_path, [[("a", 0.9), ("b", 0.1)], [("c", 0.5)]])
    empty = tmp_path / "shard-02.parquet"
    pq.write_table(pa.table({"id": pa.array([], pa.string()), "text": pa.array([], pa.string())}), empty)
    paths.append(str(empty))
    cut = find_cut(paths, "fasttext_hq_prob", 0.5)
    assert (cut.documents_total, cut.documents_to_keep) == (3, 2)
    assert _kept(paths, cut) == {("shard-00", 0), ("shard-01", 0)}
    nonempty = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"id": ["x"], "text": ["no score"]}), nonempty)
    with pytest.raises(ValueError, match="no 'fasttext_hq_prob' column"):
        find_cut(paths + [str(nonempty)], "fasttext_hq_prob", 0.5)
