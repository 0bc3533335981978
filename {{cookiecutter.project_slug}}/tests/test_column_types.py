"""Column types: read from the data or declared, each stored one way, dates sent as text."""

from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.column_types import (
    apply_types,
    column_types,
    dates_as_text,
    infer_type,
    model_input,
    stored_type,
)
from {{ cookiecutter.package_name }}.data.dataset import ColumnType
from {{ cookiecutter.package_name }}.data.errors import DataValidationError


@pytest.fixture
def raw() -> pd.DataFrame:
    """A table as a CSV file delivers it: numbers, text, true/false, ISO dates, gaps."""
    return pd.DataFrame(
        {
            "age": [34, None, 51, 28],
            "plan": ["basic", " premium ", "  ", None],
            "active": ["true", "False", None, "TRUE"],
            "signup": ["2026-01-02", "2026-02-03T10:15:00", None, "2026-03-04"],
            "zip_code": [1234.0, np.nan, 5678.0, 1234.0],
        }
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2, 3], "numeric"),
        ([1.5, None, 2.0], "numeric"),
        (["1", "2.5", None], "numeric"),  # numbers written as text
        ([None, None], "numeric"),  # nothing to go by
        ([True, False], "boolean"),
        (["true", "FALSE", None], "boolean"),
        (["2026-03-12", "2026-03-13"], "date"),
        (["2026-03-12T10:15:00", "2026-03-13 08:00"], "date"),
        (["2026-03-12T10:15:00+02:00", "2026-03-13T10:15:00"], "date"),  # offset and none
        (pd.to_datetime(["2026-03-12", None]), "date"),
        (["12/03/2026", "13/03/2026"], "categorical"),  # not ISO 8601
        (["March 12, 2026"], "categorical"),
        (["2026-03-12", "2026-02-30"], "categorical"),  # no such day
        (["2026-03-12", "soon"], "categorical"),
        (["2026-03"], "categorical"),  # a month, not a date
        (["yes", "no"], "categorical"),
        (["basic", None, "premium"], "categorical"),
    ],
)
def test_a_columns_type_is_read_from_its_values(values: list[Any], expected: str) -> None:
    assert infer_type(pd.Series(values)) == expected


def test_declared_types_and_dates_win_over_the_data(raw: pd.DataFrame) -> None:
    raw["closed"] = ["12/03/2026", None, "13/03/2026", None]

    types = column_types(raw, {"zip_code": "categorical"}, ["closed"], source="customers.csv")

    assert types == {
        "age": "numeric",
        "plan": "categorical",
        "active": "boolean",
        "signup": "date",
        "zip_code": "categorical",
        "closed": "date",
    }


def test_a_declared_column_the_table_lacks_is_named(raw: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError) as error:
        column_types(raw, {"zipcode": "categorical"}, ["closed"], source="customers.csv")

    message = str(error.value)
    assert message.startswith(
        "customers.csv: `types`/`dates` in conf/data/ name column(s) ['zipcode', 'closed']"
    )
    assert "it has ['age', 'plan', 'active', 'signup', 'zip_code']" in message


def test_each_type_is_stored_one_way(raw: pd.DataFrame) -> None:
    types = column_types(raw, {"zip_code": "categorical"}, [], source="customers.csv")

    typed = apply_types(raw, types, source="customers.csv")

    assert typed["age"].dtype == "float64"
    assert typed["age"].isna().tolist() == [False, True, False, False]
    assert typed["plan"].tolist()[:2] == ["basic", "premium"]  # stripped
    assert typed["plan"].isna().tolist() == [False, False, True, True]  # blank is missing
    assert typed["active"].dtype == "float64"
    assert typed["active"].tolist()[:2] == [1.0, 0.0]
    assert np.isnan(typed["active"].iloc[2])
    assert typed["active"].iloc[3] == 1.0
    assert typed["signup"].dtype == "datetime64[ns]"
    assert typed["signup"].tolist()[:2] == [
        pd.Timestamp("2026-01-02"),
        pd.Timestamp("2026-02-03 10:15"),
    ]
    assert pd.isna(typed["signup"].iloc[2])
    assert typed.index.equals(raw.index)


def test_a_categorical_code_read_as_a_number_keeps_no_decimals(raw: pd.DataFrame) -> None:
    typed = apply_types(raw, {"zip_code": "categorical"}, source="customers.csv")

    assert typed["zip_code"].tolist()[:1] + typed["zip_code"].tolist()[2:] == [
        "1234",
        "5678",
        "1234",
    ]
    assert pd.isna(typed["zip_code"].iloc[1])


