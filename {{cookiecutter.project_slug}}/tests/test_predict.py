"""Batch inference with a registered model: outputs, version choice and clear input errors."""

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.inference import (
    InputSchemaError,
    ModelReference,
    check_inputs,
    input_schema,
    load_model,
)
from {{ cookiecutter.package_name }}.predict import main, predict_file

from .sample_model import FEATURES, LABELS


def test_champion_scores_a_csv_file_next_to_it(registered_model: str, tmp_path: Path) -> None:
    source = tmp_path / "batch.csv"
    FEATURES.assign(visit_id=range(4)).to_csv(source, index=False)

    output = predict_file(source, None, ModelReference(registered_model))

    scored = pd.read_csv(output)
    assert output == tmp_path / "batch.predictions.csv"
    assert list(scored["prediction"]) == LABELS
    assert list(scored["visit_id"]) == [0, 1, 2, 3]


def test_a_named_version_scores_parquet(registered_model: str, tmp_path: Path) -> None:
    source = tmp_path / "batch.parquet"
    FEATURES.to_parquet(source)

    output = predict_file(
        source, tmp_path / "out.parquet", ModelReference(registered_model, version="1")
    )

    assert list(pd.read_parquet(output)["prediction"]) == LABELS


def test_input_errors_name_every_column_and_row(registered_model: str) -> None:
    schema = input_schema(load_model(ModelReference(registered_model)))
    bad = pd.DataFrame({"bpm_mean": [60.0, "fast", float("nan")], "other": [1, 2, 3]})

    with pytest.raises(InputSchemaError) as error:
        check_inputs(bad, schema)

    assert error.value.problems == [
        "missing column 'acc_mag_std'",
        "column 'bpm_mean' must be numeric (double); rows [1] hold ['fast']",
        "column 'bpm_mean' must be a finite number; rows [2] are missing or infinite",
    ]


@pytest.mark.usefixtures("registered_model")
def test_command_line_reports_bad_input_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "batch.csv"
    FEATURES.drop(columns=["acc_mag_std"]).to_csv(source, index=False)

    assert main([str(source)]) == 2
    assert "missing column 'acc_mag_std'" in capsys.readouterr().err
    assert not (tmp_path / "batch.predictions.csv").exists()


@pytest.mark.usefixtures("registered_model")
def test_command_line_writes_predictions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "batch.csv"
    FEATURES.to_csv(source, index=False)

    assert main([str(source), "--output", str(tmp_path / "scored.csv")]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert (tmp_path / "scored.csv").is_file()


@pytest.mark.usefixtures("registered_model")
def test_unknown_alias_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "batch.csv"
    FEATURES.to_csv(source, index=False)

    assert main([str(source), "--alias", "nonexistent"]) == 2
    assert "cannot load models:/" in capsys.readouterr().err
