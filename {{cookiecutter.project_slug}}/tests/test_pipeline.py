"""The whole pipeline, stage after stage, on a small dataset in a scratch project."""

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.config import compose_config
from {{ cookiecutter.package_name }}.metadata import load_metadata
from {{ cookiecutter.package_name }}.stages.align import align
from {{ cookiecutter.package_name }}.stages.build_experiment import build_experiment
from {{ cookiecutter.package_name }}.stages.evaluate import evaluate
from {{ cookiecutter.package_name }}.stages.ingest import ingest
from {{ cookiecutter.package_name }}.stages.process import process
from {{ cookiecutter.package_name }}.stages.train import train

SMALL = [
    "data.ingest.participants=4",
    "data.ingest.sessions_per_task=1",
    "data.ingest.duration_s=30",
    "data.experiment.test_fraction=0.25",
    "model.estimator.n_estimators=20",
    "train.cv_folds=2",
]


@pytest.mark.usefixtures("tracking_uri")
def test_stages_run_end_to_end_and_register_a_champion(scratch_project: Path) -> None:
    config = compose_config(SMALL, root=scratch_project)
    metadata = load_metadata()

    ingest(config)
    align(config)
    process(config)
    build_experiment(config)
    cv_score = train(config)
    results = evaluate(config)

    slug = metadata.project.slug
    assert list((metadata.stage_dir("raw") / slug).rglob("*_accelerometer.csv"))
    assert list((metadata.stage_dir("raw_aligned") / slug).rglob("*.parquet"))
    experiment = metadata.stage_dir("experiment") / config.data.experiment.name
    train_set = pd.read_parquet(experiment / "train.parquet")
    test_set = pd.read_parquet(experiment / "test.parquet")
    assert not set(train_set["participant"]) & set(test_set["participant"])
    assert 0.0 <= cv_score <= 1.0

    metrics = json.loads((scratch_project / "results" / "metrics.json").read_text())
    assert metrics == results
    assert {"accuracy", "f1_macro"} <= set(metrics)
    for plot in ("confusion.csv", "class_scores.csv", "confusion_matrix.png", "class_scores.png"):
        assert (scratch_project / "results" / "plots" / plot).is_file()

    client = MlflowClient()
    champion = client.get_model_version_by_alias(
        metadata.tracking.registered_model_name, "champion"
    )
    assert str(champion.version) == "1"
    assert champion.run_id is not None
    run = client.get_run(champion.run_id)
    assert run.data.params["model.name"] == "random_forest"
    assert run.data.metrics["test_f1_macro"] == pytest.approx(metrics["f1_macro"])
    assert "cv_f1_macro" in run.data.metrics
    assert run.inputs is not None
    assert run.inputs.dataset_inputs[0].dataset.name == "activity-train"
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id, "plots")}
    assert "plots/confusion_matrix.png" in artifacts
    loaded = mlflow.pyfunc.load_model(f"models:/{metadata.tracking.registered_model_name}@champion")
    assert len(loaded.predict(test_set.drop(columns=["task", "participant"]))) == len(test_set)
