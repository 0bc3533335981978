"""The input rules both paths share: a table from a file and the rows of a JSON body.

The champion comes from the configured dataset (``champion.py``), so the tests
hold for any configured table and task.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.column_types import model_input
from {{ cookiecutter.package_name }}.inference import input_columns
from {{ cookiecutter.package_name }}.inputs import (
    Column,
    InputSchemaError,
    check_frame,
    check_records,
    missing_cells,
    rows_frame,
)

from .champion import Champion

COLUMNS = [Column("weird name-1", "double"), Column("city", "string")]


def test_inputs_take_the_models_form(champion: Champion) -> None:
    stored = champion.project.test_set  # labels, keys and features; dates as dates
    features = champion.project.experiment.features

    inputs = check_frame(stored, input_columns(champion.model))

    assert list(inputs.columns) == champion.names  # other columns dropped
    for name, kind in champion.types.items():
        assert (inputs[name].dtype == np.float64) == (kind != "string"), name
    expected = model_input(stored, features).astype("object")
    pd.testing.assert_frame_equal(
        inputs.astype("object").where(inputs.notna(), None),
        expected.where(expected.notna(), None),
    )


def test_values_of_text_columns_are_read_as_text(champion: Champion) -> None:
    name = champion.text_column()
    stored = champion.test_rows(3)
    stored[name] = [7, None, "x"]

    inputs = check_frame(stored, input_columns(champion.model))

    assert inputs[name].tolist() == ["7", None, "x"]


def test_missing_values_are_counted() -> None:
    frame = pd.DataFrame({"a": [1.0, np.nan], "b": [None, "x"]})

    assert missing_cells(frame) == 2
    assert missing_cells(frame.iloc[:0]) == 0


def test_input_errors_name_every_column_and_row(champion: Champion) -> None:
    name = champion.numeric_column()
    others = [other for other in champion.names if other != name]
    bad = champion.project.features(champion.test_rows(3)).drop(columns=others[:1])
    bad[name] = [None, "fast", float("inf")]  # missing is fine; text and infinity are not
    bad["not an input"] = ["any", "thing", 3]

    with pytest.raises(InputSchemaError) as error:
        check_frame(bad, input_columns(champion.model))

    assert error.value.problems == [
        *(f"missing column '{other}'" for other in others[:1]),
        f"column '{name}' must be a number ({champion.types[name]}) or missing (null); "
        'rows [1] hold "fast"',
        f"column '{name}' must be a finite number or missing (null); rows [2] hold Infinity",
    ]


@pytest.mark.parametrize(
    ("value", "told"),
    [("fast", '"fast"'), (float("inf"), "Infinity"), (-float("inf"), "-Infinity")],
)
def test_a_file_and_a_json_body_are_told_the_same_problem(value: Any, told: str) -> None:
    row = {"weird name-1": value, "city": "Oslo"}
    from_body = json.loads(json.dumps([{"weird name-1": 1.0, "city": None}, row]))

    with pytest.raises(InputSchemaError) as from_file:
        check_frame(pd.DataFrame(from_body), COLUMNS)
    checked = check_records(from_body, COLUMNS)

    assert checked.problems == from_file.value.problems
    assert checked.problems[0].endswith(f"rows [1] hold {told}")
    assert checked.missing_fraction == 0.25


def test_json_is_strict_on_types_where_a_file_reads_text() -> None:
    rows = [{"weird name-1": True, "city": 7}]

    problems = check_records(rows, COLUMNS).problems

    assert problems == [
        "column 'weird name-1' must be a number (double) or missing (null); rows [0] hold true",
        "column 'city' must be a string or missing (null); rows [0] hold 7",
    ]
    assert check_frame(pd.DataFrame(rows), COLUMNS).to_dict("records") == [
        {"weird name-1": 1.0, "city": "7"}
    ]


def test_a_missing_column_is_named_with_its_rows_in_json() -> None:
    rows: list[dict[str, Any]] = [{"weird name-1": 1.0, "city": "Oslo"}, {"weird name-1": 2.0}]

    assert check_records(rows, COLUMNS).problems == ["missing column 'city' in rows [1]"]
    with pytest.raises(InputSchemaError, match="missing column 'city'"):
        check_frame(pd.DataFrame({"weird name-1": [1.0]}), COLUMNS)


def test_long_lists_of_rows_and_values_are_cut_short() -> None:
    rows = [{"weird name-1": "x" * 40, "city": None} for _ in range(8)]

    (problem,) = check_records(rows, COLUMNS).problems

    assert "rows [0, 1, 2, 3, 4] and 3 more hold " in problem
    assert problem.count("…") == 5


@pytest.mark.parametrize(
    "rows",
    [
        [[1.5, "north", True, 3]],
        [[None, None, None, None]],
        [[1.5, None, True, None], [None, "2022-01-01", None, 2], [2, "", False, 7]],
    ],
)
def test_rows_become_the_frame_pandas_builds_from_them(rows: list[list[Any]]) -> None:
    columns = [
        Column("x", "double", False),
        Column("city", "string", False),
        Column("flag", "boolean", False),
        Column("count", "long", False),
    ]
    names = [column.name for column in columns]
    expected = pd.DataFrame.from_records(rows, columns=names).astype({"x": float, "count": float})

    frame = rows_frame(rows, columns)

    pd.testing.assert_frame_equal(frame, expected)  # dtypes included
