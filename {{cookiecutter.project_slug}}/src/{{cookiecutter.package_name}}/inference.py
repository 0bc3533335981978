"""Load a registered model, read its input columns, and predict on checked rows.

The rules the rows are held to, and their messages, are in ``inputs``.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd
from mlflow.pyfunc import PyFuncModel
from mlflow.types import Schema

from .data.dataset import PREDICTION
from .inputs import Column, InputSchemaError, check_frame, signature_columns


@dataclass(frozen=True)
class ModelReference:
    """Which registered model version to use: an alias (default) or a version number."""

    name: str
    alias: str = "champion"
    version: str | None = None

    @property
    def uri(self) -> str:
        """The ``models:/`` URI MLflow loads."""
        return (
            f"models:/{self.name}/{self.version}"
            if self.version
            else f"models:/{self.name}@{self.alias}"
        )


def load_model(reference: ModelReference) -> PyFuncModel:
    """Load a registered model version through MLflow's generic (pyfunc) interface."""
    model: PyFuncModel = mlflow.pyfunc.load_model(reference.uri)
    return model


def input_schema(model: PyFuncModel) -> Schema:
    """The model's input schema; every model this project registers has one."""
    schema: Schema | None = model.metadata.get_input_schema()  # type: ignore[no-untyped-call]
    if schema is None:
        raise InputSchemaError(
            ["the model was logged without a signature, so inputs cannot be checked"]
        )
    return schema


def input_columns(model: PyFuncModel) -> list[Column]:
    """The model's input columns, from its signature."""
    return signature_columns(input_schema(model))


def predict_inputs(model: PyFuncModel, inputs: pd.DataFrame) -> pd.Series:
    """One prediction per row of ``inputs``, checked by ``inputs.check_frame``."""
    return pd.Series(np.asarray(model.predict(inputs)), index=inputs.index, name=PREDICTION)


def predict_frame(model: PyFuncModel, frame: pd.DataFrame) -> pd.Series:
    """Check ``frame`` against the model's signature and return one prediction per row."""
    return predict_inputs(model, check_frame(frame, input_columns(model)))
