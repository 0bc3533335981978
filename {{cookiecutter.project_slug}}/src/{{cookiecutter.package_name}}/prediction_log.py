"""The prediction log (inference table): what the model was asked and what it answered.

One JSON line per predicted row, written by the service and the batch command::

    {"time":"2026-03-12T10:15:00.123456Z","request_id":"4f1c...","row":0,
     "model_name":"my-model-churn","model_version":"3","run_id":"8a0e...",
     "inputs":{"plan":"basic","monthly_fee":12.5},"prediction":"no"}

Each process appends to a file of its own (``<host>-<pid>-<start>.jsonl.open``), so
several gunicorn workers never interleave. A request's lines go to the kernel in
one ``write`` call before the answer leaves, so a worker killed at any moment has
logged every request it answered; a file's last line is only ever incomplete when
the process died inside that very call, and readers skip such a line. A file is
closed (renamed to ``.jsonl``) when it reaches ``max_bytes`` or ``max_age_seconds``,
or when its process exits; closed files are what ``make ship-logs`` uploads.

Logging never fails a request: a record that cannot be written (full disk, lost
permissions) is dropped and counted.
"""

from __future__ import annotations

import atexit
import io
import json
import math
import os
import random
import socket
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import chain
from pathlib import Path
from typing import Any

import msgspec
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

from .data.dataset import PREDICTION, ColumnType

OPEN_SUFFIX = ".jsonl.open"
CLOSED_SUFFIX = ".jsonl"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
META_COLUMNS = (
    "time",
    "request_id",
    "row",
    "model_name",
    "model_version",
    "run_id",
    PREDICTION,
)

# msgspec writes the lines: for a request of 1000 rows, 0.6 ms against 8.7 ms with
# the standard library's encoder (measured). Values of other types become text.
_LINES = msgspec.json.Encoder(enc_hook=str)
# Input values msgspec writes as ``_plain`` would make them (a non-finite float as
# null): rows holding only these skip it. A write of 1000 rows of the example's
# columns took 1.4-2.4 ms so, against 2.4-2.9 ms value by value (measured together).
_WRITTEN_AS_THEY_ARE = {str, int, float, type(None)}


def _plain(value: Any) -> Any:
    """A value JSON can hold, as the model takes it.

    Missing values become null, numpy scalars Python ones, dates ISO 8601 text and
    true/false the numbers 1 and 0 (the model takes booleans as numbers).
    """
    kind = type(value)
    if kind is str or kind is int:  # most values, as JSON bodies bring them
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class LogSettings:
    """Where and how much to log."""

    folder: Path
    sample_rate: float = 1.0
    max_bytes: int = 64 * 1024 * 1024
    max_age_seconds: float = 3600.0


class PredictionLog:
    """Appends sampled predictions to this process's log file (thread-safe)."""

    def __init__(
        self,
        settings: LogSettings,
        model_name: str,
        model_version: str | None,
        run_id: str | None,
    ) -> None:
        """Prepare to log; the file is created at the first sampled request.

        ``model_version`` is None for a model served from a path rather than the
        registry; ``run_id`` (the run that trained it) still leads to its reference.
        """
        self.settings = settings
        self.model_name = model_name
        self.model_version = None if model_version is None else str(model_version)
        self.run_id = run_id
        self.dropped = 0  # records that could not be written
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self._opened = 0.0
        self._size = 0
        atexit.register(self.close)

    def sampled(self) -> bool:
        """Whether the next request is logged (each with probability ``sample_rate``)."""
        rate = self.settings.sample_rate
        return rate >= 1.0 or (rate > 0.0 and random.random() < rate)

    def write(
        self,
        request_id: str,
        rows: Iterable[dict[str, Any]],
        predictions: Sequence[Any],
    ) -> bool:
        """Append one line per row; False (and counted) when the record could not be written."""
        stamp = datetime.now(timezone.utc).strftime(TIME_FORMAT)
        rows = list(rows)
        values = chain.from_iterable(row.values() for row in rows)
        if set(map(type, values)) <= _WRITTEN_AS_THEY_ARE:  # JSON bodies' rows: most requests
            inputs = rows
        else:
            inputs = [{key: _plain(value) for key, value in row.items()} for row in rows]
        data = _LINES.encode_lines(
            {
                "time": stamp,
                "request_id": request_id,
                "row": index,
                "model_name": self.model_name,
                "model_version": self.model_version,
                "run_id": self.run_id,
                "inputs": row,
                PREDICTION: _plain(prediction),
            }
            for index, (row, prediction) in enumerate(zip(inputs, predictions, strict=True))
        )
        with self._lock:
            try:
                fd = self._file_for(len(data))
                written = os.write(fd, data)
                self._size += written
                if written != len(data):
                    raise OSError(f"short write: {written} of {len(data)} bytes")
            except OSError:
                self.dropped += 1
                return False
        return True

    def _file_for(self, size: int) -> int:
        """This process's open file, rotated first when it is full or old."""
        now = time.monotonic()
        if self._fd is not None and (
            self._size + size > self.settings.max_bytes
            or now - self._opened > self.settings.max_age_seconds
        ):
            self._close_file()
        if self._fd is None:
            self.settings.folder.mkdir(parents=True, exist_ok=True)
            started = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
            self._path = self.settings.folder / (
                f"{socket.gethostname()}-{os.getpid()}-{started}{OPEN_SUFFIX}"
            )
            self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            self._opened, self._size = now, 0
        return self._fd

    def _close_file(self) -> None:
        if self._fd is None or self._path is None:
            return
        os.close(self._fd)
        close_log_file(self._path)
        self._fd, self._path = None, None

    def close(self) -> None:
        """Close the current file (rename it to ``.jsonl``), e.g. when the process exits."""
        with self._lock:
            try:
                self._close_file()
            except OSError:
                self._fd, self._path = None, None


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts, about five times quicker than ``DataFrame.to_dict``.

    For the few rows of a request, ``to_dict("records")`` costs a millisecond, twenty
    times the log's own encoding and write.
    """
    names = [str(name) for name in frame.columns]
    return [dict(zip(names, row, strict=True)) for row in frame.to_numpy(dtype=object).tolist()]


def close_log_file(path: Path) -> Path:
    """Rename an open log file to its closed name; return the new path."""
    closed = path.with_name(path.name.removesuffix(OPEN_SUFFIX) + CLOSED_SUFFIX)
    os.replace(path, closed)
    return closed


def log_files(folder: Path, since: float | None = None) -> list[Path]:
    """Open and closed log files in ``folder`` modified at or after ``since`` (epoch seconds)."""
    if not folder.is_dir():
        return []
    files = [*folder.glob(f"*{CLOSED_SUFFIX}"), *folder.glob(f"*{OPEN_SUFFIX}")]
    return sorted(path for path in files if since is None or path.stat().st_mtime >= since)


def complete_lines(path: Path) -> bytes:
    """A file's content up to its last newline (a line cut by a killed process is left out)."""
    data = path.read_bytes()
    return data[: data.rfind(b"\n") + 1]


