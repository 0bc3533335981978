"""The monitor command: are the served inputs still like the ones the model learned from?

    {{ cookiecutter.project_slug }}-monitor
    {{ cookiecutter.project_slug }}-monitor --data batch.csv
    {{ cookiecutter.project_slug }}-monitor --labels outcomes.csv --key request_id

The first checks the last day of prediction logs, the second a file of inputs
instead, the third adds the labels that arrived since.

It compares a batch with the reference of the model version that served it (logged
with its MLflow run: see :mod:`.reference`), checks every feature and the
predictions (:mod:`.comparison`), and the live metric when labels are given
(:mod:`.performance`). It writes ``monitor.json`` and ``monitor.html`` to
``results/monitor/`` and prints a verdict.

Exit status, for schedulers: 0 healthy, 3 alarm (drift, data quality or a metric
drop: the report says which), 2 nothing to check or bad input (the message says why).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import ConfigError
from ..data.dataset import PREDICTION
from ..data.errors import DataValidationError
from ..data.tables import read_table
from ..metadata import Metadata, MetadataError, load_metadata
from ..tracking import tracking_target
from .batches import Batch, NothingToCheck, file_batch, logged_batch, logged_files
from .comparison import Comparison, compare
from .html_report import write_reports
from .performance import LabelsError, LivePerformance, join_labels, live_performance
from .reference import NoReferenceError, Reference, cached_reference
from .samples import profile
from .settings import MonitorSettings, Thresholds, load_monitor_settings

HEALTHY_EXIT = 0
ALARM_EXIT = 3
UNUSABLE_EXIT = 2


def check(
    reference: Reference,
    inputs: pd.DataFrame,
    predictions: pd.Series | None,
    settings: MonitorSettings,
) -> Comparison:
    """Compare the batch's inputs, and its predictions when there are any, with the reference."""
    columns: dict[str, Any] = dict(reference.feature_types)
    ref: dict[str, pd.Series] = {name: reference.inputs[name] for name in columns}
    new: dict[str, pd.Series] = {name: inputs[name] for name in columns if name in inputs}
    if predictions is not None and reference.predictions is not None:
        columns[PREDICTION] = "categorical" if reference.task == "classification" else "numeric"
        ref[PREDICTION], new[PREDICTION] = reference.predictions, predictions
    return compare(profile(ref, columns), new, columns, settings.thresholds)


def verdict(comparison: Comparison, performance: LivePerformance | None) -> str:
    """One plain sentence on the batch: healthy, or what raised the alarm."""
    alarms = comparison.alarms
    if not alarms and not (performance and performance.alarm):
        return (
            f"Healthy: none of {len(comparison.columns)} columns differs from the reference "
            "beyond chance and the effect floors."
        )
    parts = [f"{finding.column}: {finding.message}" for finding in alarms[:5]]
    if len(alarms) > 5:
        parts.append(f"and {len(alarms) - 5} more")
    if performance and performance.alarm:
        parts.insert(0, performance.message)
    return "Alarm: " + "; ".join(parts) + "."


def report(
    comparison: Comparison,
    performance: LivePerformance | None,
    reference: Reference,
    batch: dict[str, Any],
    settings: MonitorSettings,
) -> dict[str, Any]:
    """The JSON report."""
    alarm = comparison.alarm or bool(performance and performance.alarm)
    return {
        "status": "alarm" if alarm else "healthy",
        "verdict": verdict(comparison, performance),
        "model": {
            "name": reference.model_name,
            "version": reference.model_version,
            "run_id": reference.run_id,
            "task": reference.task,
        },
        "batch": batch,
        "reference": {
            "rows": len(reference.inputs),
            "prediction_rows": 0 if reference.predictions is None else len(reference.predictions),
        },
        "thresholds": settings.thresholds.model_dump(),
        "alarms": [asdict(finding) for finding in comparison.alarms],
        "columns": [{**asdict(column), "alarm": column.alarm} for column in comparison.columns],
        "performance": asdict(performance) if performance else None,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Compare served inputs with the reference of the model that served them."
    )
    parser.add_argument("--data", type=Path, help="a .csv or .parquet of inputs instead of logs")
    parser.add_argument("--hours", type=float, help="window of logs to read (conf: window_hours)")
    parser.add_argument("--model-version", help="the version to check (default: the latest)")
    parser.add_argument("--labels", type=Path, help="a table of labels that arrived later")
    parser.add_argument("--key", default="request_id", help="column joining labels (request_id)")
    parser.add_argument("--output-dir", type=Path, help="default: results/monitor/")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. data=other")
    return parser


