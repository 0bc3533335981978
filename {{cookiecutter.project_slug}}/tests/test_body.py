"""Reading POST /predict bodies: msgspec's fast path and the row-by-row checks agree."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.serving.body import BodyReader
from {{ cookiecutter.package_name }}.serving.model import Column
from {{ cookiecutter.package_name }}.serving.validation import RequestError, check_batch

NUMERIC = [Column("weird name-1", "double"), Column("count", "long")]
MIXED = [Column("weird name-1", "double"), Column("city", "string")]
ROWS = [{"count": 3, "weird name-1": -2}, {"weird name-1": 1e300, "count": 0.5}]
SPLIT = {"columns": ["count", "weird name-1"], "data": [[3, -2], [0.5, 1e300]]}


def read(body: Any, columns: list[Column] = NUMERIC) -> pd.DataFrame:
    return BodyReader(columns, max_rows=5).read(json.dumps(body).encode()).frame


@pytest.mark.parametrize(
    "body",
    [
        {"weird name-1": 1.5, "count": 3},
        ROWS,
        SPLIT,
        {**SPLIT, "index": [7, 8]},  # what DataFrame.to_json(orient="split") writes
    ],
)
def test_valid_bodies_read_the_same_on_both_paths(body: Any) -> None:
    data = json.dumps(body).encode()

    fast = BodyReader(NUMERIC, max_rows=5).read(data)
    checked = check_batch(json.loads(data), NUMERIC, max_rows=5)

    pd.testing.assert_frame_equal(fast.frame, checked.frame)
    assert list(fast.frame.columns) == ["weird name-1", "count"]  # signature order
    assert fast.missing_fraction == checked.missing_fraction == 0.0


def test_a_split_body_reads_like_its_records() -> None:
    pd.testing.assert_frame_equal(read(SPLIT), read(ROWS))
    mixed_rows = [{"weird name-1": 1.0, "city": "Oslo"}]
    mixed_split = {"columns": ["city", "weird name-1"], "data": [["Oslo", 1.0]]}
    pd.testing.assert_frame_equal(read(mixed_split, MIXED), read(mixed_rows, MIXED))


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"weird name-1": True, "count": 3}, "column 'weird name-1' must be a number"),
        ({"weird name-1": 1.0}, "missing column 'count'"),
        ({"weird name-1": 1.0, "count": 3, "x": 0}, "unknown column 'x'"),
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
        ({**SPLIT, "data": [[1, None]]}, "column 'weird name-1' must not be null; rows [0]"),
        ({**SPLIT, "data": [[1, 2]] * 6}, "the batch has 6 rows; at most 5"),
        ({**SPLIT, "data": []}, "the batch is empty"),
    ],
)
def test_bodies_the_fast_path_refuses_get_named(body: Any, problem: str) -> None:
    with pytest.raises(RequestError) as error:
        read(body)

    assert any(problem in text for text in error.value.problems), error.value.problems
