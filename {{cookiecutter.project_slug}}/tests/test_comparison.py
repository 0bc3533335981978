"""Calibration of the monitor's verdict: few false alarms, a real shift found and ranked first.

Seeded, so each run draws the same samples: the rates below are measured, not hoped for.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.dataset import ColumnType
from {{ cookiecutter.package_name }}.monitoring.comparison import Comparison, compare
from {{ cookiecutter.package_name }}.monitoring.samples import profile
from {{ cookiecutter.package_name }}.monitoring.settings import Thresholds

from .conftest import TrainedProject

RESAMPLES = 200
COLUMNS: dict[str, ColumnType] = {
    "amount": "numeric",
    "spread": "numeric",
    "visits": "numeric",
    "plan": "categorical",
    "autopay": "boolean",
    "signup": "date",
}
NO_FLOORS = Thresholds(min_drift=0, min_missing_increase=0, min_out_of_range=0, min_unseen=0)


def synthetic(rng: np.random.Generator, rows: int, shift: float = 0.0) -> pd.DataFrame:
    """Inputs of every column type, with gaps; ``shift`` moves ``amount`` by that many SDs."""
    amount = rng.normal(100 + 15 * shift, 15, rows)
    amount[rng.random(rows) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "amount": amount,
            "spread": rng.gamma(2.0, 0.5, rows),
            "visits": rng.poisson(3, rows).astype(float),  # many ties
            "plan": rng.choice(
                ["basic", "premium", "family", "student"], rows, p=[0.5, 0.3, 0.15, 0.05]
            ),
            "autopay": (rng.random(rows) < 0.4).astype(float),
            "signup": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), "D"),
        }
    )


def alarm_rate(
    batches: Callable[[int], pd.DataFrame], reference: pd.DataFrame, thresholds: Thresholds
) -> float:
    ref = profile(reference, COLUMNS)
    alarms = [compare(ref, batches(i), COLUMNS, thresholds).alarm for i in range(RESAMPLES)]
    return float(np.mean(alarms))


def test_batches_from_the_reference_population_rarely_raise_an_alarm() -> None:
    rng = np.random.default_rng(0)
    reference = synthetic(rng, 2000)

    def batch(_: int) -> pd.DataFrame:
        return synthetic(rng, 1000)

    assert alarm_rate(batch, reference, Thresholds()) <= 0.05
    # Without the effect floors the p-values alone hold the false-alarm rate (Holm).
    assert alarm_rate(batch, reference, NO_FLOORS) <= 0.05 + 0.03  # 0.03: 2 SD of 200 draws


def test_half_a_standard_deviation_on_one_feature_is_found_and_ranked_first() -> None:
    rng = np.random.default_rng(1)
    reference = synthetic(rng, 2000)

    ref = profile(reference, COLUMNS)
    results = [
        compare(ref, synthetic(rng, 1000, shift=0.5), COLUMNS, Thresholds())
        for _ in range(RESAMPLES)
    ]

    assert np.mean([result.alarm for result in results]) >= 0.95
    assert np.mean([result.columns[0].column == "amount" for result in results]) >= 0.95


def test_a_new_category_is_a_quality_finding_not_a_crash() -> None:
    rng = np.random.default_rng(2)
    reference, batch = synthetic(rng, 2000), synthetic(rng, 1000)
    batch.loc[:99, "plan"] = "platinum"

    result = compare(profile(reference, COLUMNS), batch, COLUMNS, Thresholds())

    assert [(f.column, f.check) for f in result.alarms] == [("plan", "unseen")]
    assert "'platinum'" in result.alarms[0].message
    assert "platinum" in result.columns[0].distribution["labels"]


def test_missing_values_values_out_of_range_and_text_in_a_number_column_are_named() -> None:
    rng = np.random.default_rng(3)
    reference, batch = synthetic(rng, 2000), synthetic(rng, 1000).astype({"spread": object})
    batch.loc[:199, "visits"] = np.nan  # 20 % missing
    batch.loc[:49, "spread"] = 1e6  # far beyond the reference's largest value
    batch.loc[50, "spread"] = "n/a"

    result = compare(profile(reference, COLUMNS), batch, COLUMNS, Thresholds())
    found = {(f.column, f.check) for f in result.alarms}

    assert {("visits", "missing"), ("spread", "out_of_range"), ("spread", "type")} <= found


def test_a_column_the_batch_lacks_is_a_schema_violation() -> None:
    rng = np.random.default_rng(4)
    reference, batch = synthetic(rng, 500), synthetic(rng, 500).drop(columns="plan")

    result = compare(profile(reference, COLUMNS), batch, COLUMNS, Thresholds())

    assert [(f.column, f.check, f.message) for f in result.alarms] == [
        ("plan", "schema", "the batch has no column 'plan'")
    ]


def test_every_column_has_a_distribution_to_plot() -> None:
    rng = np.random.default_rng(6)
    result = compare(
        profile(synthetic(rng, 500), COLUMNS), synthetic(rng, 300), COLUMNS, Thresholds()
    )

    for column in result.columns:
        shares = column.distribution
        assert len(shares["labels"]) >= len(shares["reference"]) == len(shares["batch"]) > 0
        assert sum(shares["reference"]) == pytest.approx(1.0, abs=1e-3)


def test_the_configured_dataset_split_at_random_raises_at_most_five_percent_alarms(
    trained_project: TrainedProject,
) -> None:
    """Calibration on the project's own table, whatever it is: two random halves of its rows."""
    rows = trained_project.features(
        pd.concat([trained_project.train_set, trained_project.test_set])
    )
    order = np.random.default_rng(7).permutation(len(rows))
    reference, pool = rows.iloc[order[: len(rows) // 2]], rows.iloc[order[len(rows) // 2 :]]
    columns = trained_project.experiment.features
    rng = np.random.default_rng(8)

    def batch(_: int) -> pd.DataFrame:
        return pool.sample(n=len(pool) // 2, random_state=rng.integers(2**31))

    ref = profile(reference, columns)
    results: list[Comparison] = [
        compare(ref, batch(i), columns, Thresholds()) for i in range(RESAMPLES)
    ]

    assert np.mean([result.alarm for result in results]) <= 0.05
