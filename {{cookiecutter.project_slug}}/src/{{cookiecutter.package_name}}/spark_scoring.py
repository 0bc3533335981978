"""Batch scoring on Apache Spark, for tables larger than one machine holds.

A registered model scores a CSV or Parquet table (one file, or a folder of them)
on this machine or in S3, and the rows are written as Parquet with a
``prediction`` column, in folders by the columns asked for:

    make predict-spark INPUT=s3://bucket/visits/ OUTPUT=s3://bucket/scored/ PARTITION_BY=day

The model is MLflow's logged model turned into a Spark function
(``mlflow.pyfunc.spark_udf``), so its preprocessing comes along. Before it sees
them, the rows are held to the rules of the pandas path (``inputs.check_frame``)
and a broken rule is told in the same words; rows are counted from the start of
the part of the input Spark gave one task (the whole input, when it is small).
What runs in Spark's tasks, apart from the model, is in ``spark_tasks``.

Where it runs is Spark's choice: ``local[*]`` on this machine, the cluster under
``spark-submit`` (``--master`` names one). pyspark is the optional ``spark``
dependency group; Spark needs Java 17 or later.

Spark reads ``s3a://`` only through Hadoop's S3A connector (hadoop-aws), which
pyspark does not ship; ``s3://`` and ``s3a://`` tables are read and written here
by Arrow's S3 client in Spark's tasks instead, with the project's region and
endpoint (``storage`` in ``metadata.yaml``) and the usual AWS credentials (the
environment when Spark starts, a profile or the machine's role), on a laptop and
a cluster alike. On a cluster, a local path must be one every machine sees.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.fs as pa_fs
import pyarrow.parquet as pq
from mlflow import MlflowClient
from mlflow.types import Schema

from .data.dataset import PREDICTION
from .data.errors import DataValidationError
from .data.formats import CSV_SUFFIXES, PARQUET_SUFFIXES, csv_separator, is_table
from .data.tables import BATCH_ROWS
from .inference import ModelReference
from .inputs import Column, InputSchemaError, signature_columns
from .metadata import Storage
from .s3 import arrow_refusal, explain_s3_error, is_s3, s3_filesystem, s3_path
from .spark_tasks import check_batches, input_field, model_input, read_and_check, write_s3_part

if TYPE_CHECKING:  # pyspark is optional: imported where it runs, so the module loads without it
    from pyspark.errors import PySparkException
    from pyspark.sql import DataFrame, SparkSession

ARROW_BATCH_ROWS = "spark.sql.execution.arrow.maxRecordsPerBatch"
WORKER_POOL = "SCORING_WORKER_POOL"  # see own_workers
SCHEMA_ERROR = re.compile(r"InputSchemaError: (.*?)(?:\n\S|\Z)", re.DOTALL)
PYTHON_ERROR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")  # a traceback's last line


@dataclass(frozen=True)
class ScoredTable:
    """What a Spark run wrote: where, how many rows, how long it took, and which model."""

    uri: str
    rows: int
    seconds: float
    model_uri: str


def spark_session(master: str | None = None) -> SparkSession:
    """The running Spark session, or a new one (``local[*]`` unless ``master`` says)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("{{ cookiecutter.project_slug }}-predict")
    if master:
        builder = builder.master(master)
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # started here, not by spark-submit:
        # tasks run this Python, which has the project, unless PYSPARK_PYTHON names another
        # (pyspark reads the variable when the session starts).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Dates read from a file are shown to the model as written, in no time zone.
    spark = builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
    # A failed task is told once, by the command's error, not by each of Spark's loggers.
    spark.sparkContext.setLogLevel("FATAL")
    return spark


