"""The modelling stages on the configured data: what each stage promises the next one.

``trained_project`` ran build_experiment, train and evaluate on a sample of the
configured table; these tests check the contracts between the stages, whatever the
table, the label and the task.
"""

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.config import compose_config
from {{ cookiecutter.package_name }}.data.column_types import model_input
from {{ cookiecutter.package_name }}.data.tables import TABLE_FILE
from {{ cookiecutter.package_name }}.metadata import load_metadata
from {{ cookiecutter.package_name }}.modeling import DEFAULT_METRIC
from {{ cookiecutter.package_name }}.stages.build_experiment import build_experiment
from {{ cookiecutter.package_name }}.stages.evaluate import evaluate
from {{ cookiecutter.package_name }}.stages.train import train

from .conftest import TRAIN_OVERRIDES, TrainedProject

PLOTS = {
    "classification": {
        "confusion.csv",
        "class_scores.csv",
        "confusion_matrix.png",
        "class_scores.png",
    },
    "regression": {"predictions.csv", "predicted_vs_actual.png", "residuals.png"},
}


def test_the_experiment_describes_its_columns(trained_project: TrainedProject) -> None:
    experiment = trained_project.experiment
    columns = [*experiment.features, *experiment.keys, experiment.label]

    for frame in (trained_project.train_set, trained_project.test_set):
        assert list(frame.columns) == columns
        assert frame[experiment.label].notna().all()
    assert experiment.label not in experiment.features
    assert experiment.rows == {
        "train": len(trained_project.train_set),
        "test": len(trained_project.test_set),
    }


def test_the_split_follows_its_strategy(trained_project: TrainedProject) -> None:
    split = trained_project.experiment.split
    train_set, test_set = trained_project.train_set, trained_project.test_set

    if split["strategy"] == "group":
        assert not set(train_set[split["group"]]) & set(test_set[split["group"]])
    elif split["strategy"] == "time":
        assert train_set[split["time"]].max() <= test_set[split["time"]].min()
    else:
        total = len(train_set) + len(test_set)
        assert len(test_set) == pytest.approx(split["test_size"] * total, abs=len(PLOTS) + 1)


def test_evaluation_writes_the_task_metrics_and_plots(trained_project: TrainedProject) -> None:
    task = trained_project.experiment.task
    results = trained_project.root / "results"

    metrics = json.loads((results / "metrics.json").read_text())
    assert metrics == trained_project.test_metrics
    assert DEFAULT_METRIC[task] in metrics
    assert {path.name for path in (results / "plots").iterdir()} == PLOTS[task]


def test_the_champion_is_the_trained_pipeline_with_its_signature(
    registered_model: str, trained_project: TrainedProject
) -> None:
    experiment = trained_project.experiment
    client = MlflowClient()

    champion = client.get_model_version_by_alias(registered_model, "champion")
    assert str(champion.version) == "1"
    assert champion.run_id is not None
    run = client.get_run(champion.run_id)
    assert run.data.tags["dataset"] == experiment.name
    assert run.data.tags["task"] == experiment.task
    assert f"cv_{DEFAULT_METRIC[experiment.task]}" in run.data.metrics
    assert run.inputs is not None
    datasets = {
        item.dataset.name: {tag.value for tag in item.tags} for item in run.inputs.dataset_inputs
    }
    assert datasets == {
        f"{experiment.name}-train": {"training"},
        f"{experiment.name}-test": {"evaluation"},
    }
    # What MLflow's UI shows: a run named and described by what it trained on what,
    # params as used (no None for a setting that took its value elsewhere), and an
    # experiment that opens on its runs (not on MLflow's GenAI pages).
    assert run.info.run_name.endswith(f" on {experiment.name}")
    assert f"trained on the {experiment.name} dataset" in run.data.tags["mlflow.note.content"]
    for name in ("tracking.experiment_name", "tracking.registered_model_name", "tracking.metric"):
        assert run.data.params[name] not in {"None", ""}, name
    kind = client.get_experiment(run.info.experiment_id).tags["mlflow.experimentKind"]
    assert kind == "custom_model_development"
    registered = client.get_registered_model(registered_model)
    assert experiment.label in str(registered.description)
    assert champion.tags["dataset"] == experiment.name
    assert champion.tags["champion_decision"] == "promote"
    assert champion.tags["champion_reason"].startswith("no champion yet")
    assert f"test_{DEFAULT_METRIC[experiment.task]}" in champion.tags

    model = mlflow.pyfunc.load_model(f"models:/{registered_model}@champion")
    signature = model.metadata.get_input_schema()
    assert signature is not None
    assert signature.input_names() == list(experiment.features)
    test_set = trained_project.test_set
    predicted = np.asarray(model.predict(model_input(test_set, experiment.features)))
    assert len(predicted) == len(test_set)
    if experiment.task == "classification":
        assert set(predicted) <= set(experiment.classes or [])
    else:
        assert np.isfinite(predicted.astype(float)).all()


def test_the_model_imputes_missing_inputs(
    registered_model: str, trained_project: TrainedProject
) -> None:
    experiment = trained_project.experiment
    rows = model_input(trained_project.test_set.head(3), experiment.features)
    blank = rows.astype("object").where(pd.DataFrame(False, index=rows.index, columns=rows.columns))
    for name, kind in experiment.features.items():
        if kind in ("numeric", "boolean"):
            blank[name] = np.nan
    model = mlflow.pyfunc.load_model(f"models:/{registered_model}@champion")

    assert len(model.predict(blank)) == 3


def test_another_dataset_gets_a_champion_of_its_own(
    registered_model: str, scratch_project: Path, configured_table: pd.DataFrame
) -> None:
    metadata = load_metadata()
    other = compose_config([*TRAIN_OVERRIDES, "++data.name=other"], root=scratch_project)
    folder = metadata.stage_dir("processed") / "other"
    folder.mkdir(parents=True)
    configured_table.to_parquet(folder / TABLE_FILE)

    build_experiment(other)
    train(other)
    evaluate(other)

    client = MlflowClient()
    other_name = metadata.registered_model_name("other")
    assert str(client.get_model_version_by_alias(other_name, "champion").version) == "1"
    assert str(client.get_model_version_by_alias(registered_model, "champion").version) == "1"
    assert len(client.search_model_versions(f"name='{registered_model}'")) == 1
