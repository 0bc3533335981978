"""Where runs go: the tracking server, the experiment and the registered model's name.

The tracking URI is, in order: ``MLFLOW_TRACKING_URI`` from the environment,
``env.tracking_uri`` from the Hydra config, then ``tracking.uri`` from
``metadata.yaml`` (a SQLite file inside the project by default).

This module imports MLflow only to point it at the target: MLflow takes seconds
to import, and commands that only read the target (the monitor) do without it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from .config import ConfigError
from .metadata import Metadata, load_metadata

SQLITE_PREFIX = "sqlite:///"


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
    import mlflow  # here, not above: reading the target (the monitor) needs no MLflow

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


def main() -> int:
    """Print the tracking URI the project uses (``make mlflow-ui`` reads it)."""
    print(resolve_tracking_uri(load_metadata()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
