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

from .data.column_types import dates_as_text
from .data.dataset import PREDICTION

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
    """Return the model's input columns of ``frame`` as the model takes them.

    Numeric columns take numbers (true/false as 1 and 0) and become floats; text
    columns take any value as text, dates in ISO 8601. Missing values stay missing,
    for the model to impute. Columns the model does not take are ignored. A missing
    column, or a value that is not a number (or is infinite) in a numeric column,
    is an error.

    Raises:
        InputSchemaError: The frame breaks these rules; the error names every problem.
    """
    expected = schema.input_names()
    problems = [f"missing column '{name}'" for name in expected if name not in frame.columns]
    columns: dict[str, pd.Series] = {}
    for spec in schema.inputs:
        name = str(spec.name)
        if name not in frame.columns:
            continue
        column = frame[name]
        if _type_name(spec) not in NUMERIC_TYPES:
            columns[name] = _as_text(column)
            continue
        numbers = pd.to_numeric(column, errors="coerce").astype("float64")
        not_numeric = frame.index[numbers.isna() & column.notna()][:max_examples]
        if len(not_numeric):
            values = list(frame.loc[not_numeric, name])
            problems.append(
                f"column '{name}' must be numeric ({_type_name(spec)}); "
                f"rows {list(not_numeric)} hold {values}"
            )
        infinite = frame.index[np.isinf(numbers)]
        if len(infinite):
            problems.append(
                f"column '{name}' must be a finite number or missing; "
                f"rows {list(infinite[:max_examples])} are infinite"
            )
        columns[name] = numbers
    if problems:
        raise InputSchemaError(problems)
    return pd.DataFrame(columns, index=frame.index)[expected]


def _as_text(column: pd.Series) -> pd.Series:
    """A text column as the model takes it: dates in ISO 8601, missing values as None."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return dates_as_text(column)
    text = column.astype("object").map(
        lambda value: value if isinstance(value, str) else str(value), na_action="ignore"
    )
    # map's result is pandas' text type, whose missing value is NaN: None needs objects.
    return text.astype("object").where(column.notna(), None)


def missing_fraction(frame: pd.DataFrame) -> float:
    """The share of missing cells: inputs the model has to impute."""
    return float(frame.isna().to_numpy().mean()) if frame.size else 0.0


def text_columns(schema: Schema) -> list[str]:
    """The input columns the model takes as text (categories and dates)."""
    return [str(spec.name) for spec in schema.inputs if _type_name(spec) not in NUMERIC_TYPES]


def predict_frame(model: PyFuncModel, frame: pd.DataFrame) -> pd.Series:
    """Check ``frame`` against the model's signature and return one prediction per row."""
    inputs = check_inputs(frame, input_schema(model))
    return pd.Series(np.asarray(model.predict(inputs)), index=frame.index, name=PREDICTION)
