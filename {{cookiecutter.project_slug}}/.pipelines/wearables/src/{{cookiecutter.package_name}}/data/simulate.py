"""Synthetic wearable recordings: the example source of the ``ingest`` stage.

Participants wear a wrist accelerometer (50 Hz, in g) and a heart-rate sensor
(1 Hz) while sitting, walking or running. As with real people, effort varies from
session to session, so a brisk walk can look like a slow run and the classes
overlap; as with real devices, every clock runs
a little off, every device starts at its own moment, samples drop out and now
and then a sensor reports an impossible value, so the later stages have real
work to do.

To use your own data, replace :func:`simulate_recordings` with a reader of
your source and keep :func:`write_recordings`: the files and the manifest it
writes are all the later stages rely on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

import numpy as np
import numpy.typing as npt
import pandas as pd

from .io import atomic_directory
from .schemas import (
    MANIFEST,
    SESSION_FORMAT,
)
from .validation import validate

Array = npt.NDArray[np.float64]

MANIFEST_FILE = "sessions.csv"
"""The table of every recording, at the top of the project's raw folder."""

FIRST_SESSION = datetime(2026, 3, 2, 9, 0)
"""When the first participant arrives; each further participant comes a day later."""

MAX_CLOCK_OFFSET_S = 0.5
"""Device clocks run up to this far ahead of or behind true time."""

MAX_START_DELAY_S = 1.0
"""Devices start recording up to this long after the session starts."""


@dataclass(frozen=True)
class Device:
    """A sensor: its name (as in file names), sampling rate and measurement columns."""

    name: str
    rate_hz: float
    channels: tuple[str, ...]


DEVICES: tuple[Device, ...] = (
    Device("accelerometer", 50.0, ("acc_x", "acc_y", "acc_z")),
    Device("heart_rate", 1.0, ("bpm",)),
)


@dataclass(frozen=True)
class TaskProfile:
    """How a task shows in the signals of an average participant."""

    movement_hz: float
    """Main frequency of the wrist's movement (steps, or fidgeting when still)."""
    amplitude_g: float
    """Amplitude of that movement along gravity, in g."""
    bpm: float
    """Typical heart rate."""


TASK_PROFILES: Mapping[str, TaskProfile] = {
    "sitting": TaskProfile(movement_hz=0.25, amplitude_g=0.03, bpm=70.0),
    "walking": TaskProfile(movement_hz=1.9, amplitude_g=0.45, bpm=105.0),
    "running": TaskProfile(movement_hz=2.5, amplitude_g=0.8, bpm=135.0),
}
"""The tasks :func:`simulate_recordings` can simulate."""


@dataclass(frozen=True, eq=False)
class Recording:
    """One device's recording of one session."""

    task: str
    participant: str
    start: datetime
    """When the session started (true time, whole seconds)."""
    device: str
    clock_offset_s: float
    """How far this device's clock runs ahead of true time in this session."""
    frame: pd.DataFrame
    """``timestamp`` (datetime64[ns], by the device's clock) and the device's channels."""

    @property
    def relative_path(self) -> PurePosixPath:
        """Where the recording is stored, relative to the project's raw folder."""
        name = f"{self.start.strftime(SESSION_FORMAT)}_{self.device}.csv"
        return PurePosixPath(self.task, self.participant, name)


@dataclass(frozen=True, eq=False)
class _Participant:
    """What makes one participant's signals their own."""

    name: str
    bpm_offset: float
    """Difference of the participant's heart rate from the task's typical one."""
    pace: float
    """Movement frequency relative to the average participant's."""
    vigour: float
    """Movement amplitude relative to the average participant's."""
    gravity: Array
    """Direction of gravity in the accelerometer's axes (how the watch sits)."""
    sideways: Array
    """A unit vector perpendicular to ``gravity``: the direction of arm swing."""


@dataclass(frozen=True)
class _Session:
    """One session's task, participant, how this day's heart rate differs, and the effort."""

    task: TaskProfile
    participant: _Participant
    bpm_offset: float
    effort: float
    """How hard the participant moves this session, relative to the task's typical effort."""


