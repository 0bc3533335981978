"""The dataset a pipeline runs on, as the user configures it in ``conf/data/<name>.yaml``.

Only ``source`` and ``label`` are required; a two-line file is a working dataset::

    source: data/sources/customers.csv
    label: churned

Everything else has a default: the task is inferred from the label, the split is
stratified (a quarter held out), every other column is a feature and column types
are read from the data. :func:`dataset_config` validates the ``data`` node of the
composed configuration and names every field that breaks a rule.
"""

from __future__ import annotations

from typing import Any, Literal

from omegaconf import DictConfig, OmegaConf
from pydantic import Field, ValidationError, model_validator

from ..strict import StrictModel, field_problems
from .errors import DataValidationError

Task = Literal["classification", "regression"]
ColumnType = Literal["numeric", "categorical", "boolean", "date"]
# The model's output, in scored files and the prediction log: no feature may take the name.
PREDICTION = "prediction"


class SplitConfig(StrictModel):
    """How rows are divided between the training and the test set.

    ``stratified`` keeps each class's share (for regression: each quartile of the
    label's); ``group`` never puts one group (a participant, a customer) in both
    sets; ``time`` trains on the past and tests on the most recent rows; ``random``
    shuffles rows.
    """

    strategy: Literal["stratified", "group", "time", "random"] = "stratified"
    test_size: float = Field(default=0.25, gt=0, lt=1)
    seed: int = 11
    group: str | None = None
    time: str | None = None

    @model_validator(mode="after")
    def _column_for_strategy(self) -> SplitConfig:
        if self.strategy == "group" and not self.group:
            raise ValueError("strategy 'group' needs `group`: the column that names each group")
        if self.strategy == "time" and not self.time:
            raise ValueError("strategy 'time' needs `time`: the column that orders rows in time")
        return self


class DatasetConfig(StrictModel):
    """The validated ``data`` node: where the table comes from and what to predict."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    source: str | dict[str, Any]  # a path, glob or s3:// URI; or {sql, url}
    label: str = Field(min_length=1)
    task: Task | None = None
    split: SplitConfig = Field(default_factory=SplitConfig)
    features: list[str] | None = None
    drop: list[str] = Field(default_factory=list)
    types: dict[str, ColumnType] = Field(default_factory=dict)
    dates: list[str] = Field(default_factory=list)
    # Settings of example-specific stages (the wearables example's simulator, for one).
    stages: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _label_is_not_a_feature(self) -> DatasetConfig:
        if self.features is not None and self.label in self.features:
            raise ValueError(f"the label '{self.label}' cannot also be listed in `features`")
        return self

    def key_columns(self) -> list[str]:
        """Columns that group or order rows for the split (a time column may also be a feature)."""
        return [name for name in (self.split.group, self.split.time) if name]


def dataset_config(config: DictConfig) -> DatasetConfig:
    """Validate the ``data`` node of the composed configuration.

    Raises:
        DataValidationError: A field is missing or breaks its rule; the message
            names the file to edit and every offending field.
    """
    values = OmegaConf.to_container(config.data, resolve=True)
    try:
        return DatasetConfig.model_validate(values)
    except ValidationError as error:
        name = values.get("name", "<name>") if isinstance(values, dict) else "<name>"
        problems = field_problems(error)
        raise DataValidationError(
            f"conf/data/{name}.yaml does not describe a usable dataset:\n{problems}"
        ) from None