@dataclass(frozen=True)
class LoggedPredictions:
    """Logged rows: what the model took (``inputs``) and the rest (``meta``), index for index.

    ``meta`` has the columns ``time`` (UTC), ``request_id``, ``row``, ``model_name``,
    ``model_version``, ``run_id`` and ``prediction``.
    """

    inputs: pd.DataFrame
    meta: pd.DataFrame

    def __len__(self) -> int:
        """The number of logged rows."""
        return len(self.meta)

    def where(self, mask: pd.Series) -> LoggedPredictions:
        """The rows where ``mask`` (aligned with ``meta``) is true."""
        return LoggedPredictions(
            self.inputs[mask.to_numpy()].reset_index(drop=True),
            self.meta[mask.to_numpy()].reset_index(drop=True),
        )


def file_model(path: Path) -> tuple[str | None, str | None]:
    """The run id and model version of a log file (one process logs for one model)."""
    with path.open("rb") as stream:
        first = stream.readline()
    if not first.endswith(b"\n"):
        return None, None
    record = json.loads(first)
    version = record.get("model_version")
    return record.get("run_id"), None if version is None else str(version)


def _schema(columns: Mapping[str, ColumnType]) -> pa.Schema:
    """Inputs as the model takes them: numbers (booleans too) as float64, the rest as text.

    Without it the JSON reader would turn text that looks like a date into timestamps,
    even in a categorical column.
    """
    inputs = [
        (name, pa.float64() if kind in ("numeric", "boolean") else pa.string())
        for name, kind in columns.items()
    ]
    text = [(name, pa.string()) for name in ("request_id", "model_version", "run_id")]
    time = ("time", pa.timestamp("us", tz="UTC"))
    return pa.schema([time, *text, ("row", pa.int64()), ("inputs", pa.struct(inputs))])


def _read_json(data: bytes, columns: Mapping[str, ColumnType] | None) -> pa.Table:
    if columns is not None:
        options = pa_json.ParseOptions(
            explicit_schema=_schema(columns), unexpected_field_behavior="infer"
        )
        try:
            return pa_json.read_json(io.BytesIO(data), parse_options=options)
        except pa.ArrowInvalid:  # a value of another type: read as it is, compare as typed
            pass
    return pa_json.read_json(io.BytesIO(data))


def read_logs(
    files: Sequence[Path], columns: Mapping[str, ColumnType] | None = None
) -> LoggedPredictions:
    """The logged rows of ``files``, complete lines only.

    ``columns`` (input name to type, as in ``dataset.json``) reads those inputs as the
    model takes them; other inputs are read as the JSON has them.
    """
    tables = [_read_json(data, columns) for data in (complete_lines(p) for p in files) if data]
    if not tables:
        return LoggedPredictions(pd.DataFrame(), pd.DataFrame(columns=list(META_COLUMNS)))
    table = pa.concat_tables(tables, promote_options="permissive")
    names = table.column_names
    meta = table.select([name for name in names if name != "inputs"]).to_pandas()
    inputs = (
        pa.Table.from_struct_array(table.column("inputs").combine_chunks()).to_pandas()
        if "inputs" in names
        else pd.DataFrame(index=meta.index)
    )
    if not isinstance(meta["time"].dtype, pd.DatetimeTZDtype):  # read without the schema
        meta["time"] = pd.to_datetime(meta["time"], format=TIME_FORMAT, utc=True)
    return LoggedPredictions(inputs, meta)
