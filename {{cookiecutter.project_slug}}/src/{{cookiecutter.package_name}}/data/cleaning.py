"""Clean a typed table for modelling: rows without a label go, blanks become missing.

Nothing is dropped silently: :func:`clean` returns a report of what it removed,
and the ``process`` stage writes it next to its output (``report.json``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import DataValidationError


def clean(frame: pd.DataFrame, label: str, *, source: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Drop rows whose label is missing and turn infinite numbers into missing values.

    Returns:
        The cleaned table (fresh index) and a report: rows in and out, rows
        dropped for a missing label, infinite values replaced, and the share of
        missing values of every column that has any.

    Raises:
        DataValidationError: The label column is not in the table, or no row
            has a label.
    """
    if label not in frame.columns:
        raise DataValidationError(
            f"{source}: the label column '{label}' is not in the table; "
            f"its columns are {list(frame.columns)}. Set `label` in conf/data/."
        )
    numeric = frame.select_dtypes("number").columns
    infinite = np.isinf(frame[numeric].to_numpy(dtype=float)) if len(numeric) else np.zeros(0)
    cleaned = frame
    if infinite.any():
        cleaned = frame.copy()  # the caller's table stays as it was
        cleaned[numeric] = cleaned[numeric].mask(np.isinf(cleaned[numeric].astype(float)))
    unlabelled = cleaned[label].isna()
    cleaned = cleaned[~unlabelled].reset_index(drop=True)
    if cleaned.empty:
        raise DataValidationError(f"{source}: no row has a value in the label column '{label}'")
    missing = cleaned.isna().mean()
    report = {
        "rows_in": len(frame),
        "rows_out": len(cleaned),
        "dropped_missing_label": int(unlabelled.sum()),
        "infinite_values_replaced": int(infinite.sum()),
        "missing_share": {
            str(name): round(float(share), 6) for name, share in missing.items() if share > 0
        },
    }
    return cleaned, report
