"""Drift report: an unchanged batch passes, a shifted one is flagged with exit status 3."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.drift import (
    DRIFT_EXIT,
    Thresholds,
    ks_statistic,
    main,
    psi,
)
from {{ cookiecutter.package_name }}.metadata import load_metadata

from .conftest import TrainedProject


def frame(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Synthetic inputs: two numeric columns, and a label."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(90 + shift * 30, 15, rows),
            "spread": rng.gamma(2.0, 0.5, rows),
            "label": rng.choice(["a", "b"], rows),
        }
    )


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    path = tmp_path / "train.parquet"
    frame(2000, seed=0).to_parquet(path)
    return path


def run(
    batch: pd.DataFrame, tmp_path: Path, *args: str, reference: Path | None = None
) -> tuple[int, dict[str, Any]]:
    source = tmp_path / "batch.csv"
    batch.to_csv(source, index=False)
    out = tmp_path / "report"
    given = ["--reference", str(reference)] if reference else []
    status = main([str(source), *given, "--output-dir", str(out), *args])
    report: dict[str, Any] = json.loads((out / "drift.json").read_text(encoding="utf-8"))
    return status, report


def test_an_unchanged_batch_shows_no_drift(reference: Path, tmp_path: Path) -> None:
    status, report = run(frame(500, seed=1), tmp_path, "--exclude", "label", reference=reference)

    assert status == 0
    assert report["drift"] is False
    assert {f["feature"] for f in report["features"]} == {"amount", "spread"}
    assert all(f["psi"] < 0.1 and f["ks"] < 0.1 for f in report["features"])
    assert (tmp_path / "report" / "drift.html").read_text(encoding="utf-8").startswith("<!DOCTYPE")


def test_a_shifted_batch_is_flagged_with_exit_status_3(reference: Path, tmp_path: Path) -> None:
    batch = frame(500, seed=1, shift=1.5)
    batch.loc[:99, "spread"] = np.nan

    status, report = run(batch, tmp_path, reference=reference)

    assert status == DRIFT_EXIT
    assert report["drifted_features"] == ["amount", "spread"]
    by_name = {f["feature"]: f for f in report["features"]}
    assert by_name["amount"]["psi"] > 0.2
    assert by_name["amount"]["out_of_range_rate"] > 0.05
    assert by_name["spread"]["missing_rate"] == pytest.approx(0.2)
    assert "drifted" in (tmp_path / "report" / "drift.html").read_text(encoding="utf-8")


def test_thresholds_are_configurable(reference: Path, tmp_path: Path) -> None:
    batch = frame(500, seed=1, shift=0.3)
    strict = ["--psi-threshold", "0.01", "--ks-threshold", "0.01"]
    lenient = ["--psi-threshold", "5", "--ks-threshold", "1"]

    assert run(batch, tmp_path, *strict, reference=reference)[0] == DRIFT_EXIT
    assert run(batch, tmp_path, *lenient, reference=reference)[0] == 0


def test_a_batch_without_a_feature_is_an_error(
    reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "batch.csv"
    frame(50, seed=1).drop(columns=["amount"]).to_csv(source, index=False)

    assert main([str(source), "--reference", str(reference)]) == 2
    assert "lacks the training feature(s) ['amount']" in capsys.readouterr().err


@pytest.fixture
def built_experiment(scratch_project: Path, trained_project: TrainedProject) -> list[str]:
    """The trained project's experiment folder in the scratch project; its numeric features."""
    name = trained_project.experiment.name
    shutil.copytree(
        trained_project.root / "data" / "experiment" / name,
        load_metadata().stage_dir("experiment") / name,
    )
    features = trained_project.experiment.features
    return [feature for feature, kind in features.items() if kind in ("numeric", "boolean")]


def test_the_default_reference_is_the_models_numeric_features(
    built_experiment: list[str], trained_project: TrainedProject, tmp_path: Path
) -> None:
    if not built_experiment:
        pytest.skip("the model takes no numeric column")

    status, report = run(trained_project.train_set, tmp_path)  # labels and all: ignored

    assert status == 0
    assert report["reference"].endswith(f"{trained_project.experiment.name}/train.parquet")
    assert [f["feature"] for f in report["features"]] == [
        name for name in built_experiment if trained_project.train_set[name].notna().any()
    ]
    assert trained_project.experiment.label not in {f["feature"] for f in report["features"]}


def test_a_shift_of_the_models_features_is_flagged(
    built_experiment: list[str], trained_project: TrainedProject, tmp_path: Path
) -> None:
    if not built_experiment:
        pytest.skip("the model takes no numeric column")
    batch = trained_project.test_set.copy()
    for name in built_experiment:
        values = trained_project.train_set[name]
        batch[name] = values.max() + (values.max() - values.min() + 1) * 10  # beyond the range

    status, report = run(batch, tmp_path)

    assert status == DRIFT_EXIT
    assert set(report["drifted_features"]) == {f["feature"] for f in report["features"]}


def test_without_a_built_experiment_the_error_says_what_to_run(
    scratch_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "batch.csv"
    frame(10, seed=1).to_csv(source, index=False)

    assert main([str(source)]) == 2
    assert "run the build_experiment stage first" in capsys.readouterr().err


def test_statistics_are_zero_for_identical_samples() -> None:
    values = np.arange(100, dtype=float)

    assert psi(values, values) == pytest.approx(0.0)
    assert ks_statistic(values, values) == 0.0
    assert ks_statistic(values, values + 1000) == 1.0
    with pytest.raises(ValueError, match="psi must be >= 0"):
        Thresholds(psi=-1)
