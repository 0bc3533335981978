"""The ``process`` stage: clean aligned sessions and summarise them in windows.

Cleaning turns impossible readings into missing values, fills short gaps by
interpolation and drops what is still missing. Each session is then cut into
overlapping windows, and every window becomes one row of features: statistics
of every channel, and the strength and rhythm of the wrist's movement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from tqdm import tqdm

from .io import atomic_write_parquet
from .schemas import ALIGNED, FEATURE_KEYS, SESSION_KEYS, features_schema
from .validation import validate

Array = npt.NDArray[np.float64]

PLAUSIBLE_RANGES: Mapping[str, tuple[float, float]] = {
    "acc_x": (-16, 16),
    "acc_y": (-16, 16),
    "acc_z": (-16, 16),
    "bpm": (30, 220),
}
"""Values a healthy sensor can report, per channel; anything outside is an error."""

ACCELERATION = ("acc_x", "acc_y", "acc_z")
"""Channels combined into the acceleration magnitude ``acc_mag``."""

MIN_COVERAGE = 0.8
"""Share of a window's expected samples that must be present to keep the window."""

_STATISTICS = ("mean", "std", "min", "max")


def clean(
    frame: pd.DataFrame, ranges: Mapping[str, tuple[float, float]], max_gap_s: float, rate_hz: float
) -> pd.DataFrame:
    """Remove impossible values, fill short gaps and drop the rest of what is missing.

    Args:
        frame: Aligned sessions: the keys ``task``, ``participant``,
            ``session``, ``timestamp`` and channels, sampled at ``rate_hz``.
        ranges: Plausible ``(low, high)`` of channels; values outside are
            treated as missing.
        max_gap_s: Longest run of missing values to interpolate, per session;
            longer gaps, and gaps at a session's start or end, are not filled.
        rate_hz: Sampling rate of ``frame``.

    Returns:
        The cleaned rows, in their original order, without any missing value.

    Raises:
        ValueError: ``ranges`` names a channel that ``frame`` lacks.
    """
    channels = _channels(frame)
    unknown = sorted(set(ranges) - set(channels))
    if unknown:
        raise ValueError(f"ranges name channels not in the data: {unknown}")
    cleaned = frame.copy()
    for channel, (low, high) in ranges.items():
        cleaned[channel] = cleaned[channel].where(cleaned[channel].between(low, high))
    longest = math.floor(max_gap_s * rate_hz + 1e-9)
    sessions = [
        _fill_short_gaps(session, channels, longest)
        for _, session in cleaned.groupby(list(SESSION_KEYS), sort=False)
    ]
    if sessions:
        cleaned = pd.concat(sessions).sort_index()
    return cleaned.dropna(subset=channels).reset_index(drop=True)


def _channels(frame: pd.DataFrame) -> list[str]:
    """The measurement columns of an aligned frame: all but the keys and time."""
    return [column for column in frame.columns if column not in (*SESSION_KEYS, "timestamp")]


def _fill_short_gaps(session: pd.DataFrame, channels: Sequence[str], longest: int) -> pd.DataFrame:
    """Interpolate, linearly in time, runs of at most ``longest`` missing values."""
    seconds = _seconds(session["timestamp"])
    filled = session.copy()
    for channel in channels:
        values = session[channel].to_numpy(dtype=float)
        missing = np.isnan(values)
        if missing.all() or not missing.any():
            continue
        present = np.flatnonzero(~missing)
        inside = (np.arange(values.size) > present[0]) & (np.arange(values.size) < present[-1])
        short = missing & inside & (_run_lengths(missing) <= longest)
        guess = np.interp(seconds, seconds[present], values[present])
        filled[channel] = np.where(short, guess, values)
    return filled


