"""Bad data is stopped with a message naming the stage, file, column, check and rows."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.schemas import (
    ALIGNED,
    FEATURES,
    MANIFEST,
    RAW_HEART_RATE,
    features_schema,
)
from {{ cookiecutter.package_name }}.data.validation import DataValidationError, validate

SOURCE = "data/processed/demo/features.parquet"


def features(rows: int = 4) -> pd.DataFrame:
    """A valid features table."""
    return pd.DataFrame(
        {
            "task": ["walking"] * rows,
            "participant": ["p001"] * rows,
            "session": ["20260302T090000"] * rows,
            "window_start": pd.date_range("2026-03-02 09:00", periods=rows, freq="2500ms"),
            "bpm_mean": np.linspace(90.0, 110.0, rows),
            "bpm_std": np.full(rows, 2.0),
            "acc_mag_dom_freq": np.full(rows, 1.8),
        }
    )


def problems(frame: pd.DataFrame, schema: object = FEATURES) -> str:
    """The message of the validation error ``frame`` raises."""
    with pytest.raises(DataValidationError) as error:
        validate(frame, schema, stage="process", source=SOURCE)  # type: ignore[arg-type]
    return str(error.value)


def test_valid_data_is_returned() -> None:
    frame = features()

    pd.testing.assert_frame_equal(validate(frame, FEATURES, stage="process", source=SOURCE), frame)


def test_the_message_names_the_stage_and_the_file() -> None:
    message = problems(features().drop(columns="task"))

    assert message.startswith(f"process: {SOURCE} failed validation:\n")


def test_a_missing_column_is_named() -> None:
    assert "  - column 'task': missing" in problems(features().drop(columns="task"))


def test_an_unexpected_column_is_named() -> None:
    assert "  - column 'note': not in the schema" in problems(features().assign(note="x"))


def test_a_wrong_type_is_named_with_the_offending_values() -> None:
    frame = features().assign(bpm_std=["2.0", "high", "2.0", "2.0"])

    expected = "column 'bpm_std', check \"dtype('float64')\": rows [1] (values 'high')"
    assert expected in problems(frame)


def test_out_of_range_values_are_listed_with_their_rows() -> None:
    frame = features()
    frame.loc[[1, 3], "bpm_mean"] = [400.0, 0.0]

    message = problems(frame, features_schema({"bpm": (30, 220)}))

    expected = "column 'bpm_mean', check 'in_range(30, 220)': rows [1, 3] (values 400.0, 0.0)"
    assert expected in message


def test_missing_and_infinite_features_are_refused() -> None:
    frame = features()
    frame.loc[0, "bpm_std"] = np.nan
    frame.loc[2, "acc_mag_dom_freq"] = np.inf

    message = problems(frame)

    assert "column 'bpm_std', check 'not_nullable': rows [0] (values nan)" in message
    assert "column 'acc_mag_dom_freq', check 'finite': rows [2] (values inf)" in message


def test_long_lists_of_rows_are_cut_short() -> None:
    frame = features(rows=8).assign(bpm_std=np.nan)

    assert "rows [0, 1, 2, 3, 4] and 3 more (values nan, nan, nan, nan, nan)" in problems(frame)


def test_a_malformed_session_is_refused() -> None:
    frame = features().assign(session="2026-03-02 09:00")

    assert "column 'session', check 'like 20260302T090000': rows [0, 1, 2, 3]" in problems(frame)


def test_aligned_timestamps_must_increase() -> None:
    frame = features().drop(columns=["window_start", "bpm_std", "acc_mag_dom_freq"])
    frame = frame.rename(columns={"bpm_mean": "bpm"})
    frame["timestamp"] = pd.Timestamp("2026-03-02 09:00") + pd.to_timedelta([0, 1, 1, 0.5], "s")

    assert "column 'timestamp', check 'increasing': rows [2, 3]" in problems(frame, ALIGNED)


def test_raw_recordings_may_have_dropouts_and_coerce_text_timestamps() -> None:
    raw = pd.DataFrame(
        {"timestamp": ["2026-03-02T09:00:00.000", "2026-03-02T09:00:01.000"], "bpm": [72, None]}
    )

    validated = validate(raw, RAW_HEART_RATE, stage="ingest", source="raw.csv")

    assert validated["timestamp"].dtype == "datetime64[ns]"
    assert validated["bpm"].dtype == "float64"


def test_duplicate_manifest_entries_are_refused() -> None:
    row = {
        "task": "walking",
        "participant": "p001",
        "start": "2026-03-02T09:00:00",
        "device": "heart_rate",
        "clock_offset_s": 0.1,
        "path": "walking/p001/20260302T090000_heart_rate.csv",
    }

    message = problems(pd.DataFrame([row, row]), MANIFEST)

    assert "column 'task', check 'multiple_fields_uniqueness': rows [0, 1]" in message
