"""The dataset of one experiment: which columns are features, what the task is, the split.

:func:`build_experiment` turns the processed table into the training and test
sets plus ``dataset.json``, the description later stages read instead of
guessing: the task, the label, every feature with its type, and the split.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .column_types import apply_types, infer_type, stored_type
from .dataset import PREDICTION, ColumnType, DatasetConfig, Task
from .errors import DataValidationError
from .io import atomic_directory
from .split import split_rows
from .tables import write_parquet

log = logging.getLogger(__name__)

TRAIN_FILE = "train.parquet"
TEST_FILE = "test.parquet"
DESCRIPTION_FILE = "dataset.json"
MAX_CLASSES_OF_A_NUMERIC_LABEL = 20


@dataclass(frozen=True)
class ExperimentData:
    """What ``dataset.json`` says: the columns and their roles."""

    name: str
    task: Task
    label: str
    features: dict[str, ColumnType]
    keys: list[str] = field(default_factory=list)
    split: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    classes: list[Any] | None = None

    @classmethod
    def read(cls, folder: Path) -> ExperimentData:
        """Read ``dataset.json`` from an experiment's folder."""
        path = folder / DESCRIPTION_FILE
        if not path.is_file():
            raise DataValidationError(
                f"{path} is missing: run the build_experiment stage first (make pipeline)"
            )
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def infer_task(labels: pd.Series) -> Task:
    """Classification for text, true/false and a few whole numbers; regression otherwise."""
    values = labels.dropna()
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return "classification"
    whole = bool((values == values.round()).all())
    return (
        "classification"
        if whole and values.nunique() <= MAX_CLASSES_OF_A_NUMERIC_LABEL
        else "regression"
    )


def select_features(frame: pd.DataFrame, dataset: DatasetConfig, *, source: str) -> list[str]:
    """The feature columns: ``features`` if listed, else every column but a few.

    Left out: the label, the group column of the split (an identifier says nothing
    about a new group) and ``drop``. The time column of a time split stays in: its
    calendar parts (month, day of week) are features like any date's.

    Raises:
        DataValidationError: A named column is not in the table, a feature is named
            ``prediction``, or no feature is left.
    """
    named = [*(dataset.features or []), *dataset.drop, *dataset.key_columns()]
    unknown = [name for name in dict.fromkeys(named) if name not in frame.columns]
    if unknown:
        raise DataValidationError(
            f"{source}: conf/data/{dataset.name}.yaml names column(s) {unknown} that the "
            f"table does not have; it has {list(frame.columns)}"
        )
    excluded = {dataset.label, *dataset.drop}
    if dataset.split.group:
        excluded.add(dataset.split.group)  # an identifier: unseen groups at test time
    features = [name for name in (dataset.features or frame.columns) if name not in excluded]
    if PREDICTION in features:
        raise DataValidationError(
            f"{source}: column '{PREDICTION}' cannot be a feature: the model's output takes "
            f"that name in scored files and the prediction log; add it to `drop:` in "
            f"conf/data/{dataset.name}.yaml, or rename it at the source"
        )
    if not features:
        raise DataValidationError(
            f"{source}: no feature column is left once the label and `drop` are removed"
        )
    return [str(name) for name in features]


def feature_types(features: pd.DataFrame, dataset: DatasetConfig) -> dict[str, ColumnType]:
    """Each feature's type: declared in the configuration, else read from the column.

    A table the align stage typed keeps its types (:func:`column_types.stored_type`);
    text nobody typed (a pipeline whose align stage is your own) is read as align
    would read it (:func:`column_types.infer_type`): dates, numbers, true/false.
    """
    declared = {**dataset.types, **dict.fromkeys(dataset.dates, "date")}
    return {
        str(name): declared.get(str(name))  # type: ignore[misc]
        or (infer_type(column) if _is_text(column) else stored_type(column))
        for name, column in features.items()
    }


def _is_text(column: pd.Series) -> bool:
    return bool(pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column))


def _labels_fit_task(labels: pd.Series, task: Task, *, source: str, label: str) -> pd.Series:
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(labels):
            raise DataValidationError(
                f"{source}: task 'regression' needs a numeric label, but '{label}' holds text "
                f"such as {labels.tolist()[0]!r}. Set `task: classification` in conf/data/."
            )
        return labels.astype("float64")
    if labels.nunique() < 2:
        raise DataValidationError(
            f"{source}: the label '{label}' has a single class ({labels.tolist()[0]!r}); "
            "a classifier needs two or more"
        )
    if pd.api.types.is_float_dtype(labels) and (labels == labels.round()).all():
        return labels.astype("int64")  # whole numbers read as floats: classes 0, 1, not 0.0, 1.0
    return labels


def build_experiment(
    frame: pd.DataFrame, dataset: DatasetConfig, out_dir: Path, *, source: str
) -> ExperimentData:
    """Write the training and test sets and ``dataset.json``, replacing ``out_dir``.

    Feature columns are stored by type (see :mod:`.column_types`) whatever the stages
    before did, so training and every later reader see one form.

    Raises:
        DataValidationError: Columns are unknown, the label does not suit the
            task, or the split is impossible; ``out_dir`` is left as it was.
    """
    if dataset.label not in frame.columns:
        raise DataValidationError(
            f"{source}: the label column '{dataset.label}' is not in the table; "
            f"its columns are {list(frame.columns)}. Set `label` in conf/data/{dataset.name}.yaml."
        )
    task = dataset.task or infer_task(frame[dataset.label])
    if dataset.task is None:
        log.warning(
            "task: %s, inferred from the label '%s' (set `task` in conf/data/%s.yaml to choose)",
            task,
            dataset.label,
            dataset.name,
        )
    features = select_features(frame, dataset, source=source)
    types = feature_types(frame[features], dataset)
    keys = [name for name in dataset.key_columns() if name not in features]
    table = frame[[*features, *keys, dataset.label]].copy()
    table[features] = apply_types(table[features], types, source=source)
    table[dataset.label] = _labels_fit_task(
        table[dataset.label], task, source=source, label=dataset.label
    )
    train, test = split_rows(table, dataset.label, task, dataset.split)
    description = ExperimentData(
        name=dataset.name,
        task=task,
        label=dataset.label,
        features=types,
        keys=keys,
        split=dataset.split.model_dump(),
        rows={"train": len(train), "test": len(test)},
        classes=sorted(table[dataset.label].unique().tolist())
        if task == "classification"
        else None,
    )
    with atomic_directory(out_dir) as folder, ThreadPoolExecutor(max_workers=2) as pool:
        # Arrow encodes without holding Python's lock: both files are written at once.
        writes = [
            pool.submit(write_parquet, part, folder / name)
            for part, name in ((train, TRAIN_FILE), (test, TEST_FILE))
        ]
        for write in writes:
            write.result()  # raises the error a write ended with
        (folder / DESCRIPTION_FILE).write_text(
            json.dumps(asdict(description), indent=2, default=str) + "\n", encoding="utf-8"
        )
    return description
