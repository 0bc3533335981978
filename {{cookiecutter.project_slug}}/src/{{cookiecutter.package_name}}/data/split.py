"""Divide rows between a training and a test set, by the strategy the dataset names.

- ``stratified``: each class keeps its share in both sets (for regression, each
  quartile of the label);
- ``group``: no group (participant, customer, machine) has rows in both sets,
  so the test score says how the model does on groups it has never seen;
- ``time``: the most recent rows are the test set, so the model is scored on
  the future it would face;
- ``random``: rows are shuffled.

The same strategy chooses the cross-validation folds on the training set
(:func:`cv_splitter`), so tuning never scores a model on rows the test split
would have kept apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .dataset import SplitConfig, Task
from .errors import DataValidationError

QUANTILE_BINS = 4  # stratifying a numeric label: its quartiles


def _strata(labels: pd.Series, task: Task) -> pd.Series:
    if task == "classification":
        return labels.astype(str)
    return pd.qcut(labels.rank(method="first"), QUANTILE_BINS, labels=False)


def split_rows(
    frame: pd.DataFrame, label: str, task: Task, split: SplitConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``frame`` into training and test rows (each in its original order, fresh index).

    Raises:
        DataValidationError: The split is impossible: a class with a single row
            under ``stratified``, fewer than two groups or distinct times, or a
            missing group or time value.
    """
    if len(frame) < 4:
        raise DataValidationError(f"split: {len(frame)} rows are too few to train and test on")
    if split.strategy in ("stratified", "random"):
        strata = _strata(frame[label], task) if split.strategy == "stratified" else None
        if strata is not None:
            counts = strata.value_counts()
            rare = [str(value) for value, count in counts.items() if count < 2]
            if rare:
                raise DataValidationError(
                    f"split: strategy 'stratified' needs two rows or more of every class of "
                    f"'{label}'; {rare} have one. Drop those rows or use split.strategy: random."
                )
        codes = np.zeros(len(frame), dtype=np.intp) if strata is None else strata.factorize()[0]
        in_test = np.zeros(len(frame), dtype=bool)
        in_test[_draw_test_rows(codes, split)] = True
        return frame[~in_test].reset_index(drop=True), frame[in_test].reset_index(drop=True)
    column = split.group if split.strategy == "group" else split.time
    assert column is not None  # SplitConfig checks the strategy's column is set
    if column not in frame.columns:
        raise DataValidationError(
            f"split.{'group' if split.strategy == 'group' else 'time'}: column '{column}' is "
            f"not in the table; its columns are {list(frame.columns)}"
        )
    if frame[column].isna().any():
        raise DataValidationError(
            f"split: column '{column}' has {int(frame[column].isna().sum())} missing value(s); "
            f"strategy '{split.strategy}' needs one in every row"
        )
    if split.strategy == "group":
        in_test = _test_groups(frame[column], split)
    else:
        in_test = _recent(frame[column], split.test_size)
    return frame[~in_test].reset_index(drop=True), frame[in_test].reset_index(drop=True)


def _draw_test_rows(codes: npt.NDArray[Any], split: SplitConfig) -> npt.NDArray[Any]:
    """Positions of the test rows: ``test_size`` of each stratum's rows, drawn at random.

    ``codes`` numbers each row's stratum (all 0 for a plain random split). Every
    stratum of two rows or more keeps at least one row on each side, so each class
    is both learnt and tested however small the test share. The same seed and
    rows give the same draw. (scikit-learn's ``train_test_split`` draws alike, but
    importing scikit-learn would double the build_experiment stage's start-up time.)
    """
    rng = np.random.default_rng(split.seed)
    by_stratum = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes))[:-1]
    drawn = []
    for rows in np.split(by_stratum, bounds):
        size = min(max(round(len(rows) * split.test_size), 1), len(rows) - 1)
        drawn.append(rng.choice(rows, size, replace=False))
    return np.concatenate(drawn)


def _test_groups(groups: pd.Series, split: SplitConfig) -> pd.Series:
    """Rows of the groups drawn for the test set: about ``test_size`` of the groups."""
    names = groups.astype(str)
    unique = sorted(names.unique())
    if len(unique) < 2:
        raise DataValidationError(
            f"split: strategy 'group' needs at least 2 groups in '{split.group}', "
            f"found {len(unique)}"
        )
    shuffled = np.random.default_rng(split.seed).permutation(unique)
    n_test = min(max(1, round(split.test_size * len(unique))), len(unique) - 1)
    return names.isin(set(shuffled[:n_test]))


def _recent(times: pd.Series, test_size: float) -> pd.Series:
    """Rows at or after the time that leaves about ``test_size`` of the rows after it."""
    # At most the last row: rounding a small test share up must still leave a test row.
    position = min(round(len(times) * (1 - test_size)), len(times) - 1)
    cutoff = times.sort_values().iloc[position]
    if cutoff == times.min():
        raise DataValidationError(
            f"split: strategy 'time' needs rows at two times or more in '{times.name}'"
        )
    return times >= cutoff


def cv_splitter(split: SplitConfig, task: Task, folds: int, n_groups: int) -> Any:
    """The cross-validation folds that match the split strategy.

    Raises:
        DataValidationError: Strategy ``group`` with fewer than two groups to fold.
    """
    # Imported here: scikit-learn takes longer to import than the split takes to run.
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit

    if split.strategy == "group":
        if n_groups < 2:
            raise DataValidationError(
                f"split: cross-validation by group needs 2 groups or more in the training "
                f"set, but '{split.group}' has {n_groups} there. Add groups or use another "
                "split.strategy."
            )
        return GroupKFold(
            n_splits=max(2, min(folds, n_groups)), shuffle=True, random_state=split.seed
        )
    if split.strategy == "time":
        return TimeSeriesSplit(n_splits=folds)
    if split.strategy == "stratified" and task == "classification":
        return StratifiedKFold(n_splits=folds, shuffle=True, random_state=split.seed)
    return KFold(n_splits=folds, shuffle=True, random_state=split.seed)
