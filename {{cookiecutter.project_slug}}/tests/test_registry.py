"""The champion rule, and registration against a real MLflow store."""

from typing import Any

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.pyfunc.model import PythonModel

from {{ cookiecutter.package_name }}.registry import (
    Aliases,
    Registration,
    current_champion,
    decide_champion,
    register,
)
from {{ cookiecutter.package_name }}.tracking import TrackingTarget
from {{ cookiecutter.package_name }}.validation import Check, GateResult


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


PASSED = GateResult("enabled", [Check("regression", True, "within 5 %")])
FAILED = GateResult("enabled", [Check("every_class", False, "never predicted: ['yes']")])
ALIASES = Aliases("champion", "challenger", promote_champion=True)


def register_version(
    target: TrackingTarget,
    metric: float,
    gate: GateResult = PASSED,
    aliases: Aliases = ALIASES,
) -> Registration:
    run_id, model_uri = log_run(metric)
    client = MlflowClient()
    current = current_champion(client, target.model_name, aliases.champion, "test_f1")
    decision = decide_champion(
        "test_f1", metric, current.metric if current else None, greater_is_better=True
    )
    return register(model_uri, run_id, target, gate, decision, aliases)


def alias_version(name: str, alias: str) -> str | None:
    try:
        return str(MlflowClient().get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def test_champion_alias_moves_only_to_better_versions_that_passed(tracking_uri: str) -> None:
    target = TrackingTarget(tracking_uri, "registry-test", "registry-model")
    mlflow.set_experiment(target.experiment_name)

    assert register_version(target, 0.70).version == "1"
    assert alias_version("registry-model", "champion") == "1"
    assert register_version(target, 0.60).version == "2"  # passed, does not beat the champion
    assert alias_version("registry-model", "champion") == "1"
    assert alias_version("registry-model", "challenger") == "2"
    assert register_version(target, 0.90, FAILED).version == "3"  # better, but failed the gate
    assert alias_version("registry-model", "champion") == "1"
    assert alias_version("registry-model", "challenger") == "2"
    staging = Aliases("champion", "challenger", promote_champion=False)
    assert register_version(target, 0.95, aliases=staging).version == "4"  # a person promotes
    assert alias_version("registry-model", "champion") == "1"
    assert alias_version("registry-model", "challenger") == "4"
    assert register_version(target, 0.97).version == "5"
    assert alias_version("registry-model", "champion") == "5"


def test_the_gate_is_recorded_on_the_version_and_the_run(tracking_uri: str) -> None:
    target = TrackingTarget(tracking_uri, "registry-test", "recorded-model")
    mlflow.set_experiment(target.experiment_name)

    registration = register_version(target, 0.9, FAILED)

    client = MlflowClient()
    version = client.get_model_version("recorded-model", registration.version)
    description = str(version.description)
    assert version.tags["validation_status"] == "failed"
    assert version.tags["validation.every_class"] == "false"
    assert description.startswith("validation failed: every_class: never predicted")
    assert "- every_class: FAILED (never predicted: ['yes'])" in description
    run = client.get_run(str(version.run_id))
    assert run.data.tags["validation_status"] == "failed"
    assert description in run.data.tags["mlflow.note.content"]
    assert alias_version("recorded-model", "challenger") is None
    summary = registration.summary("recorded-model", ALIASES, "dev")
    assert summary.startswith("Registered recorded-model version 1: validation failed")
    assert summary.endswith("no alias moved.")
