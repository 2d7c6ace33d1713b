"""MinHash signatures, LSH band keys, S-curve and exact Jaccard helpers."""
import itertools

import numpy as np
import pytest

import dedup.minhash as minhash
from dedup.jaccard import all_pairs_intersections, all_pairs_jaccard, jaccard, set_jaccard
from dedup.minhash import (
    MERSENNE_P,
    choose_bands_rows,
    estimated_jaccard,
    hash_coefficients,
    lsh_band_keys,
    lsh_error_areas,
    minhash_signatures,
    s_curve,
)


def _flat(sets):
    offsets = np.r_[0, np.cumsum([len(s) for s in sets])].astype(np.int64)
    return np.concatenate(sets).astype(np.uint64), offsets


def _pair_with_jaccard(rng, jaccard_target, size=2000):
    """Two sets of random uint64 with |A∩B| / |A∪B| exactly as requested."""
    union = rng.choice(np.iinfo(np.int64).max, size=size, replace=False).astype(np.uint64)
    shared = int(round(jaccard_target * size))
    rest = size - shared
    a = np.concatenate((union[:shared], union[shared:shared + rest // 2]))
    b = np.concatenate((union[:shared], union[shared + rest // 2:]))
    return np.unique(a), np.unique(b)


def test_signatures_equal_python_bigint_reference(monkeypatch):
    # A tiny chunk size forces documents to straddle chunk edges.
    monkeypatch.setattr(minhash, "_CHUNK_ELEMENTS", 16 * 7)
    rng = np.random.default_rng(11)
    docs = [np.unique(rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64, endpoint=True))
            for n in (1, 5, 30, 2, 17)]
    docs[0][0] = np.uint64(2**64 - 1)            # above p: reduced before hashing
    values, offsets = _flat(docs)
    sig = minhash_signatures(values, offsets, num_hashes=16, seed=5)
    a, b = hash_coefficients(16, 5)
    for i, doc in enumerate(docs):
        expected = [min((int(x) % MERSENNE_P * int(a[j]) + int(b[j])) % MERSENNE_P for x in doc)
                    for j in range(16)]
        assert sig[i].tolist() == expected


def test_affine_mod_p_edge_values():
    x = np.array([0, 1, MERSENNE_P - 1, MERSENNE_P - 2, 2**60, 2**31 - 1, 2**31], np.uint64)
    a = np.array([1, MERSENNE_P - 1, 2**31, 2**31 - 1, 12345678901234567], np.uint64)
    b = np.array([0, MERSENNE_P - 1, 1, 2**60, 7], np.uint64)
    got = minhash._AffineModP(a, b, 4)(x)
    for i, j in itertools.product(range(len(x)), range(len(a))):
        assert int(got[i, j]) == (int(x[i]) * int(a[j]) + int(b[j])) % MERSENNE_P


def test_signatures_deterministic_and_seeded():
    rng = np.random.default_rng(0)
    values, offsets = _flat([np.unique(rng.integers(0, 2**63, 50, dtype=np.uint64))])
    one = minhash_signatures(values, offsets, 112, seed=3)
    assert np.array_equal(one, minhash_signatures(values, offsets, 112, seed=3))
    assert not np.array_equal(one, minhash_signatures(values, offsets, 112, seed=4))
    assert one.shape == (1, 112) and one.dtype == np.uint64
    assert int(one.max()) < MERSENNE_P


def test_empty_document_rejected():
    with pytest.raises(ValueError):
        minhash_signatures(np.array([1, 2], np.uint64), np.array([0, 2, 2]))


@pytest.mark.parametrize("target", [0.1, 0.3, 0.5, 0.7, 0.85, 0.95])
def test_collision_rate_tracks_jaccard(target):
    rng = np.random.default_rng(int(target * 100))
    a, b = _pair_with_jaccard(rng, target)
    true_j = jaccard(a, b)
    values, offsets = _flat([a, b])
    sig = minhash_signatures(values, offsets, num_hashes=4096, seed=2)
    # Standard error sqrt(J(1-J)/4096) <= 0.008: 0.03 is ~4 sigma.
    assert estimated_jaccard(sig[0], sig[1]) == pytest.approx(true_j, abs=0.03)


def test_band_keys_match_exactly_when_band_rows_match():
    rng = np.random.default_rng(1)
    sig = rng.integers(0, MERSENNE_P, size=(3, 112), dtype=np.uint64)
    sig[1] = sig[0]
    sig[1, 8:16] += np.uint64(1)                 # band 1 differs, others equal
    keys = lsh_band_keys(sig, 14, 8)
    assert keys.shape == (3, 14) and keys.dtype == np.uint64
    assert (keys[0] == keys[1]).sum() == 13 and keys[0, 1] != keys[1, 1]
    assert not np.any(keys[0] == keys[2])
    # Identical rows in two different bands still give different keys.
    same = np.tile(sig[0, :8], 14)[None, :]
    assert len(np.unique(lsh_band_keys(same, 14, 8))) == 14
    with pytest.raises(ValueError):
        lsh_band_keys(sig[:, :100], 14, 8)


def test_s_curve_values_for_fineweb_setting():
    # DESIGN.md §8 quotes P(0.8) = 0.92 and P(0.7) = 0.57; exactly they are
    # 0.9235 and 0.5645, so compare at the precision quoted.
    assert s_curve(0.8, 14, 8) == pytest.approx(0.92, abs=0.01)
    assert s_curve(0.7, 14, 8) == pytest.approx(0.57, abs=0.01)
    assert s_curve(0.7, 14, 8) == pytest.approx(1 - (1 - 0.7 ** 8) ** 14)
    assert s_curve(0.0, 14, 8) == 0.0 and s_curve(1.0, 14, 8) == 1.0
    curve = s_curve(np.linspace(0, 1, 11), 14, 8)
    assert np.all(np.diff(curve) >= 0)


def test_candidate_rate_follows_s_curve():
    rng = np.random.default_rng(5)
    for target in (0.6, 0.8):
        hits = 0
        for _ in range(300):
            a, b = _pair_with_jaccard(rng, target, size=300)
            values, offsets = _flat([a, b])
            seed = int(rng.integers(1 << 30))
            keys = lsh_band_keys(minhash_signatures(values, offsets, 112, seed), seed=seed)
            hits += bool(np.any(keys[0] == keys[1]))
        expected = s_curve(jaccard(a, b), 14, 8)
        assert hits / 300 == pytest.approx(expected, abs=0.08)


def _half_point(bands: int, rows: int) -> float:
    """The Jaccard where P(candidate) = 0.5: the middle of the S-curve's steep part."""
    return (1 - 0.5 ** (1 / bands)) ** (1 / rows)


def test_choose_bands_rows_minimizes_error_area_near_the_threshold():
    bands, rows = choose_bands_rows(0.8, 112)
    assert bands * rows <= 112
    fp, fn = lsh_error_areas(0.8, bands, rows, window=0.1)
    for b, r in [(14, 8), (16, 7), (8, 14), (28, 4), (12, 9)]:
        other_fp, other_fn = lsh_error_areas(0.8, b, r, window=0.1)
        assert fp + fn <= other_fp + other_fn + 1e-12
    # Weighting false negatives up moves the curve left (more candidates).
    b2, r2 = choose_bands_rows(0.8, 112, false_positive_weight=0.1, false_negative_weight=0.9)
    assert _half_point(b2, r2) < _half_point(bands, rows)
    with pytest.raises(ValueError):
        choose_bands_rows(1.5, 112)


@pytest.mark.parametrize("threshold", [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
def test_chosen_s_curve_is_steep_at_the_threshold(threshold):
    bands, rows = choose_bands_rows(threshold, 112)
    assert 100 <= bands * rows <= 112                  # the budget buys steepness
    assert _half_point(bands, rows) == pytest.approx(threshold, abs=0.025)
    assert 0.35 <= s_curve(threshold, bands, rows) <= 0.65
    # A tenth below the threshold few pairs become candidates, a tenth above
    # (or at J = 1) nearly all do.
    assert s_curve(threshold - 0.1, bands, rows) < 0.25
    assert s_curve(min(1.0, threshold + 0.1), bands, rows) > 0.8


def test_choice_at_0_7_is_fineweb_setting_not_the_whole_range_optimum():
    # Weighing errors over all of [0, 1] (datasketch's optimal_param) picks
    # 12 x 9, whose P(0.7) is 0.39; the windowed choice centres the curve.
    assert choose_bands_rows(0.7, 112, window=None) == (12, 9)
    assert s_curve(0.7, 12, 9) == pytest.approx(0.39, abs=0.01)
    assert choose_bands_rows(0.7, 112) == (14, 8)
    assert abs(s_curve(0.7, 14, 8) - 0.5) < abs(s_curve(0.7, 12, 9) - 0.5)


def test_exact_jaccard_helpers():
    a = np.array([1, 2, 3, 4], np.uint64)
    b = np.array([3, 4, 5], np.uint64)
    assert jaccard(a, b) == pytest.approx(2 / 5)
    assert jaccard(np.array([], np.uint64), np.array([], np.uint64)) == 1.0
    assert set_jaccard({"x", "y"}, {"y"}) == 0.5
    rng = np.random.default_rng(9)
    sets = [np.unique(rng.integers(0, 40, size=rng.integers(1, 30))).astype(np.uint64)
            for _ in range(25)]
    inter = all_pairs_intersections(sets, max_pairs_per_chunk=10)
    sim = all_pairs_jaccard(sets)
    for i, j in itertools.product(range(25), repeat=2):
        assert inter[i, j] == len(np.intersect1d(sets[i], sets[j]))
        assert sim[i, j] == pytest.approx(jaccard(sets[i], sets[j]))


def test_hashing_is_pinned():
    # Signatures must not change across machines or library upgrades (a resumed
    # or distributed run mixes signatures computed at different times): these
    # values were computed once and must stay fixed.
    from dedup.shingles import shingle_batch, shingle_hashes
    a, b = hash_coefficients(2, 1)
    assert a.tolist() == [214377638668669093, 1259894921180472306]
    assert b.tolist() == [974573777623053298, 764529894377957501]
    text = "The quick brown fox jumps over"
    assert shingle_hashes(text).tolist() == [9859558156131602163, 14625160167808605185]
    values, offsets = shingle_batch([text])
    assert minhash_signatures(values, offsets, 3, 1).tolist() == [
        [1958212534814079898, 662320176449326333, 474688121339122297]]