def simulate_recordings(
    *,
    participants: int,
    tasks: Sequence[str],
    sessions_per_task: int,
    duration_s: float,
    seed: int,
    missing_fraction: float = 0.01,
    spike_fraction: float = 0.002,
) -> list[Recording]:
    """Simulate every device's recordings of every session.

    Each participant does every task ``sessions_per_task`` times, in random
    order, on their own day, with breaks in between.

    Args:
        participants: How many participants, named ``p001``, ``p002``, ...
        tasks: Tasks to record; each must be a key of :data:`TASK_PROFILES`.
        sessions_per_task: Sessions of each task per participant.
        duration_s: Length of every device's recording.
        seed: Seed of the random generator; the same seed gives the same data.
        missing_fraction: Share of samples lost (all channels of a device).
        spike_fraction: Share of values replaced by an impossible reading.

    Returns:
        The recordings, session by session, in :data:`DEVICES` order.

    Raises:
        ValueError: An argument is out of range or a task is unknown.
    """
    _check_arguments(participants, tasks, sessions_per_task, duration_s)
    for name, fraction in [
        ("missing_fraction", missing_fraction),
        ("spike_fraction", spike_fraction),
    ]:
        if not 0 <= fraction <= 1:
            raise ValueError(f"{name} must be between 0 and 1, got {fraction}")
    rng = np.random.default_rng(seed)
    plan = [task for task in tasks for _ in range(sessions_per_task)]
    recordings: list[Recording] = []
    day = FIRST_SESSION
    for number in range(1, participants + 1):
        participant = _draw_participant(rng, f"p{number:03d}")
        clock = day
        for index in rng.permutation(len(plan)):
            task = plan[index]
            start = clock + timedelta(seconds=int(rng.integers(5 * 60, 30 * 60)))
            session = _Session(
                TASK_PROFILES[task], participant, rng.normal(0.0, 6.0), rng.lognormal(0.0, 0.3)
            )
            for device in DEVICES:
                frame, offset = _record(rng, device, session, start, duration_s)
                _damage(rng, frame, device, missing_fraction, spike_fraction)
                recordings.append(
                    Recording(task, participant.name, start, device.name, offset, frame)
                )
            clock = start + timedelta(seconds=duration_s)
        day = max(day + timedelta(days=1), clock)
    return recordings


def _check_arguments(
    participants: int, tasks: Sequence[str], sessions_per_task: int, duration_s: float
) -> None:
    if participants < 1 or sessions_per_task < 1:
        raise ValueError("participants and sessions_per_task must be at least 1")
    if duration_s < 2 * MAX_START_DELAY_S:
        raise ValueError(f"duration_s must be at least {2 * MAX_START_DELAY_S} s")
    if not tasks or len(set(tasks)) != len(tasks):
        raise ValueError(f"tasks must be a non-empty list without repeats, got {list(tasks)}")
    unknown = [task for task in tasks if task not in TASK_PROFILES]
    if unknown:
        raise ValueError(f"no signal profile for tasks {unknown}; known: {list(TASK_PROFILES)}")


def _draw_participant(rng: np.random.Generator, name: str) -> _Participant:
    tilt = rng.normal(0.0, 0.3, size=2)
    gravity = np.array([np.sin(tilt[0]), np.sin(tilt[1]), 1.0])
    gravity /= np.linalg.norm(gravity)
    sideways = np.cross(gravity, [1.0, 0.0, 0.0])
    return _Participant(
        name=name,
        bpm_offset=rng.normal(0.0, 12.0),
        pace=rng.normal(1.0, 0.08),
        vigour=rng.lognormal(0.0, 0.2),
        gravity=gravity,
        sideways=sideways / np.linalg.norm(sideways),
    )


def _record(
    rng: np.random.Generator, device: Device, session: _Session, start: datetime, duration_s: float
) -> tuple[pd.DataFrame, float]:
    """Return one device's recording of a session and its clock offset."""
    offset = rng.uniform(-MAX_CLOCK_OFFSET_S, MAX_CLOCK_OFFSET_S)
    delay = rng.uniform(0.0, MAX_START_DELAY_S)
    true_s = delay + np.arange(int(duration_s * device.rate_hz)) / device.rate_hz
    values = _SIGNALS[device.name](rng, session, true_s)
    device_ms = np.round((true_s + offset) * 1000).astype("timedelta64[ms]")
    frame = pd.DataFrame(values, columns=list(device.channels))
    frame.insert(0, "timestamp", np.datetime64(start, "ns") + device_ms.astype("timedelta64[ns]"))
    return frame, offset


def _accelerometer(rng: np.random.Generator, session: _Session, true_s: Array) -> Array:
    """Gravity plus the wrist's movement along it and sideways, in g."""
    person = session.participant
    frequency = session.task.movement_hz * person.pace * session.effort**0.3
    frequency *= rng.normal(1.0, 0.03)
    amplitude = session.task.amplitude_g * person.vigour * session.effort
    phase = rng.uniform(0.0, 2 * np.pi, size=3)
    angle = 2 * np.pi * frequency * true_s
    along = amplitude * (np.sin(angle + phase[0]) + 0.35 * np.sin(2 * angle + phase[1]))
    swing = 0.3 * amplitude * np.sin(angle / 2 + phase[2])
    signal = np.outer(1.0 + along, person.gravity) + np.outer(swing, person.sideways)
    noise = rng.normal(0.0, 0.02 + 0.05 * amplitude, size=signal.shape)
    return np.round(signal + noise, 4)


