"""The monitoring reference of a model version, kept with the MLflow run that trained it.

The ``train`` stage logs a sample of the training inputs and the feature types
(:func:`log_reference_inputs`); ``evaluate`` adds the model's predictions on the
held-out test set (:func:`log_reference_predictions`), which are what honest
predictions look like (predictions on the training rows are too good to compare
with). The monitor reads them back for the exact version that served a batch
(:func:`load_reference`), wherever it runs and whatever ``data/`` holds now.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from ..data.dataset import ColumnType, Task
from ..data.experiment import ExperimentData
from ..prediction_log import PREDICTION

ARTIFACT_DIR = "monitoring"
INPUTS_FILE = "reference_inputs.parquet"
PREDICTIONS_FILE = "reference_predictions.parquet"
DESCRIPTION_FILE = "reference.json"


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


def log_reference_inputs(features: pd.DataFrame, experiment: ExperimentData, rows: int) -> None:
    """Log up to ``rows`` training rows (a seeded sample) and the feature types to the run."""
    sample = features.sample(n=rows, random_state=0) if len(features) > rows else features
    description = {
        "task": experiment.task,
        "label": experiment.label,
        "features": experiment.features,
    }
    with tempfile.TemporaryDirectory() as folder:
        sample.reset_index(drop=True).to_parquet(Path(folder) / INPUTS_FILE, index=False)
        (Path(folder) / DESCRIPTION_FILE).write_text(json.dumps(description), encoding="utf-8")
        mlflow.log_artifacts(folder, artifact_path=ARTIFACT_DIR)


def log_reference_predictions(predictions: pd.Series | list[object]) -> None:
    """Log the model's predictions on the held-out test set to the active run."""
    frame = pd.DataFrame({PREDICTION: list(predictions)})
    with tempfile.TemporaryDirectory() as folder:
        frame.to_parquet(Path(folder) / PREDICTIONS_FILE, index=False)
        mlflow.log_artifacts(folder, artifact_path=ARTIFACT_DIR)


def version_run(client: MlflowClient, model_name: str, model_version: str) -> str:
    """The id of the run that trained ``model_name`` version ``model_version``.

    Raises:
        NoReferenceError: No such registered version.
    """
    try:
        return str(client.get_model_version(model_name, str(model_version)).run_id)
    except MlflowException as error:
        raise NoReferenceError(
            f"cannot find version {model_version} of registered model '{model_name}' "
            f"at {mlflow.get_tracking_uri()}: {error.message}"
        ) from None


def load_reference(
    client: MlflowClient, run_id: str, model_name: str, model_version: str | None
) -> Reference:
    """Download the reference logged by run ``run_id`` (which trained the model version).

    Raises:
        NoReferenceError: The run does not exist, or logged no reference (a model
            trained before the project monitored).
    """
    try:
        run = client.get_run(run_id)
    except MlflowException as error:
        raise NoReferenceError(
            f"cannot find run {run_id} of '{model_name}' at {mlflow.get_tracking_uri()}: "
            f"{error.message}"
        ) from None
    with tempfile.TemporaryDirectory() as folder:
        try:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    run_id=run.info.run_id, artifact_path=ARTIFACT_DIR, dst_path=folder
                )
            )
        except (MlflowException, OSError):
            local = Path(folder) / "absent"
        if not (local / DESCRIPTION_FILE).is_file():
            raise NoReferenceError(
                f"run {run_id} of '{model_name}' (version {model_version}) logged no "
                f"monitoring reference ({ARTIFACT_DIR}/{DESCRIPTION_FILE}); retrain it with "
                "`make pipeline` so the train stage logs one"
            )
        description = json.loads((local / DESCRIPTION_FILE).read_text(encoding="utf-8"))
        inputs = pd.read_parquet(local / INPUTS_FILE)
        predictions_path = local / PREDICTIONS_FILE
        predictions = (
            pd.read_parquet(predictions_path)[PREDICTION] if predictions_path.is_file() else None
        )
    metrics = {
        name.removeprefix("test_"): value
        for name, value in run.data.metrics.items()
        if name.startswith("test_")
    }
    return Reference(
        model_name,
        model_version,
        run.info.run_id,
        description["task"],
        description["label"],
        dict(description["features"]),
        inputs,
        predictions,
        metrics,
    )
