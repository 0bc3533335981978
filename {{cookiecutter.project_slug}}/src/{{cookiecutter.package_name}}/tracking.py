"""Where runs go: the tracking server, the experiment and the registered model's name.

The tracking URI is, in order: ``MLFLOW_TRACKING_URI`` from the environment,
``env.tracking_uri`` from the Hydra config, then ``tracking.uri`` from
``metadata.yaml`` (a SQLite file inside the project by default).

This module imports MLflow only to point it at the target: MLflow takes seconds
to import, and commands that only read the target (the monitor) do without it.
"""

from __future__ import annotations

import os
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from .config import ConfigError
from .metadata import Metadata, load_metadata

if TYPE_CHECKING:
    import pandas as pd

    from .data.experiment import ExperimentData

SQLITE_PREFIX = "sqlite:///"
RUN_DESCRIPTION_TAG = "mlflow.note.content"  # what MLflow's UI shows as a run's description
# MLflow 3's UI opens an experiment on its GenAI pages (traces) unless told it holds
# model training runs; with this tag it opens on the runs.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_DEVELOPMENT = "custom_model_development"
# How long a tracking server may take to answer before a run gives up on it. MLflow's
# own requests wait up to MLFLOW_HTTP_REQUEST_TIMEOUT (120 s) and retry
# MLFLOW_HTTP_REQUEST_MAX_RETRIES (7) times: minutes before a dead server is reported.
PROBE_TIMEOUT_SECONDS = 10.0


class TrackingUnavailable(ConfigError):
    """The tracking server does not answer; the message names it and what to change."""


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


def check_reachable(uri: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
    """Fail at once, in one line, when an HTTP(S) tracking server does not answer.

    Any HTTP answer counts (even 401: the server is there). Certificates are checked
    as MLflow checks them (``MLFLOW_TRACKING_SERVER_CERT_PATH``,
    ``MLFLOW_TRACKING_INSECURE_TLS``).

    Raises:
        TrackingUnavailable: No answer within ``timeout`` seconds.
    """
    if not uri.startswith(("http://", "https://")):
        return  # a local file or database: nothing to wait for
    context = ssl.create_default_context(cafile=os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH"))
    if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout, context=context)
    except urllib.error.HTTPError:
        return  # it answered
    except (OSError, ValueError) as error:  # URLError, timeouts, TLS errors, a bad URL
        raise TrackingUnavailable(
            f"The MLflow tracking server {uri} did not answer within {timeout:g} s "
            f"({_reason(error)}). Start it, or point MLFLOW_TRACKING_URI (or "
            "env.tracking_uri, or tracking.uri in metadata.yaml) at one that runs."
        ) from None


def _reason(error: Exception) -> str:
    """The short cause of a failed request: "Connection refused", "timed out"..."""
    cause = getattr(error, "reason", error)
    text = str(getattr(cause, "strerror", None) or cause)
    return re.sub(r"^\[Errno -?\d+\] ", "", text) or type(cause).__name__


def configure_tracking(config: DictConfig, metadata: Metadata) -> TrackingTarget:
    """Point MLflow at the configured server and experiment.

    Raises:
        TrackingUnavailable: The server does not answer (``check_reachable``).
    """
    import mlflow  # here, not above: reading the target (the monitor) needs no MLflow

    target = tracking_target(config, metadata)
    check_reachable(target.uri)
    mlflow.set_tracking_uri(target.uri)
    experiment = mlflow.set_experiment(target.experiment_name)
    if experiment.tags.get(EXPERIMENT_KIND_TAG) != MODEL_DEVELOPMENT:
        _mark_model_development(experiment.experiment_id)
    return target


def _mark_model_development(experiment_id: str) -> None:
    """Tag the experiment as holding model training runs (``EXPERIMENT_KIND_TAG``).

    Workers starting together on a new experiment all find it untagged and all
    tag it: the store refuses all but the first write, and a refused worker finds
    the tag the first one wrote.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        mlflow.set_experiment_tag(EXPERIMENT_KIND_TAG, MODEL_DEVELOPMENT)
    except MlflowException:
        if mlflow.get_experiment(experiment_id).tags.get(EXPERIMENT_KIND_TAG) != MODEL_DEVELOPMENT:
            raise


def table_dataset(
    frame: pd.DataFrame,
    path: Path,
    root: Path,
    experiment: ExperimentData,
    part: str,
    version: str | None,
) -> Any:
    """``frame``, read from ``path``, as an MLflow dataset to log as a run's input.

    Named ``<dataset>-<part>`` (train, test), with the label as target and DVC's
    hash of the experiment folder as its digest, so runs on the same data share it.
    """
    import mlflow
    from mlflow.data.sources import LocalArtifactDatasetSource  # type: ignore[attr-defined]

    return mlflow.data.from_pandas(  # type: ignore[attr-defined]
        frame,
        source=LocalArtifactDatasetSource(str(path.relative_to(root))),
        name=f"{experiment.name}-{part}",
        targets=experiment.label,
        digest=version,
    )


def log_table_input(dataset: Any, context: str) -> None:
    """Log ``dataset`` (a ``table_dataset``) as an input of the active run.

    Runs on the same data share one dataset record. Workers of a sweep starting
    together on new data all find none and all write it: the store refuses all
    but the first write, and a refused worker's second try links the record the
    first one wrote.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        mlflow.log_input(dataset, context=context)
    except MlflowException:
        mlflow.log_input(dataset, context=context)


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
