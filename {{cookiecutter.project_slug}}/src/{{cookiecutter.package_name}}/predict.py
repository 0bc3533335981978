"""Batch inference: score a CSV or Parquet file with a registered model.

The champion scores ``visits.csv`` into ``visits.predictions.csv``:

    {{ cookiecutter.project_slug }}-predict visits.csv

A given version, to a given file:

    {{ cookiecutter.project_slug }}-predict visits.parquet --version 3 --output out.parquet
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException

from .inference import ModelReference, load_model, predict_frame
from .metadata import MetadataError, load_metadata
from .tracking import resolve_tracking_uri

SUFFIXES = (".csv", ".parquet")


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file."""
    if path.suffix not in SUFFIXES:
        raise ValueError(f"{path}: expected a {' or '.join(SUFFIXES)} file, got '{path.suffix}'")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV or Parquet file, chosen by the suffix."""
    if path.suffix not in SUFFIXES:
        raise ValueError(f"{path}: the output must end in {' or '.join(SUFFIXES)}")
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def default_output(path: Path) -> Path:
    """``data.csv`` → ``data.predictions.csv``, next to the input."""
    return path.with_name(f"{path.stem}.predictions{path.suffix}")


def predict_file(input_path: Path, output_path: Path | None, reference: ModelReference) -> Path:
    """Score every row of ``input_path`` and write it with a ``prediction`` column."""
    frame = read_table(input_path)
    scored = frame.assign(prediction=predict_frame(load_model(reference), frame))
    output_path = output_path or default_output(input_path)
    write_table(scored, output_path)
    return output_path


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
    except MetadataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    mlflow.set_tracking_uri(resolve_tracking_uri(metadata))
    reference = ModelReference(metadata.tracking.registered_model_name, args.alias, args.version)
    try:
        output = predict_file(args.input, args.output, reference)
    except ValueError as error:  # InputSchemaError included
        print(f"error: {error}", file=sys.stderr)
        return 2
    except MlflowException as error:
        print(f"error: cannot load {reference.uri}: {error.message}", file=sys.stderr)
        return 2
    print(f"Wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
