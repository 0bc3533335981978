"""The monitor command on the trained project: reference from the run, logs or a file, verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.config import ConfigError
from {{ cookiecutter.package_name }}.data.column_types import model_input
from {{ cookiecutter.package_name }}.metadata import load_metadata
from {{ cookiecutter.package_name }}.monitoring.lineage import Lineage
from {{ cookiecutter.package_name }}.monitoring.monitor import (
    ALARM_EXIT,
    HEALTHY_EXIT,
    UNUSABLE_EXIT,
    main,
)
from {{ cookiecutter.package_name }}.monitoring.reference import cached_reference
from {{ cookiecutter.package_name }}.monitoring.settings import (
    Thresholds,
    load_monitor_settings,
)
from {{ cookiecutter.package_name }}.prediction_log import LogSettings, PredictionLog

from .conftest import TrainedProject

BATCH_ROWS = 300


def report(folder: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((folder / "monitor.json").read_text(encoding="utf-8"))
    return result


def run_monitor(*args: str, output: Path) -> tuple[int, dict[str, Any]]:
    status = main([*args, "--output-dir", str(output)])
    return status, report(output) if (output / "monitor.json").is_file() else {}


def training_rows(project: TrainedProject, rows: int = BATCH_ROWS) -> pd.DataFrame:
    features = project.features(project.train_set)
    return features.sample(n=min(rows, len(features)), random_state=3).reset_index(drop=True)


def spread_out_numeric_feature(project: TrainedProject, batch: pd.DataFrame) -> str:
    """The numeric feature with the most distinct values (the one a shift shows best)."""
    numeric = [n for n, kind in project.experiment.features.items() if kind == "numeric"]
    if not numeric:
        pytest.skip("the configured dataset has no numeric feature")
    return max(numeric, key=lambda name: batch[name].nunique())


def version_one_run(model_name: str) -> str:
    return str(MlflowClient().get_model_version(model_name, "1").run_id)


def test_the_run_keeps_the_reference_of_its_model(
    registered_model: str, trained_project: TrainedProject, tmp_path: Path
) -> None:
    run_id = version_one_run(registered_model)
    cache = tmp_path / "references"

    reference = Lineage(mlflow.get_tracking_uri()).fetch_reference(
        cache, run_id, registered_model, "1"
    )

    assert reference.feature_types == trained_project.experiment.features
    assert reference.task == trained_project.experiment.task
    assert len(reference.inputs) == len(trained_project.train_set)  # under the row cap
    assert list(reference.inputs.columns) == list(trained_project.experiment.features)
    assert reference.predictions is not None
    assert len(reference.predictions) == len(trained_project.test_set)
    assert reference.test_metrics == pytest.approx(trained_project.test_metrics)
    copy = cached_reference(cache, run_id, registered_model, "1")
    assert copy is not None and copy.test_metrics == reference.test_metrics
    pd.testing.assert_frame_equal(copy.inputs, reference.inputs)
    assert [path.name for path in cache.iterdir()] == [run_id]  # no staging folder left


def test_a_cached_reference_needs_no_tracking_server(
    registered_model: str,
    trained_project: TrainedProject,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = training_rows(trained_project)
    write_logged_batch(registered_model, batch, served_predictions(trained_project, batch))
    _, first = run_monitor(output=tmp_path / "first")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # nothing listens there

    _, second = run_monitor(output=tmp_path / "second")

    assert second["columns"] == first["columns"]
    assert second["model"] == first["model"]


def test_training_rows_are_healthy(
    registered_model: str, trained_project: TrainedProject, tmp_path: Path
) -> None:
    batch = tmp_path / "batch.parquet"
    training_rows(trained_project).to_parquet(batch)

    status, content = run_monitor("--data", str(batch), output=tmp_path / "report")

    assert status == HEALTHY_EXIT, content["verdict"]
    assert content["status"] == "healthy" and content["alarms"] == []
    assert content["model"]["version"] == "1"
    assert {column["column"] for column in content["columns"]} == set(
        trained_project.experiment.features
    )
    page = (tmp_path / "report" / "monitor.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Healthy" in page and "<svg" in page


def test_a_shift_and_gaps_raise_an_alarm_naming_the_columns(
    registered_model: str, trained_project: TrainedProject, tmp_path: Path
) -> None:
    batch = training_rows(trained_project)
    shifted = spread_out_numeric_feature(trained_project, batch)
    batch[shifted] = batch[shifted] + 2 * batch[shifted].std()
    gappy = next(name for name in batch.columns if name != shifted)
    batch.loc[: len(batch) // 5, gappy] = None
    path = tmp_path / "batch.csv"
    batch.to_csv(path, index=False)

    status, content = run_monitor("--data", str(path), output=tmp_path / "report")

    assert status == ALARM_EXIT
    raised = {(alarm["column"], alarm["check"]) for alarm in content["alarms"]}
    assert (shifted, "drift") in raised and (gappy, "missing") in raised
    assert content["columns"][0]["alarm"] is True
    assert content["verdict"].startswith("Alarm:") and shifted in content["verdict"]


def write_logged_batch(model_name: str, batch: pd.DataFrame, predictions: list[Any]) -> Path:
    folder = load_metadata().prediction_log_dir(model_name)
    log = PredictionLog(LogSettings(folder), model_name, "1", version_one_run(model_name))
    for start in range(0, len(batch), 50):
        rows = batch.iloc[start : start + 50]
        log.write(f"req-{start}", rows.to_dict("records"), predictions[start : start + 50])
    log.close()
    return folder


def served_predictions(project: TrainedProject, batch: pd.DataFrame) -> list[Any]:
    model = mlflow.pyfunc.load_model(f"models:/{project.model_name}/1")
    inputs = model_input(batch, project.experiment.features)
    return list(np.asarray(model.predict(inputs)).tolist())


def test_the_logged_predictions_of_the_window_are_checked(
    registered_model: str, trained_project: TrainedProject, tmp_path: Path
) -> None:
    batch = training_rows(trained_project)
    folder = write_logged_batch(registered_model, batch, served_predictions(trained_project, batch))
    old = dict(json.loads(next(folder.glob("*.jsonl")).read_text().splitlines()[0]))
    old.update(time="2001-01-01T00:00:00.000000Z", request_id="ancient")
    (folder / "old-1-20010101T000000000000.jsonl").write_text(json.dumps(old) + "\n")

    status, content = run_monitor(output=tmp_path / "report")

    # Training rows: their features are the reference's, but their predictions are
    # in-sample (the reference's are on the test set), so only the inputs must be calm.
    assert status in (HEALTHY_EXIT, ALARM_EXIT)
    assert [alarm for alarm in content["alarms"] if alarm["column"] != "prediction"] == []
    assert content["batch"]["rows"] == len(batch)  # the 2001 line is outside the window
    assert content["model"]["run_id"] == version_one_run(registered_model)
    assert any(column["column"] == "prediction" for column in content["columns"])


def test_labels_that_arrive_later_give_the_live_metric(
    registered_model: str, trained_project: TrainedProject, tmp_path: Path
) -> None:
    batch = training_rows(trained_project)
    predictions = served_predictions(trained_project, batch)
    write_logged_batch(registered_model, batch, predictions)
    keys = pd.DataFrame(
        {
            "request_id": [f"req-{i // 50 * 50}" for i in range(len(batch))],
            "row": [i % 50 for i in range(len(batch))],
        }
    )
    label = trained_project.experiment.label
    right = keys.assign(**{label: predictions})
    if trained_project.experiment.task == "classification":
        classes = sorted(set(trained_project.train_set[label]), key=str)
        wrong = [classes[(classes.index(p) + 1) % len(classes)] for p in predictions]
    else:
        wrong = [p + 10 * float(np.std(predictions) + 1) for p in predictions]
    right.to_csv(tmp_path / "right.csv", index=False)
    keys.assign(**{label: wrong}).to_csv(tmp_path / "wrong.csv", index=False)

    good_status, good = run_monitor(
        "--labels", str(tmp_path / "right.csv"), output=tmp_path / "good"
    )
    bad_status, bad = run_monitor("--labels", str(tmp_path / "wrong.csv"), output=tmp_path / "bad")

    assert good_status in (HEALTHY_EXIT, ALARM_EXIT)  # see the test above on predictions
    assert good["performance"]["alarm"] is False
    assert good["performance"]["labelled_rows"] == len(batch)
    assert bad_status == ALARM_EXIT and bad["performance"]["alarm"] is True
    assert bad["verdict"].startswith("Alarm: " + bad["performance"]["metric"])


def test_labels_without_their_key_are_named(
    registered_model: str,
    trained_project: TrainedProject,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    batch = training_rows(trained_project, 10)
    write_logged_batch(registered_model, batch, served_predictions(trained_project, batch))
    pd.DataFrame({"customer": [1]}).to_csv(tmp_path / "labels.csv", index=False)

    status, _ = run_monitor("--labels", str(tmp_path / "labels.csv"), output=tmp_path / "report")

    assert status == UNUSABLE_EXIT
    assert "labels.csv has no column(s) ['request_id'" in capsys.readouterr().err


@pytest.mark.usefixtures("registered_model")
def test_no_logs_in_the_window_is_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run_monitor(output=tmp_path / "report")

    assert status == UNUSABLE_EXIT
    assert "no predictions logged in" in capsys.readouterr().err
    assert not (tmp_path / "report").exists()


def test_a_model_trained_before_monitoring_is_named(
    registered_model: str,
    trained_project: TrainedProject,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with mlflow.start_run() as run:
        pass  # a run that logged no reference
    source = str(MlflowClient().get_model_version(registered_model, "1").source)
    MlflowClient().create_model_version(registered_model, source, run.info.run_id)
    batch = tmp_path / "batch.parquet"
    training_rows(trained_project, 20).to_parquet(batch)

    status, _ = run_monitor("--data", str(batch), "--model-version", "2", output=tmp_path / "r")

    assert status == UNUSABLE_EXIT
    assert "logged no monitoring reference" in capsys.readouterr().err


@pytest.mark.usefixtures("scratch_project")
def test_settings_come_from_conf_monitor_and_bad_ones_are_named() -> None:
    settings, config = load_monitor_settings(["monitor.window_hours=6"])

    assert settings.window_hours == 6
    assert settings.thresholds == Thresholds()  # the file holds the documented defaults
    assert "monitor" in config
    with pytest.raises(ConfigError) as error:
        load_monitor_settings(["monitor.thresholds.false_alarm_rate=2", "+monitor.windw=1"])
    assert "conf/monitor/default.yaml has unusable settings" in str(error.value)
    assert "thresholds.false_alarm_rate: Input should be less than 1" in str(error.value)
    assert "windw: Extra inputs are not permitted" in str(error.value)
