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

A file is scored a batch of rows at a time, so its size is bounded by the disk,
not the memory. A table larger than one machine scores on Apache Spark, into a
new folder of Parquet files (``spark_scoring``):

    {{ cookiecutter.project_slug }}-predict --engine spark visits/ --output scored/
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import pyarrow as pa
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from .config import compose_config
from .data.dataset import PREDICTION
from .data.errors import DataValidationError
from .data.tables import BATCH_ROWS, TableWriter, read_batches
from .inference import ModelReference, input_columns, load_model, predict_inputs
from .inputs import check_frame, missing_cells
from .metadata import Metadata, MetadataError, load_metadata
from .prediction_log import LogSettings, PredictionLog, frame_records
from .spark_scoring import score_table, spark_session
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


ENGINES = ("pandas", "spark")
LOGGED_ROWS_PER_RECORD = 10_000  # rows of a file logged under one request id


def predict_file(
    input_path: Path,
    output_path: Path | None,
    reference: ModelReference,
    log_dir: Path | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ScoredFile:
    """Score every row of ``input_path`` and write it with a ``prediction`` column.

    The file is read, checked, scored and written ``batch_rows`` rows at a time,
    so its size is not bounded by memory; the output appears only once every row is
    scored. A problem is told with the rows counted from the first of the file.
    The model's columns of a CSV file are read as written (codes such as
    ``01234`` keep their zeros), as the service receives them. With ``log_dir``
    (and a ``reference`` pinned to a version), the inputs and predictions are
    logged there.
    """
    model = load_model(reference)
    columns = input_columns(model)
    output_path = output_path or default_output(input_path)
    log = None
    if log_dir is not None:
        run_id = model.metadata.run_id
        log = PredictionLog(LogSettings(log_dir), reference.name, reference.version, run_id)
    batch_id = f"{input_path.stem}-{uuid.uuid4().hex[:8]}"
    rows = missing = 0
    try:
        with TableWriter(output_path) as writer:
            for batch in read_batches(input_path, batch_rows):
                frame = batch.to_pandas()
                frame.index = pd.RangeIndex(rows, rows + len(frame))
                inputs = check_frame(frame, columns)
                predictions = predict_inputs(model, inputs)
                writer.write(batch.append_column(PREDICTION, pa.array(predictions.to_numpy())))
                if log is not None:
                    for start in range(0, len(inputs), LOGGED_ROWS_PER_RECORD):
                        chunk = inputs.iloc[start : start + LOGGED_ROWS_PER_RECORD]
                        log.write(
                            f"{batch_id}-{rows + start}",
                            frame_records(chunk),
                            predictions.iloc[start : start + LOGGED_ROWS_PER_RECORD].tolist(),
                        )
                missing += missing_cells(inputs)
                rows += len(frame)
            if rows == 0:
                raise DataValidationError(f"{input_path}: there is no row to score")
    finally:
        if log is not None:
            log.close()
    cells = rows * len(columns)
    return ScoredFile(
        output_path,
        rows,
        missing / cells if cells else 0.0,
        log.dropped if log is not None else 0,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="Score a CSV or Parquet table with a registered model."
    )
    parser.add_argument(
        "input", help="the file to score (.csv or .parquet); with Spark also a folder or s3:// URI"
    )
    parser.add_argument(
        "--output",
        help="where to write (default: <input>.predictions.<ext>); Spark: a new folder, required",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--alias", default="champion", help="registry alias to use (default: champion)"
    )
    which.add_argument("--version", help="registered version number to use instead of an alias")
    parser.add_argument(
        "--log", action="store_true", help="also append the rows to the prediction log"
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="pandas",
        help="pandas: this process, a batch of rows at a time (default); "
        "spark: Apache Spark, for tables larger than one machine (poetry install --with spark)",
    )
    parser.add_argument(
        "--partition-by",
        default="",
        metavar="COLUMNS",
        help="Spark: comma-separated columns whose values name the output's folders",
    )
    parser.add_argument(
        "--master", help="Spark: the cluster to run on (default: Spark's, local[*] here)"
    )
    args = parser.parse_args(argv)
    if args.engine == "spark" and args.log:
        parser.error("--log works with --engine pandas; Spark's output is not logged")
    if args.engine == "spark" and not args.output:
        parser.error("--engine spark needs --output: the new folder to write Parquet into")
    if args.engine == "pandas" and (args.partition_by or args.master):
        parser.error("--partition-by and --master work with --engine spark")

    try:
        metadata = load_metadata()
        dataset = str(compose_config(root=metadata.root).data.name)
    except MetadataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    mlflow.set_tracking_uri(resolve_tracking_uri(metadata))
    reference = ModelReference(metadata.registered_model_name(dataset), args.alias, args.version)
    try:
        if args.engine == "spark":
            return score_with_spark(args, metadata, reference)
        return score_with_pandas(args, metadata, reference)
    except ValueError as error:  # InputSchemaError and DataValidationError included
        print(f"error: {error}", file=sys.stderr)
        return 2
    except MlflowException as error:
        print(f"error: cannot load {reference.uri}: {error.message}", file=sys.stderr)
        return 2


def score_with_pandas(
    args: argparse.Namespace, metadata: Metadata, reference: ModelReference
) -> int:
    """``--engine pandas``: score the file here and report it."""
    if args.log and not reference.version:  # the log names the version that scored
        version = MlflowClient().get_model_version_by_alias(reference.name, reference.alias)
        reference = ModelReference(reference.name, reference.alias, str(version.version))
    log_dir = metadata.prediction_log_dir(reference.name) if args.log else None
    output = Path(args.output) if args.output else None
    scored = predict_file(Path(args.input), output, reference, log_dir)
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


def score_with_spark(
    args: argparse.Namespace, metadata: Metadata, reference: ModelReference
) -> int:
    """``--engine spark``: score the table on Spark and report it."""
    if importlib.util.find_spec("pyspark") is None:
        print(
            "error: --engine spark needs pyspark, which is not installed; install it with "
            "`poetry install --with spark` (Spark also needs Java 17 or later)",
            file=sys.stderr,
        )
        return 2
    partition_by = [name.strip() for name in args.partition_by.split(",") if name.strip()]
    spark = spark_session(args.master)
    scored = score_table(spark, args.input, args.output, reference, metadata.storage, partition_by)
    print(
        f"Wrote {scored.uri}: {scored.rows} rows scored by {scored.model_uri} "
        f"on Spark ({spark.sparkContext.master}) in {scored.seconds:.1f} s."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
