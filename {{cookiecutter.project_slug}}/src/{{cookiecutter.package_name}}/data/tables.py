"""Read and write the table files a user hands over or a stage writes: CSV and Parquet.

Every reader error names the file and says what is wrong with it, so a stage or a
command can stop with that message instead of a parser's traceback.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePath
from types import TracebackType
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.fs as pa_fs
import pyarrow.parquet as pq

from .errors import DataValidationError
from .formats import CSV_SUFFIXES, PARQUET_SUFFIXES, TABLE_SUFFIXES, csv_separator, is_table

TABLE_FILE = "table.parquet"
"""The one table the align and process stages each write into their dataset's folder."""


def read_table(path: Path, text: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV (comma-separated, ``.tsv`` tab-separated) or Parquet file.

    Columns named in ``text`` are read from a CSV file as written (codes such as
    ``01234`` keep their zeros) instead of as the numbers or dates they look like.

    Raises:
        DataValidationError: The file does not exist, has another format, or
            cannot be parsed; the message names the file.
    """
    name = path.name.lower()
    if not is_table(path):
        raise DataValidationError(
            f"{path}: expected a table file ({', '.join(TABLE_SUFFIXES)}), got '{path.suffix}'"
        )
    if not path.is_file():
        raise DataValidationError(f"{path}: no such file")
    try:
        if name.endswith(PARQUET_SUFFIXES):
            return pd.read_parquet(path)
        # Arrow's parser is several times faster than pandas' on large files (and pandas'
        # own engine="pyarrow" fails on whole-number columns with a gap when given dtypes).
        # Dates it recognises become datetime64, not a Python object per row.
        table = pa_csv.read_csv(path, **_csv_options(path, text))
        return table.to_pandas(date_as_object=False)
    except Exception as error:  # each parser raises its own types; all mean "unreadable"
        raise DataValidationError(f"{path}: cannot be read as a table: {error}") from error


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a Parquet file without the index, quickly, compact where it pays.

    Columns whose values repeat (text, dates, whole numbers) are dictionary-encoded;
    floating-point columns are not: their values seldom repeat, and trying takes
    a quarter of the writing time of a wide numeric table for a few percent of size.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    repeating = [field.name for field in table.schema if not pa.types.is_floating(field.type)]
    pq.write_table(table, path, use_dictionary=repeating)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV or Parquet file, chosen by the suffix, without the index."""
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        write_parquet(frame, path)
    elif name.endswith(CSV_SUFFIXES):
        frame.to_csv(path, index=False, sep="\t" if name.endswith(".tsv") else ",")
    else:
        raise DataValidationError(
            f"{path}: the output must end in one of {', '.join(TABLE_SUFFIXES)}"
        )


def read_tables(paths: list[Path], text: Sequence[str] = ()) -> pd.DataFrame:
    """Read files that hold parts of one table and stack them in order.

    ``text`` is passed on to :func:`read_table`.

    Raises:
        DataValidationError: There is no file, or a file's columns differ from
            the first file's; the message names the file and the columns.
    """
    if not paths:
        raise DataValidationError("no CSV or Parquet file to read")
    frames = [read_table(path, text) for path in paths]
    expected = list(frames[0].columns)
    for path, frame in zip(paths[1:], frames[1:], strict=True):
        missing = [name for name in expected if name not in frame.columns]
        extra = [name for name in frame.columns if name not in expected]
        if missing or extra:
            raise DataValidationError(
                f"{path}: its columns differ from {paths[0].name}'s "
                f"(missing {missing}, extra {extra}); every file of a source is part of "
                "one table with the same columns"
            )
    if len(frames) == 1:
        return frames[0]
    return pd.concat([frame[expected] for frame in frames], ignore_index=True)


# Files too large to hold whole: read and written a batch of rows at a time.

BATCH_ROWS = 100_000  # rows read, checked and scored at once
CSV_BLOCK_BYTES = 16 << 20  # bytes of a CSV file parsed at once


def read_batches(
    path: PurePath, batch_rows: int = BATCH_ROWS, filesystem: pa_fs.FileSystem | None = None
) -> Iterator[pa.RecordBatch]:
    """Read a CSV or Parquet file ``batch_rows`` rows at a time (or fewer), in order.

    A CSV file's columns are all read as text, as written (the model's checks turn
    its numeric columns into numbers and name any value that is not one); an empty
    cell, ``NA`` or ``null`` is a missing value. Parquet columns keep their types.
    ``path`` is on this machine, or ``bucket/key`` in ``filesystem`` (Arrow's S3).

    Raises:
        DataValidationError: The file does not exist, has another format, or
            cannot be parsed; the message names the file.
    """
    files = filesystem or pa_fs.LocalFileSystem()
    name = str(path) if filesystem is None else f"s3://{path}"
    location = str(path) if filesystem is not None else str(Path(path).absolute())
    if not is_table(path):
        raise DataValidationError(
            f"{name}: expected a table file ({', '.join(TABLE_SUFFIXES)}), got '{path.suffix}'"
        )
    try:
        if files.get_file_info(location).type != pa_fs.FileType.File:
            raise DataValidationError(f"{name}: no such file")
        if path.name.lower().endswith(PARQUET_SUFFIXES):
            parquet = pq.ParquetFile(files.open_input_file(location))
            # A reader per row group: one reader of the whole file keeps the bytes of
            # every row group it has read ahead (Arrow's pre-buffering), so memory grew
            # with the file; this way it holds one row group's at most.
            for group in range(parquet.num_row_groups):
                yield from parquet.iter_batches(batch_size=batch_rows, row_groups=[group])
            return
        with files.open_input_stream(location) as head:
            header = csv_header(head, path)
        options = _csv_options(path, header)
        with files.open_input_stream(location) as body, pa_csv.open_csv(body, **options) as reader:
            for block in reader:
                for start in range(0, block.num_rows, batch_rows):
                    yield block.slice(start, batch_rows)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as error:
        raise DataValidationError(f"{name}: cannot be read as a table: {error}") from error


def _csv_options(path: PurePath, text: Sequence[str]) -> dict[str, Any]:
    """Arrow's options to read a CSV file with the columns ``text`` as written.

    An empty cell (or ``NA``, ``null``...) is a missing value in every column.
    """
    return {
        "read_options": pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
        "parse_options": pa_csv.ParseOptions(delimiter=csv_separator(path)),
        "convert_options": pa_csv.ConvertOptions(
            column_types=dict.fromkeys(text, pa.string()), strings_can_be_null=True
        ),
    }


def csv_header(source: Any, path: PurePath) -> list[str]:
    """The column names on the first line of the CSV file ``path``, opened as ``source``."""
    options = pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES)
    parse = pa_csv.ParseOptions(delimiter=csv_separator(path))
    with pa_csv.open_csv(source, read_options=options, parse_options=parse) as reader:
        return list(reader.schema.names)


