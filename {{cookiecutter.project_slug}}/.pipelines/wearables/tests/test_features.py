"""Cleaning removes what is impossible, fills only short gaps; windows summarise sessions."""

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.features import (
    PLAUSIBLE_RANGES,
    build_features,
    clean,
    window_features,
)

T0 = pd.Timestamp("2026-03-02 09:00:00")
RATE_HZ = 10.0
PROJECT = "demo"


def aligned(
    channels: dict[str, npt.ArrayLike], *, session: str = "20260302T090000", task: str = "walking"
) -> pd.DataFrame:
    """An aligned session sampled at RATE_HZ from T0."""
    values = {name: np.asarray(column, dtype=float) for name, column in channels.items()}
    count = len(next(iter(values.values())))
    return pd.DataFrame(
        {
            "task": task,
            "participant": "p001",
            "session": session,
            "timestamp": pd.date_range(T0, periods=count, freq=pd.Timedelta(seconds=1 / RATE_HZ)),
            **values,
        }
    )


def test_an_implausible_value_is_replaced_by_its_neighbours() -> None:
    frame = aligned({"bpm": [100, 101, 400, 103, 104]})

    cleaned = clean(frame, {"bpm": (30, 220)}, max_gap_s=0.5, rate_hz=RATE_HZ)

    assert list(cleaned["bpm"]) == [100, 101, 102, 103, 104]


def test_a_short_gap_is_interpolated_in_time() -> None:
    frame = aligned({"bpm": [100, np.nan, np.nan, 103, 104]})

    cleaned = clean(frame, {}, max_gap_s=0.2, rate_hz=RATE_HZ)

    assert list(cleaned["bpm"]) == pytest.approx([100, 101, 102, 103, 104])


def test_a_long_gap_is_dropped_not_partly_filled() -> None:
    values = [100.0] * 3 + [np.nan] * 3 + [100.0] * 3
    frame = aligned({"bpm": values, "acc_x": np.ones(len(values))})

    cleaned = clean(frame, {}, max_gap_s=0.2, rate_hz=RATE_HZ)

    assert list(cleaned["timestamp"]) == [frame["timestamp"][i] for i in (0, 1, 2, 6, 7, 8)]
    assert cleaned["acc_x"].eq(1.0).all()


def test_gaps_at_the_edges_of_a_session_are_not_extrapolated() -> None:
    frame = aligned({"bpm": [np.nan, 100, 101, np.nan]})

    cleaned = clean(frame, {}, max_gap_s=1.0, rate_hz=RATE_HZ)

    assert list(cleaned["bpm"]) == [100, 101]


def test_gaps_are_not_filled_across_sessions() -> None:
    frame = pd.concat(
        [
            aligned({"bpm": [100, 100, np.nan]}, session="20260302T090000"),
            aligned({"bpm": [np.nan, 200, 200]}, session="20260302T100000"),
        ],
        ignore_index=True,
    )

    cleaned = clean(frame, {}, max_gap_s=1.0, rate_hz=RATE_HZ)

    assert list(cleaned["bpm"]) == [100, 100, 200, 200]


def test_a_range_for_a_channel_the_data_lacks_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"not in the data: \['acc_x'"):
        clean(aligned({"bpm": [100]}), PLAUSIBLE_RANGES, max_gap_s=1.0, rate_hz=RATE_HZ)


def test_windows_cover_the_session_at_the_given_step() -> None:
    frame = aligned({"bpm": np.full(100, 80.0)})  # 10 s

    features = window_features(frame, window_s=5.0, step_s=2.5, rate_hz=RATE_HZ)

    assert list(features["window_start"]) == [T0 + pd.Timedelta(seconds=s) for s in (0, 2.5, 5)]
    assert list(features.columns) == [
        "task",
        "participant",
        "session",
        "window_start",
        "bpm_mean",
        "bpm_std",
        "bpm_min",
        "bpm_max",
    ]


def test_a_constant_signal_has_its_value_and_no_spread() -> None:
    frame = aligned({"acc_x": np.full(50, 0.6), "acc_y": np.zeros(50), "acc_z": np.full(50, 0.8)})

    [window] = window_features(frame, 5.0, 5.0, RATE_HZ).to_dict("records")

    assert window["acc_x_mean"] == pytest.approx(0.6)
    assert window["acc_x_min"] == window["acc_x_max"] == pytest.approx(0.6)
    assert window["acc_z_std"] == pytest.approx(0.0)
    assert window["acc_mag_mean"] == pytest.approx(1.0)
    assert window["acc_mag_std"] == pytest.approx(0.0)
    assert window["acc_mag_dom_freq"] == 0.0


def test_the_dominant_frequency_of_a_sine_is_found() -> None:
    seconds = np.arange(50) / RATE_HZ
    frame = aligned(
        {
            "acc_x": 1.0 + 0.5 * np.sin(2 * np.pi * 1.8 * seconds),
            "acc_y": np.zeros(50),
            "acc_z": np.zeros(50),
        }
    )

    [window] = window_features(frame, 5.0, 5.0, RATE_HZ).to_dict("records")

    assert window["acc_mag_dom_freq"] == pytest.approx(1.8)
    assert window["acc_mag_std"] == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_a_window_missing_too_many_samples_is_skipped() -> None:
    frame = aligned({"bpm": np.full(100, 80.0)})
    sparse = frame.drop(index=range(10, 21)).reset_index(drop=True)  # 11 of the first 50

    features = window_features(sparse, window_s=5.0, step_s=5.0, rate_hz=RATE_HZ)

    assert list(features["window_start"]) == [T0 + pd.Timedelta(seconds=5)]


def test_build_features_writes_one_validated_table(tmp_path: Path) -> None:
    aligned_root = tmp_path / "raw_aligned"
    for task, bpm in [("sitting", 70.0), ("walking", 100.0)]:
        folder = aligned_root / PROJECT / task / "p001"
        folder.mkdir(parents=True)
        frame = aligned({"bpm": np.full(100, bpm)}, task=task)
        frame.loc[3, "bpm"] = 400.0
        frame.to_parquet(folder / "20260302T090000.parquet", index=False)
    out_path = tmp_path / "processed" / PROJECT / "features.parquet"

    features = build_features(
        aligned_root,
        out_path,
        PROJECT,
        ranges={"bpm": (30, 220)},
        max_gap_s=1.0,
        window_s=5.0,
        step_s=2.5,
        rate_hz=RATE_HZ,
        progress=False,
    )

    pd.testing.assert_frame_equal(pd.read_parquet(out_path), features)
    highest = features.groupby("task")["bpm_max"].max()
    assert highest.to_dict() == {"sitting": 70.0, "walking": 100.0}
    assert len(features) == 6


def test_build_features_without_aligned_sessions_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no aligned sessions"):
        build_features(
            tmp_path,
            tmp_path / "features.parquet",
            PROJECT,
            ranges={},
            max_gap_s=1.0,
            window_s=5.0,
            step_s=2.5,
            rate_hz=RATE_HZ,
            progress=False,
        )
