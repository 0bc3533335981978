"""The statistical tests behind the monitor: is a batch unlike the reference, and by how much?

Every test returns a p-value (how surprising the batch would be if it came from the
population of the reference) and an effect size (how different it is, on a scale that
does not grow with the number of rows). The monitor raises an alarm only when both
agree: the p-value after Holm's correction for running many tests at once
(:func:`holm`), and the effect above a floor the team sets, so that a trivial
difference on a huge sample stays quiet.

- numeric columns: the two-sample Kolmogorov-Smirnov test; effect: the statistic D,
  the largest gap between the two cumulative distributions (0 to 1);
- categorical columns: the chi-square test of homogeneity over the reference's
  categories; effect: the total variation distance between the two shares (0 to 1);
- a share that should not grow (missing values): Fisher's exact test;
- values outside the reference's range: exact under exchangeability (a new value is
  the largest of ``m + 1`` with probability ``1 / (m + 1)``);
- categories the reference never had: a binomial test against the Good-Turing
  estimate of how often a new draw brings an unseen category.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special, stats

MIN_EXPECTED_COUNT = 5  # chi-square cells expecting fewer rows are pooled into one


@dataclass(frozen=True)
class TestResult:
    """A p-value and an effect size."""

    p_value: float
    effect: float


def numeric_shift(reference: npt.NDArray[Any], batch: npt.NDArray[Any]) -> TestResult:
    """Kolmogorov-Smirnov test of two samples of finite numbers (each non-empty)."""
    result = stats.ks_2samp(reference, batch)
    return TestResult(float(result.pvalue), float(result.statistic))


def category_shift(reference: Mapping[str, int], batch: Mapping[str, int]) -> TestResult:
    """Chi-square test of homogeneity of category counts, over the reference's categories.

    Categories of the batch the reference never had are left out (see
    :func:`unseen_categories`). Categories expecting fewer than five rows in either
    sample are pooled, so the test's approximation holds.
    """
    categories = list(reference)
    ref = np.array([reference[name] for name in categories], dtype=float)
    new = np.array([batch.get(name, 0) for name in categories], dtype=float)
    if ref.sum() == 0 or new.sum() == 0:
        return TestResult(1.0, 0.0)
    effect = 0.5 * float(np.abs(ref / ref.sum() - new / new.sum()).sum())
    table = _pool_rare_cells(np.vstack([ref, new]))
    if table.shape[1] < 2:
        return TestResult(1.0, effect)
    result = stats.chi2_contingency(table, correction=False)
    return TestResult(float(result.pvalue), effect)


def _pool_rare_cells(table: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Merge the columns whose expected count is below ``MIN_EXPECTED_COUNT`` into one."""
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    rare = (expected < MIN_EXPECTED_COUNT).any(axis=0)
    if not rare.any():
        return table
    pooled = table[:, rare].sum(axis=1, keepdims=True)
    return np.hstack([table[:, ~rare], pooled])


def share_increase(
    reference_count: int, reference_rows: int, batch_count: int, batch_rows: int
) -> TestResult:
    """One-sided Fisher's exact test: does the batch have a larger share than the reference?

    The effect is the rise of the share (batch minus reference; negative when it fell).
    """
    if reference_rows == 0 or batch_rows == 0:
        return TestResult(1.0, 0.0)
    table = [
        [batch_count, batch_rows - batch_count],
        [reference_count, reference_rows - reference_count],
    ]
    p_value = float(stats.fisher_exact(table, alternative="greater").pvalue)
    return TestResult(p_value, batch_count / batch_rows - reference_count / reference_rows)


def out_of_range(reference: npt.NDArray[Any], batch: npt.NDArray[Any]) -> TestResult:
    """Are there more batch values beyond the reference's smallest or largest than chance allows?

    If the batch comes from the reference's population, the chance that ``k`` of its
    ``n`` values all exceed the ``m`` reference values is ``C(n, k) / C(m + n, k)``
    (ties make it smaller). Each side is tested that way, Bonferroni over the two.
    The effect is the share of batch values outside the range.
    """
    low, high = reference.min(), reference.max()
    below, above = int((batch < low).sum()), int((batch > high).sum())
    m, n = len(reference), len(batch)
    p_value = min(1.0, 2 * min(_all_beyond(below, n, m), _all_beyond(above, n, m)))
    return TestResult(p_value, (below + above) / n if n else 0.0)


def _all_beyond(k: int, n: int, m: int) -> float:
    """``C(n, k) / C(m + n, k)``: chance that the ``k`` largest of ``m + n`` all are the batch's."""
    if k == 0:
        return 1.0
    log_p = _log_choose(n, k) - _log_choose(m + n, k)
    return float(np.exp(log_p))


def _log_choose(n: int, k: int) -> float:
    return float(special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1))


def unseen_categories(reference: Mapping[str, int], batch: Mapping[str, int]) -> TestResult:
    """Binomial test: does the batch bring more unseen categories than the reference predicts?

    The chance that a new row has a category the reference never had is estimated by
    Good-Turing: the share of reference rows whose category appears once, plus one
    (so it is never zero). The effect is the share of batch rows with unseen categories.
    """
    rows = sum(reference.values())
    batch_rows = sum(batch.values())
    unseen = sum(count for name, count in batch.items() if name not in reference)
    if batch_rows == 0:
        return TestResult(1.0, 0.0)
    once = sum(1 for count in reference.values() if count == 1)
    expected = min(1.0, (once + 1) / (rows + 1))
    p_value = float(stats.binomtest(unseen, batch_rows, expected, alternative="greater").pvalue)
    return TestResult(p_value, unseen / batch_rows)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: compare each adjusted p-value with the false-alarm rate.

    Raising an alarm when any adjusted p-value is at most ``alpha`` keeps the chance
    of a false alarm over all the tests at most ``alpha``, whatever their dependence.
    """
    order = np.argsort(p_values, kind="stable")
    count = len(p_values)
    adjusted = [0.0] * count
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (count - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
