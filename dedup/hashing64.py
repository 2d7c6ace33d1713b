"""64-bit integer mixing and seeded constants, in plain numpy.

``mix64`` is the SplitMix64 finalizer: a bijection on uint64 that spreads
every input bit over all output bits. ``seeded_uint64`` derives any number
of pseudo-random constants from a seed through it. Random constants come
from here rather than from ``numpy.random`` because they decide signatures,
and signatures must be identical on every worker and after every upgrade:
NumPy does not promise that a generator's stream stays the same across
versions, this arithmetic cannot change.
"""
from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL_1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL_2 = np.uint64(0x94D049BB133111EB)


def mix64(values) -> np.ndarray:
    """SplitMix64 finalizer of each value (a new uint64 array; wraps mod 2^64)."""
    h = np.array(values, dtype=np.uint64, copy=True, ndmin=1)
    h ^= h >> np.uint64(30)
    h *= _MUL_1
    h ^= h >> np.uint64(27)
    h *= _MUL_2
    h ^= h >> np.uint64(31)
    return h


def seeded_uint64(seed: int, stream: int, count: int) -> np.ndarray:
    """``count`` pseudo-random uint64 values for ``(seed, stream)``.

    The SplitMix64 sequence started from a state derived from both numbers,
    so different streams of one seed (e.g. the ``a`` and ``b`` coefficients
    of MinHash) are unrelated.
    """
    mask = (1 << 64) - 1
    start = mix64([(seed & mask)])[0] ^ mix64([(stream * 0x632BE59BD9B4E019) & mask])[0]
    steps = np.arange(1, count + 1, dtype=np.uint64) * _GOLDEN
    return mix64(steps + start)
