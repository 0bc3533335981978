"""What the monitor checks: a window of the prediction log, or a file, with its reference.

For logs, the model is the one that logged last in the window (or a given
version): :func:`logged_files` finds its files and the run that trained it, whose
reference the monitor then loads; for a file, the caller names the version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.dataset import PREDICTION
from ..data.tables import read_table
from ..prediction_log import file_model, log_files, read_logs
from .reference import Reference


class NothingToCheck(ValueError):
    """No rows to monitor; the message says where the monitor looked."""


@dataclass(frozen=True)
class LoggedFiles:
    """The log files of one model in the window, the run that trained it, and the others."""

    folder: Path
    since: float
    files: list[Path]
    run_id: str
    model_version: str | None
    files_of_other_models: int


def logged_files(folder: Path, since: float, version: str | None) -> LoggedFiles:
    """The files changed since ``since`` of ``version`` (default: the model logged last)."""
    files = log_files(folder, since=since)
    models = {path: file_model(path) for path in files}
    models = {path: model for path, model in models.items() if model[0] is not None}
    if not models:
        raise NothingToCheck(
            f"no predictions logged in {folder} since {_iso(since)}; serve some (make serve), "
            "widen the window (--hours) or check a file (--data)"
        )
    if version is None:
        latest = max(models, key=lambda path: path.stat().st_mtime)
        run_id, version = models[latest]
        chosen = [path for path, model in models.items() if model[0] == run_id]
    else:
        chosen = [path for path, model in models.items() if model[1] == str(version)]
        if not chosen:
            logged = sorted({str(model[1]) for model in models.values()})
            raise NothingToCheck(f"version {version} logged nothing since {_iso(since)}: {logged}")
        run_id = models[chosen[0]][0]
    return LoggedFiles(folder, since, chosen, str(run_id), version, len(models) - len(chosen))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Batch:
    """What to check: inputs, their log records (none for a file), predictions, reference."""

    inputs: pd.DataFrame
    meta: pd.DataFrame
    predictions: pd.Series | None
    reference: Reference
    description: dict[str, Any]


def file_batch(path: Path, reference: Reference) -> Batch:
    """A file of inputs (with a ``prediction`` column if it was scored)."""
    inputs = read_table(path)
    if inputs.empty:
        raise NothingToCheck(f"{path} has no rows")
    predictions = inputs.get(PREDICTION)
    meta = pd.DataFrame({PREDICTION: predictions}) if predictions is not None else pd.DataFrame()
    return Batch(inputs, meta, predictions, reference, {"source": str(path), "rows": len(inputs)})


def logged_batch(found: LoggedFiles, reference: Reference) -> Batch:
    """The predictions of ``found``'s files in its window, typed as ``reference`` says."""
    logged = read_logs(found.files, reference.feature_types)
    logged = logged.where(logged.meta["time"] >= pd.Timestamp(found.since, unit="s", tz="UTC"))
    if not len(logged):
        raise NothingToCheck(f"no predictions logged in {found.folder} since {_iso(found.since)}")
    meta = logged.meta
    description = {
        "source": str(found.folder),
        "rows": len(logged),
        "from": meta["time"].min().isoformat(),
        "to": meta["time"].max().isoformat(),
        "files_of_other_models": found.files_of_other_models,
    }
    return Batch(logged.inputs, meta, meta[PREDICTION], reference, description)
