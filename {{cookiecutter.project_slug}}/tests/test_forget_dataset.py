"""Forgetting a dataset removes its runs and registered model, and nothing else."""

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.forget_dataset import forget_dataset, main
from {{ cookiecutter.package_name }}.metadata import load_metadata

from .conftest import TrainedProject


def test_the_dataset_runs_and_model_go(
    registered_model: str, trained_project: TrainedProject
) -> None:
    client = MlflowClient()
    metadata = load_metadata()
    dataset = trained_project.experiment.name

    runs, had_model = forget_dataset(
        client, metadata.tracking.experiment_name, registered_model, dataset
    )

    assert (runs, had_model) == (1, True)
    with pytest.raises(MlflowException):
        client.get_registered_model(registered_model)
    experiment = client.get_experiment_by_name(metadata.tracking.experiment_name)
    assert experiment is not None
    assert client.search_runs([experiment.experiment_id]) == []


@pytest.mark.usefixtures("registered_model")
def test_another_dataset_is_left_alone(
    trained_project: TrainedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["some-other-dataset"]) == 0

    assert (
        "Deleted 0 run(s) of dataset 'some-other-dataset' and no model" in capsys.readouterr().out
    )
    assert MlflowClient().get_registered_model(trained_project.model_name)


def test_a_shared_server_needs_confirmation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example.com")

    assert main(["churn"]) == 2
    assert "add --yes" in capsys.readouterr().err
