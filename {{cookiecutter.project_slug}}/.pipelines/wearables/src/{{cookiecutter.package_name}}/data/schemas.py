"""What every stage's output must look like, and readable errors when it does not.

Each stage validates what it reads and writes against one of these pandera
schemas through :func:`..validation.validate`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pandera.pandas as pa

SESSION_KEYS: tuple[str, ...] = ("task", "participant", "session")
"""Columns that identify a session in the aligned and processed stages."""

FEATURE_KEYS: tuple[str, ...] = (*SESSION_KEYS, "window_start")
"""Columns that identify one window of the features table."""

FEATURE_STATISTICS: tuple[str, ...] = ("mean", "std", "min", "max", "dom_freq")
"""Suffixes of feature columns, e.g. ``bpm_mean`` or ``acc_mag_dom_freq``."""

SESSION_FORMAT = "%Y%m%dT%H%M%S"
"""How a session's start is written in ``session`` values and file names."""


def _increasing(series: pd.Series) -> pd.Series:
    """Pass the first row and every row whose value comes after the previous row's."""
    previous = series.shift()
    return previous.isna() | (series > previous)


def _finite(series: pd.Series) -> pd.Series:
    """Pass the rows holding a finite number (not NaN or infinite).

    Non-numeric columns pass: their dtype check already reports them.
    """
    if not pd.api.types.is_numeric_dtype(series):
        return pd.Series(True, index=series.index)
    return pd.Series(np.isfinite(series.to_numpy(dtype=float)), index=series.index)


_INCREASING = pa.Check(_increasing, name="increasing")
_FINITE = pa.Check(_finite, name="finite")
_NOT_BLANK = pa.Check.str_length(min_value=1)
_SESSION_ID = pa.Check.str_matches(r"^\d{8}T\d{6}$", error="like 20260302T090000")


def _text(*checks: pa.Check) -> pa.Column:
    """A text column that is never missing or empty, such as ``task``."""
    return pa.Column(str, [_NOT_BLANK, *checks], nullable=False)


def _session_keys() -> dict[str, pa.Column]:
    """The key columns of a session: task, participant and session start."""
    return {"task": _text(), "participant": _text(), "session": _text(_SESSION_ID)}


def _all_but(names: Sequence[str], suffix: str = "") -> str:
    """A column-name pattern matching every name outside ``names`` that ends in ``suffix``."""
    excluded = "|".join(f"{re.escape(name)}$" for name in names)
    return f"^(?!(?:{excluded})).+{suffix}$"


MANIFEST = pa.DataFrameSchema(
    {
        "task": _text(),
        "participant": _text(),
        "start": pa.Column(pa.DateTime, nullable=False, coerce=True),
        "device": _text(),
        "clock_offset_s": pa.Column(float, _FINITE, coerce=True),
        "path": _text(),
        # What the source declares of each file, checked when the file is read: its
        # number of rows and the SHA-256 of its bytes. Optional, and worth having: a
        # recording cut short on the way otherwise passes as a shorter one.
        "rows": pa.Column(int, pa.Check.ge(1), coerce=True, required=False),
        "sha256": pa.Column(str, pa.Check.str_matches(r"^[0-9a-f]{64}$"), required=False),
    },
    strict=True,
    unique=["task", "participant", "start", "device"],
    name="manifest",
)
"""The raw stage's ``sessions.csv``: one row per recording (device and session)."""


def raw_schema(channels: Sequence[str], name: str) -> pa.DataFrameSchema:
    """Return the schema of one device's raw recording.

    Dropouts are part of raw data, so channels may be missing (NaN); values are
    not range-checked here, because cleaning them is the ``process`` stage's job.

    Args:
        channels: The device's measurement columns.
        name: The device's name, used in error messages.
    """
    return pa.DataFrameSchema(
        {
            "timestamp": pa.Column(pa.DateTime, _INCREASING, nullable=False, coerce=True),
            **{channel: pa.Column(float, nullable=True, coerce=True) for channel in channels},
        },
        strict=True,
        name=name,
    )


RAW_ACCELEROMETER = raw_schema(["acc_x", "acc_y", "acc_z"], "accelerometer")
RAW_HEART_RATE = raw_schema(["bpm"], "heart_rate")
RAW_SCHEMAS: Mapping[str, pa.DataFrameSchema] = {
    "accelerometer": RAW_ACCELEROMETER,
    "heart_rate": RAW_HEART_RATE,
}
"""Raw schema of each device, by the device name used in file names and the manifest."""

ALIGNED = pa.DataFrameSchema(
    {
        **_session_keys(),
        "timestamp": pa.Column(pa.DateTime, _INCREASING, nullable=False),
        _all_but([*SESSION_KEYS, "timestamp"]): pa.Column(float, nullable=True, regex=True),
    },
    strict=True,
    name="aligned session",
)
"""One session of the raw_aligned stage: keys, a common time base, every channel as float."""


def features_schema(
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> pa.DataFrameSchema:
    """Return the schema of the features table.

    Feature columns are found by name (``<channel>_<statistic>``), so the same
    schema serves any set of channels; every one must be a finite float.

    Args:
        ranges: Plausible range of each channel; the channel's mean, min and
            max features must lie within it.
    """
    ranges = ranges or {}
    ranged = {
        f"{channel}_{statistic}": pa.Column(float, [_FINITE, pa.Check.in_range(low, high)])
        for channel, (low, high) in ranges.items()
        for statistic in ("mean", "min", "max")
    }
    statistic = "_(?:" + "|".join(FEATURE_STATISTICS) + ")"
    return pa.DataFrameSchema(
        {
            **_session_keys(),
            "window_start": pa.Column(pa.DateTime, nullable=False),
            **ranged,
            _all_but([*FEATURE_KEYS, *ranged], statistic): pa.Column(float, _FINITE, regex=True),
        },
        strict=True,
        name="features",
    )


FEATURES = features_schema()
"""The processed stage's features table, without range checks."""
