"""Statistics for comparing curation strategies over a handful of training seeds.

A comparison trains every recipe with the same seeds, so seed ``s`` of recipe A
and seed ``s`` of recipe B share their initial weights and batch order: the
only difference is the data. That makes the per-seed differences a paired
sample, and the paired t interval is the right one: it removes the
seed-to-seed noise that both recipes share.

With three seeds the t distribution has 2 degrees of freedom and its 97.5%
quantile is 4.30, not the normal 1.96, so the intervals are honestly wide. The
quantile is computed here (Student's t CDF through the regularized incomplete
beta function, inverted by bisection) rather than taken from a table, so any
number of seeds works without scipy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence


def _incomplete_beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of I_x(a, b) (modified Lentz), valid for x < (a + 1) / (a + b + 2)."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 400):
        # The even and the odd term of the fraction, one after the other.
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < eps:
            break
    return result


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the CDF of a Beta(a, b) variable at x."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x = {x} is outside [0, 1]")
    if x in (0.0, 1.0):
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _incomplete_beta_fraction(a, b, x) / a
    # The symmetry I_x(a, b) = 1 - I_{1-x}(b, a) keeps the fraction convergent.
    return 1.0 - math.exp(log_front) * _incomplete_beta_fraction(b, a, 1.0 - x) / b


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    tail = 0.5 * regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def student_t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p, by bisection on the CDF (monotone, so this cannot miss)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    if p < 0.5:
        return -student_t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while student_t_cdf(high, df) < p:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if student_t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2.0


@dataclass(frozen=True)
class Interval:
    """A sample mean with its two-sided confidence interval (None with fewer than two values)."""

    mean: float
    low: Optional[float]
    high: Optional[float]
    n: int
    std: Optional[float]

    def to_dict(self) -> dict:
        ci = None if self.low is None else [self.low, self.high]
        return {"mean": self.mean, "ci95": ci, "std": self.std, "n": self.n}


def mean_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """Mean and t interval: mean ± t_{(1+level)/2, n-1} · s / √n."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = math.fsum(values) / n
    if n < 2:
        return Interval(mean, None, None, n, None)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = student_t_quantile((1.0 + level) / 2.0, n - 1) * std / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, std)


@dataclass(frozen=True)
class PairedDifference:
    """Recipe A minus recipe B on one metric, paired by seed."""

    interval: Interval
    a_better_in: int          # seeds where A beat B (in the metric's good direction)
    seeds: int
    p_value: Optional[float]  # two-sided paired t test of "no difference"

    @property
    def significant(self) -> bool:
        """The 95% interval excludes zero (with at least two seeds)."""
        low, high = self.interval.low, self.interval.high
        return low is not None and (low > 0.0 or high < 0.0)


def paired_difference(a: Sequence[float], b: Sequence[float], higher_is_better: bool,
                      level: float = 0.95) -> PairedDifference:
    if len(a) != len(b) or not a:
        raise ValueError(f"paired samples need equal, non-zero lengths (got {len(a)} and {len(b)})")
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    interval = mean_interval(diffs, level)
    better = sum(1 for d in diffs if (d > 0 if higher_is_better else d < 0))
    p_value = None
    if interval.std is not None:
        if interval.std == 0.0:
            p_value = 1.0 if interval.mean == 0.0 else 0.0
        else:
            t = interval.mean / (interval.std / math.sqrt(interval.n))
            p_value = 2.0 * (1.0 - student_t_cdf(abs(t), interval.n - 1))
    return PairedDifference(interval, better, len(diffs), p_value)
