"""The synthetic source is deterministic, realistic enough, and written in the naming scheme."""

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.simulate import (
    DEVICES,
    MANIFEST_FILE,
    MAX_CLOCK_OFFSET_S,
    MAX_START_DELAY_S,
    Recording,
    read_manifest,
    simulate_recordings,
    write_recordings,
)
from {{ cookiecutter.package_name }}.data.validation import DataValidationError

PROJECT = "demo"


def simulate(
    seed: int = 1, *, participants: int = 2, missing: float = 0.01, spikes: float = 0.002
) -> list[Recording]:
    return simulate_recordings(
        participants=participants,
        tasks=["sitting", "walking"],
        sessions_per_task=1,
        duration_s=10,
        seed=seed,
        missing_fraction=missing,
        spike_fraction=spikes,
    )


def test_the_same_seed_gives_the_same_recordings() -> None:
    first, second = simulate(seed=5), simulate(seed=5)

    assert [(r.task, r.participant, r.start, r.device, r.clock_offset_s) for r in first] == [
        (r.task, r.participant, r.start, r.device, r.clock_offset_s) for r in second
    ]
    for one, other in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(one.frame, other.frame)


def test_another_seed_gives_other_recordings() -> None:
    first, second = simulate(seed=5), simulate(seed=6)

    assert not first[0].frame.equals(second[0].frame)


def test_every_session_is_recorded_by_every_device() -> None:
    recordings = simulate()

    assert len(recordings) == 2 * 2 * len(DEVICES)
    assert sorted({r.participant for r in recordings}) == ["p001", "p002"]
    assert len({r.start for r in recordings}) == 4
    for recording in recordings:
        device = next(device for device in DEVICES if device.name == recording.device)
        frame = recording.frame
        assert list(frame.columns) == ["timestamp", *device.channels]
        assert frame["timestamp"].dtype == "datetime64[ns]"
        assert len(frame) == 10 * device.rate_hz
        assert frame["timestamp"].diff().median() == pd.Timedelta(seconds=1 / device.rate_hz)
        assert abs(recording.clock_offset_s) <= MAX_CLOCK_OFFSET_S


def test_tasks_differ_in_heart_rate_and_movement() -> None:
    recordings = simulate(missing=0.0, spikes=0.0)

    def level(task: str, device: str, measure: str) -> float:
        frames = [r.frame for r in recordings if r.task == task and r.device == device]
        values = pd.concat(frames).drop(columns="timestamp")
        if measure == "movement":
            return float(np.linalg.norm(values.to_numpy(), axis=1).std())
        return float(values["bpm"].mean())

    assert level("walking", "heart_rate", "bpm") > level("sitting", "heart_rate", "bpm") + 10
    assert level("walking", "accelerometer", "movement") > 3 * level(
        "sitting", "accelerometer", "movement"
    )


def test_dropouts_and_spikes_are_injected_at_the_requested_rates() -> None:
    clean = simulate(missing=0.0, spikes=0.0)
    damaged = simulate(missing=0.1, spikes=0.05)

    assert not any(r.frame.isna().any().any() for r in clean)
    accelerometer = pd.concat(r.frame for r in damaged if r.device == "accelerometer")
    assert accelerometer["acc_x"].isna().mean() == pytest.approx(0.1, abs=0.04)
    assert accelerometer[["acc_x", "acc_y", "acc_z"]].abs().eq(50.0).any().all()
    heart_rate = pd.concat(r.frame for r in damaged if r.device == "heart_rate")
    assert heart_rate["bpm"].isin([0.0, 400.0]).any()


def test_an_unknown_task_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no signal profile for tasks \['swimming'\]"):
        simulate_recordings(
            participants=1, tasks=["swimming"], sessions_per_task=1, duration_s=10, seed=0
        )


