"""Snapshots of a source into data/raw/<name>/: files, globs, S3 and SQL queries."""

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy

from {{ cookiecutter.package_name }}.data.errors import DataValidationError
from {{ cookiecutter.package_name }}.data.sources import (
    MANIFEST_FILE,
    QUERY_FILE,
    parse_source,
    snapshot_source,
    snapshot_tables,
)
from {{ cookiecutter.package_name }}.metadata import METADATA_FILE, Metadata, load_metadata

from .conftest import create_bucket

CSV = "customer,plan,churned\nc1,basic,true\nc2,premium,false\n"


@pytest.fixture
def metadata(scratch_project: Path) -> Metadata:
    return load_metadata(scratch_project / METADATA_FILE)


@pytest.fixture
def target(metadata: Metadata) -> Path:
    return metadata.stage_dir("raw") / "shop"


@pytest.fixture
def inbox(scratch_project: Path) -> Path:
    """A folder of the user's files (not data/sources/, which links to the project's)."""
    folder = scratch_project / "inbox"
    folder.mkdir()
    return folder


def manifest(target: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((target / MANIFEST_FILE).read_text())
    return record


@pytest.fixture
def shop_db(tmp_path: Path) -> Path:
    """A SQLite database with a table of three customers, one of them on no plan."""
    path = tmp_path / "shop.db"
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE customers (id TEXT, plan TEXT, age REAL)"))
        connection.execute(
            sqlalchemy.text(
                "INSERT INTO customers VALUES ('c1', 'basic', 34), ('c2', NULL, 51), "
                "('c3', 'premium', 28)"
            )
        )
    engine.dispose()
    return path


def test_a_file_is_copied_byte_for_byte(inbox: Path, target: Path, metadata: Metadata) -> None:
    (inbox / "customers.csv").write_text(CSV)

    path = snapshot_source("inbox/customers.csv", target, metadata)

    assert path == target / MANIFEST_FILE
    assert (target / "customers.csv").read_text() == CSV
    assert manifest(target) == {
        "source": "inbox/customers.csv",
        "files": [{"path": "customers.csv", "sha256": hashlib.sha256(CSV.encode()).hexdigest()}],
    }
    assert snapshot_tables(target) == [target / "customers.csv"]


def test_a_glob_takes_every_matching_file(inbox: Path, target: Path, metadata: Metadata) -> None:
    for month in ("2026-01", "2026-02", "2025-12"):
        (inbox / f"{month}.csv").write_text(CSV)
    (inbox / "notes.txt").write_text("not data")

    snapshot_source("inbox/2026-*.csv", target, metadata)

    assert [path.name for path in snapshot_tables(target)] == ["2026-01.csv", "2026-02.csv"]
    assert [item["path"] for item in manifest(target)["files"]] == ["2026-01.csv", "2026-02.csv"]


def test_a_folder_takes_its_table_files_with_their_subfolders(
    inbox: Path, target: Path, metadata: Metadata
) -> None:
    (inbox / "2026").mkdir()
    (inbox / "2026" / "01.csv").write_text(CSV)
    (inbox / "old.parquet").write_bytes(b"PAR1")
    (inbox / "README.md").write_text("not a table")

    snapshot_source("inbox", target, metadata)

    assert snapshot_tables(target) == [target / "2026" / "01.csv", target / "old.parquet"]
    assert not (target / "README.md").exists()


def test_an_absolute_path_is_read_as_it_is(
    tmp_path: Path, target: Path, metadata: Metadata
) -> None:
    (tmp_path / "export.csv").write_text(CSV)

    snapshot_source(str(tmp_path / "export.csv"), target, metadata)

    assert (target / "export.csv").read_text() == CSV


def test_nothing_matching_is_named(target: Path, metadata: Metadata) -> None:
    with pytest.raises(DataValidationError) as error:
        snapshot_source("inbox/*.csv", target, metadata)

    assert str(error.value).startswith(
        f"source: nothing found at 'inbox/*.csv' (relative to {metadata.root})"
    )
    assert not target.exists()


def test_a_file_that_is_not_a_table_is_named(inbox: Path, target: Path, metadata: Metadata) -> None:
    (inbox / "customers.xlsx").write_bytes(b"PK")

    with pytest.raises(DataValidationError, match="is not a CSV or Parquet file") as error:
        snapshot_source("inbox/customers.*", target, metadata)
    assert str(inbox / "customers.xlsx") in str(error.value)


def test_a_source_inside_a_stage_folder_is_refused(metadata: Metadata) -> None:
    previous = metadata.stage_dir("raw") / "old"
    previous.mkdir()
    (previous / "customers.csv").write_text(CSV)

    with pytest.raises(DataValidationError) as error:
        snapshot_source("data/raw/old/customers.csv", metadata.stage_dir("raw") / "new", metadata)
    message = str(error.value)
    assert "is inside data/raw, which the pipeline rewrites on every run" in message
    assert "Move your files to data/sources/" in message


def test_a_failed_snapshot_leaves_the_previous_one(
    inbox: Path, target: Path, metadata: Metadata
) -> None:
    (inbox / "customers.csv").write_text(CSV)
    snapshot_source("inbox/customers.csv", target, metadata)
    before = {path.name: path.read_bytes() for path in target.iterdir()}

    with pytest.raises(DataValidationError):
        snapshot_source("inbox/missing.csv", target, metadata)

    assert {path.name: path.read_bytes() for path in target.iterdir()} == before
    assert [path.name for path in target.parent.iterdir()] == ["shop"]  # no staging left over


def test_a_new_snapshot_replaces_the_previous_one(
    inbox: Path, target: Path, metadata: Metadata
) -> None:
    (inbox / "january.csv").write_text(CSV)
    (inbox / "february.csv").write_text(CSV)
    snapshot_source("inbox/january.csv", target, metadata)

    snapshot_source("inbox/february.csv", target, metadata)

    assert snapshot_tables(target) == [target / "february.csv"]


def test_a_query_result_is_written_as_parquet(
    shop_db: Path, target: Path, metadata: Metadata
) -> None:
    source = {
        "sql": "SELECT id, plan, age FROM customers ORDER BY id",
        "url": f"sqlite:///{shop_db}",
    }

    snapshot_source(source, target, metadata)

    table = pd.read_parquet(target / QUERY_FILE)
    assert table["id"].tolist() == ["c1", "c2", "c3"]
    assert table["plan"].isna().tolist() == [False, True, False]
    record = manifest(target)
    assert record["source"] == source
    assert record["rows"] == 3
    assert [item["path"] for item in record["files"]] == [QUERY_FILE]


def test_a_url_names_environment_variables(
    shop_db: Path, target: Path, metadata: Metadata, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_DIR", str(shop_db.parent))
    source = {"sql": "SELECT * FROM customers", "url": "sqlite:///$SHOP_DIR/shop.db"}

    snapshot_source(source, target, metadata)

    assert manifest(target)["rows"] == 3
    assert manifest(target)["source"]["url"] == "sqlite:///$SHOP_DIR/shop.db"  # not the value


def test_a_failing_query_is_named_and_leaves_the_previous_snapshot(
    shop_db: Path, target: Path, metadata: Metadata
) -> None:
    url = f"sqlite:///{shop_db}"
    snapshot_source({"sql": "SELECT * FROM customers", "url": url}, target, metadata)

    with pytest.raises(DataValidationError) as error:
        snapshot_source({"sql": "SELECT * FROM orders", "url": url}, target, metadata)

    assert str(error.value).startswith("source.sql: the query failed: ")
    assert "no such table: orders" in str(error.value)
    assert pd.read_parquet(target / QUERY_FILE)["id"].tolist() == ["c1", "c2", "c3"]


def test_an_unusable_url_is_named(target: Path, metadata: Metadata) -> None:
    with pytest.raises(DataValidationError) as error:
        snapshot_source({"sql": "SELECT 1", "url": "nosuchdb://host/shop"}, target, metadata)

    assert str(error.value).startswith("source.url: cannot connect with 'nosuchdb://host/shop'")


@pytest.mark.parametrize(
    "source",
    [{"sql": "SELECT 1"}, {"url": "sqlite://"}, {"sql": "SELECT 1", "url": "sqlite://", "db": 1}],
)
def test_a_query_source_needs_exactly_sql_and_url(source: dict[str, Any]) -> None:
    with pytest.raises(DataValidationError) as error:
        parse_source(source)

    assert "a query source needs exactly the keys `sql` (the query) and `url`" in str(error.value)
    assert f"got {sorted(source)}" in str(error.value)


S3_OBJECTS = {
    "exports/2026-01.csv": b"a\n1\n",
    "exports/2026-02.csv": b"a\n2\n",
    "exports/archive/2025-12.parquet": b"PAR1",
    "exports/README.md": b"not a table",
    "other/2026-01.csv": b"a\n3\n",
}


@pytest.fixture
def exports(s3: Any, metadata: Metadata) -> Any:
    """S3_OBJECTS in bucket ``bucket`` of a real S3 API (moto), in the project's region."""
    create_bucket(s3, "bucket", metadata.storage.region)
    for key, body in S3_OBJECTS.items():
        s3.put_object(Bucket="bucket", Key=key, Body=body)
    return s3


@pytest.mark.parametrize(
    ("uri", "files"),
    [
        ("s3://bucket/exports/2026-01.csv", ["2026-01.csv"]),
        ("s3://bucket/exports/", ["2026-01.csv", "2026-02.csv", "archive/2025-12.parquet"]),
        ("s3://bucket/exports", ["2026-01.csv", "2026-02.csv", "archive/2025-12.parquet"]),
        ("s3://bucket/exports/2026-", ["2026-01.csv", "2026-02.csv"]),
    ],
)
def test_an_s3_uri_names_an_object_or_a_prefix(
    uri: str, files: list[str], target: Path, metadata: Metadata, exports: Any
) -> None:
    snapshot_source(uri, target, metadata)

    assert [item["path"] for item in manifest(target)["files"]] == files
    assert manifest(target)["source"] == uri


def test_an_empty_s3_prefix_is_named(target: Path, metadata: Metadata, exports: Any) -> None:
    with pytest.raises(DataValidationError) as error:
        snapshot_source("s3://bucket/imports/", target, metadata)

    assert str(error.value) == "source: no CSV or Parquet object at s3://bucket/imports/"
    assert not target.exists()
