"""A column's values in the form the monitor compares: sorted numbers, or category counts.

Reading a column once (:func:`column_sample`) lets the monitor profile the
reference a single time and compare any number of batches with it
(:func:`profile`). Values are read as the model takes them, whatever the batch's
storage: numbers from numbers or text, booleans from 0/1 or true/false, dates
from stored dates or ISO 8601 text (as days since 1970, UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..data.dataset import ColumnType

_BOOLEAN_WORDS = {"true": "true", "1": "true", "1.0": "true", "false": "false", "0": "false"}
_BOOLEAN_WORDS["0.0"] = "false"


@dataclass(frozen=True)
class ColumnSample:
    """One column of one sample: its size, gaps, unreadable values and readable ones."""

    kind: ColumnType
    rows: int
    missing: int
    invalid: int  # present but not readable as the column's type
    numbers: npt.NDArray[Any]  # numeric and date columns: the finite values, sorted
    counts: dict[str, int]  # categorical and boolean columns: rows per value

    @property
    def missing_share(self) -> float:
        """The share of rows without a value."""
        return self.missing / self.rows if self.rows else 0.0


def column_sample(values: pd.Series, kind: ColumnType) -> ColumnSample:
    """Read one column as ``kind``."""
    present = values.dropna()
    rows, missing = len(values), len(values) - len(present)
    empty = np.empty(0)
    if kind == "boolean" and pd.api.types.is_numeric_dtype(present):
        flags = present.to_numpy(dtype=float)
        counts = {"true": int((flags == 1).sum()), "false": int((flags == 0).sum())}
        invalid = len(flags) - counts["true"] - counts["false"]
        return ColumnSample(kind, rows, missing, invalid, empty, counts)
    if kind in ("categorical", "boolean"):
        if kind == "boolean":  # true/false as text
            words = present.astype(str).str.strip().str.lower().map(_BOOLEAN_WORDS)
            invalid = int(words.isna().sum())
            text = words.dropna()
        else:
            invalid, text = 0, present.astype(str)
        counts = {str(key): int(count) for key, count in text.value_counts().items()}
        return ColumnSample(kind, rows, missing, invalid, empty, counts)
    if kind == "date":
        numbers = _days_since_epoch(present)
    elif pd.api.types.is_numeric_dtype(present):
        numbers = present.to_numpy(dtype=float)
    else:
        numbers = pd.to_numeric(present, errors="coerce").to_numpy(dtype=float)
    readable = np.isfinite(numbers)
    return ColumnSample(kind, rows, missing, int((~readable).sum()), np.sort(numbers[readable]), {})


def _days_since_epoch(values: pd.Series) -> npt.NDArray[Any]:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values if values.dt.tz else values.dt.tz_localize("UTC")
    else:
        parsed = pd.to_datetime(values.astype(str), errors="coerce", format="ISO8601", utc=True)
    days = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds() / 86400.0
    return np.asarray(days.to_numpy(dtype=float, na_value=np.nan), dtype=float)


def profile(
    values: Mapping[str, pd.Series], columns: Mapping[str, ColumnType]
) -> dict[str, ColumnSample]:
    """Every column of ``columns`` (name to type) that ``values`` has, read once."""
    return {
        name: column_sample(values[name], kind) for name, kind in columns.items() if name in values
    }
