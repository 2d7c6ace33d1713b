"""MinHash signatures, LSH band keys and the choice of bands × rows.

Hash family: ``h_i(x) = (a_i · x + b_i) mod p`` with the Mersenne prime
``p = 2^61 − 1`` and seeded random ``a_i ∈ [1, p)``, ``b_i ∈ [0, p)``. The
minimum of ``h_i`` over a document's shingles is signature entry ``i``; two
documents agree on an entry with probability ≈ their Jaccard similarity.

The 122-bit product ``a · x`` never exists: both factors are split into 31-bit
halves and the partial products are reduced with ``2^61 ≡ 1 (mod p)``, so
every intermediate fits in uint64 (see ``_AffineModP``). All hash functions are
applied at once as a (shingles × hashes) matrix, and the per-document minimum
is ``np.minimum.reduceat`` over the concatenated shingles of a batch.

LSH: the signature is cut into ``num_bands`` bands of ``rows_per_band`` entries
and each band is hashed to one uint64 key. Two documents become candidates if
any band key matches, with probability ``1 − (1 − J^r)^b`` (``s_curve``).
"""
from __future__ import annotations

import numpy as np

from dedup.hashing64 import seeded_uint64

MERSENNE_P = (1 << 61) - 1
DEFAULT_NUM_BANDS = 14
DEFAULT_ROWS_PER_BAND = 8
DEFAULT_SEED = 1

_P = np.uint64(MERSENNE_P)
_LOW31 = np.uint64((1 << 31) - 1)
_LOW30 = np.uint64((1 << 30) - 1)
# Signature chunks are sized so one (shingles × hashes) uint64 matrix is
# about 1 MiB: big enough to amortize numpy call overhead, small enough for
# the four work buffers to stay near the cache (4 MiB chunks measured slower).
_CHUNK_ELEMENTS = 1 << 17  # 1170 shingles at 112 hashes


