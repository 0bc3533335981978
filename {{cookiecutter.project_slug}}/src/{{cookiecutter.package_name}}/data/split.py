"""The ``build_experiment`` stage: the train and test sets of one experiment.

An experiment picks feature columns and a label from the features table and
splits it by participant: nobody's windows are in both sets, so the test score
says how the model does on people it has never seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .io import atomic_directory
from .schemas import (
    FEATURE_KEYS,
    experiment_schema,
)
from .validation import validate

TRAIN_FILE = "train.parquet"
TEST_FILE = "test.parquet"


def split_by_participant(
    frame: pd.DataFrame, test_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into train and test sets with no participant in both.

    The sorted participants are shuffled with ``seed``; the first
    ``round(test_fraction * n)`` of them (at least one, and never all) make up
    the test set.

    Args:
        frame: Rows with a ``participant`` column.
        test_fraction: Share of participants to hold out, between 0 and 1.
        seed: Seed of the shuffle; the same seed gives the same split.

    Returns:
        The train and test rows, each in their original order, with a fresh index.

    Raises:
        ValueError: ``test_fraction`` is not between 0 and 1, or there are
            fewer than two participants.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    participants = sorted(frame["participant"].unique())
    if len(participants) < 2:
        raise ValueError(
            f"splitting by participant needs at least 2 participants, found {len(participants)}"
        )
    shuffled = np.random.default_rng(seed).permutation(participants)
    n_test = min(max(1, round(test_fraction * len(participants))), len(participants) - 1)
    in_test = frame["participant"].isin(shuffled[:n_test])
    return frame[~in_test].reset_index(drop=True), frame[in_test].reset_index(drop=True)


def build_experiment(
    features: pd.DataFrame,
    out_dir: Path,
    *,
    feature_columns: Sequence[str] | None,
    label: str,
    test_fraction: float,
    seed: int,
) -> tuple[Path, Path]:
    """Write an experiment's train and test sets, replacing ``out_dir``.

    Args:
        features: The processed stage's features table.
        out_dir: The experiment's folder.
        feature_columns: The features to use; ``None`` takes every numeric
            column that is not a key (``task``, ``participant``, ``session``,
            ``window_start``) or the label.
        label: The column to predict, e.g. ``task``.
        test_fraction: Share of participants held out (see :func:`split_by_participant`).
        seed: Seed of the split.

    Returns:
        The paths of the train and test sets.

    Raises:
        ValueError: A column is unknown, no feature is selected, the label is
            also a feature, or the split is impossible.
        DataValidationError: A set breaks the experiment schema.
    """
    if feature_columns is None:
        feature_columns = [
            column
            for column in features.columns
            if column not in (*FEATURE_KEYS, label)
            and pd.api.types.is_numeric_dtype(features[column])
        ]
    unknown = [column for column in (*feature_columns, label) if column not in features.columns]
    if unknown:
        raise ValueError(
            f"unknown columns {unknown}; the features table has {list(features.columns)}"
        )
    if not feature_columns:
        raise ValueError("no feature columns selected")
    leaks = [column for column in (label, "participant") if column in feature_columns]
    if leaks:
        raise ValueError(f"{leaks} cannot be features: the label and participant would leak")
    selected = features[[*feature_columns, *dict.fromkeys([label, "participant"])]]
    train, test = split_by_participant(selected, test_fraction, seed)
    schema = experiment_schema(label, feature_columns)
    validate(train, schema, stage="build_experiment", source=out_dir / TRAIN_FILE)
    validate(test, schema, stage="build_experiment", source=out_dir / TEST_FILE)
    with atomic_directory(out_dir) as folder:
        train.to_parquet(folder / TRAIN_FILE, index=False)
        test.to_parquet(folder / TEST_FILE, index=False)
    return out_dir / TRAIN_FILE, out_dir / TEST_FILE
