"""Reading POST /predict bodies: msgspec's fast path and the row-by-row checks agree."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.inputs import Column, rows_frame
from {{ cookiecutter.package_name }}.serving.body import (
    Batch,
    BodyReader,
    NotJsonError,
    RequestError,
    check_body,
)

NUMERIC = [Column("weird name-1", "double"), Column("count", "long")]
MIXED = [Column("weird name-1", "double"), Column("city", "string")]
ROWS: list[dict[str, Any]] = [
    {"count": 3, "weird name-1": -2},
    {"weird name-1": 1e300, "count": 0.5},
]
SPLIT: dict[str, Any] = {"columns": ["count", "weird name-1"], "data": [[3, -2], [0.5, 1e300]]}
OTHER_KEYS: dict[str, Any] = {"x": "text", "y": {"nested": [1, None]}, "z": None}  # no model's


def batch(body: Any, columns: list[Column] = NUMERIC) -> Batch:
    return BodyReader(columns, max_rows=5).read(json.dumps(body).encode())


def read(body: Any, columns: list[Column] = NUMERIC) -> pd.DataFrame:
    """The frame the model would take for ``body``'s rows."""
    return rows_frame(batch(body, columns).rows, columns)


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({"weird name-1": 1.5, "count": 3}, 0.0),
        (ROWS, 0.0),
        (SPLIT, 0.0),
        ({**SPLIT, "index": [7, 8]}, 0.0),  # what DataFrame.to_json(orient="split") writes
        ([{**row, **OTHER_KEYS} for row in ROWS], 0.0),
        ({"columns": ["x", *SPLIT["columns"]], "data": [["a", 3, -2], [None, 0.5, 1e300]]}, 0.0),
        ({"weird name-1": None, "count": 3}, 0.5),
        ({**SPLIT, "data": [[3, None], [None, None]]}, 0.75),
    ],
    ids=["row", "rows", "split", "split-index", "other-keys", "other-columns", "null", "nulls"],
)
def test_valid_bodies_read_the_same_on_both_paths(body: Any, missing: float) -> None:
    data = json.dumps(body).encode()

    fast = BodyReader(NUMERIC, max_rows=5).read(data)
    checked = check_body(json.loads(data), NUMERIC, max_rows=5)

    assert fast.rows == checked.rows
    frame = rows_frame(fast.rows, NUMERIC)
    assert list(frame.columns) == ["weird name-1", "count"]  # signature order
    assert (frame.dtypes == np.float64).all()
    assert fast.missing_fraction == checked.missing_fraction == missing


def test_a_split_body_reads_like_its_records() -> None:
    pd.testing.assert_frame_equal(read(SPLIT), read(ROWS))
    mixed_rows = [{"weird name-1": 1.0, "city": "Oslo"}]
    mixed_split = {"columns": ["city", "weird name-1"], "data": [["Oslo", 1.0]]}
    pd.testing.assert_frame_equal(read(mixed_split, MIXED), read(mixed_rows, MIXED))


@pytest.mark.parametrize("columns", [NUMERIC, MIXED], ids=["numeric", "mixed"])
def test_null_is_a_missing_value_in_either_shape(columns: list[Column]) -> None:
    names = [column.name for column in columns]
    rows = [dict.fromkeys(names), {names[0]: 2.5, names[1]: None}]
    split = {"columns": names[::-1], "data": [[row[name] for name in names[::-1]] for row in rows]}

    from_rows, from_split = batch(rows, columns), batch(split, columns)

    assert from_rows.rows == from_split.rows
    assert from_rows.missing_fraction == from_split.missing_fraction == 0.75
    frame = rows_frame(from_rows.rows, columns)
    assert frame[names[0]].dtype == np.float64  # numbers: NaN where missing
    assert frame[names[0]].isna().tolist() == [True, False]
    assert frame[names[1]].isna().all()


def test_an_optional_column_left_out_is_a_missing_value() -> None:
    columns = [Column("a", "double"), Column("b", "double", required=False)]

    read = check_body({"a": 1}, columns, max_rows=5)

    frame = rows_frame(read.rows, columns)
    assert list(frame.columns) == ["a", "b"]
    assert frame["a"].tolist() == [1.0]
    assert frame["b"].isna().all()
    assert read.missing_fraction == 0.5


@pytest.mark.parametrize("columns", [NUMERIC, MIXED], ids=["numeric", "mixed"])
def test_keys_the_model_does_not_take_are_ignored(columns: list[Column]) -> None:
    names = [column.name for column in columns]
    row = {names[0]: 1.5, names[1]: 3 if columns is NUMERIC else "Oslo"}
    split = {"columns": names, "data": [list(row.values())]}
    wider_split = {"columns": [*names, "x"], "data": [[*row.values(), {"any": "value"}]]}

    expected = read(row, columns)

    pd.testing.assert_frame_equal(read({**row, **OTHER_KEYS}, columns), expected)
    pd.testing.assert_frame_equal(read([{**OTHER_KEYS, **row}], columns), expected)
    pd.testing.assert_frame_equal(read(wider_split, columns), read(split, columns))
    # A row keeps its values whatever else it holds, "columns" and "data" included.
    pd.testing.assert_frame_equal(read({**row, "columns": ["x"], "data": [[1]]}, columns), expected)


