"""Models from config (preprocessing and estimator per task), scores and cross-validation."""

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from omegaconf import DictConfig, OmegaConf
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline

from {{ cookiecutter.package_name }}.config import ConfigError
from {{ cookiecutter.package_name }}.data.dataset import ColumnType, SplitConfig, Task
from {{ cookiecutter.package_name }}.data.errors import DataValidationError
from {{ cookiecutter.package_name }}.data.experiment import ExperimentData
from {{ cookiecutter.package_name }}.modeling import (
    Dataset,
    build_model,
    champion_metric,
    cross_validated_scores,
    scores,
    split_dataset,
)

from .conftest import PROJECT_ROOT

FEATURES: dict[str, ColumnType] = {"signal": "numeric", "plan": "categorical", "day": "date"}
LABELS: dict[Task, str] = {"classification": "bought", "regression": "amount"}


@pytest.fixture
def table() -> pd.DataFrame:
    """An experiment table: 80 visits of 8 customers on 80 days, in no order of time.

    ``bought`` (yes or no, about half each) and ``amount`` both follow ``signal``, with
    noise: a separable label would keep the logistic regression iterating.
    """
    rng = np.random.default_rng(11)
    rows = 80
    signal = rng.normal(0, 1, rows)
    return pd.DataFrame(
        {
            "signal": signal,
            "plan": rng.choice(["basic", "premium"], rows),
            "day": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.permutation(rows), "D"),
            "customer": [f"c{index % 8}" for index in range(rows)],
            "bought": np.where(signal + rng.normal(0, 0.3, rows) > 0, "yes", "no"),
            "amount": 3 * signal + rng.normal(0, 0.1, rows),
        }
    )


def describe(task: Task = "classification", **split: Any) -> ExperimentData:
    """The dataset.json build_experiment writes for ``table`` (the time column is a feature)."""
    settings = SplitConfig(**split)
    return ExperimentData(
        name="shop",
        task=task,
        label=LABELS[task],
        features=FEATURES,
        keys=[settings.group] if settings.group else [],
        split=settings.model_dump(),
    )


def model_config(name: str, **changes: Any) -> DictConfig:
    """conf/model/<name>.yaml, resolved as in the composed configuration."""
    root = OmegaConf.create(
        {
            "model": OmegaConf.load(PROJECT_ROOT / "conf" / "model" / f"{name}.yaml"),
            "train": {"seed": 0},
        }
    )
    root.model = OmegaConf.merge(root.model, changes)
    model = root.model
    assert isinstance(model, DictConfig)
    return model


def preprocessing() -> DictConfig:
    config = OmegaConf.load(PROJECT_ROOT / "conf" / "preprocessing" / "default.yaml")
    assert isinstance(config, DictConfig)
    return config


def logistic_regression(experiment: ExperimentData) -> Pipeline:
    return build_model(model_config("logistic_regression"), preprocessing(), experiment)


