"""Experiments are split by participant, deterministically, and written whole."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.split import (
    build_experiment,
    split_by_participant,
)
from {{ cookiecutter.package_name }}.data.validation import DataValidationError

PARTICIPANTS = [f"p{number:03d}" for number in range(1, 9)]
START = pd.Timestamp("2026-03-02 09:00")


def features(participants: list[str] = PARTICIPANTS, windows: int = 3) -> pd.DataFrame:
    """A features table: every participant walks and runs ``windows`` windows."""
    rows = [
        (task, participant, "20260302T090000", START + i * pd.Timedelta(seconds=2.5))
        for participant in participants
        for task in ("walking", "running")
        for i in range(windows)
    ]
    frame = pd.DataFrame(rows, columns=["task", "participant", "session", "window_start"])
    frame["bpm_mean"] = np.where(frame["task"] == "running", 150.0, 100.0)
    frame["acc_mag_std"] = np.linspace(0.1, 1.0, len(frame))
    return frame


def test_no_participant_is_in_both_sets() -> None:
    train, test = split_by_participant(features(), test_fraction=0.25, seed=1)

    assert set(train["participant"]).isdisjoint(test["participant"])
    assert set(train["participant"]) | set(test["participant"]) == set(PARTICIPANTS)
    assert test["participant"].nunique() == 2
    assert len(train) + len(test) == len(features())


def test_the_split_depends_only_on_the_seed() -> None:
    shuffled = features().sample(frac=1.0, random_state=0)

    _, first = split_by_participant(features(), test_fraction=0.25, seed=1)
    _, again = split_by_participant(shuffled, test_fraction=0.25, seed=1)
    held_out = {
        seed: frozenset(split_by_participant(features(), 0.25, seed)[1]["participant"])
        for seed in range(10)
    }

    assert set(first["participant"]) == set(again["participant"])
    assert len(set(held_out.values())) > 1


def test_both_sets_keep_at_least_one_participant() -> None:
    two = features(["p001", "p002"])

    for fraction in (0.01, 0.99):
        train, test = split_by_participant(two, test_fraction=fraction, seed=0)
        assert train["participant"].nunique() == test["participant"].nunique() == 1


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5, -0.1])
def test_a_test_fraction_outside_zero_and_one_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="test_fraction must be between 0 and 1"):
        split_by_participant(features(), test_fraction=fraction, seed=0)


def test_one_participant_cannot_be_split() -> None:
    with pytest.raises(ValueError, match="at least 2 participants, found 1"):
        split_by_participant(features(["p001"]), test_fraction=0.5, seed=0)


def test_the_experiment_holds_features_label_and_participant(tmp_path: Path) -> None:
    out_dir = tmp_path / "activity"

    train_path, test_path = build_experiment(
        features(), out_dir, feature_columns=None, label="task", test_fraction=0.25, seed=1
    )

    assert (train_path, test_path) == (out_dir / "train.parquet", out_dir / "test.parquet")
    train, test = pd.read_parquet(train_path), pd.read_parquet(test_path)
    assert list(train.columns) == ["bpm_mean", "acc_mag_std", "task", "participant"]
    assert set(train["participant"]).isdisjoint(test["participant"])
    assert len(train) + len(test) == len(features())


def test_a_feature_subset_is_kept_and_the_old_experiment_replaced(tmp_path: Path) -> None:
    out_dir = tmp_path / "activity"
    out_dir.mkdir()
    (out_dir / "stale.parquet").write_text("from an earlier run")

    train_path, _ = build_experiment(
        features(), out_dir, feature_columns=["bpm_mean"], label="task", test_fraction=0.25, seed=1
    )

    assert list(pd.read_parquet(train_path).columns) == ["bpm_mean", "task", "participant"]
    assert sorted(path.name for path in out_dir.iterdir()) == ["test.parquet", "train.parquet"]


def test_unknown_columns_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown columns \['hr_mean', 'activity'\]"):
        build_experiment(
            features(),
            tmp_path,
            feature_columns=["bpm_mean", "hr_mean"],
            label="activity",
            test_fraction=0.25,
            seed=1,
        )


def test_the_label_cannot_be_a_feature(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\['bpm_mean'\] cannot be features"):
        build_experiment(
            features(),
            tmp_path,
            feature_columns=["bpm_mean"],
            label="bpm_mean",
            test_fraction=0.25,
            seed=1,
        )


def test_a_non_finite_feature_fails_validation_and_writes_nothing(tmp_path: Path) -> None:
    broken = features()
    broken.loc[4, "acc_mag_std"] = np.inf
    out_dir = tmp_path / "activity"

    with pytest.raises(DataValidationError, match=r"column 'acc_mag_std', check 'finite'"):
        build_experiment(
            broken, out_dir, feature_columns=None, label="task", test_fraction=0.25, seed=1
        )
    assert not out_dir.exists()
