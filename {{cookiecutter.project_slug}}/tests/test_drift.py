"""Drift report: an unchanged batch passes, a shifted one is flagged with exit status 3."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import compose_config
from {{ cookiecutter.package_name }}.drift import (
    DRIFT_EXIT,
    Thresholds,
    ks_statistic,
    main,
    psi,
)
from {{ cookiecutter.package_name }}.metadata import load_metadata


def frame(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "bpm_mean": rng.normal(90 + shift * 30, 15, rows),
            "acc_mag_std": rng.gamma(2.0, 0.5, rows),
            "label": rng.choice(["sitting", "walking"], rows),
        }
    )


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    path = tmp_path / "train.parquet"
    frame(2000, seed=0).to_parquet(path)
    return path


def run(batch: pd.DataFrame, reference: Path, tmp_path: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    source = tmp_path / "batch.csv"
    batch.to_csv(source, index=False)
    out = tmp_path / "report"
    status = main([str(source), "--reference", str(reference), "--output-dir", str(out), *args])
    return status, json.loads((out / "drift.json").read_text(encoding="utf-8"))


def test_an_unchanged_batch_shows_no_drift(reference: Path, tmp_path: Path) -> None:
    status, report = run(frame(500, seed=1), reference, tmp_path, "--exclude", "label")

    assert status == 0
    assert report["drift"] is False
    assert {f["feature"] for f in report["features"]} == {"bpm_mean", "acc_mag_std"}
    assert all(f["psi"] < 0.1 and f["ks"] < 0.1 for f in report["features"])
    assert (tmp_path / "report" / "drift.html").read_text(encoding="utf-8").startswith("<!DOCTYPE")


def test_a_shifted_batch_is_flagged_with_exit_status_3(reference: Path, tmp_path: Path) -> None:
    batch = frame(500, seed=1, shift=1.5)
    batch.loc[:99, "acc_mag_std"] = np.nan

    status, report = run(batch, reference, tmp_path)

    assert status == DRIFT_EXIT
    assert report["drifted_features"] == ["bpm_mean", "acc_mag_std"]
    by_name = {f["feature"]: f for f in report["features"]}
    assert by_name["bpm_mean"]["psi"] > 0.2
    assert by_name["bpm_mean"]["out_of_range_rate"] > 0.05
    assert by_name["acc_mag_std"]["missing_rate"] == pytest.approx(0.2)
    assert "drifted" in (tmp_path / "report" / "drift.html").read_text(encoding="utf-8")


def test_thresholds_are_configurable(reference: Path, tmp_path: Path) -> None:
    batch = frame(500, seed=1, shift=0.3)

    strict, _ = run(batch, reference, tmp_path, "--psi-threshold", "0.01", "--ks-threshold", "0.01")
    lenient, _ = run(batch, reference, tmp_path, "--psi-threshold", "5", "--ks-threshold", "1")

    assert (strict, lenient) == (DRIFT_EXIT, 0)


def test_a_batch_without_a_feature_is_an_error(
    reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "batch.csv"
    frame(50, seed=1).drop(columns=["bpm_mean"]).to_csv(source, index=False)

    assert main([str(source), "--reference", str(reference)]) == 2
    assert "lacks the training feature(s) ['bpm_mean']" in capsys.readouterr().err


def test_the_default_reference_is_the_experiment_training_set(
    scratch_project: Path, tmp_path: Path
) -> None:
    config = compose_config()
    folder = load_metadata().stage_dir("experiment") / str(config.data.experiment.name)
    folder.mkdir(parents=True)
    frame(1000, seed=0).rename(columns={"label": config.data.experiment.label}).to_parquet(
        folder / "train.parquet"
    )
    source = tmp_path / "batch.parquet"
    frame(300, seed=2).drop(columns=["label"]).to_parquet(source)

    assert main([str(source)]) == 0
    assert (scratch_project / "results" / "drift" / "drift.json").is_file()


def test_statistics_are_zero_for_identical_samples() -> None:
    values = np.arange(100, dtype=float)

    assert psi(values, values) == pytest.approx(0.0)
    assert ks_statistic(values, values) == 0.0
    assert ks_statistic(values, values + 1000) == 1.0
    with pytest.raises(ValueError, match="psi must be >= 0"):
        Thresholds(psi=-1)
