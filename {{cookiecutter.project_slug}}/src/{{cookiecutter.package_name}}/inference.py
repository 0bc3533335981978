"""Load a registered model and check inputs against its signature before predicting.

Shared by batch inference (the ``predict`` module) and any online service,
so both reject the same bad input with the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd
from mlflow.pyfunc import PyFuncModel
from mlflow.types import ColSpec, Schema, TensorSpec

NUMERIC_TYPES = {"double", "float", "long", "integer"}


class InputSchemaError(ValueError):
    """Input data does not match the model's signature; ``problems`` lists every mismatch."""

    def __init__(self, problems: list[str]) -> None:
        """Keep the problems and build a message listing them all."""
        self.problems = problems
        super().__init__(
            "Input does not match the model's signature:\n  - " + "\n  - ".join(problems)
        )


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


def _type_name(spec: ColSpec | TensorSpec) -> str:
    return str(getattr(spec.type, "name", spec.type))


def check_inputs(frame: pd.DataFrame, schema: Schema, *, max_examples: int = 5) -> pd.DataFrame:
    """Return the model's input columns of ``frame``, or raise naming every problem.

    Missing columns, non-numeric values in numeric columns, and missing or
    infinite numbers are errors; columns the model does not use are dropped.
    """
    expected = schema.input_names()
    problems = [f"missing column '{name}'" for name in expected if name not in frame.columns]
    for spec in schema.inputs:
        name = spec.name
        if name not in frame.columns or _type_name(spec) not in NUMERIC_TYPES:
            continue
        numbers = pd.to_numeric(frame[name], errors="coerce")
        not_numeric = frame.index[numbers.isna() & frame[name].notna()][:max_examples]
        if len(not_numeric):
            values = list(frame.loc[not_numeric, name])
            problems.append(
                f"column '{name}' must be numeric ({_type_name(spec)}); "
                f"rows {list(not_numeric)} hold {values}"
            )
        not_finite = frame.index[~np.isfinite(numbers) & ~numbers.index.isin(not_numeric)]
        if len(not_finite):
            problems.append(
                f"column '{name}' must be a finite number; "
                f"rows {list(not_finite[:max_examples])} are missing or infinite"
            )
    if problems:
        raise InputSchemaError(problems)
    return frame[expected].astype(
        {spec.name: "float64" for spec in schema.inputs if _type_name(spec) in NUMERIC_TYPES}
    )


def predict_frame(model: PyFuncModel, frame: pd.DataFrame) -> pd.Series:
    """Check ``frame`` against the model's signature and return one prediction per row."""
    inputs = check_inputs(frame, input_schema(model))
    return pd.Series(np.asarray(model.predict(inputs)), index=frame.index, name="prediction")
