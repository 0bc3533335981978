"""Read and write the table files a user hands over or a stage writes: CSV and Parquet.

Every reader error names the file and says what is wrong with it, so a stage or a
command can stop with that message instead of a parser's traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .errors import DataValidationError

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
TABLE_SUFFIXES = (*CSV_SUFFIXES, *PARQUET_SUFFIXES)
TABLE_FILE = "table.parquet"
"""The one table the align and process stages each write into their dataset's folder."""


def is_table(path: Path) -> bool:
    """Whether ``path`` has the name of a table file this project reads."""
    return path.name.lower().endswith(TABLE_SUFFIXES)


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
        separator = "\t" if name.endswith(".tsv") else ","
        # pyarrow's parser is several times faster than pandas' on large files.
        as_text = dict.fromkeys(text, "string")
        return pd.read_csv(path, sep=separator, engine="pyarrow", dtype=as_text)
    except Exception as error:  # each parser raises its own types; all mean "unreadable"
        raise DataValidationError(f"{path}: cannot be read as a table: {error}") from error


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV or Parquet file, chosen by the suffix, without the index."""
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        frame.to_parquet(path, index=False)
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
