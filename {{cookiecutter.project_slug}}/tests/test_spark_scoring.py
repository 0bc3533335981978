"""Batch scoring on Spark (local mode): the pandas path's predictions and errors, row for row.

Runs when the optional ``spark`` group is installed (``poetry install --with spark``)
and Java is there; skipped otherwise. Rows and expected predictions come from the
trained project (``champion.py``), so the tests hold for any configured table.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from {{ cookiecutter.package_name }}.data.errors import DataValidationError
from {{ cookiecutter.package_name }}.inference import ModelReference
from {{ cookiecutter.package_name }}.inputs import InputSchemaError
from {{ cookiecutter.package_name }}.metadata import load_metadata
from {{ cookiecutter.package_name }}.predict import predict_file
from {{ cookiecutter.package_name }}.spark_scoring import (
    WORKER_POOL,
    own_workers,
    score_table,
    spark_session,
)

from .champion import Champion
from .conftest import create_bucket

pytest.importorskip("pyspark", reason="the optional spark group: poetry install --with spark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java 17 or later", allow_module_level=True)
pytestmark = pytest.mark.slow  # Spark's Java and Python workers start, and load the model

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ROWS = 40


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    """Spark on this machine, two cores, its tasks in this Python.

    Tasks see the environment Spark started with, so it gets the throwaway keys
    the ``s3`` fixture gives moto's server (the endpoint travels with each job).
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")  # pragma: allowlist secret
        session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture
def stored(champion: Champion) -> pd.DataFrame:
    """Test rows as stored, every column, with missing values in two rows and a row id."""
    frame = champion.rows_with_gaps(ROWS)
    return frame.assign(row_id=range(len(frame)))


def pandas_predictions(source: Path, reference: ModelReference, tmp_path: Path) -> list[Any]:
    """The pandas path's predictions of ``source``, in row order."""
    output = predict_file(source, tmp_path / "pandas.parquet", reference).path
    predictions: list[Any] = pd.read_parquet(output)["prediction"].tolist()
    return predictions


def spark_predictions(table: pd.DataFrame) -> list[Any]:
    """Spark's predictions, ordered by the row id (Spark writes parts in any order).

    A CSV file's columns are read as text: the id is sorted as a number.
    """
    order = table["row_id"].astype(int).sort_values().index
    predictions: list[Any] = table.loc[order, "prediction"].tolist()
    return predictions


def test_a_csv_file_scores_as_the_pandas_path_does(
    spark: SparkSession,
    registered_model: str,
    champion: Champion,
    stored: pd.DataFrame,
    tmp_path: Path,
) -> None:
    source = tmp_path / "batch.csv"
    stored.to_csv(source, index=False)
    reference = ModelReference(registered_model)

    scored = score_table(
        spark, str(source), str(tmp_path / "scored"), reference, load_metadata().storage
    )

    table = pd.read_parquet(tmp_path / "scored")
    assert scored.rows == len(stored)
    assert scored.model_uri == f"models:/{registered_model}/1"  # the alias, resolved
    champion.assert_predictions(
        spark_predictions(table), pandas_predictions(source, reference, tmp_path)
    )
    assert list(table.columns) == [*stored.columns, "prediction"]
    assert (tmp_path / "scored" / "_SUCCESS").is_file()


def test_parquet_in_s3_scores_into_s3_in_folders_by_a_column(
    spark: SparkSession,
    registered_model: str,
    champion: Champion,
    stored: pd.DataFrame,
    s3: Any,
    tmp_path: Path,
) -> None:
    storage = load_metadata().storage
    create_bucket(s3, storage.bucket, storage.region)
    source = tmp_path / "batch.parquet"
    parted = stored.assign(part=[i % 2 for i in range(len(stored))])
    parted.to_parquet(source, row_group_size=len(stored) // 4 + 1)  # four row groups: four tasks
    s3.upload_file(str(source), storage.bucket, "parted/batch.parquet")
    reference = ModelReference(registered_model, version="1")

    scored = score_table(
        spark,
        f"s3://{storage.bucket}/parted/",
        f"s3a://{storage.bucket}/scored",
        reference,
        storage,
        partition_by=["part"],
    )

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=storage.bucket)["Contents"]]
    assert {key.split("/")[1] for key in keys if key.endswith(".parquet") and "scored" in key} == {
        "part=0",
        "part=1",
    }
    assert "scored/_SUCCESS" in keys
    local = tmp_path / "download"
    for key in keys:
        if key.startswith("scored/") and key.endswith(".parquet"):
            target = local / key
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(storage.bucket, key, str(target))
    table = pq.read_table(local / "scored", partitioning="hive").to_pandas()
    assert scored.rows == len(stored)
    champion.assert_predictions(
        spark_predictions(table), pandas_predictions(source, reference, tmp_path)
    )