def test_values_that_cannot_be_compared_are_stored_as_text() -> None:
    raw = pd.DataFrame({"tags": [["a", "b"], None, ["a", "b"], ["c"]]})  # a Parquet list column

    typed = apply_types(raw, {"tags": "categorical"}, source="visits.parquet")

    assert typed["tags"].tolist() == ["['a', 'b']", None, "['a', 'b']", "['c']"]


def test_dates_with_an_offset_are_stored_in_utc() -> None:
    frame = pd.DataFrame({"seen": ["2026-03-12T10:15:00+02:00", "2026-03-12T10:15:00Z"]})

    typed = apply_types(frame, {"seen": "date"}, source="visits.csv")

    assert typed["seen"].tolist() == [
        pd.Timestamp("2026-03-12 08:15"),
        pd.Timestamp("2026-03-12 10:15"),
    ]
    assert typed["seen"].dt.tz is None


def test_values_that_do_not_fit_their_type_are_named() -> None:
    frame = pd.DataFrame(
        {
            "age": ["34", "unknown", "51", "n/a"],
            "active": ["true", "false", "yes", None],
            "signup": ["2026-01-02", "2026-01-03", "2026-01-04", "someday"],
            "plan": ["basic", "1", "2026-01-01", None],  # anything is a category
        }
    )
    types: dict[str, ColumnType] = {
        "age": "numeric",
        "active": "boolean",
        "signup": "date",
        "plan": "categorical",
    }

    with pytest.raises(DataValidationError) as error:
        apply_types(frame, types, source="data/raw/shop")

    message = str(error.value)
    assert message.startswith("data/raw/shop: values do not fit their column's type")
    assert "declare the column as `categorical` under `types` in conf/data/" in message
    assert (
        "  - column 'age' must be numeric: 2 value(s) are not, e.g. rows [1, 3] hold "
        "['unknown', 'n/a']" in message
    )
    assert (
        "  - column 'active' must be boolean: 1 value(s) are not, e.g. rows [2] hold ['yes']"
        in message
    )
    assert (
        "  - column 'signup' must be date: 1 value(s) are not, e.g. rows [3] hold ['someday']"
        in message
    )
    assert "'plan'" not in message


def test_the_stored_type_of_a_typed_table(raw: pd.DataFrame) -> None:
    declared: dict[str, ColumnType] = {"zip_code": "categorical", "age": "numeric"}
    typed = apply_types(raw, column_types(raw, declared, [], source="x"), source="x")
    typed["codes"] = ["01", "02", None, "true"]  # text that looks like numbers stays text

    assert {name: stored_type(typed[name]) for name in typed.columns} == {
        "age": "numeric",
        "plan": "categorical",
        "active": "boolean",  # stored as 0 and 1
        "signup": "date",
        "zip_code": "categorical",  # declared, though its values look like numbers
        "codes": "categorical",
    }


def test_the_model_takes_dates_as_iso_text(raw: pd.DataFrame) -> None:
    typed = apply_types(raw, column_types(raw, {}, [], source="x"), source="x")

    inputs = model_input(typed, {"signup": "date", "age": "numeric"})

    assert list(inputs.columns) == ["signup", "age"]
    assert inputs["signup"].tolist() == [
        "2026-01-02T00:00:00",
        "2026-02-03T10:15:00",
        None,
        "2026-03-04T00:00:00",
    ]
    assert inputs["age"].equals(typed["age"])


def test_dates_as_text_reads_text_dates_too() -> None:
    column = pd.Series(["2026-03-12", None, "2026-03-13T08:00:00", "2026-03-14T08:00:00+02:00"])

    assert dates_as_text(column).tolist() == [
        "2026-03-12T00:00:00",
        None,
        "2026-03-13T08:00:00",
        "2026-03-14T06:00:00",  # in UTC
    ]


def test_a_date_beyond_what_pandas_holds_is_named_not_a_crash() -> None:
    frame = pd.DataFrame({"valid_to": ["2026-03-12", "9999-12-31"]})

    with pytest.raises(DataValidationError) as error:
        apply_types(frame, {"valid_to": "date"}, source="contracts.csv")

    assert "column 'valid_to' must be date: 1 value(s) are not, e.g. rows [1]" in str(error.value)