def score_table(
    spark: SparkSession,
    source: str,
    output: str,
    reference: ModelReference,
    storage: Storage,
    partition_by: Sequence[str] = (),
) -> ScoredTable:
    """Score every row of ``source`` with ``reference`` and write them to ``output``.

    Raises:
        InputSchemaError: A row breaks the model's input rules.
        DataValidationError: ``source`` cannot be read, or ``output`` is taken.
    """
    from pyspark.errors import PySparkException

    started = time.perf_counter()
    version = reference.version or (
        MlflowClient().get_model_version_by_alias(reference.name, reference.alias).version
    )
    model_uri = f"models:/{reference.name}/{version}"  # the alias may move while Spark runs
    signature = mlflow.models.get_model_info(model_uri).signature
    if signature is None:
        raise InputSchemaError(["the model was logged without a signature"])
    columns = signature_columns(signature.inputs)
    try:
        table = checked_table(spark, source, storage, columns)
        written = [*table.columns[: len(table.columns) - len(columns)], PREDICTION]  # not hidden
        unknown = [name for name in partition_by if name not in written]
        if unknown:  # told before the model is fetched
            raise DataValidationError(
                f"--partition-by: {source} has no column {', '.join(map(repr, unknown))}"
            )
        scored = score(spark, table, model_uri, columns, signature.outputs)
        rows = write_scored(spark, scored, output, storage, partition_by)
    except PySparkException as error:
        raise explain(error, source) from error
    except (OSError, pa.ArrowException) as error:  # Arrow reading or writing files, or S3
        if arrow_refusal(str(error)):
            raise DataValidationError(explain_s3_error(error, source)) from error
        raise DataValidationError(f"cannot score {source} into {output}: {error}") from error
    return ScoredTable(output, rows, time.perf_counter() - started, model_uri)


def quoted(name: str) -> str:
    """``name`` as Spark reads a column's name literally: a dot is not a struct's field."""
    return "`" + name.replace("`", "``") + "`"


def score(
    spark: SparkSession,
    table: DataFrame,
    model_uri: str,
    columns: Sequence[Column],
    outputs: Schema | None,
) -> DataFrame:
    """``table`` with a ``prediction`` column from the model at ``model_uri``.

    The model reads the hidden checked inputs of ``checked_table``, which are then dropped.
    """
    from pyspark.sql.functions import struct

    # env_manager="local": the tasks' Python is this project's, with the model's packages.
    predict = mlflow.pyfunc.spark_udf(
        spark, model_uri, result_type=prediction_type(outputs), env_manager="local"
    )
    hidden = [model_input(column.name) for column in columns]
    inputs = struct(*[table[quoted(h)].alias(c.name) for h, c in zip(hidden, columns, strict=True)])
    with own_workers(spark, "model"):
        return table.withColumn(PREDICTION, predict(inputs)).drop(*hidden)


@contextmanager
def own_workers(spark: SparkSession, pool: str) -> Iterator[None]:
    """Python functions Spark is given inside run in Python workers of their own.

    Spark keeps a task's Python workers for later tasks, and hands an idle one to
    whichever function asks next. A worker that has read and checked rows, then
    run the model, holds both (about 280 MB, against 145 MB and 260 MB): left
    mixed, each task would make more workers that large. Spark gives functions
    whose environments differ separate workers, so a function defined here carries
    ``WORKER_POOL`` set to ``pool`` (the function copies the environment then).
    """
    environment = spark.sparkContext.environment
    before = environment.get(WORKER_POOL)
    environment[WORKER_POOL] = pool
    try:
        yield
    finally:
        if before is None:
            del environment[WORKER_POOL]
        else:
            environment[WORKER_POOL] = before


def prediction_type(outputs: Schema | None) -> str | None:
    """The Spark type of a prediction, from the signature's output.

    A classifier's labels are an array of objects (text) MLflow leaves to the
    caller; for a named output column MLflow finds the type itself (None).
    """
    if outputs is None or not outputs.is_tensor_spec():
        return None
    kind = outputs.numpy_types()[0].kind
    return {"f": "double", "i": "long", "u": "long", "b": "boolean"}.get(kind, "string")


