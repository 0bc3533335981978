"""Build the configured estimator and score its predictions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig
from sklearn.base import ClassifierMixin, clone
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GroupKFold

# Columns of an experiment dataset that are not model inputs.
NON_FEATURE_COLUMNS = ("participant",)


@dataclass(frozen=True)
class Dataset:
    """Model inputs, labels and the participant of each row (for grouped folds)."""

    features: pd.DataFrame
    labels: pd.Series
    groups: pd.Series


def split_dataset(frame: pd.DataFrame, label: str) -> Dataset:
    """Separate an experiment table into features, labels and participants."""
    features = frame.drop(columns=[label, *NON_FEATURE_COLUMNS])
    return Dataset(features, frame[label].astype(str), frame["participant"])


def build_estimator(estimator: DictConfig) -> ClassifierMixin:
    """Instantiate the estimator described by the ``model.estimator`` config."""
    model: ClassifierMixin = instantiate(estimator, _convert_="all")
    return model


def scores(
    labels: Sequence[str] | pd.Series, predicted: Sequence[str] | np.ndarray
) -> dict[str, float]:
    """Accuracy, macro F1 and the F1 of every class (``f1_<class>``)."""
    classes = sorted(set(labels) | set(predicted))
    per_class = f1_score(labels, predicted, labels=classes, average=None, zero_division=0)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "f1_macro": float(f1_score(labels, predicted, average="macro", zero_division=0)),
        **{f"f1_{name}": float(value) for name, value in zip(classes, per_class, strict=True)},
    }


def cross_validated_scores(
    estimator: ClassifierMixin, data: Dataset, folds: int, seed: int
) -> dict[str, float]:
    """Mean scores over folds that never split a participant between fit and score."""
    n_groups = data.groups.nunique()
    splitter = GroupKFold(n_splits=min(folds, n_groups), shuffle=True, random_state=seed)
    fold_scores: list[dict[str, float]] = []
    for fit_rows, score_rows in splitter.split(data.features, data.labels, data.groups):
        model: Any = clone(estimator)
        model.fit(data.features.iloc[fit_rows], data.labels.iloc[fit_rows])
        predicted = model.predict(data.features.iloc[score_rows])
        fold_scores.append(scores(data.labels.iloc[score_rows], predicted))
    return {
        name: float(np.mean([fold[name] for fold in fold_scores if name in fold]))
        for name in fold_scores[0]
    }
