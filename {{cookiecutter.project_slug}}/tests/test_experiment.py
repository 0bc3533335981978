"""The experiment's dataset: features, task, split, and the dataset.json that describes them."""

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.dataset import DatasetConfig
from {{ cookiecutter.package_name }}.data.errors import DataValidationError
from {{ cookiecutter.package_name }}.data.experiment import (
    DESCRIPTION_FILE,
    TEST_FILE,
    TRAIN_FILE,
    ExperimentData,
    build_experiment,
    infer_task,
    select_features,
)

SOURCE = "data/processed/shop/table.parquet"


@pytest.fixture
def customers() -> pd.DataFrame:
    """A processed (typed, cleaned) table of 40 customers in 10 households."""
    rng = np.random.default_rng(5)
    rows = 40
    return pd.DataFrame(
        {
            "customer_id": [f"c{index:03d}" for index in range(rows)],
            "household": [f"h{index % 10}" for index in range(rows)],
            "age": rng.integers(18, 80, rows).astype(float),
            "plan": rng.choice(["basic", "premium", "family"], rows),
            "zip_code": [f"0{1000 + index % 4}" for index in range(rows)],  # declared categorical
            "autopay": (np.arange(rows) % 3 == 0).astype(float),  # a boolean, stored as 0/1
            "signup": pd.date_range("2025-01-01", periods=rows, freq="W"),
            "spend": rng.gamma(2.0, 30.0, rows),
            "churned": np.where(np.arange(rows) % 4 == 0, 1.0, 0.0),  # a boolean label
        }
    )


def dataset(**values: Any) -> DatasetConfig:
    return DatasetConfig.model_validate({"name": "shop", "source": "shop.csv", **values})


@pytest.mark.parametrize(
    ("labels", "task"),
    [
        (["yes", "no", "yes"], "classification"),
        ([True, False, None], "classification"),
        ([0.0, 1.0, 1.0, None], "classification"),  # a boolean stored as 0/1
        ([1, 2, 3, 4, 5], "classification"),  # a few whole numbers: classes
        (list(range(21)), "regression"),  # many whole numbers: a quantity
        ([1.5, 2.0, 3.25], "regression"),
        ([10.0, 20.0, np.nan, 30.5], "regression"),
    ],
)
def test_the_task_is_inferred_from_the_label(labels: list[Any], task: str) -> None:
    assert infer_task(pd.Series(labels)) == task


def test_every_other_column_is_a_feature(customers: pd.DataFrame) -> None:
    features = select_features(
        customers, dataset(label="churned", drop=["customer_id"]), source=SOURCE
    )

    assert features == ["household", "age", "plan", "zip_code", "autopay", "signup", "spend"]


def test_the_group_column_is_never_a_feature(customers: pd.DataFrame) -> None:
    config = dataset(
        label="churned",
        drop=["customer_id"],
        features=["household", "age"],
        split={"strategy": "group", "group": "household"},
    )

    assert select_features(customers, config, source=SOURCE) == ["age"]


def test_listed_features_are_the_only_ones_in_their_order(customers: pd.DataFrame) -> None:
    config = dataset(label="churned", features=["spend", "plan"])

    assert select_features(customers, config, source=SOURCE) == ["spend", "plan"]


def test_unknown_columns_are_named(customers: pd.DataFrame) -> None:
    config = dataset(
        label="churned",
        features=["age", "income"],
        drop=["id"],
        split={"strategy": "time", "time": "joined"},
    )

    with pytest.raises(DataValidationError) as error:
        select_features(customers, config, source=SOURCE)

    assert str(error.value).startswith(
        f"{SOURCE}: conf/data/shop.yaml names column(s) ['income', 'id', 'joined'] that the "
        "table does not have; it has ['customer_id', "
    )


def test_a_feature_named_like_the_models_output_must_be_dropped(
    customers: pd.DataFrame,
) -> None:
    table = customers.rename(columns={"spend": "prediction"})

    with pytest.raises(DataValidationError, match="column 'prediction' cannot be a feature"):
        select_features(table, dataset(label="churned"), source=SOURCE)
    assert "prediction" not in select_features(
        table, dataset(label="churned", drop=["prediction"]), source=SOURCE
    )


def test_no_feature_left_is_an_error(customers: pd.DataFrame) -> None:
    config = dataset(label="churned", drop=[name for name in customers if name != "churned"])

    with pytest.raises(DataValidationError) as error:
        select_features(customers, config, source=SOURCE)

    assert str(error.value) == (
        f"{SOURCE}: no feature column is left once the label and `drop` are removed"
    )