def test_files_follow_the_naming_scheme(tmp_path: Path) -> None:
    recordings = simulate()

    paths = write_recordings(recordings, tmp_path, PROJECT)

    scheme = r"(sitting|walking)/p00[12]/\d{8}T\d{6}_(accelerometer|heart_rate)\.csv"
    for recording, path in zip(recordings, paths, strict=True):
        relative = path.relative_to(tmp_path / PROJECT).as_posix()
        assert re.fullmatch(scheme, relative)
        assert relative == (
            f"{recording.task}/{recording.participant}/"
            f"{recording.start:%Y%m%dT%H%M%S}_{recording.device}.csv"
        )
        assert path.is_file()
    assert (tmp_path / PROJECT / MANIFEST_FILE).is_file()


def test_a_written_recording_reads_back_unchanged(tmp_path: Path) -> None:
    recording = simulate()[0]

    [path] = write_recordings([recording], tmp_path, PROJECT)

    frame = pd.read_csv(path, parse_dates=["timestamp"])
    frame["timestamp"] = frame["timestamp"].astype("datetime64[ns]")
    pd.testing.assert_frame_equal(frame, recording.frame)


def test_the_manifest_lists_every_recording(tmp_path: Path) -> None:
    recordings = simulate()
    paths = write_recordings(recordings, tmp_path, PROJECT)

    manifest = read_manifest(tmp_path, PROJECT)

    assert list(manifest.columns) == [
        "task",
        "participant",
        "start",
        "device",
        "clock_offset_s",
        "path",
        "rows",
        "sha256",
    ]
    assert [tmp_path / PROJECT / path for path in manifest["path"]] == paths
    assert list(manifest["start"]) == [pd.Timestamp(r.start) for r in recordings]
    assert list(manifest["clock_offset_s"]) == pytest.approx([r.clock_offset_s for r in recordings])
    # What the source declares of each file, for align to check it arrived whole.
    assert list(manifest["rows"]) == [len(r.frame) for r in recordings]
    assert list(manifest["sha256"]) == [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def test_writing_again_replaces_the_whole_project_folder(tmp_path: Path) -> None:
    write_recordings(simulate(participants=2), tmp_path, PROJECT)

    write_recordings(simulate(participants=1), tmp_path, PROJECT)

    assert sorted(path.name for path in (tmp_path / PROJECT / "walking").iterdir()) == ["p001"]
    assert [path.name for path in tmp_path.iterdir()] == [PROJECT]


def test_recordings_that_would_share_a_file_are_refused_before_writing(tmp_path: Path) -> None:
    recording = simulate()[0]

    with pytest.raises(DataValidationError, match="multiple_fields_uniqueness"):
        write_recordings([recording, recording], tmp_path, PROJECT)
    assert not (tmp_path / PROJECT).exists()


def test_a_broken_manifest_is_reported_with_its_rows(tmp_path: Path) -> None:
    write_recordings(simulate(), tmp_path, PROJECT)
    manifest_path = tmp_path / PROJECT / MANIFEST_FILE
    manifest = pd.read_csv(manifest_path)
    manifest.loc[2, "start"] = "yesterday"
    manifest.loc[3, "task"] = ""
    manifest.to_csv(manifest_path, index=False)

    with pytest.raises(DataValidationError) as error:
        read_manifest(tmp_path, PROJECT)

    message = str(error.value)
    assert message.startswith(f"ingest: {manifest_path} failed validation:")
    assert "column 'start', check \"coerce_dtype('datetime64[ns]')\": rows [2]" in message
    assert "column 'task', check 'str_length(1, None)': rows [3] (values '')" in message


def test_devices_start_near_the_whole_second_session_start() -> None:
    earliest = pd.Timedelta(seconds=-MAX_CLOCK_OFFSET_S)
    latest = pd.Timedelta(seconds=MAX_START_DELAY_S + MAX_CLOCK_OFFSET_S)

    for recording in simulate():
        assert recording.start.microsecond == 0
        assert earliest <= recording.frame["timestamp"].iloc[0] - recording.start <= latest
