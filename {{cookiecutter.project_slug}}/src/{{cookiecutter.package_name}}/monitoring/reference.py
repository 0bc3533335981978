"""The monitoring reference of a model version: its files, and the local copy the monitor reads.

The ``train`` stage logs, with the run that trained the model, a sample of the
training inputs and the feature types (:func:`write_reference_inputs`);
``evaluate`` adds the model's predictions on the held-out test set
(:func:`write_reference_predictions`), which are what honest predictions look
like (predictions on the training rows are too good to compare with). The
monitor fetches them for the exact version that served a batch (see
:mod:`.lineage`), whatever ``data/`` holds now, and keeps a copy per run
(:func:`cached_reference`) once the run is evaluated: its files no longer change,
and reading the copy spares the monitor MLflow altogether.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..data.dataset import PREDICTION, ColumnType, Task

if TYPE_CHECKING:  # at run time it would import scikit-learn, which the monitor does without
    from ..data.experiment import ExperimentData

REFERENCE_ARTIFACTS = "monitoring"
INPUTS_FILE = "reference_inputs.parquet"
PREDICTIONS_FILE = "reference_predictions.parquet"
DESCRIPTION_FILE = "reference.json"
METRICS_FILE = "test_metrics.json"


class NoReferenceError(LookupError):
    """The model version has no usable monitoring reference; the message says why."""


@dataclass(frozen=True)
class Reference:
    """What a model version's inputs and predictions looked like when it was trained."""

    model_name: str
    model_version: str | None
    run_id: str
    task: Task
    label: str
    feature_types: dict[str, ColumnType]
    inputs: pd.DataFrame
    predictions: pd.Series | None
    test_metrics: dict[str, float]


def write_reference_inputs(
    folder: Path, features: pd.DataFrame, experiment: ExperimentData, rows: int
) -> None:
    """Write up to ``rows`` training rows (a seeded sample) and the feature types to ``folder``."""
    sample = features.sample(n=rows, random_state=0) if len(features) > rows else features
    description = {
        "task": experiment.task,
        "label": experiment.label,
        "features": experiment.features,
    }
    sample.reset_index(drop=True).to_parquet(folder / INPUTS_FILE, index=False)
    (folder / DESCRIPTION_FILE).write_text(json.dumps(description), encoding="utf-8")


def write_reference_predictions(folder: Path, predictions: pd.Series | list[object]) -> None:
    """Write the model's predictions on the held-out test set to ``folder``."""
    frame = pd.DataFrame({PREDICTION: list(predictions)})
    frame.to_parquet(folder / PREDICTIONS_FILE, index=False)


def cached_reference(
    cache: Path, run_id: str, model_name: str, model_version: str | None
) -> Reference | None:
    """The copy of run ``run_id``'s reference in ``cache``, or None when there is none."""
    if not (cache / run_id / DESCRIPTION_FILE).is_file():
        return None
    return read_reference(cache / run_id, run_id, model_name, model_version)


def read_reference(
    folder: Path, run_id: str, model_name: str, model_version: str | None
) -> Reference:
    """The reference in ``folder``: the files above and the run's test metrics."""
    description = json.loads((folder / DESCRIPTION_FILE).read_text(encoding="utf-8"))
    predictions_path = folder / PREDICTIONS_FILE
    return Reference(
        model_name,
        model_version,
        run_id,
        description["task"],
        description["label"],
        dict(description["features"]),
        pd.read_parquet(folder / INPUTS_FILE),
        pd.read_parquet(predictions_path)[PREDICTION] if predictions_path.is_file() else None,
        json.loads((folder / METRICS_FILE).read_text(encoding="utf-8")),
    )


def keep_in_cache(downloaded: Path, cache: Path, run_id: str) -> None:
    """Copy a downloaded reference into ``cache`` under ``run_id``, all files or none.

    The files are copied to a folder renamed into place, so a monitor stopped
    halfway leaves no partial copy for the next one to trust.
    """
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{run_id}-", dir=cache))
    try:
        for path in downloaded.iterdir():
            shutil.copy2(path, staging / path.name)
        with contextlib.suppress(OSError):  # another monitor cached it first: the same files
            os.rename(staging, cache / run_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
