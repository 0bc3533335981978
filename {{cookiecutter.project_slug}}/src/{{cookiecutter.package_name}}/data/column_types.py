"""Give every column of a table one type the model can rely on.

Four types, each stored one way, so every file of a source and every later stage
agree:

- ``numeric``: float64, missing values as NaN (integers too: a missing value in
  an integer column would otherwise change its type);
- ``categorical``: text (pandas' Arrow-backed strings where the reader gave
  them, else Python strings), missing values as missing;
- ``boolean``: stored as the numbers 0 and 1 (NaN when missing);
- ``date``: datetime64 without a time zone (times in UTC).

A column's type is the one declared in ``conf/data/<name>.yaml`` (``types``, or
``dates`` for date columns), or else read from the data: numbers are numeric,
true/false columns boolean, text whose every value is an ISO 8601 date (such as
``2026-03-12`` or ``2026-03-12T10:15:00``) a date, other text categorical.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .dataset import ColumnType
from .errors import DataValidationError

MAX_EXAMPLES = 5
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
"""How the model takes dates: ISO 8601 text, as a client sends them in JSON."""


def infer_type(series: pd.Series) -> ColumnType:
    """The type a column's values suggest (see the module's documentation)."""
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    # Every check holds for all values when it holds for each distinct one: a text
    # column of a million rows has a few hundred categories, checked once each.
    values = pd.Series(series.unique(), dtype="object").dropna()
    if values.empty:
        return "numeric"
    text = values.astype(str)
    if set(text.str.lower()) <= {"true", "false"}:
        return "boolean"
    if pd.to_numeric(text, errors="coerce").notna().all():
        return "numeric"
    if text.str.match(r"^\d{4}-\d{2}-\d{2}").all():
        # utc: values with and without a UTC offset are still dates (and mix without error).
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
        if parsed.notna().all():
            return "date"
    return "categorical"


def stored_type(series: pd.Series) -> ColumnType:
    """The type of a column :func:`apply_types` has converted, read from its storage.

    Unlike :func:`infer_type`, text is categorical whatever it looks like, so a column
    declared ``categorical`` (codes such as ``01234``) keeps its type; numbers that
    are all 0 or 1 are boolean, as booleans are stored.
    """
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series):
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
        present = ~np.isnan(numbers)
        zero_or_one = (numbers == 0) | (numbers == 1)
        return "boolean" if present.any() and (zero_or_one | ~present).all() else "numeric"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    return "categorical"


def column_types(
    frame: pd.DataFrame,
    declared: Mapping[str, ColumnType],
    dates: Sequence[str],
    *,
    source: str,
) -> dict[str, ColumnType]:
    """The type of every column: declared where the configuration says, inferred elsewhere.

    Raises:
        DataValidationError: A declared column is not in the table.
    """
    wanted = {**declared, **dict.fromkeys(dates, "date")}
    unknown = [name for name in wanted if name not in frame.columns]
    if unknown:
        raise DataValidationError(
            f"{source}: `types`/`dates` in conf/data/ name column(s) {unknown} that the table "
            f"does not have; it has {list(frame.columns)}"
        )
    return {
        str(name): wanted.get(str(name)) or infer_type(frame[name])  # type: ignore[misc]
        for name in frame.columns
    }


BOOLEAN_WORDS = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0}


def _convert(series: pd.Series, kind: ColumnType) -> pd.Series:
    """The column in its type's storage; values that do not fit become missing."""
    if kind == "numeric":
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if kind == "boolean":
        return _per_value(
            series, lambda words: words.astype(str).str.strip().str.lower().map(BOOLEAN_WORDS)
        ).astype("float64")
    if kind == "date":
        if pd.api.types.is_datetime64_any_dtype(series):
            parsed = series
        else:  # each value read on its own: 2026-03-12 next to 2026-03-12T10:15:00+02:00
            parsed = _per_value(
                series,
                lambda text: pd.to_datetime(text, errors="coerce", format="mixed", utc=True),
            )
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        # pandas holds dates in nanoseconds from 1677 to 2262: one outside (9999-12-31,
        # a common "no end" marker) becomes missing, and apply_types names it.
        inside = parsed.isna() | parsed.between(pd.Timestamp.min, pd.Timestamp.max)
        return parsed.where(inside).astype("datetime64[ns]")
    # Text read by Arrow stays in Arrow (pandas' string dtype): writing it to Parquet
    # then copies buffers instead of converting a million Python strings.
    text_dtype = series.dtype if isinstance(series.dtype, pd.StringDtype) else "object"
    text = _per_value(
        series, lambda values: values.map(_as_text, na_action="ignore").astype(text_dtype)
    )
    return text if text_dtype != "object" else python_text(text)


