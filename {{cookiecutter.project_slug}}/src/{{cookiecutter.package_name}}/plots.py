"""Evaluation plots, saved as PNG files for DVC plots and MLflow artifacts."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed on servers and in CI

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import ConfusionMatrixDisplay


def plot_confusion_matrix(labels: pd.Series, predicted: np.ndarray, path: Path) -> Path:
    """Save the confusion matrix as a PNG image."""
    figure, axes = plt.subplots(figsize=(5, 4))
    ConfusionMatrixDisplay.from_predictions(labels, predicted, ax=axes, colorbar=False)
    axes.set_title("Confusion matrix (test set)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_class_scores(class_scores: dict[str, float], path: Path) -> Path:
    """Save the F1 score of every class as a horizontal bar chart."""
    figure, axes = plt.subplots(figsize=(5, 3))
    names = list(class_scores)
    axes.barh(names, [class_scores[name] for name in names])
    axes.set_xlim(0, 1)
    axes.set_xlabel("F1 (test set)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
