"""Take a snapshot of the configured source into the raw stage, exactly as delivered.

A source (``source`` in ``conf/data/<name>.yaml``) is one of:

- a file or a glob of files, relative to the project root
  (``data/sources/customers.csv``, ``data/sources/2026-*.parquet``);
- an ``s3://`` URI of a file or a prefix, read with the project's S3 settings
  (``storage`` in ``metadata.yaml``: region and endpoint);
- a SQL query: ``sql: SELECT ...`` with ``url:`` a SQLAlchemy URL, where
  ``$NAME`` stands for the environment variable ``NAME`` (keep passwords out of
  the configuration: ``postgresql+psycopg://$DB_USER:$DB_PASSWORD@db/sales``).

Files are copied byte for byte; a query's result is written as Parquet. The
snapshot's ``source.json`` records what was read, with each file's SHA-256.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import posixpath
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..metadata import STAGES, Metadata
from ..s3 import S3_SCHEME, explain_s3_error, s3_client, split_uri
from .errors import DataValidationError
from .formats import is_table
from .io import atomic_directory

MANIFEST_FILE = "source.json"
QUERY_FILE = "query.parquet"


@dataclass(frozen=True)
class SqlSource:
    """A query and the database to run it on."""

    query: str
    url: str

    def resolved_url(self) -> str:
        """The URL with ``$NAME`` replaced by the environment variable ``NAME``."""
        return os.path.expandvars(self.url)


def parse_source(source: str | Mapping[str, Any]) -> str | SqlSource:
    """Return a path, glob or URI as it is, and a ``{sql, url}`` mapping as a query.

    Raises:
        DataValidationError: The mapping lacks ``sql`` or ``url`` or has other keys.
    """
    if isinstance(source, str):
        return source
    keys = set(source)
    if keys != {"sql", "url"}:
        raise DataValidationError(
            "source: a query source needs exactly the keys `sql` (the query) and `url` "
            f"(a SQLAlchemy URL such as sqlite:///data/sources/shop.db); got {sorted(keys)}"
        )
    return SqlSource(str(source["sql"]), str(source["url"]))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_outside_stages(path: Path, metadata: Metadata) -> None:
    """Refuse a source inside a stage folder: the pipeline rewrites those folders."""
    resolved = path.resolve()
    for stage in STAGES:
        folder = metadata.stage_dir(stage).resolve()
        if resolved == folder or folder in resolved.parents:
            raise DataValidationError(
                f"source: {path} is inside {folder.relative_to(metadata.root)}, which the "
                f"pipeline rewrites on every run. Move your files to data/sources/ "
                "(a folder no stage writes) and point `source` there."
            )


def local_files(pattern: str, metadata: Metadata) -> list[Path]:
    """The table files a path or glob (relative to the project root) names, sorted.

    Raises:
        DataValidationError: Nothing matches, a match is not a table file, or a
            match lies inside a stage folder.
    """
    absolute = pattern if os.path.isabs(pattern) else str(metadata.root / pattern)
    matches = sorted(Path(match) for match in glob.glob(absolute, recursive=True))
    files = [path for path in matches if path.is_file()]
    for folder in (path for path in matches if path.is_dir()):
        files += sorted(path for path in folder.rglob("*") if path.is_file() and is_table(path))
    if not files:
        raise DataValidationError(
            f"source: nothing found at '{pattern}' (relative to {metadata.root}). "
            "Put your file in data/sources/ and set `source` in conf/data/ to its path."
        )
    for path in files:
        _check_outside_stages(path, metadata)
        if not is_table(path):
            raise DataValidationError(
                f"source: {path} is not a CSV or Parquet file (.csv, .csv.gz, .tsv, .parquet)"
            )
    return files


def _download_s3(uri: str, folder: Path, metadata: Metadata) -> list[Path]:
    """Download the object ``uri``, or every table file below the prefix ``uri``."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = split_uri(uri)
    client = s3_client(metadata.storage)
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        wanted = [name for name in keys if name == key or is_table(Path(name))]
        exact = [name for name in wanted if name == key]
        wanted = exact or wanted
        if not wanted:
            raise DataValidationError(f"source: no CSV or Parquet object at {uri}")
        # Relative to the objects' common folder: a prefix need not end at a folder
        # (s3://bucket/exports/2026- matches exports/2026-01.csv).
        common = PurePosixPath(posixpath.commonpath([posixpath.dirname(name) for name in wanted]))
        paths = []
        for name in wanted:
            target = folder / PurePosixPath(name).relative_to(common)
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, name, str(target))
            paths.append(target)
    except (BotoCoreError, ClientError) as error:
        raise DataValidationError(f"source: {explain_s3_error(error, uri)}") from error
    return paths


def _run_query(source: SqlSource, target: Path) -> int:
    """Run the query and write its result to ``target``; return the number of rows."""
    import pandas as pd
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(source.resolved_url())
    except (sqlalchemy.exc.ArgumentError, ImportError) as error:
        raise DataValidationError(
            f"source.url: cannot connect with {source.url!r}: {error}. Use a SQLAlchemy URL "
            "(sqlite:///path.db, postgresql+psycopg://$DB_USER@host/db) and install its "
            "driver (`poetry add --group train psycopg[binary]` for PostgreSQL)."
        ) from error
    try:
        with engine.connect() as connection:
            frame = pd.read_sql_query(sqlalchemy.text(source.query), connection)
    except (sqlalchemy.exc.SQLAlchemyError, pd.errors.DatabaseError) as error:  # pandas wraps
        first_line = str(error).splitlines()[0]
        raise DataValidationError(f"source.sql: the query failed: {first_line}") from error
    finally:
        engine.dispose()
    frame.to_parquet(target, index=False)
    return len(frame)


def snapshot_source(source: str | Mapping[str, Any], target: Path, metadata: Metadata) -> Path:
    """Replace ``target`` with a snapshot of ``source`` and its ``source.json`` manifest.

    Returns:
        The path of the manifest.

    Raises:
        DataValidationError: The source cannot be found or read; ``target`` is
            left as it was.
    """
    parsed = parse_source(source)
    with atomic_directory(target) as folder:
        record: dict[str, Any] = {"source": source if isinstance(source, str) else dict(source)}
        if isinstance(parsed, SqlSource):
            record["rows"] = _run_query(parsed, folder / QUERY_FILE)
        elif parsed.startswith(S3_SCHEME):
            _download_s3(parsed, folder, metadata)
        else:
            files = local_files(parsed, metadata)
            common = Path(os.path.commonpath([path.parent for path in files]))
            for path in files:
                copy = folder / path.relative_to(common)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)
        record["files"] = [
            {"path": path.relative_to(folder).as_posix(), "sha256": _sha256(path)}
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        ]
        (folder / MANIFEST_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return target / MANIFEST_FILE


def snapshot_tables(folder: Path) -> list[Path]:
    """The table files of a snapshot, in a stable order."""
    return sorted(path for path in folder.rglob("*") if path.is_file() and is_table(path))
