"""Build the model (preprocessing and estimator) for a task, and score its predictions.

A ``model`` config names one estimator per task (``classification`` and
``regression``, each a Hydra ``_target_``) and whether it needs scaled inputs;
:func:`build_model` puts the configured preprocessing in front of the one the
experiment's task asks for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig
from sklearn.base import clone
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.pipeline import Pipeline

from .config import ConfigError
from .data.column_types import model_input
from .data.dataset import SplitConfig, Task
from .data.experiment import ExperimentData
from .data.split import cv_splitter
from .preprocessing import build_preprocessor

# Every metric this module computes, and whether a larger value is better.
GREATER_IS_BETTER = {"accuracy": True, "f1_macro": True, "rmse": False, "mae": False, "r2": True}
DEFAULT_METRIC: dict[Task, str] = {"classification": "f1_macro", "regression": "rmse"}
TASK_METRICS: dict[Task, tuple[str, ...]] = {
    "classification": ("accuracy", "f1_macro"),
    "regression": ("rmse", "mae", "r2"),
}


@dataclass(frozen=True)
class Dataset:
    """Model inputs, labels, and the key columns (group, time) of each row."""

    features: pd.DataFrame
    labels: pd.Series
    keys: pd.DataFrame


def split_dataset(frame: pd.DataFrame, experiment: ExperimentData) -> Dataset:
    """Separate an experiment table into model inputs, labels and keys.

    The inputs are ``dataset.json``'s features, as ``column_types.model_input``
    writes them; the keys are the split's group and time columns, a time column
    that is also a feature included (cross-validation orders rows by it).
    """
    split_columns = [experiment.split.get("group"), experiment.split.get("time")]
    keys = [*experiment.keys, *(name for name in split_columns if name in frame.columns)]
    return Dataset(
        model_input(frame, experiment.features),
        frame[experiment.label],
        frame[list(dict.fromkeys(keys))],
    )


def build_model(
    model: DictConfig, preprocessing: DictConfig, experiment: ExperimentData
) -> Pipeline:
    """The preprocessing and the configured estimator for the experiment's task, untrained."""
    if experiment.task not in model:
        raise ConfigError(
            f"model '{model.name}' has no estimator for {experiment.task}: add a "
            f"`{experiment.task}:` entry with a `_target_` to conf/model/{model.name}.yaml"
        )
    estimator = instantiate(model[experiment.task], _convert_="all")
    preprocessor = build_preprocessor(preprocessing, experiment.features, scale=model.scale)
    return Pipeline([("preprocess", preprocessor), ("estimator", estimator)])


def champion_metric(tracking: DictConfig, task: Task) -> tuple[str, bool]:
    """The metric that picks the champion and whether larger is better (config or task default)."""
    metric = str(tracking.metric or DEFAULT_METRIC[task])
    if metric in GREATER_IS_BETTER and metric not in TASK_METRICS[task]:
        raise ConfigError(
            f"tracking.metric: '{metric}' is not a {task} metric; use one of "
            f"{list(TASK_METRICS[task])}, or null for {DEFAULT_METRIC[task]}"
        )
    if metric not in GREATER_IS_BETTER and tracking.greater_is_better is None:
        raise ConfigError(
            f"tracking.metric: '{metric}' is not one of {sorted(GREATER_IS_BETTER)}; "
            "set tracking.greater_is_better for a metric of your own"
        )
    greater = tracking.greater_is_better
    return metric, bool(GREATER_IS_BETTER[metric] if greater is None else greater)


def scores(
    labels: Sequence[Any] | pd.Series, predicted: Sequence[Any] | npt.NDArray[Any], task: Task
) -> dict[str, float]:
    """Test or fold metrics: accuracy, macro F1 and ``f1_<class>`` per class; or RMSE, MAE, R²."""
    if task == "regression":
        return {
            "rmse": float(root_mean_squared_error(labels, predicted)),
            "mae": float(mean_absolute_error(labels, predicted)),
            "r2": float(r2_score(labels, predicted)) if len(labels) > 1 else 0.0,
        }
    classes = sorted(set(labels) | set(predicted), key=str)
    per_class = f1_score(labels, predicted, labels=classes, average=None, zero_division=0)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "f1_macro": float(f1_score(labels, predicted, average="macro", zero_division=0)),
        **{f"f1_{name}": float(value) for name, value in zip(classes, per_class, strict=True)},
    }


def cross_validated_scores(
    model: Pipeline, data: Dataset, task: Task, split: SplitConfig, folds: int
) -> dict[str, float]:
    """Mean scores over folds chosen as the split was (grouped, in time order, stratified)."""
    groups = data.keys.get(split.group)
    frame = data.features
    labels = data.labels
    if split.strategy == "time" and split.time in data.keys:
        order = np.argsort(data.keys[split.time].to_numpy(), kind="stable")
        frame, labels = frame.iloc[order], labels.iloc[order]
    n_groups = groups.nunique() if groups is not None else 0
    splitter = cv_splitter(split, task, folds, n_groups)
    fold_scores: list[dict[str, float]] = []
    for fit_rows, score_rows in splitter.split(frame, labels, groups):
        fitted: Any = clone(model).fit(frame.iloc[fit_rows], labels.iloc[fit_rows])
        predicted = fitted.predict(frame.iloc[score_rows])
        fold_scores.append(scores(labels.iloc[score_rows], predicted, task))
    names = dict.fromkeys(name for fold in fold_scores for name in fold)
    return {
        name: float(np.mean([fold[name] for fold in fold_scores if name in fold])) for name in names
    }
