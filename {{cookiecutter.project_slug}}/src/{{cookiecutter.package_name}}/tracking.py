"""MLflow tracking and the model registry: where runs go and which model is champion.

The tracking URI is, in order: ``MLFLOW_TRACKING_URI`` from the environment,
``env.tracking_uri`` from the Hydra config, then ``tracking.uri`` from
``metadata.yaml`` (a SQLite file inside the project by default).
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import yaml
from hydra.experimental.callback import Callback
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from omegaconf import DictConfig

from .config import ConfigError, name_dataset
from .metadata import Metadata, load_metadata

log = logging.getLogger(__name__)

SQLITE_PREFIX = "sqlite:///"
PARENT_RUN_ENV = "SWEEP_PARENT_RUN_ID"


def resolve_tracking_uri(
    metadata: Metadata, configured: str | None = None, env: str = "dev"
) -> str:
    """Return the tracking URI to use; a relative SQLite path is taken from the project root.

    Raises:
        ConfigError: Outside ``dev`` no server is configured, so runs would
            silently land in a local file instead of the team's server.
    """
    uri = os.environ.get("MLFLOW_TRACKING_URI") or configured
    if not uri:
        if env != "dev":
            raise ConfigError(
                f"env={env} needs the team's tracking server: set MLFLOW_TRACKING_URI "
                "(and MLFLOW_TRACKING_USERNAME/PASSWORD), "
                f"or env.tracking_uri in conf/env/{env}.yaml."
            )
        uri = metadata.tracking.uri
    if uri.startswith(SQLITE_PREFIX) and not Path(uri.removeprefix(SQLITE_PREFIX)).is_absolute():
        uri = SQLITE_PREFIX + str(metadata.root / uri.removeprefix(SQLITE_PREFIX))
    return uri


@dataclass(frozen=True)
class TrackingTarget:
    """Where a pipeline run is recorded and under which name its model is registered."""

    uri: str
    experiment_name: str
    model_name: str


def registered_model_name(config: DictConfig, metadata: Metadata) -> str:
    """The registry name of the configured dataset's models."""
    configured = config.tracking.registered_model_name
    return str(configured or metadata.registered_model_name(str(config.data.name)))


def tracking_target(config: DictConfig, metadata: Metadata) -> TrackingTarget:
    """The configured server, experiment and registered model name of the dataset."""
    return TrackingTarget(
        uri=resolve_tracking_uri(metadata, config.env.tracking_uri, config.env.name),
        experiment_name=config.tracking.experiment_name or metadata.tracking.experiment_name,
        model_name=registered_model_name(config, metadata),
    )


def configure_tracking(config: DictConfig, metadata: Metadata) -> TrackingTarget:
    """Point MLflow at the configured server and experiment."""
    target = tracking_target(config, metadata)
    mlflow.set_tracking_uri(target.uri)
    mlflow.set_experiment(target.experiment_name)
    return target


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested settings into ``a.b.c`` keys, as MLflow params."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def git_commit(root: Path) -> str | None:
    """Return the commit checked out in ``root``, or None outside git."""
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def dvc_output_hash(root: Path, output: Path) -> str | None:
    """Return the hash DVC recorded in ``dvc.lock`` for a stage output, if any."""
    lock_file = root / "dvc.lock"
    if not lock_file.is_file():
        return None
    wanted = output.resolve().relative_to(root.resolve()).as_posix()
    lock = yaml.safe_load(lock_file.read_text(encoding="utf-8")) or {}
    for stage in lock.get("stages", {}).values():
        for out in stage.get("outs", []):
            if out.get("path") == wanted:
                return str(out.get("md5") or out.get("hash") or "") or None
    return None


@dataclass(frozen=True)
class ChampionDecision:
    """Whether a new model version takes the champion alias, and why."""

    promote: bool
    reason: str


def decide_champion(
    metric: str, candidate: float, champion: float | None, *, greater_is_better: bool
) -> ChampionDecision:
    """Compare a candidate's metric with the current champion's."""
    if champion is None:
        return ChampionDecision(True, f"no champion yet; {metric}={candidate:.4f}")
    better = candidate > champion if greater_is_better else candidate < champion
    comparison = "beats" if better else "does not beat"
    return ChampionDecision(
        better, f"{metric}={candidate:.4f} {comparison} the champion's {champion:.4f}"
    )


def champion_metric(client: MlflowClient, model_name: str, alias: str, metric: str) -> float | None:
    """Return the metric of the version holding ``alias``, or None when none does."""
    try:
        version = client.get_model_version_by_alias(model_name, alias)
    except MlflowException:
        return None
    if version.run_id is None:
        return None
    value = client.get_run(version.run_id).data.metrics.get(metric)
    return float(value) if value is not None else None


@dataclass(frozen=True)
class Registration:
    """The registered model version and the champion decision taken for it."""

    version: str
    decision: ChampionDecision
    promoted: bool


def register_and_promote(
    model_uri: str,
    run_id: str,
    target: TrackingTarget,
    *,
    metric: str,
    value: float,
    greater_is_better: bool,
    alias: str,
    allow_promotion: bool = True,
) -> Registration:
    """Register a model version; move ``alias`` to it only when it beats the champion."""
    client = MlflowClient()
    current = champion_metric(client, target.model_name, alias, metric)
    version = mlflow.register_model(model_uri, target.model_name, tags={"run_id": run_id}).version
    decision = decide_champion(metric, value, current, greater_is_better=greater_is_better)
    promoted = decision.promote and allow_promotion
    if promoted:
        client.set_registered_model_alias(target.model_name, alias, str(version))
    return Registration(str(version), decision, promoted)


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


def main() -> int:
    """Print the tracking URI the project uses (``make mlflow-ui`` reads it)."""
    print(resolve_tracking_uri(load_metadata()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