def _run_lengths(flags: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """For each position, the length of the run of equal flags it belongs to."""
    edges = np.flatnonzero(np.diff(flags.astype(np.int8))) + 1
    lengths = np.diff(np.concatenate(([0], edges, [flags.size])))
    return np.repeat(lengths, lengths)


def _seconds(timestamps: pd.Series) -> Array:
    """Seconds since the first timestamp."""
    nanoseconds = np.asarray(timestamps.to_numpy(dtype="datetime64[ns]"), dtype=np.int64)
    seconds: Array = (nanoseconds - nanoseconds[0]) / 1e9
    return seconds


def window_features(
    frame: pd.DataFrame, window_s: float, step_s: float, rate_hz: float
) -> pd.DataFrame:
    """Summarise each session in sliding windows.

    Windows start at a session's first sample and every ``step_s`` after; only
    windows that lie wholly inside the session and hold at least
    :data:`MIN_COVERAGE` of their expected samples are kept.

    Args:
        frame: Cleaned sessions (see :func:`clean`); rows may be missing.
        window_s: Length of a window.
        step_s: Time between the starts of consecutive windows.
        rate_hz: Sampling rate of ``frame``.

    Returns:
        One row per window: ``task``, ``participant``, ``session``,
        ``window_start``, then ``<channel>_mean``, ``_std``, ``_min`` and
        ``_max`` of every channel and, if ``frame`` holds all of
        :data:`ACCELERATION`, ``acc_mag_mean``, ``acc_mag_std`` and
        ``acc_mag_dom_freq`` (dominant frequency of the magnitude, in Hz).

    Raises:
        ValueError: A length or rate is not positive.
    """
    if min(window_s, step_s, rate_hz) <= 0:
        raise ValueError("window_s, step_s and rate_hz must be positive")
    channels = _channels(frame)
    names = [f"{channel}_{statistic}" for channel in channels for statistic in _STATISTICS]
    axes = None
    if all(channel in channels for channel in ACCELERATION):
        axes = [channels.index(channel) for channel in ACCELERATION]
        names += ["acc_mag_mean", "acc_mag_std", "acc_mag_dom_freq"]
    rows = [
        row
        for _, session in frame.groupby(list(SESSION_KEYS), sort=False)
        for row in _session_windows(session, channels, axes, window_s, step_s, rate_hz)
    ]
    return pd.DataFrame(rows, columns=[*FEATURE_KEYS, *names]).astype(dict.fromkeys(names, float))


def _session_windows(
    session: pd.DataFrame,
    channels: Sequence[str],
    axes: Sequence[int] | None,
    window_s: float,
    step_s: float,
    rate_hz: float,
) -> list[dict[str, object]]:
    """The feature rows of one session's windows; ``axes`` locate the acceleration channels."""
    keys = session.iloc[0][list(SESSION_KEYS)].to_dict()
    first = session["timestamp"].iloc[0]
    seconds = _seconds(session["timestamp"])
    values = session[list(channels)].to_numpy(dtype=float)
    expected = round(window_s * rate_hz)
    half_period = 0.5 / rate_hz
    span = seconds[-1] + 1 / rate_hz
    count = math.floor((span - window_s) / step_s + 1e-9) + 1 if span >= window_s else 0
    rows: list[dict[str, object]] = []
    for start in np.arange(count) * step_s:
        low, high = np.searchsorted(seconds, [start - half_period, start + window_s - half_period])
        if high - low < MIN_COVERAGE * expected:
            continue
        row: dict[str, object] = {**keys, "window_start": first + pd.Timedelta(seconds=start)}
        window = values[low:high]
        for index, channel in enumerate(channels):
            row.update(_statistics(channel, window[:, index]))
        if axes is not None:
            magnitude = np.sqrt((window[:, axes] ** 2).sum(axis=1))
            row["acc_mag_mean"] = float(magnitude.mean())
            row["acc_mag_std"] = float(magnitude.std())
            row["acc_mag_dom_freq"] = dominant_frequency(
                seconds[low:high] - start, magnitude, expected, rate_hz
            )
        rows.append(row)
    return rows


def _statistics(channel: str, values: Array) -> dict[str, float]:
    """Mean, standard deviation, minimum and maximum of one channel in one window."""
    return {
        f"{channel}_mean": float(values.mean()),
        f"{channel}_std": float(values.std()),
        f"{channel}_min": float(values.min()),
        f"{channel}_max": float(values.max()),
    }


def dominant_frequency(seconds: Array, signal: Array, samples: int, rate_hz: float) -> float:
    """Return the strongest frequency in a signal, ignoring its constant part.

    The signal is first resampled onto ``samples`` regular points from 0 s,
    so windows with a few dropped rows are handled.

    Args:
        seconds: Sample times from the start of the window.
        signal: Sample values.
        samples: Number of points of the regular grid.
        rate_hz: Sampling rate of the regular grid.

    Returns:
        The frequency in Hz, or 0.0 for a constant signal.
    """
    regular = np.interp(np.arange(samples) / rate_hz, seconds, signal)
    if np.ptp(regular) <= 1e-9:
        return 0.0
    spectrum = np.abs(np.fft.rfft(regular - regular.mean()))
    frequencies = np.fft.rfftfreq(samples, d=1 / rate_hz)
    return float(frequencies[1 + np.argmax(spectrum[1:])])


def build_features(
    aligned_root: Path,
    out_path: Path,
    project: str,
    *,
    ranges: Mapping[str, tuple[float, float]],
    max_gap_s: float,
    window_s: float,
    step_s: float,
    rate_hz: float,
    progress: bool = True,
) -> pd.DataFrame:
    """Clean and window every aligned session of a project into one features table.

    Args:
        aligned_root: The raw_aligned stage's folder.
        out_path: The Parquet file to write (replaced atomically).
        project: The project's name, the top folder inside ``aligned_root``.
        ranges: Plausible range of channels (see :func:`clean`).
        max_gap_s: Longest gap to interpolate (see :func:`clean`).
        window_s: Window length (see :func:`window_features`).
        step_s: Step between windows (see :func:`window_features`).
        rate_hz: Sampling rate of the aligned sessions.
        progress: Show a progress bar.

    Returns:
        The features table, as written.

    Raises:
        FileNotFoundError: The project has no aligned sessions.
        ValueError: No session yields a single complete window.
        DataValidationError: An aligned session or the features break their schema.
    """
    files = sorted((aligned_root / project).rglob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no aligned sessions (*.parquet) under {aligned_root / project}")
    tables = []
    for path in tqdm(files, desc="process", unit="session", disable=not progress):
        aligned = validate(pd.read_parquet(path), ALIGNED, stage="align", source=path)
        windows = window_features(
            clean(aligned, ranges, max_gap_s, rate_hz), window_s, step_s, rate_hz
        )
        if not windows.empty:
            tables.append(windows)
    if not tables:
        raise ValueError(
            f"no window of {window_s} s has {MIN_COVERAGE:.0%} of its samples in any session; "
            "use shorter windows or fill longer gaps (max_gap_s)"
        )
    features = pd.concat(tables, ignore_index=True)
    features = validate(features, features_schema(ranges), stage="process", source=out_path)
    atomic_write_parquet(features, out_path)
    return features
