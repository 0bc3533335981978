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
not the memory; it may be in S3 (``s3://`` URIs), as may the output. A table
larger than one machine scores on Apache Spark, into a new folder of Parquet
files (``spark_scoring``):

    {{ cookiecutter.project_slug }}-predict --engine spark visits/ --output scored/
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath

import mlflow
import pandas as pd
import pyarrow as pa
import pyarrow.fs as pa_fs
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from .config import compose_config
from .data.dataset import PREDICTION
from .data.errors import DataValidationError
from .data.tables import BATCH_ROWS, TableWriter, read_batches
from .inference import ModelReference, input_columns, load_model, predict_inputs
from .inputs import check_frame, missing_cells
from .metadata import Metadata, MetadataError, Storage, load_metadata
from .prediction_log import LogSettings, PredictionLog, frame_records
from .s3 import is_s3, s3_filesystem, s3_path
from .tracking import resolve_tracking_uri


def default_output(path: PurePath) -> PurePath:
    """``data.csv`` → ``data.predictions.csv``, next to the input."""
    return path.with_name(f"{path.stem}.predictions{path.suffix}")


@dataclass(frozen=True)
class ScoredFile:
    """Where the predictions went, for how many rows, and the share of inputs imputed."""

    path: str
    rows: int
    missing_fraction: float
    unlogged_records: int = 0  # records the prediction log could not write


ENGINES = ("pandas", "spark")
LOGGED_ROWS_PER_RECORD = 10_000  # rows of a file logged under one request id


def predict_file(
    source: str | Path,
    output: str | Path | None,
    reference: ModelReference,
    log_dir: Path | None = None,
    batch_rows: int = BATCH_ROWS,
    storage: Storage | None = None,
) -> ScoredFile:
    """Score every row of ``source`` and write it with a ``prediction`` column.

    The file is read, checked, scored and written ``batch_rows`` rows at a time,
    so its size is not bounded by memory; the output appears only once every row is
    scored. A problem is told with the rows counted from the first of the file.
    The model's columns of a CSV file are read as written (codes such as
    ``01234`` keep their zeros), as the service receives them. ``source`` and
    ``output`` may be ``s3://`` URIs (in ``storage``'s region and endpoint): an
    output is written here first, then uploaded whole. With ``log_dir`` (and a
    ``reference`` pinned to a version), the inputs and predictions are logged there.
    """
    model = load_model(reference)
    columns = input_columns(model)
    in_s3, out_s3 = is_s3(source), is_s3(output or source)
    files = None
    if in_s3 or out_s3:
        if storage is None:
            raise DataValidationError(f"{output or source}: S3 needs the project's storage")
        files = s3_filesystem(storage)
    path = PurePosixPath(s3_path(str(source))) if in_s3 else Path(source)
    target = str(output or (f"s3://{default_output(path)}" if in_s3 else default_output(path)))
    log = None
    if log_dir is not None:
        run_id = model.metadata.run_id
        log = PredictionLog(LogSettings(log_dir), reference.name, reference.version, run_id)
    batch_id = f"{path.stem}-{uuid.uuid4().hex[:8]}"
    rows = missing = 0
    with tempfile.TemporaryDirectory(prefix="predictions-") as staging:
        written = Path(staging) / PurePosixPath(target).name if out_s3 else Path(target)
        try:
            with TableWriter(written) as writer:
                for batch in read_batches(path, batch_rows, files if in_s3 else None):
                    frame = batch.to_pandas()
                    frame.index = pd.RangeIndex(rows, rows + len(frame))
                    inputs = check_frame(frame, columns)
                    predictions = predict_inputs(model, inputs)
                    scored = batch.append_column(PREDICTION, pa.array(predictions.to_numpy()))
                    writer.write(scored)
                    if log is not None:
                        log_batch(log, f"{batch_id}-{rows}", inputs, predictions)
                    missing += missing_cells(inputs)
                    rows += len(frame)
                if rows == 0:
                    raise DataValidationError(f"{source}: there is no row to score")
        finally:
            if log is not None:
                log.close()
        if out_s3:
            try:
                pa_fs.copy_files(str(written), s3_path(target), destination_filesystem=files)
            except (OSError, pa.ArrowException) as error:
                raise DataValidationError(f"{target}: cannot be written: {error}") from error
    cells = rows * len(columns)
    dropped = log.dropped if log is not None else 0
    return ScoredFile(target, rows, missing / cells if cells else 0.0, dropped)


def log_batch(
    log: PredictionLog, batch_id: str, inputs: pd.DataFrame, predictions: pd.Series
) -> None:
    """Append a batch's inputs and predictions to the log, ``LOGGED_ROWS_PER_RECORD`` a record."""
    for start in range(0, len(inputs), LOGGED_ROWS_PER_RECORD):
        rows = slice(start, start + LOGGED_ROWS_PER_RECORD)
        log.write(
            f"{batch_id}-{start}",
            frame_records(inputs.iloc[rows]),
            predictions.iloc[rows].tolist(),
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
    scored = predict_file(args.input, args.output, reference, log_dir, storage=metadata.storage)
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
    from .spark_scoring import score_table, spark_session  # here: pandas runs need no Spark

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
