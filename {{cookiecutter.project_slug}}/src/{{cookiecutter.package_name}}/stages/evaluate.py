"""Stage ``evaluate``: score the model on the test set, validate it, register it.

Writes ``results/metrics.json`` (``dvc metrics show``) and the plots in
``results/plots/`` (``dvc plots show``), logs both and the test predictions (the
monitor's reference of honest predictions) to the training run, runs the
validation gate (``conf/validation/``; its record goes to
``results/validation.json``), registers the model version as
``<registered model>-<dataset>`` and moves the aliases it earned (see
:mod:`..registry`).
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from omegaconf import DictConfig

from ..config import run_stage
from ..data.experiment import TEST_FILE, ExperimentData
from ..data.io import atomic_write_bytes
from ..metadata import load_metadata
from ..modeling import champion_metric, scores, split_dataset
from ..monitoring.reference import REFERENCE_ARTIFACTS, write_reference_predictions
from ..plots import write_plots
from ..provenance import dvc_output_hash, short_hash
from ..registry import (
    Aliases,
    Registration,
    current_champion,
    decide_champion,
    register,
    signature_inputs,
)
from ..tracking import configure_tracking, log_table_input, table_dataset
from ..trained_model import TrainedModel
from ..validation import Candidate, run_gate, validation_settings

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
PLOTS_DIR = "plots"


def validation_record(
    registration: Registration, model_name: str, data_version: str | None
) -> dict[str, Any]:
    """``results/validation.json``: the gate's checks and decision, and the aliases moved."""
    gate = registration.gate
    return {
        "model": model_name,
        "version": registration.version,
        "data_version": data_version,
        "status": gate.status,
        "passed": gate.passed,
        "reason": gate.reason(),
        "checks": [asdict(check) for check in gate.checks],
        "champion_rule": registration.decision.reason,
        "challenger": registration.challenger,
        "champion": registration.champion,
    }


def _write_json(values: dict[str, Any], path: Path) -> None:
    atomic_write_bytes((json.dumps(values, indent=2, sort_keys=True) + "\n").encode(), path)


def evaluate(config: DictConfig) -> dict[str, float]:
    """Score the trained model on the held-out rows and decide the champion."""
    metadata = load_metadata()
    settings = validation_settings(config)  # a broken setting stops the stage before it logs
    target = configure_tracking(config, metadata)
    folder = metadata.stage_dir("experiment") / str(config.data.name)
    experiment = ExperimentData.read(folder)
    trained = TrainedModel.read(metadata.model_dir(experiment.name))
    model = mlflow.sklearn.load_model(str(trained.model_path))
    test_frame = pd.read_parquet(folder / TEST_FILE)
    test = split_dataset(test_frame, experiment)
    started = time.perf_counter()
    predicted = model.predict(test.features)
    ms_per_row = (time.perf_counter() - started) * 1000 / max(len(test.features), 1)
    results = scores(test.labels, predicted, experiment.task)

    results_dir = metadata.results_dir()
    plots_dir = results_dir / PLOTS_DIR
    plots_dir.mkdir(parents=True, exist_ok=True)
    _write_json(results, results_dir / METRICS_FILE)
    data_version = dvc_output_hash(metadata.root, folder)
    caption = f"{config.model.name} on {experiment.name}, data {short_hash(data_version)}"
    write_plots(test.labels, predicted, results, experiment.task, plots_dir, caption)

    with mlflow.start_run(run_id=trained.run_id):
        mlflow.log_metrics({f"test_{name}": value for name, value in results.items()})
        log_table_input(
            table_dataset(
                test_frame, folder / TEST_FILE, metadata.root, experiment, "test", data_version
            ),
            context="evaluation",
        )
        mlflow.log_artifacts(str(plots_dir), artifact_path=PLOTS_DIR)
        with tempfile.TemporaryDirectory() as reference:
            write_reference_predictions(Path(reference), predicted)
            mlflow.log_artifacts(reference, artifact_path=REFERENCE_ARTIFACTS)

    metric, greater_is_better = champion_metric(config.tracking, experiment.task)
    aliases = Aliases(
        str(config.tracking.champion_alias),
        str(config.tracking.challenger_alias),
        bool(config.env.promote_champion),
    )
    champion = current_champion(
        MlflowClient(), target.model_name, aliases.champion, f"test_{metric}"
    )
    candidate = Candidate(
        metrics=results,
        metric=metric,
        greater_is_better=greater_is_better,
        champion_metric=champion.metric if champion else None,
        ms_per_row=ms_per_row,
        inputs=signature_inputs(trained.model_uri) or {},
        champion_inputs=champion.inputs if champion else None,
        classes=sorted(set(test.labels), key=str),
        predicted=list(predicted),
    )
    gate = run_gate(candidate, settings, experiment.task)
    decision = decide_champion(
        f"test_{metric}",
        results[metric],
        candidate.champion_metric,
        greater_is_better=greater_is_better,
    )
    registration = register(
        trained.model_uri,
        trained.run_id,
        target,
        gate,
        decision,
        aliases,
        tags={
            "dataset": experiment.name,
            "data_version": data_version or "",
            f"test_{metric}": f"{results[metric]:.4f}",
        },
        model_description=(
            f"Predicts '{experiment.label}' ({experiment.task}) from the {experiment.name} "
            f"dataset's {len(experiment.features)} input columns. Versions are registered by "
            "`make pipeline`; the 'champion' alias is the one served."
        ),
    )
    _write_json(
        validation_record(registration, target.model_name, data_version),
        metadata.validation_file(),
    )
    print(registration.summary(target.model_name, aliases, str(config.env.name)))
    return results


def main() -> None:
    """Run the stage from the command line."""
    run_stage(evaluate)


if __name__ == "__main__":
    main()
