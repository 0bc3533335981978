"""Batch inference: score a CSV or Parquet file with a registered model.

The model is the configured dataset's (``data`` in ``conf/config.yaml``); its
input columns are read as the service reads them: numbers, text, dates in ISO
8601, missing values for the model to impute, other columns kept in the output
but not used. The champion scores ``visits.csv`` into ``visits.predictions.csv``:

    {{ cookiecutter.project_slug }}-predict visits.csv

A given version, to a given file:

    {{ cookiecutter.project_slug }}-predict visits.parquet --version 3 --output out.parquet
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException

from .config import compose_config
from .data.tables import read_table, write_table
from .inference import (
    ModelReference,
    input_schema,
    load_model,
    missing_fraction,
    predict_frame,
    text_columns,
)
from .metadata import MetadataError, load_metadata
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


def predict_file(
    input_path: Path, output_path: Path | None, reference: ModelReference
) -> ScoredFile:
    """Score every row of ``input_path`` and write it with a ``prediction`` column.

    The model's text columns are read as written (codes such as ``01234`` keep
    their zeros), as the service receives them.
    """
    model = load_model(reference)
    schema = input_schema(model)
    frame = read_table(input_path, text_columns(schema))
    scored = frame.assign(prediction=predict_frame(model, frame))
    output_path = output_path or default_output(input_path)
    write_table(scored, output_path)
    inputs = frame.reindex(columns=schema.input_names())
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
        scored = predict_file(args.input, args.output, reference)
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