class TableWriter:
    """Write a CSV or Parquet file a batch at a time; the file appears only when complete.

    Batches go to a hidden file beside ``path``, which replaces ``path`` when the
    writer closes without error and is removed otherwise: a failed run leaves
    neither a half-written file nor a changed one. Parquet batches are written
    with the first batch's column types; CSV as pandas writes it (``write_table``).
    """

    def __init__(self, path: Path) -> None:
        """Check the suffix of ``path``; nothing is written before the first batch."""
        if not is_table(path):
            raise DataValidationError(
                f"{path}: the output must end in one of {', '.join(TABLE_SUFFIXES)}"
            )
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self._parquet: pq.ParquetWriter | None = None
        self._schema = pa.schema([])  # the Parquet file's columns: the first batch's
        self._csv: IO[str] | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        """Append ``batch``; its columns must be the first batch's."""
        if self.path.name.lower().endswith(PARQUET_SUFFIXES):
            if self._parquet is None:
                self._schema = batch.schema
                self._parquet = pq.ParquetWriter(self.partial, batch.schema)
            self._parquet.write_batch(batch.cast(self._schema))
            return
        header = self._csv is None
        if self._csv is None:
            opener = gzip.open if self.path.name.lower().endswith(".gz") else open
            self._csv = opener(self.partial, "wt", encoding="utf-8", newline="")
        frame = batch.to_pandas()
        frame.to_csv(self._csv, header=header, index=False, sep=csv_separator(self.path))

    def __enter__(self) -> TableWriter:
        """Use the writer in a ``with`` block, which completes or discards the file."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Move the complete file into place, or remove what was written."""
        written = self._parquet is not None or self._csv is not None
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()
        if kind is None and written:
            os.replace(self.partial, self.path)
        else:
            self.partial.unlink(missing_ok=True)
