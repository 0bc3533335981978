"""The champion rule, and registration against a real MLflow store."""

from typing import Any

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.pyfunc.model import PythonModel

from {{ cookiecutter.package_name }}.registry import decide_champion, register_and_promote
from {{ cookiecutter.package_name }}.tracking import TrackingTarget


@pytest.mark.parametrize(
    ("candidate", "champion", "greater_is_better", "promote"),
    [
        (0.8, None, True, True),
        (0.9, 0.8, True, True),
        (0.7, 0.8, True, False),
        (0.8, 0.8, True, False),
        (0.2, 0.3, False, True),
        (0.4, 0.3, False, False),
    ],
)
def test_champion_rule(
    candidate: float, champion: float | None, greater_is_better: bool, promote: bool
) -> None:
    decision = decide_champion("f1", candidate, champion, greater_is_better=greater_is_better)

    assert decision.promote is promote
    assert f"f1={candidate:.4f}" in decision.reason


def log_run(metric: float) -> tuple[str, str]:
    """A run with a test metric and a logged (dummy) model; returns run id and model URI."""
    with mlflow.start_run() as run:
        mlflow.log_metric("test_f1", metric)
        info = mlflow.pyfunc.log_model(
            name="model", python_model=ConstantModel(), pip_requirements=["mlflow"]
        )
    return run.info.run_id, info.model_uri


class ConstantModel(PythonModel):
    def predict(
        self, context: Any, model_input: Any, params: dict[str, Any] | None = None
    ) -> list[int]:
        return [0 for _ in model_input]


def promote(target: TrackingTarget, metric: float, allow: bool = True) -> str:
    run_id, model_uri = log_run(metric)
    registration = register_and_promote(
        model_uri,
        run_id,
        target,
        metric="test_f1",
        value=metric,
        greater_is_better=True,
        alias="champion",
        allow_promotion=allow,
    )
    return registration.version


def champion_version(name: str) -> str:
    return str(MlflowClient().get_model_version_by_alias(name, "champion").version)


def test_champion_alias_moves_only_to_better_versions(tracking_uri: str) -> None:
    target = TrackingTarget(tracking_uri, "registry-test", "registry-model")
    mlflow.set_experiment(target.experiment_name)

    assert promote(target, 0.70) == "1"
    assert champion_version("registry-model") == "1"
    assert promote(target, 0.60) == "2"  # registered, but does not beat the champion
    assert champion_version("registry-model") == "1"
    assert promote(target, 0.90) == "3"
    assert champion_version("registry-model") == "3"
    assert promote(target, 0.95, allow=False) == "4"  # better, but promotion is off here
    assert champion_version("registry-model") == "3"
