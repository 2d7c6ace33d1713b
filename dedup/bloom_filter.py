"""A Bloom filter over uint64 keys, as a numpy bit array.

Sizing (``BloomFilter.for_count``): for ``n`` expected keys and a target
false-positive rate ``p``, the optimum is ``m = −n·ln p / (ln 2)²`` bits and
``k = (m/n)·ln 2`` hash functions: 19.2 bits and k = 13 per key at p = 10⁻⁴,
9.6 bits and k = 7 at 10⁻² (DCLM's README example). The false-positive rate
actually expected after ``n`` insertions, ``(1 − e^(−k·n/m))^k``, is
reported by ``expected_fp_rate``.

Hash functions: double hashing (Kirsch & Mitzenmacher 2006),
``g_i(x) = h1(x) + i·h2(x) mod m`` for ``i < k``, which behaves like ``k``
independent functions for Bloom filters. The keys are already xxh3-based
64-bit n-gram hashes; ``h1`` and ``h2`` are two seeded SplitMix64 mixes of
the key, with ``h2`` odd so the ``k`` probes of a key never repeat a step.

All operations are vectorized over arrays of keys, in chunks that bound the
``(keys × k)`` probe matrix to a few MiB.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dedup.hashing64 import mix64

_SEED_1 = np.uint64(0x5851F42D4C957F2D)
_SEED_2 = np.uint64(0x14057B7EF767814F)
_CHUNK = 1 << 16            # keys per probe matrix: 64 Ki × k × 8 B


@dataclass
class BloomFilter:
    """``num_bits`` bits in uint64 words, ``num_hashes`` probes per key."""

    words: np.ndarray
    num_bits: int
    num_hashes: int

    @classmethod
    def empty(cls, num_bits: int, num_hashes: int) -> "BloomFilter":
        num_bits = max(64, int(num_bits))
        num_words = (num_bits + 63) // 64
        return cls(np.zeros(num_words, dtype=np.uint64), num_words * 64, max(1, int(num_hashes)))

    @classmethod
    def for_count(cls, expected_keys: int, fp_rate: float) -> "BloomFilter":
        bits, hashes = optimal_size(expected_keys, fp_rate)
        return cls.empty(bits, hashes)

    @property
    def size_bytes(self) -> int:
        return self.words.nbytes

    def _probes(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Word index and bit mask of every probe, shape ``(len(keys), k)``."""
        h1 = mix64(keys ^ _SEED_1)
        h2 = mix64(keys ^ _SEED_2) | np.uint64(1)
        steps = np.arange(self.num_hashes, dtype=np.uint64)
        with np.errstate(over="ignore"):
            bit = (h1[:, None] + steps[None, :] * h2[:, None]) % np.uint64(self.num_bits)
        return (bit >> np.uint64(6)).astype(np.int64), np.uint64(1) << (bit & np.uint64(63))

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Bool per key: all its bits set (true for every inserted key)."""
        keys = np.asarray(keys, dtype=np.uint64)
        out = np.zeros(len(keys), dtype=bool)
        for lo in range(0, len(keys), _CHUNK):
            word, mask = self._probes(keys[lo:lo + _CHUNK])
            out[lo:lo + _CHUNK] = np.all((self.words[word] & mask) != 0, axis=1)
        return out

    def add(self, keys: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.uint64)
        for lo in range(0, len(keys), _CHUNK):
            word, mask = self._probes(keys[lo:lo + _CHUNK])
            np.bitwise_or.at(self.words, word.ravel(), mask.ravel())

    def fill_ratio(self) -> float:
        """Share of bits set (about ``1 − e^(−k·n/m)`` after n distinct keys)."""
        set_bits = int(np.unpackbits(self.words.view(np.uint8)).sum())
        return set_bits / self.num_bits

    def expected_fp_rate(self, inserted_keys: int) -> float:
        return expected_fp_rate(self.num_bits, self.num_hashes, inserted_keys)


def optimal_size(expected_keys: int, fp_rate: float) -> tuple[int, int]:
    """``(bits, hashes)`` of the smallest filter meeting ``fp_rate`` at that count."""
    if not 0.0 < fp_rate < 1.0:
        raise ValueError(f"fp_rate must be in (0, 1), got {fp_rate}")
    n = max(1, int(expected_keys))
    bits = math.ceil(-n * math.log(fp_rate) / math.log(2) ** 2)
    hashes = max(1, round(bits / n * math.log(2)))
    return bits, hashes


def expected_fp_rate(num_bits: int, num_hashes: int, inserted_keys: int) -> float:
    return (1.0 - math.exp(-num_hashes * inserted_keys / num_bits)) ** num_hashes
