"""Check a parsed POST /predict body against the model's signature, naming every problem.

A body holds rows in one of two shapes: records (one JSON object per row, or a
single object) or pandas' split orientation (``{"columns": [...], "data": [[...]]}``,
what ``DataFrame.to_json(orient="split")`` writes). The rules are those of
``inference.check_inputs`` (every signature column present; numeric columns hold
finite numbers; null where a value is missing, for the model to impute; columns
the model does not take are ignored) made strict for JSON: numbers sent as text,
and text sent as numbers, are errors too. The checks run row by row in plain
Python (still much faster than pandas); ``body.BodyReader`` skips them for valid
numeric bodies.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..inference import InputSchemaError
from .model import Column

MAX_EXAMPLES = 5
JSON_TYPES = {"string": str, "boolean": bool}
SPLIT_KEYS = ("columns", "data", "index")  # "index" (pandas writes it) is ignored
SHAPES = 'a JSON object (one row), an array of them, or {"columns": [...], "data": [[...]]}'


@dataclass(frozen=True)
class Batch:
    """A valid request: the rows as a frame in signature order, and how much was missing."""

    frame: pd.DataFrame
    missing_fraction: float


class NotJsonError(ValueError):
    """The request body is not JSON (or not UTF-8); the message says where it breaks."""


class RequestError(InputSchemaError):
    """The request body breaks the rules; ``problems`` names each broken rule."""

    def __init__(self, problems: list[str], missing_fraction: float | None = None) -> None:
        """Keep the problems and, when rows could be read, their fraction of missing values."""
        super().__init__(problems)
        self.missing_fraction = missing_fraction


def _is_split(body: Any, names: Sequence[str]) -> bool:
    """Whether ``body`` is a split body: an object with a ``columns`` array and ``data``.

    An object that holds every input column is a row, whatever else it holds (other
    keys are ignored), as ``body.BodyReader`` reads it.
    """
    return (
        isinstance(body, dict)
        and isinstance(body.get("columns"), list)
        and "data" in body
        and not all(name in body for name in names)
    )


def _rows_of_split(body: dict[str, Any]) -> list[dict[str, Any]]:
    columns, data = body["columns"], body["data"]
    problems = []
    unknown = sorted(set(body) - set(SPLIT_KEYS))
    if unknown:
        problems.append(f"unknown keys {unknown}: a split body has only {list(SPLIT_KEYS)}")
    if not all(isinstance(name, str) for name in columns):
        problems.append("'columns' must be an array of column names (strings)")
    else:
        repeated = sorted(name for name, count in Counter(columns).items() if count > 1)
        if repeated:
            problems.append(f"'columns' names {repeated} more than once")
    if not isinstance(data, list):
        problems.append(
            f"'data' must be an array of rows, each an array of values, not {_kind(data)}"
        )
    else:
        not_arrays = [i for i, row in enumerate(data) if not isinstance(row, list)]
        if not_arrays:
            problems.append(
                f"every row of 'data' must be an array; {_rows_text(not_arrays)} are not"
            )
        wrong_size = [
            i for i, row in enumerate(data) if isinstance(row, list) and len(row) != len(columns)
        ]
        if wrong_size:
            problems.append(
                f"every row of 'data' must hold {len(columns)} values, one per name in 'columns'; "
                f"{_rows_text(wrong_size)} do not"
            )
    if problems:
        raise RequestError(problems)
    return [dict(zip(columns, row, strict=True)) for row in data]


def _rows_of(body: Any, names: Sequence[str], max_rows: int) -> list[dict[str, Any]]:
    if _is_split(body, names):
        body = _rows_of_split(body)
    if isinstance(body, dict):
        return [body]
    if not isinstance(body, list):
        raise RequestError([f"the body must be {SHAPES}, not {_kind(body)}"])
    if not body:
        raise RequestError(["the batch is empty: send at least one row"])
    if len(body) > max_rows:
        raise RequestError([f"the batch has {len(body)} rows; at most {max_rows} are allowed"])
    not_objects = [i for i, row in enumerate(body) if not isinstance(row, dict)]
    if not_objects:
        raise RequestError(
            [f"every row must be a JSON object; rows {not_objects[:MAX_EXAMPLES]} are not"]
        )
    return body


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _fits(value: Any, column: Column) -> bool:
    if column.numeric:
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = JSON_TYPES.get(column.type)
    return expected is None or isinstance(value, expected)


def _finite(value: float) -> bool:
    """Whether a JSON number is a finite float; integers too large for a float are not."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _rows_text(rows: Sequence[int]) -> str:
    shown = list(rows[:MAX_EXAMPLES])
    more = f" and {len(rows) - len(shown)} more" if len(rows) > len(shown) else ""
    return f"rows {shown}{more}"


def check_batch(body: Any, columns: Sequence[Column], max_rows: int) -> Batch:
    """Return the rows of a parsed JSON body as a frame, or raise naming every problem.

    Columns the model does not take are ignored; null is a missing value, which
    the model imputes (and ``Batch.missing_fraction`` counts).

    Raises:
        RequestError: The body is not one row, a batch of rows or a split body (or
            that body is malformed: unknown keys, rows of the wrong length), the batch is
            empty or too large, or rows miss columns or hold values of the wrong type
            or non-finite numbers.
    """
    rows = _rows_of(body, [column.name for column in columns], max_rows)
    missing: dict[str, list[int]] = defaultdict(list)
    wrong_type: dict[str, list[int]] = defaultdict(list)
    wrong_examples: dict[str, list[str]] = defaultdict(list)
    null_cells = 0
    not_finite: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        for column in columns:
            value = row.get(column.name)
            if value is None:
                if column.name not in row and column.required:
                    missing[column.name].append(index)
                else:  # null, or an optional column left out: the model imputes it
                    null_cells += 1
            elif not _fits(value, column):
                wrong_type[column.name].append(index)
                if len(wrong_examples[column.name]) < MAX_EXAMPLES:
                    wrong_examples[column.name].append(_kind(value))
            elif column.numeric and not _finite(value):
                not_finite[column.name].append(index)
    empty_cells = sum(map(len, missing.values())) + null_cells
    missing_fraction = empty_cells / (len(rows) * len(columns)) if columns else 0.0

    problems = [f"missing column '{name}' in {_rows_text(at)}" for name, at in missing.items()]
    for column in columns:
        name = column.name
        expected = "a number" if column.numeric else f"a {column.type}"
        if name in wrong_type:
            problems.append(
                f"column '{name}' must be {expected} ({column.type}) or null; "
                f"{_rows_text(wrong_type[name])} hold {', '.join(wrong_examples[name])}"
            )
        if name in not_finite:
            problems.append(
                f"column '{name}' must be a finite number or null; "
                f"{_rows_text(not_finite[name])} hold NaN, infinity or a number beyond float range"
            )
    if problems:
        raise RequestError(problems, missing_fraction)
    return Batch(_frame(rows, columns), missing_fraction)


def _frame(rows: list[dict[str, Any]], columns: Sequence[Column]) -> pd.DataFrame:
    """The rows as the model takes them: numeric columns as floats (null: NaN)."""
    names = [column.name for column in columns]
    if all(column.numeric for column in columns):
        values = [[row.get(name) for name in names] for row in rows]
        return pd.DataFrame(np.array(values, dtype=np.float64), columns=names)
    frame = pd.DataFrame.from_records(rows, columns=names)
    numeric = [column.name for column in columns if column.numeric]
    frame[numeric] = frame[numeric].astype(np.float64)
    return frame
