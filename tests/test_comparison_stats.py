"""Student-t intervals and paired differences, checked against published t tables."""
from __future__ import annotations

import math

import pytest

from dclm.evaluation.comparison_stats import (
    mean_interval,
    paired_difference,
    regularized_incomplete_beta,
    student_t_cdf,
    student_t_quantile,
)


@pytest.mark.parametrize("df, quantile", [(1, 12.7062047), (2, 4.3026527), (3, 3.1824463), (4, 2.7764451),
                                          (9, 2.2621572), (29, 2.0452296), (1000, 1.9623391)])
def test_t_quantiles_match_tables(df, quantile):
    assert student_t_quantile(0.975, df) == pytest.approx(quantile, abs=1e-6)
    assert student_t_quantile(0.025, df) == pytest.approx(-quantile, abs=1e-6)


def test_t_cdf_known_values_and_symmetry():
    assert student_t_cdf(0.0, 3) == pytest.approx(0.5)
    assert student_t_cdf(1.0, 1) == pytest.approx(0.75)             # Cauchy: 1/2 + atan(1)/pi
    assert student_t_cdf(2.0, 5) == pytest.approx(0.9490303, abs=1e-7)
    for t in (0.3, 1.7, 6.0):
        assert student_t_cdf(t, 4) + student_t_cdf(-t, 4) == pytest.approx(1.0)


def test_incomplete_beta_edges_and_a_closed_form():
    assert regularized_incomplete_beta(2, 3, 0.0) == 0.0 and regularized_incomplete_beta(2, 3, 1.0) == 1.0
    x = 0.3                                                            # I_x(1, b) = 1 - (1 - x)^b
    assert regularized_incomplete_beta(1, 4, x) == pytest.approx(1 - (1 - x) ** 4)
    with pytest.raises(ValueError):
        regularized_incomplete_beta(1, 1, 1.5)


def test_mean_interval():
    interval = mean_interval([1.0, 2.0, 3.0])
    half = 4.3026527 * 1.0 / math.sqrt(3)
    assert interval.mean == 2.0 and interval.std == pytest.approx(1.0)
    assert (interval.low, interval.high) == pytest.approx((2.0 - half, 2.0 + half))
    single = mean_interval([0.7])
    assert single.to_dict() == {"mean": 0.7, "ci95": None, "std": None, "n": 1}
    with pytest.raises(ValueError):
        mean_interval([])


def test_paired_difference_direction_wins_and_significance():
    worse_bpb = [1.30, 1.35, 1.50]
    better_bpb = [1.00, 1.10, 1.20]
    diff = paired_difference(better_bpb, worse_bpb, higher_is_better=False)
    assert diff.interval.mean == pytest.approx(-0.2833333)
    assert diff.a_better_in == 3 and diff.seeds == 3
    assert diff.significant and diff.interval.high < 0
    assert diff.p_value == pytest.approx(0.00344235, rel=1e-4)
    # Seed noise larger than the effect: not significant, though A wins 2 of 3.
    noisy = paired_difference([0.30, 0.10, 0.26], [0.20, 0.25, 0.22], higher_is_better=True)
    assert noisy.a_better_in == 2 and not noisy.significant and noisy.p_value > 0.5
    identical = paired_difference([0.5, 0.5], [0.5, 0.5], higher_is_better=True)
    assert identical.p_value == 1.0 and not identical.significant and identical.a_better_in == 0
    with pytest.raises(ValueError):
        paired_difference([1.0], [1.0, 2.0], higher_is_better=True)
