"""Cleaning: rows without a label go, infinite numbers become missing, and both are counted."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.cleaning import clean
from {{ cookiecutter.package_name }}.data.errors import DataValidationError

SOURCE = "data/raw_aligned/shop/table.parquet"


@pytest.fixture
def typed() -> pd.DataFrame:
    """A typed table (as the align stage writes it) with gaps, infinities and unlabelled rows."""
    return pd.DataFrame(
        {
            "age": [34.0, np.nan, 51.0, np.inf, 28.0, 45.0],
            "spend": [10.0, 20.0, -np.inf, 5.0, 7.0, 8.0],
            "plan": ["basic", "premium", None, "basic", None, "basic"],
            "signup": pd.to_datetime(["2026-01-02", None, "2026-01-04", None, None, None]),
            "churned": ["yes", None, "no", "no", None, "yes"],
        }
    )


def test_rows_without_a_label_are_dropped_and_counted(typed: pd.DataFrame) -> None:
    cleaned, report = clean(typed, "churned", source=SOURCE)

    assert cleaned["churned"].tolist() == ["yes", "no", "no", "yes"]
    assert cleaned["age"].tolist()[:1] == [34.0]
    assert list(cleaned.index) == [0, 1, 2, 3]
    assert report["rows_in"] == 6
    assert report["rows_out"] == 4
    assert report["dropped_missing_label"] == 2


def test_infinite_numbers_become_missing_and_are_counted(typed: pd.DataFrame) -> None:
    cleaned, report = clean(typed, "churned", source=SOURCE)

    assert np.isfinite(cleaned[["age", "spend"]].fillna(0).to_numpy()).all()
    assert cleaned["age"].isna().tolist() == [False, False, True, False]
    assert cleaned["spend"].isna().tolist() == [False, True, False, False]
    assert report["infinite_values_replaced"] == 2  # counted over every row, labelled or not


def test_the_report_gives_the_missing_share_of_columns_with_gaps(typed: pd.DataFrame) -> None:
    _, report = clean(typed, "churned", source=SOURCE)

    assert report["missing_share"] == {"age": 0.25, "spend": 0.25, "plan": 0.25, "signup": 0.5}


def test_the_input_table_is_left_as_it_was(typed: pd.DataFrame) -> None:
    before = typed.copy()

    clean(typed, "churned", source=SOURCE)

    pd.testing.assert_frame_equal(typed, before)


def test_a_table_without_numbers_or_gaps_passes_unchanged() -> None:
    frame = pd.DataFrame({"plan": ["basic", "premium"], "churned": ["yes", "no"]})

    cleaned, report = clean(frame, "churned", source=SOURCE)

    pd.testing.assert_frame_equal(cleaned, frame)
    assert report == {
        "rows_in": 2,
        "rows_out": 2,
        "dropped_missing_label": 0,
        "infinite_values_replaced": 0,
        "missing_share": {},
    }


def test_a_missing_label_column_is_named(typed: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError) as error:
        clean(typed, "churn", source=SOURCE)

    assert str(error.value) == (
        f"{SOURCE}: the label column 'churn' is not in the table; its columns are "
        "['age', 'spend', 'plan', 'signup', 'churned']. Set `label` in conf/data/."
    )


def test_a_table_without_any_label_is_an_error(typed: pd.DataFrame) -> None:
    typed["churned"] = None

    with pytest.raises(DataValidationError) as error:
        clean(typed, "churned", source=SOURCE)

    assert str(error.value) == f"{SOURCE}: no row has a value in the label column 'churned'"
