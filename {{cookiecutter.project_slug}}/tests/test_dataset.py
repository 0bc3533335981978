"""The dataset configuration (conf/data/<name>.yaml): two lines suffice, typos are errors."""

from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.config import compose_config
from {{ cookiecutter.package_name }}.data.dataset import (
    DatasetConfig,
    SplitConfig,
    dataset_config,
)
from {{ cookiecutter.package_name }}.data.errors import DataValidationError


def validate(**values: Any) -> DatasetConfig:
    """The ``data`` node ``values``, validated as a stage does."""
    return dataset_config(OmegaConf.create({"data": values}))


def rejected(**values: Any) -> str:
    """The message that rejects the ``data`` node ``values``."""
    with pytest.raises(DataValidationError) as error:
        validate(**values)
    return str(error.value)


def test_a_two_line_file_is_a_dataset_with_defaults(scratch_project: Path) -> None:
    (scratch_project / "conf" / "data" / "customers.yaml").write_text(
        "source: data/sources/customers.csv\nlabel: churned\n"
    )

    dataset = dataset_config(compose_config(["data=customers"], root=scratch_project))

    assert dataset.name == "customers"  # named after its file
    assert dataset.source == "data/sources/customers.csv"
    assert dataset.label == "churned"
    assert dataset.task is None  # inferred from the label later
    assert dataset.split == SplitConfig(strategy="stratified", test_size=0.25, seed=11)
    assert dataset.features is None
    assert (dataset.drop, dataset.types, dataset.dates) == ([], {}, [])
    assert dataset.key_columns() == []


def test_a_query_source_is_kept_as_a_mapping() -> None:
    query = {"sql": "SELECT * FROM customers", "url": "sqlite:///data/sources/shop.db"}

    dataset = validate(name="shop", source=query, label="churned")

    assert dataset.source == query


def test_the_split_columns_are_key_columns() -> None:
    dataset = validate(
        name="visits",
        source="visits.csv",
        label="bought",
        split={"strategy": "group", "group": "customer", "time": "visited"},
    )

    assert dataset.key_columns() == ["customer", "visited"]


def test_missing_required_fields_are_named() -> None:
    message = rejected(name="customers")

    assert "conf/data/customers.yaml does not describe a usable dataset" in message
    assert "  - source: Field required" in message
    assert "  - label: Field required" in message


def test_unknown_keys_are_rejected_where_they_are() -> None:
    message = rejected(
        name="customers",
        source="customers.csv",
        label="churned",
        lable="churned",
        split={"strategy": "random", "tset_size": 0.2},
    )

    assert "  - lable: Extra inputs are not permitted" in message
    assert "  - split.tset_size: Extra inputs are not permitted" in message


@pytest.mark.parametrize(
    ("strategy", "needed"),
    [
        ("group", "strategy 'group' needs `group`: the column that names each group"),
        ("time", "strategy 'time' needs `time`: the column that orders rows in time"),
    ],
)
def test_a_strategy_needs_its_column(strategy: str, needed: str) -> None:
    message = rejected(
        name="customers", source="customers.csv", label="churned", split={"strategy": strategy}
    )

    assert f"  - split: Value error, {needed}" in message


def test_an_unknown_strategy_is_named() -> None:
    message = rejected(
        name="customers", source="customers.csv", label="churned", split={"strategy": "kfold"}
    )

    assert "  - split.strategy: Input should be 'stratified', 'group', 'time' or 'random'" in (
        message
    )


@pytest.mark.parametrize(("test_size", "rule"), [(0, "greater than 0"), (1, "less than 1")])
def test_the_test_share_is_a_fraction(test_size: float, rule: str) -> None:
    message = rejected(
        name="customers", source="customers.csv", label="churned", split={"test_size": test_size}
    )

    assert f"  - split.test_size: Input should be {rule}" in message


def test_the_label_is_not_a_feature() -> None:
    message = rejected(
        name="customers", source="customers.csv", label="churned", features=["age", "churned"]
    )

    assert "the label 'churned' cannot also be listed in `features`" in message


def test_an_unknown_column_type_is_named() -> None:
    message = rejected(
        name="customers", source="customers.csv", label="churned", types={"zip_code": "text"}
    )

    assert (
        "  - types.zip_code: Input should be 'numeric', 'categorical', 'boolean' or 'date'"
        in message
    )


@pytest.mark.parametrize("name", ["", "my data", "../customers"])
def test_the_name_must_suit_a_folder(name: str) -> None:
    message = rejected(name=name, source="customers.csv", label="churned")

    assert "  - name: String should" in message
