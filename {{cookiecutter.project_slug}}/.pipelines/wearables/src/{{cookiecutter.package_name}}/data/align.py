"""The ``align`` stage: every device of a session on one common time base.

Devices sample at different rates and their clocks disagree. Each device's
timestamps are first corrected by its clock offset (true time = device time -
offset), then every channel is interpolated onto one regular grid covering the
time all devices were recording.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from tqdm import tqdm

from .io import atomic_directory
from .schemas import ALIGNED, RAW_SCHEMAS, SESSION_FORMAT
from .simulate import read_manifest
from .validation import DataValidationError, validate

_NS_PER_S = 1_000_000_000


def align_session(
    frames: Mapping[str, pd.DataFrame], offsets_s: Mapping[str, float], rate_hz: float
) -> pd.DataFrame:
    """Put the recordings of one session on a common, regular time base.

    The grid runs at ``rate_hz`` over the span every device covers, on
    multiples of the grid period. Each channel is interpolated linearly in
    time between the two source samples around a grid point; if either of them
    is missing the grid point is missing too, so no value is invented inside a
    dropout.

    Args:
        frames: Each device's recording: ``timestamp`` by the device's clock,
            and its channels.
        offsets_s: How far each device's clock runs ahead of true time.
        rate_hz: Sampling rate of the common grid.

    Returns:
        ``timestamp`` (true time, datetime64[ns]) and every device's channels.

    Raises:
        ValueError: A device lacks an offset, two devices share a channel name,
            a recording is empty, or the recordings do not overlap in time.
    """
    if rate_hz <= 0:
        raise ValueError(f"rate_hz must be positive, got {rate_hz}")
    _check_devices(frames, offsets_s)
    ordered = {device: frame.sort_values("timestamp") for device, frame in frames.items()}
    true_ns = {
        device: _as_ns(frame["timestamp"]) - round(offsets_s[device] * _NS_PER_S)
        for device, frame in ordered.items()
    }
    period = round(_NS_PER_S / rate_hz)
    start = max(times[0] for times in true_ns.values())
    end = min(times[-1] for times in true_ns.values())
    grid = np.arange(-(-start // period) * period, end + 1, period, dtype=np.int64)
    if grid.size == 0:
        raise ValueError("the devices' recordings do not overlap in time")

    grid_s = (grid - grid[0]) / _NS_PER_S
    columns: dict[str, object] = {"timestamp": grid.astype("datetime64[ns]")}
    for device, frame in ordered.items():
        source_s = (true_ns[device] - grid[0]) / _NS_PER_S
        for channel in frame.columns.drop("timestamp"):
            columns[channel] = np.interp(grid_s, source_s, frame[channel].to_numpy(dtype=float))
    return pd.DataFrame(columns)


def _check_devices(frames: Mapping[str, pd.DataFrame], offsets_s: Mapping[str, float]) -> None:
    if not frames:
        raise ValueError("no recordings to align")
    missing = [device for device in frames if device not in offsets_s]
    if missing:
        raise ValueError(f"no clock offset for devices {missing}")
    empty = [device for device, frame in frames.items() if frame.empty]
    if empty:
        raise ValueError(f"empty recordings from devices {empty}")
    channels = [channel for frame in frames.values() for channel in frame.columns.drop("timestamp")]
    shared = sorted({channel for channel in channels if channels.count(channel) > 1})
    if shared:
        raise ValueError(f"channels {shared} come from more than one device")


def _as_ns(timestamps: pd.Series) -> npt.NDArray[np.int64]:
    """Nanoseconds since the epoch of each timestamp."""
    return np.asarray(timestamps.to_numpy(dtype="datetime64[ns]"), dtype=np.int64)


def align_recordings(
    raw_root: Path, out_root: Path, project: str, rate_hz: float, *, progress: bool = True
) -> list[Path]:
    """Align every session of a project, replacing its raw_aligned folder.

    Sessions are the recordings in the raw manifest that share task,
    participant and start. Each becomes
    ``<out_root>/<project>/<task>/<participant>/<YYYYmmddTHHMMSS>.parquet``
    with the keys ``task``, ``participant`` and ``session`` added. Nothing
    changes on disk unless every session is aligned.

    Args:
        raw_root: The raw stage's folder.
        out_root: The raw_aligned stage's folder.
        project: The project's name, the top folder inside both.
        rate_hz: Sampling rate of the common grid.
        progress: Show a progress bar.

    Returns:
        The written files.

    Raises:
        DataValidationError: The manifest, a raw recording or an aligned
            session breaks its schema.
    """
    manifest = read_manifest(raw_root, project)
    sessions = manifest.groupby(["task", "participant", "start"], sort=True)
    target = out_root / project
    written: list[Path] = []
    with atomic_directory(target) as folder:
        for (task, participant, start), recordings in tqdm(
            sessions, total=sessions.ngroups, desc="align", unit="session", disable=not progress
        ):
            frames = {
                str(row["device"]): _read_raw(raw_root / project / str(row["path"]), row)
                for _, row in recordings.iterrows()
            }
            offsets = dict(zip(recordings["device"], recordings["clock_offset_s"], strict=True))
            aligned = align_session(frames, offsets, rate_hz)
            session = start.strftime(SESSION_FORMAT)
            aligned.insert(0, "session", session)
            aligned.insert(0, "participant", participant)
            aligned.insert(0, "task", task)
            relative = Path(task, participant, f"{session}.parquet")
            validate(aligned, ALIGNED, stage="align", source=target / relative)
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            aligned.to_parquet(folder / relative, index=False)
            written.append(target / relative)
    return written


def _read_raw(path: Path, declared: pd.Series) -> pd.DataFrame:
    """Read one raw recording and check it against its schema and its manifest row.

    A file with fewer rows than the manifest declares, or other bytes than its
    checksum, was cut short or changed after the source wrote it.
    """
    device = str(declared["device"])
    schema = RAW_SCHEMAS.get(device)
    if schema is None:
        raise DataValidationError(
            f"ingest: {path} comes from device {device!r}, which has no schema; "
            "add one to RAW_SCHEMAS in schemas.py"
        )
    data = path.read_bytes()
    frame = pd.read_csv(io.BytesIO(data))
    rows = declared.get("rows")
    if rows is not None and len(frame) != rows:
        raise DataValidationError(
            f"ingest: {path} has {len(frame)} rows but sessions.csv declares {rows}: "
            "the recording is incomplete (cut short in a copy or download?); fetch it again"
        )
    frame = validate(frame, schema, stage="ingest", source=path)
    checksum = declared.get("sha256")
    if checksum and hashlib.sha256(data).hexdigest() != checksum:
        raise DataValidationError(
            f"ingest: {path} does not match the SHA-256 that sessions.csv declares: "
            "the file changed after the source wrote it; fetch it again"
        )
    return frame
