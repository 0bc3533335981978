"""The configured dataset's champion, and rows of its test set as clients send them.

The service and batch-inference tests take every row, column name and expected
prediction from here rather than hard-coding them, so they hold for whatever table
the project is configured with: classification or regression, numbers only or
text and dates too. The expected predictions are the champion's own, through
MLflow's pyfunc interface, on the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.pyfunc import PyFuncModel

from {{ cookiecutter.package_name }}.data.column_types import model_input
from {{ cookiecutter.package_name }}.inference import input_schema
from {{ cookiecutter.package_name }}.inputs import NUMERIC_TYPES

from .conftest import TrainedProject

Record = dict[str, Any]


@dataclass(frozen=True)
class Champion:
    """The champion model of ``trained_project`` and the experiment it was trained on."""

    model: PyFuncModel
    project: TrainedProject

    @property
    def types(self) -> dict[str, str]:
        """The signature: every input column and its type (double, string...)."""
        schema = input_schema(self.model)
        return {
            str(spec.name): str(getattr(spec.type, "name", spec.type)) for spec in schema.inputs
        }

    @property
    def names(self) -> list[str]:
        """The input columns, in signature order."""
        return list(self.types)

    def numeric_column(self) -> str:
        """A numeric input column; the test is skipped when the model takes none."""
        return self._first(lambda kind: kind in NUMERIC_TYPES, "numeric")

    def text_column(self) -> str:
        """A text input column; the test is skipped when the model takes none."""
        return self._first(lambda kind: kind == "string", "text")

    def features_of_type(self, kind: str) -> list[str]:
        """The features of one type of ``dataset.json``; the test is skipped when there are none."""
        names = [name for name, type_ in self.project.experiment.features.items() if type_ == kind]
        if not names:
            pytest.skip(f"the model takes no {kind} column")
        return names

    def _first(self, wanted: Callable[[str], bool], description: str) -> str:
        for name, kind in self.types.items():
            if wanted(kind):
                return name
        pytest.skip(f"the model takes no {description} column")

    def test_rows(self, count: int) -> pd.DataFrame:
        """The first ``count`` rows of the test set, every column, as stored."""
        return self.project.test_set.head(count).reset_index(drop=True)

    def rows_with_gaps(self, count: int) -> pd.DataFrame:
        """``test_rows(count)`` with the first input missing in row 0 and every input in row 1."""
        frame = self.test_rows(count)
        features = list(self.project.experiment.features)
        frame.loc[0, features[0]] = None
        frame.loc[1, features] = None
        return frame

    def records(self, frame: pd.DataFrame) -> list[Record]:
        """The model's inputs of ``frame`` (as stored) as JSON rows: dates as ISO text, null."""
        inputs = model_input(self.project.features(frame), self.project.experiment.features)
        return [
            {str(name): _json_value(value) for name, value in row.items()}
            for row in inputs.to_dict("records")
        ]

    def rows(self, records: list[Record]) -> list[list[Any]]:
        """``records`` as a worker hands them to the model: values in signature order."""
        return [[record[name] for name in self.names] for record in records]

    def predict(self, records: list[Record]) -> list[Any]:
        """The champion's predictions, as JSON values, on rows of the service's JSON form."""
        frame = pd.DataFrame.from_records(records, columns=self.names)
        for name, kind in self.types.items():
            column = frame[name]
            if kind in NUMERIC_TYPES:
                frame[name] = column.astype("float64")
            else:
                frame[name] = column.astype("object").where(column.notna(), None)
        values: list[Any] = np.asarray(self.model.predict(frame)).tolist()
        return values

    def assert_predictions(self, actual: list[Any], expected: list[Any]) -> None:
        """Labels are equal; regression values equal up to floating-point rounding."""
        if self.project.experiment.task == "regression":
            assert actual == pytest.approx(expected, rel=1e-9, abs=1e-12)
        else:
            assert actual == expected

    def assert_valid(self, predictions: list[Any]) -> None:
        """Predictions are the task's: training classes, or finite numbers for regression."""
        experiment = self.project.experiment
        if experiment.task == "regression":
            assert all(
                isinstance(value, int | float) and not isinstance(value, bool)
                for value in predictions
            ), predictions
            assert all(math.isfinite(value) for value in predictions), predictions
        else:
            assert set(predictions) <= set(experiment.classes or []), predictions


def _json_value(value: Any) -> Any:
    """A cell as JSON holds it: missing values as null, numbers as Python numbers."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def load_champion(project: TrainedProject, folder: Path) -> Champion:
    """The champion of ``project``'s store, downloaded into ``folder``, loaded once."""
    uri = f"sqlite:///{project.store}"
    # Resolved here: MLflow looks `models:/` URIs up in the global registry, not registry_uri.
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = client.get_model_version_by_alias(project.model_name, "champion").version
    path = mlflow.artifacts.download_artifacts(
        client.get_model_version_download_uri(project.model_name, version),
        dst_path=str(folder),
        tracking_uri=uri,
    )
    return Champion(mlflow.pyfunc.load_model(path), project)