def test_bad_input_fails_with_the_pandas_paths_error_and_writes_nothing(
    spark: SparkSession,
    registered_model: str,
    champion: Champion,
    stored: pd.DataFrame,
    tmp_path: Path,
) -> None:
    numeric = champion.numeric_column()
    dropped = next(name for name in reversed(champion.names) if name != numeric)
    bad = stored.astype({numeric: object}).drop(columns=[dropped])
    bad.loc[3, numeric] = "fast"
    source = tmp_path / "bad.csv"
    bad.to_csv(source, index=False)
    reference = ModelReference(registered_model)
    with pytest.raises(InputSchemaError) as pandas_error:
        predict_file(source, tmp_path / "pandas.csv", reference)

    with pytest.raises(InputSchemaError) as spark_error:
        score_table(spark, str(source), str(tmp_path / "out"), reference, load_metadata().storage)

    assert spark_error.value.problems == pandas_error.value.problems
    assert f"missing column '{dropped}'" in spark_error.value.problems
    assert not (tmp_path / "out").exists()


def test_a_task_refused_by_s3_is_told_as_its_machines_credentials(
    spark: SparkSession,
    registered_model: str,
    stored: pd.DataFrame,
    iam_checks: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Here the driver lists the table with allowed keys; the tasks hold the refused ones.

    On a cluster the same happens when a machine that runs tasks lacks the rights.
    """
    storage = load_metadata().storage
    for name, value in iam_checks.items():
        monkeypatch.setenv(name, value)
    source = tmp_path / "batch.parquet"
    stored.to_parquet(source)
    allowed = boto3.client(
        "s3",
        endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"],
        region_name=storage.region,
        aws_access_key_id=iam_checks["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=iam_checks["AWS_SECRET_ACCESS_KEY"],
    )
    allowed.upload_file(str(source), storage.bucket, "refused/batch.parquet")
    output = tmp_path / "scored"

    with pytest.raises(DataValidationError) as refused:
        score_table(
            spark,
            f"s3://{storage.bucket}/refused/batch.parquet",
            str(output),
            ModelReference(registered_model, version="1"),
            storage,
        )

    message = str(refused.value)
    assert "S3 refused a Spark task access (ACCESS_DENIED)" in message
    assert "credentials of the machine they run on" in message
    assert not output.exists()


def test_an_unknown_partition_column_is_named_and_nothing_is_written(
    spark: SparkSession, registered_model: str, stored: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "batch.parquet"
    stored.to_parquet(source)
    output = tmp_path / "scored"
    reference = ModelReference(registered_model)

    with pytest.raises(DataValidationError, match=r"--partition-by: .* has no column 'nope'"):
        score_table(spark, str(source), str(output), reference, load_metadata().storage, ["nope"])

    assert not output.exists()


def test_an_existing_output_is_left_alone(
    spark: SparkSession, registered_model: str, stored: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "batch.csv"
    stored.to_csv(source, index=False)
    output = tmp_path / "scored"
    reference = ModelReference(registered_model)
    output.mkdir()
    (output / "mine.txt").write_text("keep")

    with pytest.raises(DataValidationError, match="already exists"):
        score_table(spark, str(source), str(output), reference, load_metadata().storage)

    assert [p.name for p in output.iterdir()] == ["mine.txt"]


def test_functions_given_their_own_workers_never_share_one_with_the_others(
    spark: SparkSession,
) -> None:
    def process_column(name: str) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
        def tell(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:  # which Python worker (process) ran the batch
                yield batch.append_column(name, pa.array([os.getpid()] * len(batch), pa.int64()))

        return tell

    tasks = spark.range(0, 256, numPartitions=64)  # 64 tasks, two at a time
    read = tasks.mapInArrow(process_column("reader"), "id long, reader long")
    with own_workers(spark, "model"):
        scored = read.mapInArrow(process_column("model"), "id long, reader long, model long")
    rows = scored.collect()

    assert len(rows) == 256
    assert {row["reader"] for row in rows}.isdisjoint(row["model"] for row in rows)
    assert WORKER_POOL not in spark.sparkContext.environment  # as it was
