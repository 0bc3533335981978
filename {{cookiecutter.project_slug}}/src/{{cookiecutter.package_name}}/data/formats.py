"""Which files are tables, known by their names: CSV (comma- or tab-separated) and Parquet.

Kept apart from :mod:`.tables`, which reads them, so the ingest stage can pick a
source's files without loading pandas and Arrow.
"""

from __future__ import annotations

from pathlib import PurePath

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
TABLE_SUFFIXES = (*CSV_SUFFIXES, *PARQUET_SUFFIXES)


def is_table(path: PurePath) -> bool:
    """Whether ``path`` has the name of a table file this project reads."""
    return path.name.lower().endswith(TABLE_SUFFIXES)


def csv_separator(path: PurePath | str) -> str:
    """The separator of a CSV file, from its name: a tab for ``.tsv``, else a comma."""
    return "\t" if str(path).lower().endswith(".tsv") else ","
