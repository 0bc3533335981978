"""Stage ``evaluate``: score the model on the test set, register it, pick the champion.

Writes ``results/metrics.json`` (``dvc metrics show``) and the plots in
``results/plots/`` (``dvc plots show``), logs both to the training run, registers
the model version, and moves the champion alias to it only when it beats the
current champion on ``tracking.metric``.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import mlflow
import pandas as pd
from omegaconf import DictConfig

from ..config import run_stage
from ..metadata import load_metadata
from ..modeling import scores, split_dataset
from ..plots import plot_class_scores, plot_confusion_matrix
from ..tracking import configure_tracking, register_and_promote
from .train import MODEL_SUBDIR, RUN_FILE, experiment_dir, model_dir

log = logging.getLogger(__name__)

RESULTS_DIR = "results"
METRICS_FILE = "metrics.json"
PLOTS_DIR = "plots"


def _write_json(values: dict[str, float], path: Path) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, path)


def evaluate(config: DictConfig) -> dict[str, float]:
    """Score the trained model on the held-out participants and decide the champion."""
    metadata = load_metadata()
    target = configure_tracking(config, metadata)
    trained = json.loads((model_dir(metadata) / RUN_FILE).read_text(encoding="utf-8"))
    model = mlflow.sklearn.load_model(str(model_dir(metadata) / MODEL_SUBDIR))
    test = split_dataset(
        pd.read_parquet(experiment_dir(config, metadata) / "test.parquet"),
        config.data.experiment.label,
    )
    predicted = model.predict(test.features)
    results = scores(test.labels, predicted)

    results_dir = metadata.root / RESULTS_DIR
    plots_dir = results_dir / PLOTS_DIR
    plots_dir.mkdir(parents=True, exist_ok=True)
    _write_json(results, results_dir / METRICS_FILE)
    pd.DataFrame({"actual": test.labels, "predicted": predicted}).to_csv(
        plots_dir / "confusion.csv", index=False
    )
    class_scores = {
        name[3:]: value
        for name, value in results.items()
        if name.startswith("f1_") and name != "f1_macro"
    }
    pd.DataFrame({"class": list(class_scores), "f1": list(class_scores.values())}).to_csv(
        plots_dir / "class_scores.csv", index=False
    )
    plot_confusion_matrix(test.labels, predicted, plots_dir / "confusion_matrix.png")
    plot_class_scores(class_scores, plots_dir / "class_scores.png")

    with mlflow.start_run(run_id=trained["run_id"]):
        mlflow.log_metrics({f"test_{name}": value for name, value in results.items()})
        mlflow.log_artifacts(str(plots_dir), artifact_path=PLOTS_DIR)

    metric = config.tracking.metric
    registration = register_and_promote(
        trained["model_uri"],
        trained["run_id"],
        target,
        metric=f"test_{metric}",
        value=results[metric],
        greater_is_better=config.tracking.greater_is_better,
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
