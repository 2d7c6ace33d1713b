"""Settings of a MinHash dedup run, with the DCLM-style recipe names.

A recipe step ``{func: minhash_dedup, ngram: 5, num_bands: 14,
rows_per_band: 8, threshold: 0.8, keep: fasttext_hq_prob}`` maps onto
``MinHashConfig.from_recipe``. When ``threshold`` is given without bands and
rows, they are chosen by ``minhash.choose_bands_rows`` within
``num_hashes_budget`` hash functions.

Two checks against the stored signatures make clusters precise:
``verify_threshold`` keeps an LSH candidate edge only if its two documents
are similar enough (``candidate_verification``), and ``keeper_threshold``
removes a document only if it is similar enough to the document kept in
its place (``keeper_check``). Both default to ``threshold`` when a recipe
gives one, else to ``DEFAULT_VERIFY_THRESHOLD`` and
``DEFAULT_KEEPER_THRESHOLD``; ``None`` turns a check off (both off: plain
transitive clusters, as FineWeb and DCLM do).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dedup.keep_rule import KeepRule
from dedup.minhash import DEFAULT_NUM_BANDS, DEFAULT_ROWS_PER_BAND, DEFAULT_SEED, choose_bands_rows, s_curve
from dedup.shingles import DEFAULT_NGRAM

# A removal should never name a keeper below J = 0.7 (what
# benchmarks/dedup_accuracy.py counts as a false positive), while pairs above
# 0.85 should end in one cluster. Clusters grown only from candidate edges
# estimated >= 0.8 are tight, so few members fail a keeper check at 0.725;
# with 112 hashes that check needs 82 equal entries (after the 16-bit
# correction): a pair at J = 0.7 passes with chance 0.26, at 0.6 with 0.002,
# at 0.8 it fails with 0.03 (binomial).
# Measured on the near-duplicate benchmark (4 samples of 2,500 to 6,000
# documents): (removed, keeper) precision 0.989-0.997, cluster recall
# 0.966-0.982, all-pairs cluster precision 0.976-0.987. The keeper check
# alone at 0.75 reached a recall of only 0.927-0.953; see
# benchmarks/dedup_accuracy.py.
DEFAULT_VERIFY_THRESHOLD = 0.8
DEFAULT_KEEPER_THRESHOLD = 0.725
# Re-clustering rounds of documents that failed the check against their
# keeper; documents still unsettled after the last round are kept. On the
# 50,000-document benchmark the defaults settle everything in 2 rounds, the
# keeper check alone (no candidate check) in 8.
DEFAULT_KEEPER_ROUNDS = 8
UNSET = object()      # from_recipe: a check threshold not given


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
    # signatures agree on at least this share of entries (estimated Jaccard);
    # see candidate_verification.py. FineWeb and DCLM check nothing (None).
    verify_threshold: float | None = DEFAULT_VERIFY_THRESHOLD
    # A cluster member is removed only if its signature agrees with its
    # keeper's on at least this share of entries; the others are clustered
    # again among themselves, up to keeper_rounds times in all.
    keeper_threshold: float | None = DEFAULT_KEEPER_THRESHOLD
    keeper_rounds: int = DEFAULT_KEEPER_ROUNDS

    def __post_init__(self) -> None:
        if self.ngram < 1 or self.num_bands < 1 or self.rows_per_band < 1:
            raise ValueError("ngram, num_bands and rows_per_band must be >= 1")
        object.__setattr__(self, "keep", KeepRule.parse(self.keep))
        for name in ("verify_threshold", "keeper_threshold"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1]")
        if self.keeper_rounds < 1:
            raise ValueError("keeper_rounds must be >= 1")

    @property
    def keeps_signatures(self) -> bool:
        """Whether shard sketches must keep (16-bit) signatures for later checks."""
        return self.verify_threshold is not None or self.keeper_threshold is not None

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
                    verify_threshold=UNSET, keeper_threshold=UNSET,
                    **other) -> "MinHashConfig":
        """Build from the keyword arguments of a ``minhash_dedup`` recipe step.

        A check threshold left ``UNSET`` follows ``threshold`` when given,
        else takes its default; ``None`` turns the check off.
        """
        if num_bands is None and rows_per_band is None and threshold is not None:
            num_bands, rows_per_band = choose_bands_rows(threshold, num_hashes_budget)
        if verify_threshold is UNSET:
            verify_threshold = DEFAULT_VERIFY_THRESHOLD if threshold is None else threshold
        if keeper_threshold is UNSET:
            keeper_threshold = DEFAULT_KEEPER_THRESHOLD if threshold is None else threshold
        return cls(ngram=ngram, verify_threshold=verify_threshold,
                   keeper_threshold=keeper_threshold,
                   num_bands=DEFAULT_NUM_BANDS if num_bands is None else num_bands,
                   rows_per_band=DEFAULT_ROWS_PER_BAND if rows_per_band is None else rows_per_band,
                   keep=KeepRule.parse(keep), **other)