def explain(error: PySparkException, source: str) -> ValueError:
    """The error to show for a failed Spark job: ours when a task raised one.

    Otherwise Spark's first line, and the Python error a task ended with, if any.
    """
    text = str(error)
    found = SCHEMA_ERROR.search(text)
    if found:
        lines = found.group(1).strip().splitlines()[1:]  # after "Input does not match..."
        return InputSchemaError([line.strip().removeprefix("- ") for line in lines])
    lines = [line for line in text.splitlines() if line.strip()]
    python = [line for line in lines if PYTHON_ERROR.match(line)]
    cause = f" ({python[-1].strip()})" if python else ""
    refusal = arrow_refusal(python[-1]) if python else None
    if refusal:  # tasks reach S3 with their own machine's credentials, not the driver's
        return DataValidationError(
            f"{source}: S3 refused a Spark task access ({refusal}), a credentials or "
            "permissions problem. Spark's tasks use the AWS credentials of the machine they "
            "run on (its environment, profile or IAM role): every machine of the cluster "
            "(this one, in local mode) must be allowed to read the input and write the "
            f"output.{cause}"
        )
    return DataValidationError(f"{source}: Spark could not score it: {lines[0]}{cause}")


# Reading and writing tables.


def checked_table(
    spark: SparkSession, source: str, storage: Storage, columns: Sequence[Column]
) -> DataFrame:
    """Read a CSV or Parquet table (a file, or a folder of files of one format) and check it.

    Beside the table's columns, as read, are the model's inputs ``columns`` checked
    and as the model takes them (hidden columns, ``spark_tasks.model_input``). A
    missing column is told by the check, with every other problem of its rows.

    A CSV file's columns are read as text, as written, as the pandas path reads
    them; Parquet columns keep their types. Parquet files, and every table in S3,
    are read by Arrow in Spark's tasks, a row group (CSV: a file) per task, and
    checked in the same task: Arrow reads any Parquet file pandas writes, where
    Spark's own reader refuses times in nanoseconds (pandas' default), and reaches
    S3 without Hadoop's connector. Local CSV files are read by Spark's own reader,
    which splits a large file, and then checked.

    Raises:
        DataValidationError: There is no such table, or its files mix formats.
    """
    if is_s3(source):
        fs, base = s3_filesystem(storage), s3_path(source)
    elif "://" in source and not source.startswith("file://"):
        raise DataValidationError(
            f"{source}: a table is read from a local path or an s3:// (s3a://) URI"
        )
    else:
        fs, base = pa_fs.LocalFileSystem(), str(Path(source.removeprefix("file://")).absolute())
    files = _table_files(source, fs, base)
    if is_s3(source) or _table_format(source, files) in PARQUET_SUFFIXES:
        return _read_with_arrow(spark, fs, files, columns)
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.sql.types import StructType

    table = spark.read.csv(
        files, header=True, sep=csv_separator(files[0]), mode="FAILFAST", inferSchema=False
    )
    inputs = from_arrow_schema(pa.schema([input_field(column) for column in columns]))
    schema = StructType([*table.schema.fields, *inputs.fields])
    return table.mapInArrow(functools.partial(check_batches, columns), schema)


def _table_files(source: str, fs: pa_fs.FileSystem, base: str) -> list[str]:
    """The files of a table: ``base`` itself, or the table files below the folder ``base``."""
    info = fs.get_file_info(base)
    if info.type == pa_fs.FileType.File:
        return [base]
    if info.type != pa_fs.FileType.Directory:
        raise DataValidationError(f"{source}: no such file or folder")
    found = fs.get_file_info(pa_fs.FileSelector(base, recursive=True))
    return sorted(f.path for f in found if f.is_file and _is_data(f.base_name))


def _is_data(name: str) -> bool:
    """Whether a file in a table's folder holds rows (not ``_SUCCESS`` or a hidden file)."""
    return is_table(Path(name)) and not name.startswith(("_", "."))


def _table_format(source: str, names: Sequence[str]) -> str:
    """``.parquet`` or ``.csv``: the one format of a table's files."""
    formats = {".parquet" if name.lower().endswith(PARQUET_SUFFIXES) else ".csv" for name in names}
    if not formats:
        raise DataValidationError(
            f"{source}: holds no table file ({', '.join([*CSV_SUFFIXES, *PARQUET_SUFFIXES])})"
        )
    if len(formats) > 1:
        raise DataValidationError(f"{source}: holds both CSV and Parquet files; score one kind")
    return formats.pop()