def labelled_performance(
    batch: Batch, path: Path, key: str, tracking: Any, thresholds: Thresholds
) -> LivePerformance:
    """The live metric of the batch's predictions against the labels in ``path``."""
    if batch.predictions is None:
        raise LabelsError(
            f"{batch.description['source']} has no '{PREDICTION}' column to score against "
            f"{path}; score it first (the -predict command) or monitor the logs"
        )
    from ..modeling import champion_metric  # scikit-learn: imported only when labels come

    reference = batch.reference
    joined = join_labels(
        read_table(path), batch.meta, batch.inputs, key, reference.label, str(path)
    )
    metric, greater = champion_metric(tracking, reference.task)
    test_value = reference.test_metrics.get(metric)
    return live_performance(joined, reference.task, metric, greater, test_value, thresholds)


def reference_of(
    run_id: str, model_name: str, version: str | None, metadata: Metadata, tracking_uri: str
) -> Reference:
    """The reference of run ``run_id``: the local copy, or fetched from MLflow (and copied)."""
    cache = metadata.reference_cache_dir()
    cached = cached_reference(cache, run_id, model_name, version)
    if cached is not None:
        return cached
    from .lineage import Lineage  # MLflow: imported only when the copy is missing

    return Lineage(tracking_uri).fetch_reference(cache, run_id, model_name, version)


def run(args: argparse.Namespace, metadata: Metadata) -> dict[str, Any]:
    """Run the monitor as ``args`` ask; return the JSON report."""
    settings, config = load_monitor_settings(args.overrides, metadata.root)
    target = tracking_target(config, metadata)
    if args.data:
        from .lineage import Lineage  # MLflow: a file names no version, the registry does

        lineage = Lineage(target.uri)
        alias = str(config.tracking.champion_alias)
        version = args.model_version or lineage.alias_version(target.model_name, alias)
        run_id = lineage.version_run(target.model_name, version)
        reference = reference_of(run_id, target.model_name, version, metadata, target.uri)
        batch = file_batch(args.data, reference)
    else:
        since = time.time() - (args.hours or settings.window_hours) * 3600
        folder = metadata.prediction_log_dir(target.model_name)
        found = logged_files(folder, since, args.model_version)
        batch = logged_batch(
            found,
            reference_of(
                found.run_id, target.model_name, found.model_version, metadata, target.uri
            ),
        )
    comparison = check(batch.reference, batch.inputs, batch.predictions, settings)
    performance = None
    if args.labels:
        performance = labelled_performance(
            batch, args.labels, args.key, config.tracking, settings.thresholds
        )
    description = {**batch.description, "checked_at": datetime.now(timezone.utc).isoformat()}
    return report(comparison, performance, batch.reference, description, settings)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (see the module's documentation)."""
    args = _parser().parse_args(argv)
    try:
        metadata = load_metadata()
        content = run(args, metadata)
    except (
        NothingToCheck,
        NoReferenceError,
        LabelsError,
        ConfigError,
        DataValidationError,
        MetadataError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return UNUSABLE_EXIT
    output = args.output_dir or metadata.results_dir() / "monitor"
    json_path, html_path = write_reports(content, output)
    print(content["verdict"])
    print(f"Wrote {json_path} and {html_path}")
    return ALARM_EXIT if content["status"] == "alarm" else HEALTHY_EXIT


if __name__ == "__main__":
    raise SystemExit(main())
