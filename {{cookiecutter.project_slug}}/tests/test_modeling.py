"""Estimators from config, scores, grouped cross-validation and the evaluation plots."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.modeling import (
    build_estimator,
    cross_validated_scores,
    scores,
    split_dataset,
)
from {{ cookiecutter.package_name }}.plots import plot_class_scores, plot_confusion_matrix


@pytest.fixture
def table() -> pd.DataFrame:
    """Two well separated classes, three participants each."""
    rng = np.random.default_rng(0)
    rows = 60
    label = np.where(np.arange(rows) % 2 == 0, "rest", "move")
    return pd.DataFrame(
        {
            "signal": np.where(label == "move", 5.0, 0.0) + rng.normal(0, 0.3, rows),
            "noise": rng.normal(0, 1, rows),
            "participant": [f"p{(index // 2) % 6:03d}" for index in range(rows)],
            "label": label,
        }
    )


def logistic_regression() -> object:
    config = OmegaConf.create({"_target_": "sklearn.linear_model.LogisticRegression", "C": 1.0})
    return build_estimator(config)


def test_dataset_keeps_participants_out_of_the_features(table: pd.DataFrame) -> None:
    data = split_dataset(table, "label")

    assert list(data.features.columns) == ["signal", "noise"]
    assert data.groups.nunique() == 6


def test_scores_include_every_class() -> None:
    result = scores(["a", "a", "b", "b"], np.array(["a", "b", "b", "b"]))

    assert result["accuracy"] == pytest.approx(0.75)
    assert set(result) == {"accuracy", "f1_macro", "f1_a", "f1_b"}


def test_cross_validation_learns_a_separable_problem(table: pd.DataFrame) -> None:
    data = split_dataset(table, "label")

    result = cross_validated_scores(logistic_regression(), data, folds=3, seed=0)

    assert result["f1_macro"] > 0.9


def test_more_folds_than_participants_still_works(table: pd.DataFrame) -> None:
    data = split_dataset(table[table["participant"].isin(["p000", "p001"])], "label")

    result = cross_validated_scores(logistic_regression(), data, folds=5, seed=0)

    assert 0.0 <= result["accuracy"] <= 1.0


def test_plots_are_written(tmp_path: Path) -> None:
    labels = pd.Series(["a", "b", "a"])

    confusion = plot_confusion_matrix(labels, np.array(["a", "b", "b"]), tmp_path / "cm.png")
    classes = plot_class_scores({"a": 0.5, "b": 1.0}, tmp_path / "classes.png")

    for path in (confusion, classes):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