def _read_with_arrow(
    spark: SparkSession, fs: pa_fs.FileSystem, files: list[str], columns: Sequence[Column]
) -> DataFrame:
    """Read and check table files in Spark tasks, one Parquet row group or CSV file per task."""
    from pyspark.sql.pandas.types import from_arrow_schema

    if files[0].lower().endswith(PARQUET_SUFFIXES):
        stored = pq.read_schema(fs.open_input_file(files[0]))
        schema = pa.schema([spark_field(field) for field in stored])
        pieces = [
            (file, group)
            for file in files
            for group in range(pq.ParquetFile(fs.open_input_file(file)).num_row_groups)
        ]
    else:
        with pa_csv.open_csv(
            fs.open_input_stream(files[0]),
            parse_options=pa_csv.ParseOptions(delimiter=csv_separator(files[0])),
        ) as reader:
            schema = pa.schema([(name, pa.string()) for name in reader.schema.names])
        pieces = [(file, -1) for file in files]
    # As an Arrow table the list reaches the JVM as is; as Python rows, Spark would
    # start Python workers (about 120 MB) only to read it.
    paths, groups = zip(*pieces, strict=True)
    listed = pa.table(
        {"path": pa.array(paths, pa.string()), "row_group": pa.array(groups, pa.int32())}
    )
    tasks = spark.createDataFrame(listed).repartition(len(pieces))
    read = functools.partial(read_and_check, fs, schema, columns, arrow_batch_rows(spark))
    checked = pa.schema([*schema, *(input_field(column) for column in columns)])
    return tasks.mapInArrow(read, from_arrow_schema(checked, prefer_timestamp_ntz=True))


def arrow_batch_rows(spark: SparkSession) -> int:
    """The rows of a batch Spark hands a Python worker (``maxRecordsPerBatch``).

    The reader's batches are as large: larger ones would only add to a worker's
    memory, as the model sees the rows in Spark's batches anyway.
    """
    rows = int(spark.conf.get(ARROW_BATCH_ROWS) or 0)
    return rows if rows > 0 else BATCH_ROWS  # zero or less: Spark sets no limit


def spark_field(field: pa.Field) -> pa.Field:
    """``field`` as Spark takes it from Arrow: times in microseconds, plain text and categories."""
    kind = field.type
    if pa.types.is_dictionary(kind):  # a category column: Spark has no such type
        kind = kind.value_type
    if pa.types.is_timestamp(kind):
        kind = pa.timestamp("us", tz=kind.tz)
    elif pa.types.is_large_string(kind):
        kind = pa.string()
    elif pa.types.is_large_binary(kind):
        kind = pa.binary()
    return field.with_type(kind)


def write_scored(
    spark: SparkSession,
    table: DataFrame,
    output: str,
    storage: Storage,
    partition_by: Sequence[str],
) -> int:
    """Write ``table`` as Parquet to the folder ``output``; return the rows written.

    Raises:
        DataValidationError: ``output`` already exists (nothing is overwritten).
    """
    if is_s3(output):
        return _write_s3(table, output, s3_filesystem(storage), partition_by)
    local = None if "://" in output else Path(output)
    if local is not None and local.exists():
        raise DataValidationError(f"{output}: already exists; choose another --output")
    try:
        table.write.mode("errorifexists").partitionBy(*partition_by).parquet(output)
    except BaseException:
        if local is not None:  # the folder is this run's: a failed run leaves nothing
            shutil.rmtree(local, ignore_errors=True)
        raise
    return int(spark.read.parquet(output).count())  # from the files' footers


def _write_s3(
    table: DataFrame, output: str, fs: pa_fs.S3FileSystem, partition_by: Sequence[str]
) -> int:
    """Write Parquet to S3 from Spark's tasks; a failed run removes what it wrote."""
    base = s3_path(output)
    if fs.get_file_info(pa_fs.FileSelector(base, allow_not_found=True)):
        raise DataValidationError(f"{output}: already holds files; choose another --output")
    write = functools.partial(write_s3_part, fs, base, list(partition_by), uuid.uuid4().hex[:8])
    try:
        written = table.mapInArrow(write, "rows long").groupBy().sum("rows").first()
    except BaseException:
        fs.delete_dir_contents(base, missing_dir_ok=True)
        raise
    with fs.open_output_stream(f"{base}/_SUCCESS"):
        pass
    return int(written[0] or 0) if written else 0
