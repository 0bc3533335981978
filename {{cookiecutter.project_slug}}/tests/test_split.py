"""Train/test splits and cross-validation folds, by the strategy the dataset names."""

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit

from {{ cookiecutter.package_name }}.data.dataset import SplitConfig, Task
from {{ cookiecutter.package_name }}.data.errors import DataValidationError
from {{ cookiecutter.package_name }}.data.split import cv_splitter, split_rows


@pytest.fixture
def visits() -> pd.DataFrame:
    """200 visits of 20 customers on 50 days, out of time order; 1 in 5 ends in a purchase."""
    rng = np.random.default_rng(3)
    rows = 200
    frame = pd.DataFrame(
        {
            "customer": [f"c{index % 20:02d}" for index in range(rows)],
            "day": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 50, rows), "D"),
            "spend": rng.gamma(2.0, 10.0, rows),
            "bought": np.where(np.arange(rows) % 5 == 0, "yes", "no"),
        }
    )
    return frame.sample(frac=1, random_state=0).reset_index(drop=True)


def split(
    frame: pd.DataFrame, task: Task = "classification", **settings: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    label = "bought" if task == "classification" else "spend"
    return split_rows(frame, label, task, SplitConfig(**settings))


def test_stratified_keeps_each_class_share(visits: pd.DataFrame) -> None:
    train, test = split(visits, strategy="stratified", test_size=0.25)

    assert (len(train), len(test)) == (150, 50)
    assert (test["bought"] == "yes").sum() == 10
    assert (train["bought"] == "yes").sum() == 30


def test_stratified_regression_keeps_each_quartile_share(visits: pd.DataFrame) -> None:
    visits["quartile"] = pd.qcut(visits["spend"].rank(method="first"), 4, labels=False)

    train, test = split(visits, "regression", strategy="stratified", test_size=0.2)

    assert test["quartile"].value_counts().to_dict() == {0: 10, 1: 10, 2: 10, 3: 10}
    assert train["quartile"].value_counts().to_dict() == {0: 40, 1: 40, 2: 40, 3: 40}


def test_a_split_keeps_every_row_once_in_the_original_order(visits: pd.DataFrame) -> None:
    visits["row"] = range(len(visits))
    for strategy, group in (("stratified", None), ("random", None), ("group", "customer")):
        train, test = split(visits, strategy=strategy, group=group)

        assert sorted([*train["row"], *test["row"]]) == list(range(len(visits)))
        for part in (train, test):
            assert part["row"].is_monotonic_increasing
            assert list(part.index) == list(range(len(part)))


def test_the_seed_decides_the_split(visits: pd.DataFrame) -> None:
    first, _ = split(visits, strategy="random", seed=1)
    again, _ = split(visits, strategy="random", seed=1)
    other, _ = split(visits, strategy="random", seed=2)

    assert first.equals(again)
    assert not first.equals(other)


def test_group_never_puts_a_group_on_both_sides(visits: pd.DataFrame) -> None:
    train, test = split(visits, strategy="group", group="customer", test_size=0.25)

    assert not set(train["customer"]) & set(test["customer"])
    assert test["customer"].nunique() == 5  # a quarter of the 20 customers
    assert len(train) + len(test) == len(visits)


def test_time_trains_on_the_past(visits: pd.DataFrame) -> None:
    train, test = split(visits, strategy="time", time="day", test_size=0.25)

    assert train["day"].max() < test["day"].min()
    assert len(test) == pytest.approx(50, abs=10)  # rows of the cutoff day all go to test


def test_time_with_a_tiny_test_share_still_tests_on_the_last_time() -> None:
    frame = pd.DataFrame({"t": [4, 1, 3, 2], "bought": ["yes", "no", "yes", "no"]})

    train, test = split(frame, strategy="time", time="t", test_size=0.1)

    assert test["t"].tolist() == [4]
    assert train["t"].tolist() == [1, 3, 2]


def test_too_few_rows_are_an_error() -> None:
    frame = pd.DataFrame({"bought": ["yes", "no", "yes"]})

    with pytest.raises(DataValidationError, match="split: 3 rows are too few to train and test"):
        split(frame)


def test_a_class_of_one_row_cannot_be_stratified(visits: pd.DataFrame) -> None:
    visits.loc[0, "bought"] = "maybe"

    with pytest.raises(DataValidationError) as error:
        split(visits, strategy="stratified")

    assert str(error.value) == (
        "split: strategy 'stratified' needs two rows or more of every class of 'bought'; "
        "['maybe'] have one. Drop those rows or use split.strategy: random."
    )


def test_a_tiny_test_share_still_tests_and_trains_on_every_class(visits: pd.DataFrame) -> None:
    train, test = split(visits, strategy="stratified", test_size=0.001)

    assert test["bought"].value_counts().to_dict() == {"no": 1, "yes": 1}
    assert train["bought"].value_counts().to_dict() == {"no": 159, "yes": 39}


def test_a_large_test_share_still_trains_on_every_class() -> None:
    frame = pd.DataFrame({"bought": ["yes", "no", "yes", "no", "no", "no"]})

    train, test = split(frame, strategy="stratified", test_size=0.9)

    assert sorted(train["bought"]) == ["no", "yes"]
    assert sorted(test["bought"]) == ["no", "no", "no", "yes"]


@pytest.mark.parametrize(("strategy", "key"), [("group", "group"), ("time", "time")])
def test_a_key_column_the_table_lacks_is_named(
    visits: pd.DataFrame, strategy: str, key: str
) -> None:
    settings = SplitConfig.model_validate({"strategy": strategy, key: "store"})

    with pytest.raises(DataValidationError) as error:
        split_rows(visits, "bought", "classification", settings)

    assert str(error.value).startswith(
        f"split.{key}: column 'store' is not in the table; its columns are ['customer', "
    )


def test_a_missing_group_is_an_error(visits: pd.DataFrame) -> None:
    visits.loc[[3, 7], "customer"] = None

    with pytest.raises(DataValidationError) as error:
        split(visits, strategy="group", group="customer")

    assert str(error.value) == (
        "split: column 'customer' has 2 missing value(s); strategy 'group' needs one in every row"
    )


def test_a_single_group_is_an_error(visits: pd.DataFrame) -> None:
    visits["customer"] = "c00"

    with pytest.raises(DataValidationError) as error:
        split(visits, strategy="group", group="customer")

    assert (
        str(error.value) == "split: strategy 'group' needs at least 2 groups in 'customer', found 1"
    )


def test_a_single_time_is_an_error(visits: pd.DataFrame) -> None:
    visits["day"] = pd.Timestamp("2026-01-01")

    with pytest.raises(DataValidationError) as error:
        split(visits, strategy="time", time="day")

    assert str(error.value) == "split: strategy 'time' needs rows at two times or more in 'day'"


@pytest.mark.parametrize(
    ("settings", "task", "expected"),
    [
        ({"strategy": "stratified"}, "classification", StratifiedKFold),
        ({"strategy": "stratified"}, "regression", KFold),
        ({"strategy": "random"}, "classification", KFold),
        ({"strategy": "group", "group": "customer"}, "classification", GroupKFold),
        ({"strategy": "time", "time": "day"}, "regression", TimeSeriesSplit),
    ],
)
def test_folds_follow_the_split_strategy(
    settings: dict[str, str], task: Task, expected: type
) -> None:
    splitter = cv_splitter(SplitConfig.model_validate(settings), task, folds=3, n_groups=10)

    assert splitter.get_n_splits() == 3
    assert type(splitter) is expected


def test_group_folds_are_no_more_than_the_groups() -> None:
    splitter = cv_splitter(SplitConfig(strategy="group", group="g"), "regression", 5, n_groups=3)

    assert splitter.get_n_splits() == 3


def test_group_folds_need_two_groups() -> None:
    with pytest.raises(DataValidationError) as error:
        cv_splitter(SplitConfig(strategy="group", group="customer"), "regression", 3, n_groups=1)

    assert str(error.value).startswith(
        "split: cross-validation by group needs 2 groups or more in the training set, "
        "but 'customer' has 1 there."
    )
