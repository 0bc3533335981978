"""Evaluation plots: images for MLflow and CSV data for dvc plots, per task."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.dataset import Task
from {{ cookiecutter.package_name }}.plots import (
    plot_class_scores,
    plot_confusion_matrix,
    write_plots,
)

PNG = b"\x89PNG\r\n\x1a\n"


def test_plots_are_written(tmp_path: Path) -> None:
    labels = pd.Series(["a", "b", "a"])

    confusion = plot_confusion_matrix(labels, ["a", "b", "b"], tmp_path / "cm.png")
    classes = plot_class_scores({"a": 0.5, "b": 1.0}, tmp_path / "classes.png")

    for path in (confusion, classes):
        assert path.read_bytes()[:8] == PNG


@pytest.mark.parametrize(
    ("task", "files"),
    [
        (
            "classification",
            {"confusion.csv", "class_scores.csv", "confusion_matrix.png", "class_scores.png"},
        ),
        ("regression", {"predictions.csv", "predicted_vs_actual.png", "residuals.png"}),
    ],
)
def test_each_task_writes_its_plots_and_only_those(
    tmp_path: Path, task: Task, files: set[str]
) -> None:
    (tmp_path / "residuals.png").write_bytes(PNG)  # left by a run of another task
    if task == "classification":
        labels, predicted = pd.Series(["a", "b", "a"]), np.array(["a", "b", "b"])
        results = {"accuracy": 2 / 3, "f1_macro": 0.67, "f1_a": 0.67, "f1_b": 0.67}
    else:
        labels, predicted = pd.Series([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.5])
        results = {"rmse": 0.41, "mae": 0.33, "r2": 0.75}

    written = write_plots(labels, predicted, results, task, tmp_path)

    assert {path.name for path in written} == files
    assert {path.name for path in tmp_path.iterdir()} == files
