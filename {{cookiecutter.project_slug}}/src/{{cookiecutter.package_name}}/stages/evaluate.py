"""Stage ``evaluate``: score the model on the test set, register it, pick the champion.

Writes ``results/metrics.json`` (``dvc metrics show``) and the plots in
``results/plots/`` (``dvc plots show``), logs both and the test predictions (the
monitor's reference of honest predictions) to the training run, registers
the model version as ``<registered model>-<dataset>``, and moves the champion
alias to it only when it beats that dataset's champion on ``tracking.metric``.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from omegaconf import DictConfig

from ..config import run_stage
from ..data.experiment import TEST_FILE, ExperimentData
from ..data.io import atomic_write_bytes
from ..metadata import load_metadata
from ..modeling import champion_metric, scores, split_dataset
from ..monitoring.reference import REFERENCE_ARTIFACTS, write_reference_predictions
from ..plots import write_plots
from ..registry import register_and_promote
from ..tracking import configure_tracking
from ..trained_model import TrainedModel

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
PLOTS_DIR = "plots"


def _write_json(values: dict[str, float], path: Path) -> None:
    atomic_write_bytes((json.dumps(values, indent=2, sort_keys=True) + "\n").encode(), path)


def evaluate(config: DictConfig) -> dict[str, float]:
    """Score the trained model on the held-out rows and decide the champion."""
    metadata = load_metadata()
    target = configure_tracking(config, metadata)
    folder = metadata.stage_dir("experiment") / str(config.data.name)
    experiment = ExperimentData.read(folder)
    trained = TrainedModel.read(metadata.model_dir(experiment.name))
    model = mlflow.sklearn.load_model(str(trained.model_path))
    test = split_dataset(pd.read_parquet(folder / TEST_FILE), experiment)
    predicted = model.predict(test.features)
    results = scores(test.labels, predicted, experiment.task)

    results_dir = metadata.results_dir()
    plots_dir = results_dir / PLOTS_DIR
    plots_dir.mkdir(parents=True, exist_ok=True)
    _write_json(results, results_dir / METRICS_FILE)
    write_plots(test.labels, predicted, results, experiment.task, plots_dir)

    with mlflow.start_run(run_id=trained.run_id):
        mlflow.log_metrics({f"test_{name}": value for name, value in results.items()})
        mlflow.log_artifacts(str(plots_dir), artifact_path=PLOTS_DIR)
        with tempfile.TemporaryDirectory() as reference:
            write_reference_predictions(Path(reference), predicted)
            mlflow.log_artifacts(reference, artifact_path=REFERENCE_ARTIFACTS)

    metric, greater_is_better = champion_metric(config.tracking, experiment.task)
    registration = register_and_promote(
        trained.model_uri,
        trained.run_id,
        target,
        metric=f"test_{metric}",
        value=results[metric],
        greater_is_better=greater_is_better,
        alias=config.tracking.champion_alias,
        allow_promotion=config.env.promote_champion,
    )
    outcome = (
        f"'{config.tracking.champion_alias}' now points to version {registration.version}"
        if registration.promoted
        else f"'{config.tracking.champion_alias}' stays where it was"
    )
    if registration.decision.promote and not registration.promoted:
        outcome += f" (env={config.env.name} does not promote automatically)"
    print(
        f"Registered {target.model_name} version {registration.version}: "
        f"{registration.decision.reason}; {outcome}."
    )
    return results


def main() -> None:
    """Run the stage from the command line."""
    run_stage(evaluate)


if __name__ == "__main__":
    main()