def _heart_rate(rng: np.random.Generator, session: _Session, true_s: Array) -> Array:
    """A heart rate that wanders slowly around the task's level, in whole beats per minute."""
    effort_bpm = 20.0 * (session.effort - 1.0)
    level = session.task.bpm + session.participant.bpm_offset + session.bpm_offset + effort_bpm
    drift = np.zeros(true_s.size)
    steps = rng.normal(0.0, 1.0, size=true_s.size)
    for i in range(1, true_s.size):
        drift[i] = 0.95 * drift[i - 1] + steps[i]
    bpm = level + drift + rng.normal(0.0, 1.5, size=true_s.size)
    return np.round(bpm)[:, np.newaxis]


_SIGNALS: Mapping[str, Callable[[np.random.Generator, _Session, Array], Array]] = {
    "accelerometer": _accelerometer,
    "heart_rate": _heart_rate,
}

_SPIKES: Mapping[str, tuple[float, ...]] = {
    "accelerometer": (-50.0, 50.0),
    "heart_rate": (0.0, 400.0),
}
"""Impossible readings each device sometimes reports."""


def _damage(
    rng: np.random.Generator,
    frame: pd.DataFrame,
    device: Device,
    missing_fraction: float,
    spike_fraction: float,
) -> None:
    """Add spikes and dropouts to ``frame`` in place."""
    channels = list(device.channels)
    values = frame[channels].to_numpy(dtype=float, copy=True)
    spikes = rng.random(values.shape) < spike_fraction
    values[spikes] = rng.choice(_SPIKES[device.name], size=int(spikes.sum()))
    values[rng.random(len(values)) < missing_fraction] = np.nan
    frame[channels] = values


def write_recordings(recordings: Sequence[Recording], root: Path, project: str) -> list[Path]:
    """Write recordings as CSV files with a manifest, replacing the project's raw folder.

    Files follow the naming scheme
    ``<root>/<project>/<task>/<participant>/<YYYYmmddTHHMMSS>_<device>.csv``;
    the manifest ``<root>/<project>/sessions.csv`` lists them with their clock
    offsets, row counts and SHA-256 checksums, which ``align`` checks each file
    against. Nothing changes on disk unless every file is written.

    Args:
        recordings: The recordings to write.
        root: The raw stage's folder.
        project: The project's name, the top folder inside ``root``.

    Returns:
        The path of each recording's file, in the order given.

    Raises:
        DataValidationError: The manifest is invalid, e.g. two recordings
            would share a file.
    """
    target = root / project
    manifest = pd.DataFrame(
        {
            "task": [recording.task for recording in recordings],
            "participant": [recording.participant for recording in recordings],
            "start": [recording.start.isoformat() for recording in recordings],
            "device": [recording.device for recording in recordings],
            "clock_offset_s": [recording.clock_offset_s for recording in recordings],
            "path": [str(recording.relative_path) for recording in recordings],
            "rows": [len(recording.frame) for recording in recordings],
        }
    )
    validate(manifest, MANIFEST, stage="ingest", source=target / MANIFEST_FILE)
    checksums = []
    with atomic_directory(target) as folder:
        for recording in recordings:
            path = folder / recording.relative_path
            path.parent.mkdir(parents=True, exist_ok=True)
            text = recording.frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%f")
            data = text.encode()
            path.write_bytes(data)
            checksums.append(hashlib.sha256(data).hexdigest())
        manifest["sha256"] = checksums
        manifest.to_csv(folder / MANIFEST_FILE, index=False)
    return [target / recording.relative_path for recording in recordings]


def read_manifest(root: Path, project: str) -> pd.DataFrame:
    """Read and validate the manifest of a project's raw recordings.

    Args:
        root: The raw stage's folder.
        project: The project's name, the top folder inside ``root``.

    Returns:
        One row per recording: ``task``, ``participant``, ``start`` (datetime),
        ``device``, ``clock_offset_s``, ``path`` (relative to ``root/project``) and,
        when the source declares them, ``rows`` and ``sha256``.

    Raises:
        FileNotFoundError: The project has no manifest.
        DataValidationError: The manifest breaks its schema.
    """
    path = root / project / MANIFEST_FILE
    text_columns = ("task", "participant", "start", "device", "path", "sha256")
    frame = pd.read_csv(path, dtype=dict.fromkeys(text_columns, str), keep_default_na=False)
    return validate(frame, MANIFEST, stage="ingest", source=path)
