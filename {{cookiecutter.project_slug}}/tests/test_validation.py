"""The validation gate: each check holding and failing, and the three modes."""

from dataclasses import replace
from typing import Any

import pytest
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.config import ConfigError
from {{ cookiecutter.package_name }}.validation import (
    Candidate,
    ValidationSettings,
    run_gate,
    validation_settings,
)

INPUTS = {"age": "double", "plan": "string"}


def candidate(**changes: Any) -> Candidate:
    """A classifier that clears every default rule; ``changes`` break one at a time."""
    values: dict[str, Any] = {
        "metrics": {"accuracy": 0.82, "f1_macro": 0.80},
        "metric": "f1_macro",
        "greater_is_better": True,
        "champion_metric": 0.81,
        "ms_per_row": 0.05,
        "inputs": INPUTS,
        "champion_inputs": INPUTS,
        "classes": ["no", "yes"],
        "predicted": ["no", "yes", "no"],
    }
    return Candidate(**{**values, **changes})


def checks(result: Any) -> dict[str, bool]:
    return {check.name: check.passed for check in result.checks}


STRICT = ValidationSettings(
    min_metrics={"f1_macro": 0.7},
    max_metrics={"accuracy": 0.99},
    max_latency_ms_per_row=1.0,
)


def test_a_sound_version_passes_every_check() -> None:
    result = run_gate(candidate(), STRICT, "classification")

    assert result.passed and result.status == "passed"
    assert checks(result) == {
        "min_f1_macro": True,
        "max_accuracy": True,
        "regression": True,
        "latency": True,
        "signature": True,
        "every_class": True,
    }
    assert result.reason() == "validation passed: 6 checks held"


@pytest.mark.parametrize(
    ("changes", "failing", "detail"),
    [
        (
            {"metrics": {"accuracy": 0.8, "f1_macro": 0.65}, "champion_metric": 0.6},
            "min_f1_macro",
            "floor 0.7",
        ),
        ({"metrics": {"accuracy": 1.0, "f1_macro": 0.80}}, "max_accuracy", "ceiling 0.99"),
        ({"metrics": {"accuracy": 0.8, "f1_macro": 0.72}}, "regression", "-11.1%"),
        ({"ms_per_row": 2.5}, "latency", "2.500 ms per row, budget 1.0 ms"),
        ({"inputs": {"age": "double"}}, "signature", "drops ['plan']"),
        ({"inputs": {**INPUTS, "zip": "string"}}, "signature", "adds ['zip']"),
        ({"inputs": {**INPUTS, "age": "string"}}, "signature", "age (double -> string)"),
        ({"predicted": ["no", "no"]}, "every_class", "never predicted on the test set: ['yes']"),
    ],
)
def test_each_broken_rule_fails_the_version_and_says_why(
    changes: dict[str, Any], failing: str, detail: str
) -> None:
    result = run_gate(candidate(**changes), STRICT, "classification")

    assert not result.passed and result.status == "failed"
    assert [check.name for check in result.failed] == [failing]
    assert result.reason().startswith(f"validation failed: {failing}: ")
    assert detail in result.reason()


def test_lower_is_better_metrics_regress_upwards() -> None:
    base = candidate(
        metrics={"rmse": 10.0}, metric="rmse", greater_is_better=False, champion_metric=10.0
    )
    settings = ValidationSettings(max_regression=0.1)

    assert run_gate(replace(base, metrics={"rmse": 10.9}), settings, "regression").passed
    assert not run_gate(replace(base, metrics={"rmse": 11.5}), settings, "regression").passed
    assert "every_class" not in checks(run_gate(base, settings, "regression"))


def test_the_first_version_has_no_champion_to_regress_from() -> None:
    result = run_gate(
        candidate(champion_metric=None, champion_inputs=None),
        ValidationSettings(),
        "classification",
    )

    assert result.passed
    assert "no champion" in next(c.detail for c in result.checks if c.name == "regression")


def test_dry_run_reports_failures_but_passes() -> None:
    settings = ValidationSettings(mode="dry_run", min_metrics={"f1_macro": 0.9})

    result = run_gate(candidate(), settings, "classification")

    assert result.passed and result.status == "dry_run"
    assert [check.name for check in result.failed] == ["min_f1_macro"]
    assert result.reason().startswith("validation dry run (nothing blocked): failed min_f1_macro")


def test_disabled_runs_nothing() -> None:
    result = run_gate(candidate(predicted=["no"]), ValidationSettings(mode="disabled"), "x")

    assert result.passed and result.checks == [] and result.status == "disabled"


def test_a_bound_on_a_metric_the_task_lacks_is_named() -> None:
    settings = ValidationSettings(min_metrics={"r2": 0.5})

    with pytest.raises(ConfigError, match=r"min_metrics/max_metrics name \['r2'\]"):
        run_gate(candidate(), settings, "classification")


def test_settings_are_read_strictly_with_the_field_named() -> None:
    config = OmegaConf.create({"validation": {"mode": "on", "max_regresion": 0.1}})

    with pytest.raises(ConfigError) as error:
        validation_settings(config)

    message = str(error.value)
    assert message.startswith("conf/validation/default.yaml has unusable settings:")
    assert "  - mode: Input should be 'disabled', 'dry_run' or 'enabled'" in message
    assert "  - max_regresion: Extra inputs are not permitted" in message
