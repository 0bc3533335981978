"""What Spark's tasks run in its Python workers: read a table's pieces, check rows, write parts.

``spark_scoring`` plans the job on the driver; these functions are the work it
hands to each task, one batch of rows at a time. They are kept apart so that a
worker does not import MLflow: every Python worker Spark starts imports the
module of the function it runs, and MLflow alone would add about 60 MB to each
(the model's own workers, which need it, are MLflow's).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.dataset as pa_ds
import pyarrow.fs as pa_fs
import pyarrow.parquet as pq

from .data.formats import csv_separator
from .data.tables import BATCH_ROWS
from .inputs import Column, check_frame

MODEL_INPUT = "__model_input__"


def model_input(name: str) -> str:
    """The hidden column that holds the checked input ``name`` beside the table's own."""
    return f"{MODEL_INPUT}{name}"


def input_field(column: Column) -> pa.Field:
    """The Arrow field of ``column``'s hidden checked input: a number or text."""
    return pa.field(model_input(column.name), pa.float64() if column.numeric else pa.string())


def check_batches(
    columns: Sequence[Column], batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """Each batch with the model's checked inputs appended, rows counted from the first.

    The table's own columns pass through as they are; the inputs are checked by
    ``inputs.check_frame`` on the batch as pandas reads it, as the pandas path does.

    Raises:
        InputSchemaError: A row breaks the model's input rules.
    """
    rows = 0
    fields = [input_field(column) for column in columns]
    for batch in batches:
        present = [column.name for column in columns if column.name in batch.schema.names]
        frame = batch.select(present).to_pandas()
        frame.index = pd.RangeIndex(rows, rows + batch.num_rows)
        inputs = check_frame(frame, columns)
        rows += batch.num_rows
        arrays = [
            pa.Array.from_pandas(inputs[column.name], type=field.type)
            for column, field in zip(columns, fields, strict=True)
        ]
        yield pa.RecordBatch.from_arrays(
            [*batch.columns, *arrays], schema=pa.schema([*batch.schema, *fields])
        )


def read_pieces(
    fs: pa_fs.FileSystem,
    schema: pa.Schema,
    tasks: Iterator[pa.RecordBatch],
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Read the row groups (or CSV files) a task was given, in bounded batches.

    ``tasks`` holds rows of ``path`` and ``row_group`` (-1: a CSV file). A task's
    memory then holds ``batch_rows`` rows at most, however large the row group
    (Parquet writers make them up to a million rows), beside the row group's
    compressed bytes, which Arrow reads ahead; a reader per row group lets them go.
    """
    for task in tasks:
        paths, groups = task["path"].to_pylist(), task["row_group"].to_pylist()
        for path, group in zip(paths, groups, strict=True):
            if group >= 0:
                parquet = pq.ParquetFile(fs.open_input_file(path))
                batches = parquet.iter_batches(
                    batch_size=batch_rows, row_groups=[group], columns=schema.names
                )
                yield from (batch.cast(schema) for batch in batches)
                continue
            options = pa_csv.ConvertOptions(  # the first file's columns, by name, in its order
                column_types=dict.fromkeys(schema.names, pa.string()),
                include_columns=schema.names,
                strings_can_be_null=True,
            )
            parse = pa_csv.ParseOptions(delimiter=csv_separator(path))
            with pa_csv.open_csv(
                fs.open_input_stream(path), parse_options=parse, convert_options=options
            ) as reader:
                for block in reader:
                    for start in range(0, block.num_rows, batch_rows):
                        yield block.slice(start, batch_rows)


def read_and_check(
    fs: pa_fs.FileSystem,
    schema: pa.Schema,
    columns: Sequence[Column],
    batch_rows: int,
    tasks: Iterator[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """Read a task's pieces and check them in one pass: one Python worker, not two."""
    return check_batches(columns, read_pieces(fs, schema, tasks, batch_rows))


def write_s3_part(
    fs: pa_fs.S3FileSystem,
    base: str,
    partition_by: list[str],
    job: str,
    batches: Iterator[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """Write a task's rows as Parquet under ``base``, in folders ``column=value``.

    Yields one batch: the rows written.
    """
    from pyspark import TaskContext

    first = next(batches, None)
    if first is None:
        yield pa.record_batch({"rows": pa.array([0], pa.int64())})
        return
    rows = 0

    def counted() -> Iterator[pa.RecordBatch]:
        nonlocal rows
        for batch in itertools.chain([first], batches):
            rows += batch.num_rows
            yield batch

    context = TaskContext.get()
    task = context.partitionId() if context is not None else 0
    pa_ds.write_dataset(
        pa.RecordBatchReader.from_batches(first.schema, counted()),
        base,
        format="parquet",
        filesystem=fs,
        partitioning=partition_by or None,
        partitioning_flavor="hive" if partition_by else None,
        basename_template=f"part-{job}-{task:05d}-" + "{i}.parquet",  # Arrow numbers {i}
        existing_data_behavior="overwrite_or_ignore",
    )
    yield pa.record_batch({"rows": pa.array([rows], pa.int64())})
