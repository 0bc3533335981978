"""The monitor's way into MLflow: which run trained a version, and the reference it logged.

Imported only when the monitor needs the registry (a file to check, or a run whose
reference is not cached yet): MLflow takes seconds to import.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts
from mlflow.exceptions import MlflowException

from .. import registry
from .reference import (
    DESCRIPTION_FILE,
    METRICS_FILE,
    REFERENCE_ARTIFACTS,
    NoReferenceError,
    Reference,
    keep_in_cache,
    read_reference,
)


class Lineage:
    """Registered versions, their runs and references on one tracking server."""

    def __init__(self, tracking_uri: str) -> None:
        """Talk to the server (or local store) at ``tracking_uri``."""
        self.tracking_uri = tracking_uri
        self.client = MlflowClient(tracking_uri=tracking_uri)

    def alias_version(self, model_name: str, alias: str) -> str:
        """The version ``alias`` points to (what ``make serve`` loads by default)."""
        version = registry.alias_version(self.client, model_name, alias)
        if version is None:
            raise NoReferenceError(
                f"registered model '{model_name}' has no version with alias '{alias}': run "
                "`make pipeline` first, or name the version with --model-version"
            )
        return version

    def version_run(self, model_name: str, model_version: str) -> str:
        """The id of the run that trained ``model_name`` version ``model_version``."""
        try:
            return str(self.client.get_model_version(model_name, str(model_version)).run_id)
        except MlflowException as error:
            raise NoReferenceError(
                f"cannot find version {model_version} of registered model '{model_name}' "
                f"at {self.tracking_uri}: {error.message}"
            ) from None

    def fetch_reference(
        self, cache: Path, run_id: str, model_name: str, model_version: str | None
    ) -> Reference:
        """Download run ``run_id``'s reference; keep a copy in ``cache`` once it is complete.

        Raises:
            NoReferenceError: The run does not exist, or logged no reference (a
                model trained before the project monitored).
        """
        try:
            run = self.client.get_run(run_id)
        except MlflowException as error:
            raise NoReferenceError(
                f"cannot find run {run_id} of '{model_name}' at {self.tracking_uri}: "
                f"{error.message}"
            ) from None
        metrics = {
            name.removeprefix("test_"): value
            for name, value in run.data.metrics.items()
            if name.startswith("test_")
        }
        with tempfile.TemporaryDirectory() as folder:
            try:
                local = Path(
                    download_artifacts(
                        run_id=run_id,
                        artifact_path=REFERENCE_ARTIFACTS,
                        dst_path=folder,
                        tracking_uri=self.tracking_uri,
                    )
                )
            except (MlflowException, OSError):
                local = Path(folder) / "absent"
            if not (local / DESCRIPTION_FILE).is_file():
                raise NoReferenceError(
                    f"run {run_id} of '{model_name}' (version {model_version}) logged no "
                    f"monitoring reference ({REFERENCE_ARTIFACTS}/{DESCRIPTION_FILE}); retrain it "
                    "with `make pipeline` so the train stage logs one"
                )
            (local / METRICS_FILE).write_text(json.dumps(metrics), encoding="utf-8")
            if metrics:  # evaluated: the reference is complete and will not change
                keep_in_cache(local, cache, run_id)
            return read_reference(local, run_id, model_name, model_version)
