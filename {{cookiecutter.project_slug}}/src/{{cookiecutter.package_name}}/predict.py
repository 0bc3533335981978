"""Batch inference: score a CSV or Parquet file with a registered model.

The model is the configured dataset's (``data`` in ``conf/config.yaml``); its
input columns are read as the service reads them: numbers, text, dates in ISO
8601, missing values for the model to impute, other columns kept in the output
but not used. The champion scores ``visits.csv`` into ``visits.predictions.csv``:

    {{ cookiecutter.project_slug }}-predict visits.csv

A given version, to a given file:

    {{ cookiecutter.project_slug }}-predict visits.parquet --version 3 --output out.parquet

With ``--log`` the scored rows also go to the prediction log, as the service's do,
so ``make monitor`` checks them against the model's reference.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from .config import compose_config
from .data.tables import read_table, write_table
from .inference import ModelReference, input_columns, load_model, predict_frame
from .inputs import missing_fraction, text_columns
from .metadata import MetadataError, load_metadata
from .prediction_log import LogSettings, PredictionLog, frame_records
from .tracking import resolve_tracking_uri


def default_output(path: Path) -> Path:
    """``data.csv`` → ``data.predictions.csv``, next to the input."""
    return path.with_name(f"{path.stem}.predictions{path.suffix}")


@dataclass(frozen=True)
class ScoredFile:
    """Where the predictions went, for how many rows, and the share of inputs imputed."""

    path: Path
    rows: int
    missing_fraction: float
    unlogged_records: int = 0  # records the prediction log could not write


LOGGED_ROWS_PER_RECORD = 10_000  # rows of a file logged under one request id


def predict_file(
    input_path: Path,
    output_path: Path | None,
    reference: ModelReference,
    log_dir: Path | None = None,
) -> ScoredFile:
    """Score every row of ``input_path`` and write it with a ``prediction`` column.

    The model's text columns are read as written (codes such as ``01234`` keep
    their zeros), as the service receives them. With ``log_dir`` (and a
    ``reference`` pinned to a version), the inputs and predictions are logged there.
    """
    model = load_model(reference)
    columns = input_columns(model)
    frame = read_table(input_path, text_columns(columns))
    predictions = predict_frame(model, frame)
    scored = frame.assign(prediction=predictions)
    output_path = output_path or default_output(input_path)
    write_table(scored, output_path)
    inputs = frame.reindex(columns=[column.name for column in columns])
    if log_dir is not None:
        log = PredictionLog(
            LogSettings(log_dir), reference.name, reference.version, model.metadata.run_id
        )
        batch_id = f"{input_path.stem}-{uuid.uuid4().hex[:8]}"
        for start in range(0, len(inputs), LOGGED_ROWS_PER_RECORD):
            chunk = slice(start, start + LOGGED_ROWS_PER_RECORD)
            log.write(
                f"{batch_id}-{start}",
                frame_records(inputs.iloc[chunk]),
                predictions.iloc[chunk].tolist(),
            )
        log.close()
        return ScoredFile(output_path, len(frame), missing_fraction(inputs), log.dropped)
    return ScoredFile(output_path, len(frame), missing_fraction(inputs))


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="Score a CSV or Parquet file with a registered model."
    )
    parser.add_argument("input", type=Path, help="the file to score (.csv or .parquet)")
    parser.add_argument(
        "--output", type=Path, help="where to write (default: <input>.predictions.<ext>)"
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--alias", default="champion", help="registry alias to use (default: champion)"
    )
    which.add_argument("--version", help="registered version number to use instead of an alias")
    parser.add_argument(
        "--log", action="store_true", help="also append the rows to the prediction log"
    )
    args = parser.parse_args(argv)

    try:
        metadata = load_metadata()
        dataset = str(compose_config(root=metadata.root).data.name)
    except MetadataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    mlflow.set_tracking_uri(resolve_tracking_uri(metadata))
    model_name = metadata.registered_model_name(dataset)
    reference = ModelReference(model_name, args.alias, args.version)
    try:
        if args.log and not reference.version:  # the log names the version that scored
            version = MlflowClient().get_model_version_by_alias(model_name, args.alias).version
            reference = ModelReference(model_name, args.alias, str(version))
        log_dir = metadata.prediction_log_dir(model_name) if args.log else None
        scored = predict_file(args.input, args.output, reference, log_dir)
    except ValueError as error:  # InputSchemaError and DataValidationError included
        print(f"error: {error}", file=sys.stderr)
        return 2
    except MlflowException as error:
        print(f"error: cannot load {reference.uri}: {error.message}", file=sys.stderr)
        return 2
    print(
        f"Wrote {scored.path}: {scored.rows} rows scored by {reference.uri}; "
        f"{scored.missing_fraction:.1%} of their input values were missing (imputed)."
    )
    if scored.unlogged_records:
        print(
            f"error: {scored.unlogged_records} record(s) could not be written to the "
            f"prediction log in {log_dir}; check that the folder is writable",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
