"""The model the service holds: loaded once, with what clients need to know about it (its card)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.pyfunc import PyFuncModel

from ..inference import input_columns
from ..inputs import Column, Row, rows_frame
from .batching import Batcher
from .body import check_body
from .settings import ServeSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelCard:
    """What the service tells about its model: input columns, registry identity, an example.

    Plain data, so that it can travel from the process that holds the model to the
    processes that answer requests (``model_process``).
    """

    columns: list[Column]
    info: dict[str, Any] = field(default_factory=dict)
    input_example: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ServedModel:
    """A loaded model and its card."""

    model: PyFuncModel
    card: ModelCard
    _raw: Any = None

    def __post_init__(self) -> None:
        """Use the bare scikit-learn estimator when there is one (skips pyfunc's overhead).

        Only when every column is a number or a string: ``rows_frame`` builds
        those as pyfunc's schema enforcement would pass them (float64 numbers, which
        scikit-learn estimators take, and strings as they are), so skipping it, about
        6 ms of a 50 ms call for the example model, changes no prediction.
        """
        plain = all(column.numeric or column.type == "string" for column in self.card.columns)
        if "sklearn" in self.model.metadata.flavors and plain:
            self._raw = self.model.get_raw_model()  # type: ignore[no-untyped-call]

    def predict(self, rows: list[Row]) -> list[Any]:
        """Predict one value per row (checked; values in column order), as JSON-ready values."""
        predictor = self._raw if self._raw is not None else self.model
        output = predictor.predict(rows_frame(rows, self.card.columns))
        if isinstance(output, pd.DataFrame):
            return list(output.to_dict(orient="records"))
        values: list[Any] = np.asarray(output).tolist()
        return values

    def warm_up(self) -> None:
        """Call the model once on its card's example, so that no request pays for a first call.

        A model's first call does work the next ones skip (imports, caches): 74
        against 40 ms for the example model. The rows are those a request body of
        the example gives. A failure is logged and nothing more: requests then get
        the model's own error.
        """
        example = self.card.input_example
        try:  # the example's rows as a request body brings them
            self.predict(check_body(example, self.card.columns, len(example)).rows)
        except Exception:
            log.warning("the model failed on its input example", exc_info=True)

    def batcher(self, settings: ServeSettings) -> Batcher:
        """The model's calls for many requests at once, merged as ``settings`` say."""
        return Batcher(
            self.predict,
            settings.max_batch_rows,
            settings.batch_wait_seconds,
            merge=settings.merge_requests,
        )


def _example(model: PyFuncModel, path: str, columns: list[Column]) -> list[dict[str, Any]]:
    """The logged input example as records, or one row built from the signature (zeros, nulls)."""
    try:
        example = model.metadata.load_input_example(path)
    except (MlflowException, OSError, ValueError):
        example = None
    if isinstance(example, pd.DataFrame):
        complete = example.reindex(columns=[c.name for c in columns]).dropna()
        numbers = complete.select_dtypes("number")
        complete = complete[np.isfinite(numbers).all(axis=1)]
        if not complete.empty:
            rows: list[dict[str, Any]] = complete.head(1).to_dict("records")
            return rows
    return [{c.name: 0.0 if c.numeric else None for c in columns}]


def _registry_info(settings: ServeSettings, model: PyFuncModel) -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": settings.model_name,
        "uri": settings.uri,
        "version": None,
        "alias": None,
        "run_id": model.metadata.run_id,
    }
    if settings.model_uri:
        return info
    try:
        client = MlflowClient()
        if settings.model_version:
            version = client.get_model_version(settings.model_name, settings.model_version)
        else:
            version = client.get_model_version_by_alias(settings.model_name, settings.model_alias)
            info["alias"] = settings.model_alias
    except MlflowException as error:
        log.warning("cannot read the registry entry of %s: %s", settings.uri, error.message)
        return info
    info.update(version=str(version.version), run_id=version.run_id or info["run_id"])
    return info


def _signature_json(signature: ModelSignature | None) -> dict[str, Any] | None:
    """The signature as JSON objects (MLflow's ``to_dict`` holds each part as a JSON string)."""
    if signature is None:
        return None
    parts = {"inputs": signature.inputs, "outputs": signature.outputs, "params": signature.params}
    return {name: part.to_dict() if part is not None else None for name, part in parts.items()}


def load_served_model(settings: ServeSettings) -> ServedModel:
    """Load the model ``settings`` point at, once, with its registry details."""
    path = mlflow.artifacts.download_artifacts(artifact_uri=settings.uri)
    model = mlflow.pyfunc.load_model(path)
    columns = input_columns(model)
    signature = model.metadata.signature
    info = _registry_info(settings, model)
    info["signature"] = _signature_json(signature)
    return ServedModel(model, ModelCard(columns, info, _example(model, path, columns)))