def test_the_experiment_is_written_and_described(customers: pd.DataFrame, tmp_path: Path) -> None:
    config = dataset(
        label="churned",
        drop=["customer_id"],
        types={"zip_code": "categorical"},
        split={"strategy": "group", "group": "household", "test_size": 0.2},
    )

    experiment = build_experiment(customers, config, tmp_path / "shop", source=SOURCE)

    assert experiment == ExperimentData.read(tmp_path / "shop")
    assert experiment.task == "classification"
    assert experiment.features == {
        "age": "numeric",
        "plan": "categorical",
        "zip_code": "categorical",  # its values look like numbers, but it is declared
        "autopay": "boolean",
        "signup": "date",
        "spend": "numeric",
    }
    assert experiment.keys == ["household"]
    assert experiment.classes == [0, 1]  # whole numbers, not 0.0 and 1.0
    assert experiment.split["strategy"] == "group"
    train = pd.read_parquet(tmp_path / "shop" / TRAIN_FILE)
    test = pd.read_parquet(tmp_path / "shop" / TEST_FILE)
    assert experiment.rows == {"train": len(train), "test": len(test)} == {"train": 32, "test": 8}
    assert list(train.columns) == [*experiment.features, "household", "churned"]
    assert train["churned"].dtype == "int64"
    assert not set(train["household"]) & set(test["household"])


def test_a_time_column_may_be_a_feature(customers: pd.DataFrame, tmp_path: Path) -> None:
    config = dataset(label="spend", task="regression", split={"strategy": "time", "time": "signup"})

    experiment = build_experiment(customers, config, tmp_path / "shop", source=SOURCE)

    assert "signup" in experiment.features
    assert experiment.keys == []  # not repeated as a key
    assert experiment.classes is None
    train = pd.read_parquet(tmp_path / "shop" / TRAIN_FILE)
    test = pd.read_parquet(tmp_path / "shop" / TEST_FILE)
    assert train["signup"].max() < test["signup"].min()
    assert train["spend"].dtype == "float64"


def test_an_inferred_task_is_logged(
    customers: pd.DataFrame, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    build_experiment(customers, dataset(label="plan"), tmp_path / "shop", source=SOURCE)

    assert "task: classification, inferred from the label 'plan'" in caplog.text
    assert "set `task` in conf/data/shop.yaml" in caplog.text


def test_a_single_class_cannot_be_learned(customers: pd.DataFrame, tmp_path: Path) -> None:
    customers["churned"] = 0.0

    with pytest.raises(DataValidationError) as error:
        build_experiment(customers, dataset(label="churned"), tmp_path / "shop", source=SOURCE)

    assert str(error.value) == (
        f"{SOURCE}: the label 'churned' has a single class (0.0); a classifier needs two or more"
    )


def test_regression_needs_a_numeric_label(customers: pd.DataFrame, tmp_path: Path) -> None:
    config = dataset(label="plan", task="regression")

    with pytest.raises(DataValidationError) as error:
        build_experiment(customers, config, tmp_path / "shop", source=SOURCE)

    assert str(error.value).startswith(
        f"{SOURCE}: task 'regression' needs a numeric label, but 'plan' holds text such as "
    )
    assert re.search(
        r"such as '(basic|premium|family)'\. Set `task: classification`", str(error.value)
    )


def test_a_missing_label_column_is_named(customers: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(DataValidationError) as error:
        build_experiment(customers, dataset(label="left"), tmp_path / "shop", source=SOURCE)

    assert str(error.value).startswith(
        f"{SOURCE}: the label column 'left' is not in the table; its columns are ['customer_id', "
    )
    assert str(error.value).endswith("Set `label` in conf/data/shop.yaml.")


def test_a_failed_build_leaves_the_previous_experiment(
    customers: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "shop"
    build_experiment(customers, dataset(label="churned"), out, source=SOURCE)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    customers["household"] = None
    config = dataset(label="churned", split={"strategy": "group", "group": "household"})

    with pytest.raises(DataValidationError, match="column 'household' has 40 missing value"):
        build_experiment(customers, config, out, source=SOURCE)

    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_reading_a_missing_description_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError) as error:
        ExperimentData.read(tmp_path)

    assert str(error.value) == (
        f"{tmp_path / DESCRIPTION_FILE} is missing: run the build_experiment stage first "
        "(make pipeline)"
    )


def test_the_description_is_plain_json(customers: pd.DataFrame, tmp_path: Path) -> None:
    build_experiment(customers, dataset(label="churned"), tmp_path / "shop", source=SOURCE)

    description = json.loads((tmp_path / "shop" / DESCRIPTION_FILE).read_text())

    assert description["label"] == "churned"
    assert description["split"] == {
        "strategy": "stratified",
        "test_size": 0.25,
        "seed": 11,
        "group": None,
        "time": None,
    }