def python_text(text: pd.Series) -> pd.Series:
    """Text as Python strings, a missing value as None: what the model is given."""
    return text.astype("object").where(text.notna(), None)


def _per_value(series: pd.Series, convert: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``convert`` run on the column's distinct values, then spread back to its rows.

    A million rows of a text column hold a few hundred categories or dates: each is
    parsed once. Missing values stay missing.
    """
    try:
        codes, distinct = pd.factorize(series)  # missing values get the code -1
    except TypeError:  # values that cannot be compared (lists from a Parquet file): each row
        return convert(series.astype("object"))
    converted = convert(pd.Series(distinct, dtype="object")).reindex(codes)  # -1: missing
    return converted.set_axis(series.index)


def _as_text(value: object) -> str | None:
    """A category as text, a whole number without ``.0``.

    A column of codes with gaps is read as floats; ``1234.0`` must become the
    category ``1234``, as a client sends it.
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


def apply_types(
    frame: pd.DataFrame, types: Mapping[str, ColumnType], *, source: str
) -> pd.DataFrame:
    """Convert every column to its type's storage.

    Raises:
        DataValidationError: Values of a column do not fit its type (text in a
            numeric column, an unparseable date); the message names the column,
            the rule and the first offending rows.
    """
    converted: dict[str, pd.Series] = {}
    problems = []
    for name, kind in types.items():
        original = frame[name]
        converted[name] = _convert(original, kind)
        if kind == "categorical":  # anything is a category: nothing to lose
            continue
        lost = original.notna() & converted[name].isna()
        if lost.any():
            rows = np.flatnonzero(lost.to_numpy())[:MAX_EXAMPLES].tolist()
            values = original.iloc[rows].tolist()
            problems.append(
                f"column '{name}' must be {kind}: {int(lost.sum())} value(s) are not, "
                f"e.g. rows {rows} hold {values}"
            )
    if problems:
        raise DataValidationError(
            f"{source}: values do not fit their column's type (declare the column as "
            "`categorical` under `types` in conf/data/, or fix the data):\n  - "
            + "\n  - ".join(problems)
        )
    return pd.DataFrame(converted, index=frame.index)


def model_input(frame: pd.DataFrame, features: Mapping[str, ColumnType]) -> pd.DataFrame:
    """The ``features`` columns of a table, as the model takes them.

    Numeric and boolean columns as float64, categorical columns as Python strings,
    dates as ``DATE_FORMAT`` text; missing values as NaN or None. A table the align
    stage typed is stored so, but for its dates and Arrow-backed text; an untyped
    one (a skeleton pipeline's) is converted here.
    """
    columns = {}
    for name, kind in features.items():
        column = frame[name]
        if kind == "date" or pd.api.types.is_datetime64_any_dtype(column):
            columns[name] = dates_as_text(column)
        elif kind == "categorical":
            columns[name] = python_text(_convert(column, kind))
        else:
            columns[name] = _convert(column, kind)
    return pd.DataFrame(columns, index=frame.index)


def dates_as_text(column: pd.Series) -> pd.Series:
    """Dates (or text that pandas reads as dates) written as ``DATE_FORMAT``; missing: None.

    Each value is read on its own (``2026-03-12`` next to ``2026-03-12T10:15:00``), and
    times with a UTC offset are written in UTC, as :func:`apply_types` stores them.
    """
    text = pd.to_datetime(column, format="mixed", utc=True).dt.strftime(DATE_FORMAT)
    return text.astype("object").where(column.notna(), None)
