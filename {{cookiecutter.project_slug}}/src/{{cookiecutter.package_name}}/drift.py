"""Data drift and data quality: compare a batch of new inputs with the training data.

For every numeric feature of the model (``dataset.json`` of the configured
experiment names them; categorical and date features are not compared yet) it
computes the population stability index (PSI, over the reference's deciles), the
two-sample Kolmogorov-Smirnov statistic, the missing-value rate and the share
of values outside the reference's range, then writes a JSON and an HTML report:

    {{ cookiecutter.project_slug }}-drift new_inputs.csv

Columns of the batch that are not compared are ignored. With ``--reference
other.parquet`` every numeric column of that file is compared (but ``--exclude``).

Exit status: 0 when no feature crosses a threshold, 3 when one does, 2 on bad
input (missing file or columns).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import compose_config
from .data.experiment import TRAIN_FILE, ExperimentData
from .data.tables import read_table
from .drift_report import write_reports
from .metadata import MetadataError, load_metadata

DRIFT_EXIT = 3
NUMERIC_FEATURES = ("numeric", "boolean")  # the feature types compared (booleans as 0 and 1)
EPSILON = 1e-4  # stands in for an empty bin, so PSI stays finite


@dataclass(frozen=True)
class Thresholds:
    """Above any of these a feature is flagged."""

    psi: float = 0.2
    ks: float = 0.2
    missing_rate: float = 0.05  # more than the reference's rate, by this much
    out_of_range: float = 0.05

    def __post_init__(self) -> None:
        """Thresholds are non-negative numbers."""
        for name, value in asdict(self).items():
            if not value >= 0:
                raise ValueError(f"threshold {name} must be >= 0, got {value}")


@dataclass(frozen=True)
class FeatureDrift:
    """Drift and quality figures of one feature."""

    feature: str
    psi: float | None
    ks: float | None
    missing_rate: float
    reference_missing_rate: float
    out_of_range_rate: float
    reference_min: float
    reference_max: float
    batch_mean: float | None
    reference_mean: float
    reasons: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        """Whether any threshold was crossed."""
        return bool(self.reasons)


def psi(reference: np.ndarray, batch: np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``batch`` against ``reference`` (finite values only)."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    expected = np.bincount(
        np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1
    )
    actual = np.bincount(np.searchsorted(edges, batch, side="right"), minlength=len(edges) + 1)
    e = np.maximum(expected / expected.sum(), EPSILON)
    a = np.maximum(actual / max(actual.sum(), 1), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def ks_statistic(reference: np.ndarray, batch: np.ndarray) -> float:
    """Largest distance between the two empirical distribution functions."""
    reference, batch = np.sort(reference), np.sort(batch)
    points = np.concatenate([reference, batch])
    cdf_reference = np.searchsorted(reference, points, side="right") / len(reference)
    cdf_batch = np.searchsorted(batch, points, side="right") / len(batch)
    return float(np.max(np.abs(cdf_reference - cdf_batch)))


def feature_drift(
    name: str, reference: pd.Series, batch: pd.Series, thresholds: Thresholds
) -> FeatureDrift:
    """Compare one feature of the batch with the same feature of the reference."""
    ref = pd.to_numeric(reference, errors="coerce").to_numpy(dtype=float)
    new = pd.to_numeric(batch, errors="coerce").to_numpy(dtype=float)
    ref_finite, new_finite = ref[np.isfinite(ref)], new[np.isfinite(new)]
    missing = float(np.mean(~np.isfinite(new))) if len(new) else 0.0
    ref_missing = float(np.mean(~np.isfinite(ref)))
    low, high = float(ref_finite.min()), float(ref_finite.max())
    outside = float(np.mean((new_finite < low) | (new_finite > high))) if len(new_finite) else 0.0
    reasons = []
    psi_value = ks_value = None
    if len(new_finite):
        psi_value, ks_value = psi(ref_finite, new_finite), ks_statistic(ref_finite, new_finite)
        if psi_value > thresholds.psi:
            reasons.append(f"PSI {psi_value:.3f} > {thresholds.psi}")
        if ks_value > thresholds.ks:
            reasons.append(f"KS {ks_value:.3f} > {thresholds.ks}")
    else:
        reasons.append("no finite values to compare")
    if missing > ref_missing + thresholds.missing_rate:
        reasons.append(f"missing rate {missing:.1%} vs {ref_missing:.1%} in training")
    if outside > thresholds.out_of_range:
        reasons.append(f"{outside:.1%} of values outside the training range")
    return FeatureDrift(
        name,
        psi_value,
        ks_value,
        missing,
        ref_missing,
        outside,
        low,
        high,
        float(new_finite.mean()) if len(new_finite) else None,
        float(ref_finite.mean()),
        reasons,
    )


def compare(
    reference: pd.DataFrame,
    batch: pd.DataFrame,
    thresholds: Thresholds,
    exclude: Sequence[str] = (),
    features: Sequence[str] | None = None,
) -> list[FeatureDrift]:
    """Compare the numeric reference columns ``features`` (default: all) with the batch.

    Columns in ``exclude``, and columns the reference holds no value of, are left out.

    Raises:
        ValueError: The batch lacks some of the features, or is empty.
    """
    numeric = reference.select_dtypes("number").columns
    features = [
        name
        for name in (numeric if features is None else features)
        if name in numeric and name not in exclude and reference[name].notna().any()
    ]
    missing = [name for name in features if name not in batch.columns]
    if missing:
        raise ValueError(f"the batch lacks the training feature(s) {missing}")
    if batch.empty:
        raise ValueError("the batch has no rows")
    return [feature_drift(name, reference[name], batch[name], thresholds) for name in features]


def default_reference() -> tuple[Path, list[str]]:
    """The configured experiment's training set, and the model's numeric features.

    Raises:
        DataValidationError: The experiment has not been built (no ``dataset.json``).
    """
    metadata = load_metadata()
    config = compose_config(root=metadata.root)
    folder = metadata.stage_dir("experiment") / str(config.data.name)
    experiment = ExperimentData.read(folder)
    numeric = [name for name, kind in experiment.features.items() if kind in NUMERIC_FEATURES]
    return folder / TRAIN_FILE, numeric


def report(
    batch_path: Path, reference_path: Path, results: list[FeatureDrift], thresholds: Thresholds
) -> dict[str, Any]:
    """The JSON report: inputs, thresholds and the figures of every feature."""
    drifted = [result.feature for result in results if result.drifted]
    return {
        "batch": str(batch_path),
        "reference": str(reference_path),
        "thresholds": asdict(thresholds),
        "drift": bool(drifted),
        "drifted_features": drifted,
        "features": [{**asdict(result), "drifted": result.drifted} for result in results],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (3 when drift is found)."""
    defaults = Thresholds()
    parser = argparse.ArgumentParser(description="Compare new inputs with the training data.")
    parser.add_argument("batch", type=Path, help="the new inputs (.csv or .parquet)")
    parser.add_argument(
        "--reference",
        type=Path,
        help="the data to compare with; default: the configured experiment's training set",
    )
    parser.add_argument("--output-dir", type=Path, default=Path("results/drift"))
    parser.add_argument("--psi-threshold", type=float, default=defaults.psi)
    parser.add_argument("--ks-threshold", type=float, default=defaults.ks)
    parser.add_argument("--missing-threshold", type=float, default=defaults.missing_rate)
    parser.add_argument("--out-of-range-threshold", type=float, default=defaults.out_of_range)
    parser.add_argument("--exclude", nargs="*", default=[], help="columns not to compare")
    args = parser.parse_args(argv)
    try:
        thresholds = Thresholds(
            args.psi_threshold,
            args.ks_threshold,
            args.missing_threshold,
            args.out_of_range_threshold,
        )
        features: list[str] | None = None  # a given reference: all its numeric columns
        if args.reference:
            reference_path = args.reference
        else:
            reference_path, features = default_reference()
        results = compare(
            read_table(reference_path), read_table(args.batch), thresholds, args.exclude, features
        )
    except (ValueError, MetadataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    content = report(args.batch, reference_path, results, thresholds)
    json_path, html_path = write_reports(content, args.output_dir)
    for result in results:
        if result.drifted:
            print(f"DRIFT {result.feature}: {'; '.join(result.reasons)}")
    print(f"{len(content['drifted_features'])} of {len(results)} features drifted.")
    print(f"Wrote {json_path} and {html_path}")
    return DRIFT_EXIT if content["drift"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
