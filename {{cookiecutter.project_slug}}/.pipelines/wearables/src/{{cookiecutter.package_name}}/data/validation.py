"""Check a table against a pandera schema and explain every failure in one message.

:func:`validate` turns pandera's report into a :class:`DataValidationError`
naming the stage, the file, and for each failed check the column and the first
offending rows, so a person can find and fix the data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from .errors import DataValidationError as DataValidationError

_MAX_REPORTED_ROWS = 5


def validate(
    frame: pd.DataFrame, schema: pa.DataFrameSchema, *, stage: str, source: str | Path
) -> pd.DataFrame:
    """Check ``frame`` against ``schema``, reporting every failure at once.

    Args:
        frame: The data to check.
        schema: The schema it must satisfy.
        stage: The pipeline stage that produced the data (so the one to fix),
            for the error message.
        source: The file the data comes from or goes to, for the error message.

    Returns:
        The validated frame (with any coercions the schema asks for applied).

    Raises:
        DataValidationError: The frame breaks the schema. The message lists
            each failed check with its column and first offending rows, e.g.
            ``column 'bpm_mean', check 'in_range(30, 220)': rows [3, 17] (values 400.0, 0.0)``.
    """
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as error:
        problems = "\n".join(f"  - {line}" for line in _describe(error.failure_cases))
        raise DataValidationError(f"{stage}: {source} failed validation:\n{problems}") from error


def _describe(failure_cases: pd.DataFrame) -> list[str]:
    """Summarise pandera's failure cases as one line per column and check."""
    grouped: dict[str, list[tuple[object, object]]] = {}
    for case in failure_cases.itertuples(index=False):
        if case.check == "column_in_dataframe":
            grouped[f"column {case.failure_case!r}: missing"] = []
        elif case.check == "column_in_schema":
            grouped[f"column {case.failure_case!r}: not in the schema"] = []
        else:
            column = "(table)" if pd.isna(case.column) else case.column
            failed = grouped.setdefault(f"column {column!r}, check {case.check!r}", [])
            failed.append((case.index, case.failure_case))
    return [f"{problem}{_cases(cases)}" for problem, cases in grouped.items()]


def _cases(cases: list[tuple[object, object]]) -> str:
    """Describe the offending rows and values of one failed check."""
    if not cases:
        return ""
    if all(index is None for index, _ in cases):
        return ": found " + ", ".join(_show(value) for _, value in cases)
    shown = cases[:_MAX_REPORTED_ROWS]
    rows = ", ".join(str(index) for index, _ in shown)
    values = ", ".join(_show(value) for _, value in shown)
    more = f" and {len(cases) - len(shown)} more" if len(cases) > len(shown) else ""
    return f": rows [{rows}]{more} (values {values})"


def _show(value: object) -> str:
    """Render a failure value compactly: strings quoted, numbers plain."""
    return repr(value) if isinstance(value, str) else str(value)