def test_the_fast_path_reads_rows_with_other_keys_itself() -> None:
    reader = BodyReader(NUMERIC, max_rows=5)

    rows = reader.numeric_rows(json.dumps([{**row, **OTHER_KEYS} for row in ROWS]).encode())

    assert rows == [[-2.0, 3.0], [1e300, 0.5]]  # in signature order


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"weird name-1": True, "count": 3}, "column 'weird name-1' must be a number"),
        ({"weird name-1": "1", "count": 3}, "column 'weird name-1' must be a number"),
        ({"weird name-1": 1.0}, "missing column 'count'"),
        ({"weird name-1": 1.0, "x": 0}, "missing column 'count' in rows [0]"),
        ([{"weird name-1": 1.0, "count": 3}] * 6, "the batch has 6 rows; at most 5"),
        ([], "the batch is empty"),
        ({"weird name-1": 1.0, "count": 10**400}, "must be a finite number"),
        ({**SPLIT, "data": [[1, 2, 3]]}, "every row of 'data' must hold 2 values"),
        ({**SPLIT, "data": [[1, 2], 5]}, "every row of 'data' must be an array; rows [1]"),
        ({**SPLIT, "data": {}}, "'data' must be an array of rows"),
        ({**SPLIT, "columns": ["count", "count"]}, "'columns' names ['count'] more than once"),
        ({**SPLIT, "columns": ["count", 1]}, "'columns' must be an array of column names"),
        ({**SPLIT, "rows": 2}, "unknown keys ['rows']"),
        ({"columns": ["count"], "data": [[1]]}, "missing column 'weird name-1' in rows [0]"),
        ({"columns": ["count", "x"], "data": [[1, 2]]}, "missing column 'weird name-1' in rows"),
        ({**SPLIT, "data": [[1, "2"]]}, "column 'weird name-1' must be a number"),
        ({**SPLIT, "data": [[1, 2]] * 6}, "the batch has 6 rows; at most 5"),
        ({**SPLIT, "data": []}, "the batch is empty"),
    ],
)
def test_bodies_the_fast_path_refuses_get_named(body: Any, problem: str) -> None:
    with pytest.raises(RequestError) as error:
        read(body)

    assert any(problem in text for text in error.value.problems), error.value.problems


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"weird name-1": 1.0, "city": 5}, "column 'city' must be a string or missing (null); "),
        ({"weird name-1": 1.0, "city": False}, "column 'city' must be a string or missing (null)"),
        ({"weird name-1": "1.0", "city": "Oslo"}, "column 'weird name-1' must be a number"),
        ({"weird name-1": float("inf"), "city": "Oslo"}, "must be a finite number or missing"),
        ({"columns": ["city", "x"], "data": [["Oslo", 1]]}, "missing column 'weird name-1'"),
        ({"columns": ["weird name-1", "city"], "data": [[1, "Oslo"], [2, 5]]}, "'city' must be"),
        ({"columns": ["city", "weird name-1"], "data": [["Oslo", True]]}, "must be a number"),
        ({"columns": ["city", "weird name-1"], "data": [["Oslo", 10**400]]}, "finite number"),
        ({"columns": ["city", "weird name-1"], "data": [["Oslo", 1, 2]]}, "must hold 2 values"),
    ],
)
def test_wrong_json_types_in_mixed_rows_get_named(body: Any, problem: str) -> None:
    with pytest.raises(RequestError) as error:
        read(body, MIXED)

    assert any(problem in text for text in error.value.problems), error.value.problems


@pytest.mark.parametrize(
    "data",
    [b"[" * 100_000 + b"]" * 100_000, b'{"city": "Oslo"} x', b"", b'"\xff"'],
    ids=["too-deep", "trailing", "empty", "bad-utf-8"],
)
@pytest.mark.parametrize("columns", [NUMERIC, MIXED], ids=["numeric", "mixed"])
def test_bodies_that_are_not_json_are_named_so(data: bytes, columns: list[Column]) -> None:
    with pytest.raises(NotJsonError):
        BodyReader(columns, max_rows=5).read(data)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"weird name-1": NaN, "city": "Oslo"}', "must be a finite number or missing"),
        (b'{"weird name-1": 1E400, "city": "Oslo"}', "must be a finite number or missing"),
        ('{"weird name-1": 1, "city": 2}'.encode("utf-16"), "column 'city' must be a string"),
    ],
    ids=["nan", "overflow", "utf-16"],
)
def test_json_beyond_the_standard_is_read_and_checked(data: bytes, problem: str) -> None:
    with pytest.raises(RequestError) as error:
        BodyReader(MIXED, max_rows=5).read(data)

    assert any(problem in text for text in error.value.problems), error.value.problems