def hash_coefficients(num_hashes: int, seed: int = DEFAULT_SEED
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Seeded ``(a, b)`` uint64 arrays: ``a ∈ [1, p)``, ``b ∈ [0, p)``.

    Drawn with ``hashing64.seeded_uint64`` so that they never change with the
    NumPy version. Reducing 64-bit values modulo ~2^61 skews the draw by less
    than 2^-60 per value, which no signature can notice.
    """
    a = seeded_uint64(seed, 1, num_hashes) % np.uint64(MERSENNE_P - 1) + np.uint64(1)
    b = seeded_uint64(seed, 2, num_hashes) % _P
    return a, b


def reduce_mod_p(x: np.ndarray) -> np.ndarray:
    """``x mod (2^61 − 1)`` for any uint64 ``x`` (new array)."""
    r = (x & _P) + (x >> np.uint64(61))          # < 2^61 + 8
    return np.where(r >= _P, r - _P, r)


class _AffineModP:
    """Evaluates ``(x · a + b) mod p`` for a column of shingles × all hashes.

    ``x`` and ``a`` are below ``p < 2^61``. Split both at bit 31:
    ``x = xh·2^31 + xl`` with ``xh < 2^30``, ``xl < 2^31`` (same for ``a``)::

        x·a = hh·2^62 + mid·2^31 + ll,   hh = xh·ah,  ll = xl·al,
        mid = xh·al + xl·ah = (xh + xl)·(ah + al) − hh − ll   (Karatsuba)

    ``xh + xl < 2^32``, so every product fits in uint64, and only three
    multiplications are needed: numpy has no SIMD 64-bit multiply, so they
    dominate the cost. With ``2^61 ≡ 1 (mod p)``::

        hh·2^62 ≡ 2·hh,   mid·2^31 ≡ (mid >> 30) + (mid mod 2^30)·2^31,
        ll ≡ (ll mod 2^61) + (ll >> 61)

    and the sum of those terms plus ``b`` stays below 2^63. The work runs in
    place in four reusable buffers (fresh temporaries cost twice as much).
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, max_rows: int):
        self.al = a & _LOW31
        self.ah = a >> np.uint64(31)
        self.a_sum = self.al + self.ah
        self.b = b
        self.buffers = self._allocate(max(1, max_rows))

    def _allocate(self, rows: int) -> list[np.ndarray]:
        return [np.empty((rows, len(self.b)), dtype=np.uint64) for _ in range(4)]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Matrix of shape ``(len(x), len(a))``; valid until the next call."""
        if len(x) > len(self.buffers[0]):
            self.buffers = self._allocate(len(x))
        low, mid, tmp, total = (buf[:len(x)] for buf in self.buffers)
        xl = x & _LOW31
        xh = x >> np.uint64(31)
        x_sum = (xl + xh)[:, None]
        np.multiply(xl[:, None], self.al, out=low)     # ll < 2^62
        np.multiply(xh[:, None], self.ah, out=total)   # hh < 2^60
        np.multiply(x_sum, self.a_sum, out=mid)        # < 2^64
        mid -= low
        mid -= total                                   # xh·al + xl·ah < 2^62
        total += total                                 # hh·2^62 ≡ 2·hh
        np.right_shift(mid, np.uint64(30), out=tmp)
        total += tmp
        np.bitwise_and(mid, _LOW30, out=mid)
        np.left_shift(mid, np.uint64(31), out=mid)
        total += mid
        np.right_shift(low, np.uint64(61), out=tmp)
        total += tmp
        np.bitwise_and(low, _P, out=low)
        total += low
        total += self.b                                # < 2^63
        np.right_shift(total, np.uint64(61), out=tmp)
        np.bitwise_and(total, _P, out=total)
        total += tmp                                   # < p + 4
        # Unsigned wrap-around makes total − p huge when total < p, so the
        # minimum picks the reduced value without a boolean mask.
        np.subtract(total, _P, out=tmp)
        np.minimum(total, tmp, out=total)
        return total


def minhash_signatures(values: np.ndarray, offsets: np.ndarray,
                       num_hashes: int = DEFAULT_NUM_BANDS * DEFAULT_ROWS_PER_BAND,
                       seed: int = DEFAULT_SEED) -> np.ndarray:
    """MinHash signatures of a batch, shape ``(num_docs, num_hashes)``, uint64.

    ``values``/``offsets`` are the flat layout of ``shingles.shingle_batch``:
    document ``i`` owns ``values[offsets[i]:offsets[i+1]]``, which must not be
    empty. Entries are in ``[0, 2^61 − 1)``. Deterministic for a given seed.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    num_docs = len(offsets) - 1
    if num_docs <= 0:
        return np.zeros((0, num_hashes), dtype=np.uint64)
    if np.any(np.diff(offsets) <= 0):
        raise ValueError("every document needs at least one shingle")
    a, b = hash_coefficients(num_hashes, seed)
    x = reduce_mod_p(np.asarray(values, dtype=np.uint64))
    signatures = np.full((num_docs, num_hashes), np.iinfo(np.uint64).max,
                         dtype=np.uint64)
    # Walk the flat shingle array in fixed chunks, ignoring document
    # boundaries, so huge documents do not blow up the work matrix. Inside a
    # chunk every piece of a document is one reduceat segment; a document cut
    # by a chunk edge is finished by the np.minimum with its earlier piece.
    chunk = max(1, _CHUNK_ELEMENTS // num_hashes)
    affine = _AffineModP(a, b, chunk)
    for lo in range(int(offsets[0]), int(offsets[-1]), chunk):
        hi = min(lo + chunk, int(offsets[-1]))
        inner = offsets[(offsets > lo) & (offsets < hi)]
        starts = np.concatenate(([lo], inner))
        docs = np.searchsorted(offsets, starts, side="right") - 1
        piece_min = np.minimum.reduceat(affine(x[lo:hi]), starts - lo, axis=0)
        np.minimum(signatures[docs], piece_min, out=piece_min)
        signatures[docs] = piece_min
    return signatures


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Share of equal signature entries (along the last axis)."""
    return np.mean(np.asarray(sig_a) == np.asarray(sig_b), axis=-1)


def lsh_band_keys(signatures: np.ndarray, num_bands: int = DEFAULT_NUM_BANDS,
                  rows_per_band: int = DEFAULT_ROWS_PER_BAND,
                  seed: int = DEFAULT_SEED) -> np.ndarray:
    """One uint64 key per (document, band), shape ``(num_docs, num_bands)``.

    Equal band rows give equal keys; different rows collide with probability
    about 2^-64. The band number is mixed in, so equal rows in different bands
    give different keys (a key alone identifies its band).
    """
    signatures = np.asarray(signatures, dtype=np.uint64)
    needed = num_bands * rows_per_band
    if signatures.shape[1] < needed:
        raise ValueError(f"{num_bands}×{rows_per_band} bands need {needed} hashes, "
                         f"signatures have {signatures.shape[1]}")
    rows = signatures[:, :needed].reshape(len(signatures), num_bands, rows_per_band)
    start = seeded_uint64(seed, 3, num_bands)       # one start value per band
    keys = np.broadcast_to(start, (len(signatures), num_bands)).copy()
    for j in range(rows_per_band):      # rows_per_band steps, vectorized over docs×bands
        keys ^= rows[:, :, j]
        keys *= np.uint64(0xBF58476D1CE4E5B9)
        keys ^= keys >> np.uint64(31)
    keys *= np.uint64(0x94D049BB133111EB)
    keys ^= keys >> np.uint64(32)
    return keys


def s_curve(threshold_j, bands: int, rows: int):
    """Probability that a pair with Jaccard ``J`` shares at least one band.

    ``1 − (1 − J^rows)^bands``; accepts scalars or arrays.
    """
    j = np.asarray(threshold_j, dtype=np.float64)
    p = 1.0 - (1.0 - j ** rows) ** bands
    return float(p) if p.ndim == 0 else p


def lsh_error_areas(threshold: float, bands: int, rows: int, window: float | None = None,
                    grid_points: int = 2001) -> tuple[float, float]:
    """(false-positive area, false-negative area) of a bands × rows setting.

    False-positive area: ``∫ P(J) dJ`` below the threshold, the chance mass
    of pairs under it becoming candidates; false-negative area:
    ``∫ (1 − P(J)) dJ`` above it, the missed mass. Over ``[0, t]`` and
    ``[t, 1]`` (datasketch's ``optimal_param``), or with ``window`` over
    ``[t − window, t]`` and ``[t, t + window]`` (clipped to [0, 1]).
    """
    low, high = (0.0, 1.0) if window is None else (max(0.0, threshold - window),
                                                    min(1.0, threshold + window))
    below = np.linspace(low, threshold, grid_points)
    above = np.linspace(threshold, high, grid_points)
    fp = _trapezoid(s_curve(below, bands, rows), below)
    fn = _trapezoid(1.0 - s_curve(above, bands, rows), above)
    return fp, fn


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    # np.trapezoid is NumPy >= 2 only (np.trapz before); the rule is one line.
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)


# Half-width of the similarity band around the threshold whose errors the
# b × r choice weighs (see choose_bands_rows).
CHOICE_WINDOW = 0.1


def choose_bands_rows(threshold: float, num_hashes_budget: int,
                      false_positive_weight: float = 0.5,
                      false_negative_weight: float = 0.5,
                      window: float | None = CHOICE_WINDOW) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands·rows ≤ budget`` that best fits ``threshold``.

    Criterion: minimize ``wfp·FP + wfn·FN`` where FP and FN are the error
    areas of ``lsh_error_areas`` (the mass of the S-curve on the wrong side of
    the threshold) within ``window`` of it. Over the whole of [0, 1]
    (``window=None``, datasketch's choice) the region below a threshold above
    0.5 is the wider one, so its tail outweighs and the curve is pushed right
    of the threshold (12 × 9 for 0.7: P(0.7) = 0.39, half-way point 0.73).
    Far from the threshold every setting of ~100 hashes is near 0 or 1
    anyway; on equally wide sides the criterion puts the steep part of the
    curve on the threshold (14 × 8 for 0.7: P(0.7) = 0.57, half-way at
    0.69). Ties go to fewer hash functions, then to more rows.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if num_hashes_budget < 1:
        raise ValueError("need at least one hash function")
    best = None
    for bands in range(1, num_hashes_budget + 1):
        for rows in range(1, num_hashes_budget // bands + 1):
            fp, fn = lsh_error_areas(threshold, bands, rows, window)
            cost = false_positive_weight * fp + false_negative_weight * fn
            rank = (round(cost, 12), bands * rows, -rows)
            if best is None or rank < best[0]:
                best = (rank, (bands, rows))
    return best[1]