class FoldRecorder(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Predicts the first class and records the rows of each fold it was fitted and scored on."""

    folds: ClassVar[list[tuple[list[int], list[int]]]] = []

    def fit(self, features: pd.DataFrame, labels: pd.Series) -> "FoldRecorder":
        self.fitted_rows_ = list(features.index)
        self.classes_ = np.unique(labels)
        return self

    def predict(self, features: pd.DataFrame) -> Any:
        FoldRecorder.folds.append((self.fitted_rows_, list(features.index)))
        return np.full(len(features), self.classes_[0])


def recorded_folds(data: Dataset, split: SplitConfig) -> list[tuple[list[int], list[int]]]:
    """The (fitted rows, scored rows) of each fold of a 3-fold cross-validation."""
    FoldRecorder.folds = []
    cross_validated_scores(
        Pipeline([("estimator", FoldRecorder())]), data, "classification", split, folds=3
    )
    return FoldRecorder.folds


def test_classification_scores_include_every_class() -> None:
    result = scores(["a", "a", "b", "b"], np.array(["a", "b", "b", "b"]), "classification")

    assert result == pytest.approx(
        {"accuracy": 0.75, "f1_macro": (2 / 3 + 0.8) / 2, "f1_a": 2 / 3, "f1_b": 0.8}
    )


def test_a_class_only_predicted_gets_a_score_of_zero() -> None:
    result = scores(pd.Series([0, 0, 1]), np.array([0, 2, 1]), "classification")

    assert set(result) == {"accuracy", "f1_macro", "f1_0", "f1_1", "f1_2"}
    assert result["f1_2"] == 0.0
    assert result["f1_1"] == 1.0


def test_regression_scores() -> None:
    result = scores([1.0, 2.0, 3.0, 4.0], np.array([1.0, 2.0, 3.0, 6.0]), "regression")

    assert result == pytest.approx({"rmse": 1.0, "mae": 0.5, "r2": 0.2})


def test_r2_of_a_single_row_is_zero_rather_than_undefined() -> None:
    assert scores([3.0], np.array([2.0]), "regression") == {"rmse": 1.0, "mae": 1.0, "r2": 0.0}


@pytest.mark.parametrize(
    ("tracking", "task", "expected"),
    [
        ({}, "classification", ("f1_macro", True)),
        ({}, "regression", ("rmse", False)),
        ({"metric": "accuracy"}, "classification", ("accuracy", True)),
        ({"metric": "mae"}, "regression", ("mae", False)),
        ({"metric": "r2"}, "regression", ("r2", True)),
        ({"metric": "rmse", "greater_is_better": True}, "regression", ("rmse", True)),
        ({"metric": "f1_yes", "greater_is_better": True}, "classification", ("f1_yes", True)),
    ],
)
def test_the_champion_metric_and_its_direction(
    tracking: dict[str, Any], task: Task, expected: tuple[str, bool]
) -> None:
    config = OmegaConf.create({"metric": None, "greater_is_better": None, **tracking})

    assert champion_metric(config, task) == expected


def test_a_metric_of_unknown_direction_is_an_error() -> None:
    config = OmegaConf.create({"metric": "f1_yes", "greater_is_better": None})

    with pytest.raises(ConfigError) as error:
        champion_metric(config, "classification")

    assert str(error.value) == (
        "tracking.metric: 'f1_yes' is not one of ['accuracy', 'f1_macro', 'mae', 'r2', 'rmse']; "
        "set tracking.greater_is_better for a metric of your own"
    )


@pytest.mark.parametrize(
    ("metric", "task"), [("rmse", "classification"), ("f1_macro", "regression")]
)
def test_a_metric_of_the_other_task_is_an_error(metric: str, task: Task) -> None:
    config = OmegaConf.create({"metric": metric, "greater_is_better": None})

    with pytest.raises(ConfigError, match=f"tracking.metric: '{metric}' is not a {task} metric"):
        champion_metric(config, task)


def test_the_dataset_holds_model_inputs_labels_and_keys(table: pd.DataFrame) -> None:
    experiment = describe(strategy="group", group="customer")

    data = split_dataset(table, experiment)

    assert list(data.features.columns) == ["signal", "plan", "day"]
    assert data.features["day"].iloc[0] == table["day"].iloc[0].strftime("%Y-%m-%dT%H:%M:%S")
    assert data.labels.equals(table["bought"])
    assert list(data.keys.columns) == ["customer"]


def test_a_time_column_that_is_a_feature_is_a_key_too(table: pd.DataFrame) -> None:
    data = split_dataset(table, describe(strategy="time", time="day"))

    assert "day" in data.features.columns
    assert data.keys["day"].equals(table["day"])


@pytest.mark.parametrize("name", ["logistic_regression", "random_forest"])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_each_model_builds_for_each_task(table: pd.DataFrame, name: str, task: Task) -> None:
    experiment = describe(task)
    data = split_dataset(table, experiment)

    model = build_model(model_config(name, n_estimators=10), preprocessing(), experiment)
    predicted = model.fit(data.features, data.labels).predict(data.features)

    assert [step for step, _ in model.steps] == ["preprocess", "estimator"]
    assert (
        type(model.named_steps["estimator"]).__name__
        == {
            ("logistic_regression", "classification"): "LogisticRegression",
            ("logistic_regression", "regression"): "Ridge",
            ("random_forest", "classification"): "RandomForestClassifier",
            ("random_forest", "regression"): "RandomForestRegressor",
        }[(name, task)]
    )
    if task == "classification":
        assert set(predicted) <= {"yes", "no"}
        assert scores(data.labels, predicted, task)["f1_macro"] > 0.9
    else:
        assert scores(data.labels, predicted, task)["r2"] > 0.9


def test_the_model_scales_inputs_only_when_configured(table: pd.DataFrame) -> None:
    experiment = describe()

    linear = build_model(model_config("logistic_regression"), preprocessing(), experiment)
    forest = build_model(model_config("random_forest"), preprocessing(), experiment)

    numeric = linear.named_steps["preprocess"].transformers[0][1]
    assert "scale" in numeric.named_steps
    assert "scale" not in forest.named_steps["preprocess"].transformers[0][1].named_steps


def test_a_model_without_an_estimator_for_the_task_is_an_error() -> None:
    config = model_config("logistic_regression")
    del config["regression"]

    with pytest.raises(ConfigError) as error:
        build_model(config, preprocessing(), describe("regression"))

    assert str(error.value) == (
        "model 'logistic_regression' has no estimator for regression: add a `regression:` "
        "entry with a `_target_` to conf/model/logistic_regression.yaml"
    )


def test_stratified_folds_keep_each_class_share(table: pd.DataFrame) -> None:
    data = split_dataset(table, describe(strategy="stratified"))

    folds = recorded_folds(data, SplitConfig(strategy="stratified"))

    scored = [row for _, rows in folds for row in rows]
    assert sorted(scored) == list(range(len(table)))
    buyers = [int((table.loc[rows, "bought"] == "yes").sum()) for _, rows in folds]
    assert max(buyers) - min(buyers) <= 1


def test_random_folds_score_every_row_once_in_no_order(table: pd.DataFrame) -> None:
    data = split_dataset(table, describe(strategy="random"))

    folds = recorded_folds(data, SplitConfig(strategy="random"))

    assert sorted(row for _, rows in folds for row in rows) == list(range(len(table)))
    assert folds[0][1] != list(range(len(folds[0][1])))  # shuffled, not the first rows


def test_group_folds_never_score_a_group_they_were_fitted_on(table: pd.DataFrame) -> None:
    split = SplitConfig(strategy="group", group="customer")
    data = split_dataset(table, describe(strategy="group", group="customer"))

    folds = recorded_folds(data, split)

    assert len(folds) == 3
    for fitted, scored in folds:
        assert not set(table.loc[fitted, "customer"]) & set(table.loc[scored, "customer"])


@pytest.mark.parametrize("time_is_a_feature", [True, False])
def test_time_folds_fit_on_the_past_only(table: pd.DataFrame, time_is_a_feature: bool) -> None:
    experiment = describe(strategy="time", time="day")
    if not time_is_a_feature:  # `features` listed without the time column: a key only
        features = {name: kind for name, kind in FEATURES.items() if name != "day"}
        experiment = ExperimentData(**{**vars(experiment), "features": features, "keys": ["day"]})
    data = split_dataset(table, experiment)

    folds = recorded_folds(data, SplitConfig(strategy="time", time="day"))

    assert len(folds) == 3
    for fitted, scored in folds:
        assert table.loc[fitted, "day"].max() < table.loc[scored, "day"].min()


def test_group_folds_need_two_groups(table: pd.DataFrame) -> None:
    table["customer"] = "c0"
    data = split_dataset(table, describe(strategy="group", group="customer"))

    with pytest.raises(DataValidationError, match="cross-validation by group needs 2 groups"):
        recorded_folds(data, SplitConfig(strategy="group", group="customer"))


@pytest.mark.parametrize(
    "split",
    [
        {"strategy": "stratified"},
        {"strategy": "random"},
        {"strategy": "group", "group": "customer"},
        {"strategy": "time", "time": "day"},
    ],
    ids=lambda split: str(split["strategy"]),
)
def test_cross_validation_learns_the_signal(table: pd.DataFrame, split: dict[str, Any]) -> None:
    experiment = describe(**split)
    data = split_dataset(table, experiment)

    result = cross_validated_scores(
        logistic_regression(experiment), data, "classification", SplitConfig(**split), folds=3
    )

    assert set(result) == {"accuracy", "f1_macro", "f1_no", "f1_yes"}
    assert result["f1_macro"] > 0.8  # chance is 0.5


def test_cross_validation_of_a_regression(table: pd.DataFrame) -> None:
    experiment = describe("regression")
    data = split_dataset(table, experiment)

    result = cross_validated_scores(
        logistic_regression(experiment), data, "regression", SplitConfig(), folds=3
    )

    assert set(result) == {"rmse", "mae", "r2"}
    assert result["r2"] > 0.9
