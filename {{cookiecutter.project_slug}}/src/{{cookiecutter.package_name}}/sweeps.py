"""Hyperparameter sweeps: one MLflow parent run per sweep, the trials its children."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import mlflow
import yaml
from hydra.experimental.callback import Callback
from mlflow import MlflowClient
from omegaconf import DictConfig

from .config import name_dataset
from .metadata import load_metadata
from .tracking import configure_tracking

log = logging.getLogger(__name__)

PARENT_RUN_ENV = "SWEEP_PARENT_RUN_ID"


def sweep_parent_run_id() -> str | None:
    """The parent run of the sweep this process runs a trial of, if any."""
    return os.environ.get(PARENT_RUN_ENV)


class SweepParentRun(Callback):
    """Hydra callback: one MLflow parent run per sweep, with the best trial logged on it.

    Trials started while it is active become child runs (see ``train``); the id
    travels in an environment variable so parallel launchers' workers see it too.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Open the parent run before the first trial."""
        name_dataset(config, config.hydra.runtime.choices.get("data"))
        configure_tracking(config, load_metadata())
        experiment = mlflow.get_experiment_by_name(
            config.tracking.experiment_name or load_metadata().tracking.experiment_name
        )
        assert experiment is not None  # configure_tracking created it
        run = MlflowClient().create_run(
            experiment.experiment_id,
            run_name=f"sweep-{config.model.name}",
            tags={"sweep": "optuna", "env": config.env.name},
        )
        os.environ[PARENT_RUN_ENV] = run.info.run_id

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Log the best trial on the parent run, report it and close the run."""
        from .data.experiment import ExperimentData  # imported here: trials already loaded it
        from .modeling import champion_metric

        run_id = os.environ.pop(PARENT_RUN_ENV, None)
        if run_id is None:
            return
        client = MlflowClient()
        results_file = Path(config.hydra.sweep.dir) / "optimization_results.yaml"
        if results_file.is_file():
            name_dataset(config, config.hydra.runtime.choices.get("data"))
            folder = load_metadata().stage_dir("experiment") / str(config.data.name)
            experiment = ExperimentData.read(folder)
            metric, greater_is_better = champion_metric(config.tracking, experiment.task)
            best = yaml.safe_load(results_file.read_text(encoding="utf-8"))
            # Trials return the metric negated when lower is better (the sweep maximises).
            value = float(best["best_value"]) * (1 if greater_is_better else -1)
            client.log_metric(run_id, f"best_cv_{metric}", value)
            for name, param in best["best_params"].items():
                client.log_param(run_id, f"best.{name}", param)
            log.info("Best trial: cv %s=%.4f with %s", metric, value, best["best_params"])
        client.set_terminated(run_id)
