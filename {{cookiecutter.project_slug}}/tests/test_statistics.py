"""The monitor's tests: p-values that are uniform when nothing changed, effects on a fixed scale."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from {{ cookiecutter.package_name }}.monitoring.statistics import (
    category_shift,
    holm,
    numeric_shift,
    out_of_range,
    share_increase,
    unseen_categories,
)

RNG_SEED = 5


def test_holm_matches_the_textbook_adjustment() -> None:
    # p sorted: 0.01, 0.02, 0.03, 0.5 -> 4*0.01, 3*0.02, max(.., 2*0.03), max(.., 0.5)
    assert holm([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    assert holm([]) == []
    assert holm([0.3, 0.04]) == pytest.approx([0.3, 0.08])
    assert holm([0.9, 0.8]) == [1.0, 1.0]


def test_numeric_shift_effect_is_the_ks_statistic() -> None:
    rng = np.random.default_rng(RNG_SEED)
    reference, batch = rng.normal(0, 1, 3000), rng.normal(0.5, 1, 1000)

    result = numeric_shift(reference, batch)

    assert result.effect == pytest.approx(stats.ks_2samp(reference, batch).statistic)
    assert 0.15 < result.effect < 0.25  # a half-SD shift of a normal: D about 0.2
    assert result.p_value < 1e-10


def test_category_shift_pools_rare_cells_and_measures_total_variation() -> None:
    reference = {"a": 500, "b": 480, "c": 15, "d": 5}
    batch = {"a": 250, "b": 250, "d": 1}

    result = category_shift(reference, batch)

    shares_ref = np.array([500, 480, 15, 5]) / 1000
    shares_new = np.array([250, 250, 0, 1]) / 501
    assert result.effect == pytest.approx(0.5 * np.abs(shares_ref - shares_new).sum())
    assert 0 <= result.p_value <= 1


def test_category_shift_of_one_category_is_no_evidence() -> None:
    assert category_shift({"a": 10}, {"a": 3}).p_value == 1.0


def test_share_increase_is_one_sided() -> None:
    assert share_increase(10, 1000, 200, 1000).p_value < 1e-20
    assert share_increase(200, 1000, 10, 1000).p_value > 0.99
    assert share_increase(10, 1000, 200, 1000).effect == pytest.approx(0.19)


def test_out_of_range_is_exact_for_values_beyond_the_maximum() -> None:
    reference = np.arange(100, dtype=float)  # m = 100
    batch = np.array([150.0, 160.0, 50.0])  # n = 3, two above the maximum

    result = out_of_range(reference, batch)

    # Two-sided Bonferroni of C(3, 2) / C(103, 2) on the upper side.
    assert result.p_value == pytest.approx(2 * 3 / (103 * 102 / 2))
    assert result.effect == pytest.approx(2 / 3)


def test_unseen_categories_expect_the_good_turing_share() -> None:
    reference = {"a": 60, "b": 39, "c": 1}  # one singleton among 100 rows
    calm = unseen_categories(reference, {"a": 50, "b": 48, "z": 2})
    flood = unseen_categories(reference, {"a": 50, "z": 50})

    assert calm.p_value > 0.05
    assert flood.p_value < 1e-10
    assert flood.effect == pytest.approx(0.5)


@pytest.mark.parametrize("test", ["numeric", "categorical"])
def test_p_values_are_uniform_when_nothing_changed(test: str) -> None:
    """Under the null, P(p <= 0.05) is at most about 5 % (ties make it smaller)."""
    rng = np.random.default_rng(RNG_SEED)
    p_values = []
    for _ in range(400):
        if test == "numeric":
            result = numeric_shift(rng.gamma(2, 1, 800), rng.gamma(2, 1, 300))
        else:
            draw = rng.choice(list("abcde"), p=[0.4, 0.3, 0.2, 0.08, 0.02], size=1100)
            counts = [
                dict(zip(*np.unique(part, return_counts=True), strict=True))
                for part in (draw[:800], draw[800:])
            ]
            result = category_shift(*counts)
        p_values.append(result.p_value)

    assert np.mean(np.array(p_values) <= 0.05) <= 0.08
