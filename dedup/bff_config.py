"""The settings of a BFF dedup (``bff_dedup`` in a recipe, ``dclm dedup bff``), checked when made.

Kept apart from the Ray job that runs them (``pipelines.deduplication.bff_dedup``)
so that a recipe can be validated without starting anything.
"""
from __future__ import annotations

from dataclasses import dataclass

from dedup.bff_decide import DEFAULT_THRESHOLD
from dedup.bff_ngrams import DEFAULT_NGRAM

DEFAULT_FP_RATE = 1e-4


@dataclass(frozen=True)
class BffConfig:
    """``bff_dedup(ngram, threshold)`` plus BFF's other knobs."""

    ngram: int = DEFAULT_NGRAM              # BFF's max_ngram_size
    min_ngram: int = DEFAULT_NGRAM          # BFF's min_ngram_size
    threshold: float = DEFAULT_THRESHOLD    # BFF's filtering_threshold
    # Per n-gram. A paragraph of exactly ``ngram`` tokens has one n-gram, so
    # this is also its chance of a wrong removal: 1e-4 rather than DCLM's
    # example 1e-2, for 2x the memory (19.2 vs 9.6 bits per n-gram).
    fp_rate: float = DEFAULT_FP_RATE
    groups: int = 1
    text_column: str = "text"

    def __post_init__(self) -> None:
        if not 1 <= self.min_ngram <= self.ngram:
            raise ValueError("bff_dedup needs 1 <= min_ngram_size <= ngram")
        if not 0.0 <= self.threshold < 1.0:
            raise ValueError("bff_dedup threshold must be in [0, 1)")
        if not 0.0 < self.fp_rate < 1.0:
            raise ValueError("bff_dedup fp_rate must be in (0, 1)")
        if self.groups < 1:
            raise ValueError("bff_dedup groups must be >= 1")
