"""Evaluation plots, written as data (CSV, for ``dvc plots``) and images (PNG, for MLflow).

Classification: the confusion matrix and the F1 score of every class.
Regression: predicted against actual values, and the residuals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display needed on servers and in CI

import matplotlib.pyplot as plt
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import ConfusionMatrixDisplay

from .data.dataset import Task


def _save(figure: Any, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _title(axes: Any, title: str, caption: str) -> None:
    """The plot's title, over the caption naming the model and the data version."""
    axes.set_title(f"{title}\n{caption}" if caption else title, fontsize=10)


def plot_confusion_matrix(
    labels: Sequence[Any], predicted: Sequence[Any], path: Path, caption: str = ""
) -> Path:
    """Save the confusion matrix (rows: actual class, columns: predicted) as a PNG image."""
    figure, axes = plt.subplots(figsize=(5, 4))
    ConfusionMatrixDisplay.from_predictions(labels, predicted, ax=axes, colorbar=False)
    _title(axes, "Confusion matrix (test set)", caption)
    return _save(figure, path)


def plot_class_scores(class_scores: Mapping[str, float], path: Path, caption: str = "") -> Path:
    """Save the F1 score of every class as a horizontal bar chart."""
    figure, axes = plt.subplots(figsize=(5, 3))
    _title(axes, "F1 score of each class (test set)", caption)
    names = list(class_scores)
    axes.barh(names, [class_scores[name] for name in names])
    axes.set_xlim(0, 1)
    axes.set_xlabel("F1 (test set)")
    return _save(figure, path)


def plot_predicted_vs_actual(
    labels: npt.NDArray[Any], predicted: npt.NDArray[Any], path: Path, caption: str = ""
) -> Path:
    """Save a scatter of predicted against actual values, with the line of perfect predictions."""
    figure, axes = plt.subplots(figsize=(5, 4))
    axes.scatter(labels, predicted, s=8, alpha=0.5)
    low, high = float(min(labels.min(), predicted.min())), float(max(labels.max(), predicted.max()))
    axes.plot([low, high], [low, high], color="black", linewidth=1)
    axes.set_xlabel("actual")
    axes.set_ylabel("predicted")
    _title(axes, "Predicted vs actual (test set)", caption)
    return _save(figure, path)


def plot_residuals(
    labels: npt.NDArray[Any], predicted: npt.NDArray[Any], path: Path, caption: str = ""
) -> Path:
    """Save the residuals (actual minus predicted) against the predicted values."""
    figure, axes = plt.subplots(figsize=(5, 4))
    axes.scatter(predicted, labels - predicted, s=8, alpha=0.5)
    axes.axhline(0, color="black", linewidth=1)
    axes.set_xlabel("predicted")
    axes.set_ylabel("residual (actual - predicted)")
    _title(axes, "Residuals (test set)", caption)
    return _save(figure, path)


def write_plots(
    labels: pd.Series,
    predicted: npt.NDArray[Any],
    results: Mapping[str, float],
    task: Task,
    folder: Path,
    caption: str = "",
) -> list[Path]:
    """Write the task's plot data and images into ``folder``, replacing any of another task.

    ``caption`` (the model and the data version) goes under every image's title.
    """
    for old in folder.glob("*.*"):
        old.unlink()
    actual = labels.to_numpy()
    pairs = pd.DataFrame({"actual": actual, "predicted": predicted})
    if task == "regression":
        pairs.to_csv(folder / "predictions.csv", index=False)
        return [
            folder / "predictions.csv",
            plot_predicted_vs_actual(
                actual.astype(float),
                predicted.astype(float),
                folder / "predicted_vs_actual.png",
                caption,
            ),
            plot_residuals(
                actual.astype(float), predicted.astype(float), folder / "residuals.png", caption
            ),
        ]
    pairs.to_csv(folder / "confusion.csv", index=False)
    class_scores = {
        name[3:]: value
        for name, value in results.items()
        if name.startswith("f1_") and name != "f1_macro"
    }
    pd.DataFrame({"class": list(class_scores), "f1": list(class_scores.values())}).to_csv(
        folder / "class_scores.csv", index=False
    )
    return [
        folder / "confusion.csv",
        folder / "class_scores.csv",
        plot_confusion_matrix(
            list(actual), list(predicted), folder / "confusion_matrix.png", caption
        ),
        plot_class_scores(class_scores, folder / "class_scores.png", caption),
    ]
