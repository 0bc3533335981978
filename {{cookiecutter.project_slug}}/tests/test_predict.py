"""Batch inference with the configured dataset's registered model: outputs, version choice,
input rules (the service's) and clear input errors.

Rows, column names and expected predictions come from the trained project
(``champion.py``), so the tests hold for any configured table and task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.inference import ModelReference
from {{ cookiecutter.package_name }}.inputs import InputSchemaError
from {{ cookiecutter.package_name }}.metadata import load_metadata
from {{ cookiecutter.package_name }}.predict import main, predict_file

from .champion import Champion
from .conftest import create_bucket

ROWS = 6


@pytest.fixture
def stored(champion: Champion) -> pd.DataFrame:
    """Test rows as stored, every column (label included), with missing values in two rows."""
    return champion.rows_with_gaps(ROWS)


def expected(champion: Champion, frame: pd.DataFrame) -> list[object]:
    return champion.predict(champion.records(frame))


def test_champion_scores_a_csv_file_next_to_it(
    registered_model: str, champion: Champion, stored: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "batch.csv"
    stored.assign(visit_id=range(ROWS)).to_csv(source, index=False)

    output = predict_file(source, None, ModelReference(registered_model)).path

    scored = pd.read_csv(output)
    assert output == str(tmp_path / "batch.predictions.csv")
    assert list(scored.columns) == [*stored.columns, "visit_id", "prediction"]
    assert list(scored["visit_id"]) == list(range(ROWS))
    if champion.project.experiment.task == "classification":  # CSV: labels back as text
        labels = [str(label) for label in expected(champion, stored)]
        assert scored["prediction"].astype(str).tolist() == labels
    else:
        champion.assert_predictions(scored["prediction"].tolist(), expected(champion, stored))


def test_a_named_version_scores_parquet(
    registered_model: str, champion: Champion, stored: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "batch.parquet"
    stored.to_parquet(source)  # dates as dates

    output = predict_file(
        source, tmp_path / "out.parquet", ModelReference(registered_model, version="1")
    ).path

    scored = pd.read_parquet(output)
    champion.assert_predictions(scored["prediction"].tolist(), expected(champion, stored))


@pytest.mark.usefixtures("registered_model")
def test_command_line_reports_bad_input_without_a_traceback(
    champion: Champion, stored: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "batch.csv"
    first = champion.names[0]
    stored.drop(columns=[first]).to_csv(source, index=False)

    assert main([str(source)]) == 2
    assert f"missing column '{first}'" in capsys.readouterr().err
    assert not (tmp_path / "batch.predictions.csv").exists()


@pytest.mark.usefixtures("registered_model")
def test_command_line_writes_predictions(
    stored: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "batch.csv"
    stored.to_csv(source, index=False)

    assert main([str(source), "--output", str(tmp_path / "scored.csv")]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "scored.csv")) == ROWS


@pytest.mark.usefixtures("registered_model")
def test_unknown_alias_is_explained(
    stored: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "batch.csv"
    stored.to_csv(source, index=False)

    assert main([str(source), "--alias", "nonexistent"]) == 2
    assert "cannot load models:/" in capsys.readouterr().err


@pytest.mark.usefixtures("registered_model")
def test_a_file_larger_than_a_batch_scores_every_row_and_counts_rows_from_the_first(
    registered_model: str, champion: Champion, stored: pd.DataFrame, tmp_path: Path
) -> None:
    folder = tmp_path / "batches"
    folder.mkdir()
    source, output = folder / "batch.csv", folder / "scored.csv"
    stored.to_csv(source, index=False)
    reference = ModelReference(registered_model)

    scored = predict_file(source, output, reference, batch_rows=4)

    assert scored.rows == ROWS
    labels = [str(label) for label in expected(champion, stored)]
    if champion.project.experiment.task == "classification":
        assert pd.read_csv(output, dtype=str)["prediction"].tolist() == labels
    numeric = champion.numeric_column()
    bad = stored.astype({numeric: object})
    bad.loc[ROWS - 1, numeric] = "fast"  # in the second batch
    bad.to_csv(source, index=False)
    with pytest.raises(InputSchemaError, match=rf"rows \[{ROWS - 1}\] hold \"fast\""):
        predict_file(source, output, reference, batch_rows=4)
    assert scored.rows == len(pd.read_csv(output))  # the last good output, untouched
    assert sorted(p.name for p in folder.iterdir()) == ["batch.csv", "scored.csv"]


@pytest.mark.usefixtures("registered_model")
def test_a_file_in_s3_scores_into_s3(
    registered_model: str, champion: Champion, stored: pd.DataFrame, s3: Any, tmp_path: Path
) -> None:
    storage = load_metadata().storage
    create_bucket(s3, storage.bucket, storage.region)
    stored.to_csv(tmp_path / "batch.csv", index=False)
    s3.upload_file(str(tmp_path / "batch.csv"), storage.bucket, "incoming/batch.csv")

    scored = predict_file(
        f"s3://{storage.bucket}/incoming/batch.csv",
        f"s3://{storage.bucket}/scored/batch.parquet",
        ModelReference(registered_model),
        storage=storage,
    )

    assert scored.rows == ROWS
    s3.download_file(storage.bucket, "scored/batch.parquet", str(tmp_path / "scored.parquet"))
    predictions = pd.read_parquet(tmp_path / "scored.parquet")["prediction"].tolist()
    champion.assert_predictions(predictions, expected(champion, stored))
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=storage.bucket)["Contents"]]
    assert sorted(keys) == ["incoming/batch.csv", "scored/batch.parquet"]  # nothing else left
