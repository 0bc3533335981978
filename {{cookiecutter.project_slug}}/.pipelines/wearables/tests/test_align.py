"""Alignment undoes clock offsets, resamples onto one grid and never invents data."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.align import align_recordings, align_session
from {{ cookiecutter.package_name }}.data.simulate import (
    simulate_recordings,
    write_recordings,
)
from {{ cookiecutter.package_name }}.data.validation import DataValidationError

T0 = pd.Timestamp("2026-03-02 09:00:00")
PROJECT = "demo"


def recording(
    channel: str, rate_hz: float, count: int, *, delay_s: float, offset_s: float, slope: float
) -> pd.DataFrame:
    """A device recording ``channel = 10 + slope * (true seconds since T0)``."""
    true_s = delay_s + np.arange(count) / rate_hz
    return pd.DataFrame(
        {
            "timestamp": T0 + pd.to_timedelta(true_s + offset_s, unit="s"),
            channel: 10.0 + slope * true_s,
        }
    )


def two_devices() -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    frames = {
        "fast": recording("acc_x", 50.0, 500, delay_s=0.33, offset_s=0.4, slope=2.0),
        "slow": recording("bpm", 1.0, 10, delay_s=0.05, offset_s=-0.25, slope=-3.0),
    }
    return frames, {"fast": 0.4, "slow": -0.25}


def test_a_linear_signal_is_recovered_in_true_time() -> None:
    frames, offsets = two_devices()

    aligned = align_session(frames, offsets, rate_hz=10.0)

    assert list(aligned.columns) == ["timestamp", "acc_x", "bpm"]
    true_s = (aligned["timestamp"] - T0).dt.total_seconds()
    np.testing.assert_allclose(aligned["acc_x"], 10.0 + 2.0 * true_s, atol=1e-6)
    np.testing.assert_allclose(aligned["bpm"], 10.0 - 3.0 * true_s, atol=1e-6)


def test_the_grid_has_the_requested_rate_over_the_overlap() -> None:
    frames, offsets = two_devices()

    aligned = align_session(frames, offsets, rate_hz=10.0)

    assert aligned["timestamp"].dtype == "datetime64[ns]"
    assert (aligned["timestamp"].diff().dropna() == pd.Timedelta(milliseconds=100)).all()
    # Overlap in true time: from 0.33 s (fast starts) to 9.05 s (slow's last sample).
    assert aligned["timestamp"].iloc[0] == T0 + pd.Timedelta(seconds=0.4)
    assert aligned["timestamp"].iloc[-1] == T0 + pd.Timedelta(seconds=9.0)
    assert len(aligned) == 87


def test_a_dropout_stays_missing_instead_of_being_bridged() -> None:
    frames, offsets = two_devices()
    frames["slow"].loc[4, "bpm"] = np.nan  # the sample at 4.05 s

    aligned = align_session(frames, offsets, rate_hz=10.0)

    true_s = (aligned["timestamp"] - T0).dt.total_seconds()
    missing = aligned["bpm"].isna()
    assert missing.equals((true_s > 3.05) & (true_s < 5.05))
    assert aligned["acc_x"].notna().all()


def test_devices_that_never_overlap_cannot_be_aligned() -> None:
    frames, offsets = two_devices()
    frames["slow"]["timestamp"] += pd.Timedelta(minutes=5)

    with pytest.raises(ValueError, match="do not overlap"):
        align_session(frames, offsets, rate_hz=10.0)


def test_a_device_without_a_clock_offset_is_refused() -> None:
    frames, _ = two_devices()

    with pytest.raises(ValueError, match=r"no clock offset for devices \['slow'\]"):
        align_session(frames, {"fast": 0.0}, rate_hz=10.0)


def test_channels_must_not_clash_between_devices() -> None:
    frames, offsets = two_devices()
    frames["slow"] = frames["slow"].rename(columns={"bpm": "acc_x"})

    with pytest.raises(ValueError, match=r"channels \['acc_x'\] come from more than one device"):
        align_session(frames, offsets, rate_hz=10.0)


@pytest.fixture
def raw_root(tmp_path: Path) -> Path:
    """A raw stage folder with 2 participants x 2 tasks x 1 session of 10 s."""
    recordings = simulate_recordings(
        participants=2, tasks=["sitting", "walking"], sessions_per_task=1, duration_s=10, seed=3
    )
    write_recordings(recordings, tmp_path / "raw", PROJECT)
    return tmp_path / "raw"


def test_every_session_becomes_one_keyed_table(raw_root: Path, tmp_path: Path) -> None:
    out_root = tmp_path / "raw_aligned"

    paths = align_recordings(raw_root, out_root, PROJECT, rate_hz=10.0, progress=False)

    assert len(paths) == 4
    for path in paths:
        task, participant, name = path.relative_to(out_root / PROJECT).parts
        aligned = pd.read_parquet(path)
        assert list(aligned.columns) == [
            "task",
            "participant",
            "session",
            "timestamp",
            "acc_x",
            "acc_y",
            "acc_z",
            "bpm",
        ]
        assert set(aligned["task"]) == {task}
        assert set(aligned["participant"]) == {participant}
        assert set(aligned["session"]) == {name.removesuffix(".parquet")}
        assert (aligned["timestamp"].diff().dropna() == pd.Timedelta(milliseconds=100)).all()
        assert len(aligned) >= 85


def test_a_bad_recording_stops_the_stage_and_keeps_the_previous_output(
    raw_root: Path, tmp_path: Path
) -> None:
    out_root = tmp_path / "raw_aligned"
    before = align_recordings(raw_root, out_root, PROJECT, rate_hz=10.0, progress=False)
    broken = next((raw_root / PROJECT / "walking" / "p002").glob("*_heart_rate.csv"))
    frame = pd.read_csv(broken, dtype=str)
    frame.loc[1, "bpm"] = "high"
    frame.to_csv(broken, index=False)

    with pytest.raises(DataValidationError) as error:
        align_recordings(raw_root, out_root, PROJECT, rate_hz=5.0, progress=False)

    assert str(error.value).startswith(f"ingest: {broken} failed validation:")
    assert "column 'bpm', check \"coerce_dtype('float64')\": rows [1] (values 'high')" in str(
        error.value
    )
    assert sorted(out_root.rglob("*.parquet")) == sorted(before)
    assert len(pd.read_parquet(before[0])) >= 85  # still the 10 Hz tables
    assert [path.name for path in out_root.iterdir()] == [PROJECT]


def test_a_recording_cut_short_is_refused_by_name(raw_root: Path, tmp_path: Path) -> None:
    cut = next((raw_root / PROJECT / "sitting" / "p001").glob("*_accelerometer.csv"))
    data = cut.read_bytes()
    cut.write_bytes(data[: data.index(b"\n", len(data) // 3) + 1])  # a third, whole lines

    with pytest.raises(DataValidationError) as error:
        align_recordings(raw_root, tmp_path / "out", PROJECT, rate_hz=10.0, progress=False)

    message = str(error.value)
    assert message.startswith(f"ingest: {cut} has ")
    assert "rows but sessions.csv declares" in message and "incomplete" in message
    assert not (tmp_path / "out" / PROJECT).exists()


def test_a_recording_changed_after_it_was_written_is_refused(
    raw_root: Path, tmp_path: Path
) -> None:
    changed = next((raw_root / PROJECT / "walking" / "p001").glob("*_heart_rate.csv"))
    frame = pd.read_csv(changed)
    frame.loc[2, "bpm"] = frame.loc[2, "bpm"] + 1  # plausible, same rows, other bytes
    frame.to_csv(changed, index=False)

    with pytest.raises(DataValidationError, match="does not match the SHA-256") as error:
        align_recordings(raw_root, tmp_path / "out", PROJECT, rate_hz=10.0, progress=False)
    assert str(changed) in str(error.value)


def test_a_manifest_without_rows_or_checksums_still_aligns(raw_root: Path, tmp_path: Path) -> None:
    manifest_path = raw_root / PROJECT / "sessions.csv"
    pd.read_csv(manifest_path).drop(columns=["rows", "sha256"]).to_csv(manifest_path, index=False)

    paths = align_recordings(raw_root, tmp_path / "out", PROJECT, rate_hz=10.0, progress=False)

    assert len(paths) == 4


def test_a_device_without_a_schema_is_refused(raw_root: Path, tmp_path: Path) -> None:
    manifest_path = raw_root / PROJECT / "sessions.csv"
    manifest = pd.read_csv(manifest_path)
    manifest.loc[manifest["device"] == "heart_rate", "device"] = "thermometer"
    manifest.to_csv(manifest_path, index=False)

    with pytest.raises(DataValidationError, match="device 'thermometer', which has no schema"):
        align_recordings(raw_root, tmp_path / "out", PROJECT, rate_hz=10.0, progress=False)
    assert not (tmp_path / "out" / PROJECT).exists()


def test_a_missing_manifest_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "raw" / PROJECT).mkdir(parents=True)

    with pytest.raises(FileNotFoundError):
        align_recordings(tmp_path / "raw", tmp_path / "out", PROJECT, rate_hz=10.0, progress=False)
