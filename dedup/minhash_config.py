"""Settings of a MinHash dedup run, with the DCLM-style recipe names.

A recipe step ``{func: minhash_dedup, ngram: 5, num_bands: 14,
rows_per_band: 8, threshold: 0.8, keep: fasttext_hq_prob}`` maps onto
``MinHashConfig.from_recipe``. When ``threshold`` is given without bands and
rows, they are chosen by ``minhash.choose_bands_rows`` within
``num_hashes_budget`` hash functions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dedup.keep_rule import KeepRule
from dedup.minhash import (DEFAULT_NUM_BANDS, DEFAULT_ROWS_PER_BAND, DEFAULT_SEED,
                           choose_bands_rows, s_curve)
from dedup.shingles import DEFAULT_NGRAM


@dataclass(frozen=True)
class MinHashConfig:
    """Everything that decides which documents a MinHash run clusters."""

    ngram: int = DEFAULT_NGRAM
    num_bands: int = DEFAULT_NUM_BANDS
    rows_per_band: int = DEFAULT_ROWS_PER_BAND
    seed: int = DEFAULT_SEED
    fold_digits: bool = False
    keep: KeepRule = field(default_factory=KeepRule)
    text_column: str = "text"
    id_column: str = "id"
    # Rows read and sketched at a time inside a shard task (bounds memory):
    # 512 keeps a worker ~30 MB smaller than 2048 (the batch's Python strings,
    # up to 4 bytes a character), at the same speed.
    batch_rows: int = 512
    # Hash-range partitions of every shuffle; None: one per cluster CPU.
    num_partitions: int | None = None
    max_rounds: int = 100
    # When set, an LSH candidate edge is kept only if the two documents'
    # signatures agree on at least this share of entries (estimated Jaccard).
    # Off by default, as in FineWeb and DCLM; see candidate_verification.py.
    verify_threshold: float | None = None

    def __post_init__(self) -> None:
        if self.ngram < 1 or self.num_bands < 1 or self.rows_per_band < 1:
            raise ValueError("ngram, num_bands and rows_per_band must be >= 1")
        object.__setattr__(self, "keep", KeepRule.parse(self.keep))
        if self.verify_threshold is not None and not 0.0 < self.verify_threshold <= 1.0:
            raise ValueError("verify_threshold must be in (0, 1]")

    @property
    def num_hashes(self) -> int:
        return self.num_bands * self.rows_per_band

    def candidate_probability(self, jaccard: float) -> float:
        """Chance that a pair with this Jaccard similarity becomes a candidate."""
        return s_curve(jaccard, self.num_bands, self.rows_per_band)

    @classmethod
    def from_recipe(cls, ngram: int = DEFAULT_NGRAM, num_bands: int | None = None,
                    rows_per_band: int | None = None, threshold: float | None = None,
                    keep: str | None = None, num_hashes_budget: int = 112,
                    **other) -> "MinHashConfig":
        """Build from the keyword arguments of a ``minhash_dedup`` recipe step."""
        if num_bands is None and rows_per_band is None and threshold is not None:
            num_bands, rows_per_band = choose_bands_rows(threshold, num_hashes_budget)
        return cls(ngram=ngram,
                   num_bands=DEFAULT_NUM_BANDS if num_bands is None else num_bands,
                   rows_per_band=DEFAULT_ROWS_PER_BAND if rows_per_band is None else rows_per_band,
                   keep=KeepRule.parse(keep), **other)
