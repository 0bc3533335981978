"""The validation gate: what a new model version must pass before an alias may move to it.

Settings come from ``conf/validation/`` (the ``validation`` config group):

- ``min_metrics`` / ``max_metrics``: floors and ceilings on test metrics;
- ``max_regression``: how much worse than the current champion the version may be
  on the champion metric, relative (0.05: 5 % worse at most);
- ``max_latency_ms_per_row``: the budget per row, measured predicting the test set;
- ``compatible_signature``: the version takes the champion's input columns and types,
  so clients of the service keep working;
- ``every_class_predicted`` (classification): each class of the test set is predicted
  at least once, so a model that has collapsed onto a few classes is caught.

``mode``: ``disabled`` runs nothing and the version passes; ``dry_run`` runs and
reports every check but the version passes whatever they say; ``enabled`` fails
the version when any check fails. The ``evaluate`` stage records the result (see
:mod:`.registry`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from omegaconf import DictConfig, OmegaConf
from pydantic import Field, ValidationError

from .config import ConfigError
from .strict import StrictModel, field_problems

CONFIG_FILE = "conf/validation/default.yaml"
Mode = Literal["disabled", "dry_run", "enabled"]


class ValidationSettings(StrictModel):
    """The gate's rules (see the module's documentation)."""

    mode: Mode = "enabled"
    min_metrics: dict[str, float] = Field(default_factory=dict)
    max_metrics: dict[str, float] = Field(default_factory=dict)
    max_regression: float = Field(default=0.05, ge=0)
    max_latency_ms_per_row: float | None = Field(default=None, gt=0)
    compatible_signature: bool = True
    every_class_predicted: bool = True


def validation_settings(config: DictConfig) -> ValidationSettings:
    """The composed config's ``validation`` group, checked.

    Raises:
        ConfigError: A setting breaks its rule; the message names the file and field.
    """
    values = OmegaConf.to_container(config.validation, resolve=True)
    try:
        return ValidationSettings.model_validate(values)
    except ValidationError as error:
        raise ConfigError(
            f"{CONFIG_FILE} has unusable settings:\n{field_problems(error)}"
        ) from None


@dataclass(frozen=True)
class Check:
    """One rule applied to the version: its name, whether it held, and what was measured."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Candidate:
    """What the gate knows of the new version and of the champion it would replace."""

    metrics: Mapping[str, float]
    metric: str
    greater_is_better: bool
    champion_metric: float | None
    ms_per_row: float
    inputs: Mapping[str, str]
    champion_inputs: Mapping[str, str] | None
    classes: Sequence[Any]
    predicted: Sequence[Any]


@dataclass(frozen=True)
class GateResult:
    """Every check, the mode, and the decision."""

    mode: Mode
    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        """The checks that did not hold."""
        return [check for check in self.checks if not check.passed]

    @property
    def passed(self) -> bool:
        """Whether an alias may move to the version (always, unless ``enabled``)."""
        return self.mode != "enabled" or not self.failed

    @property
    def status(self) -> str:
        """``passed``, ``failed``, ``dry_run`` (checks ran, ignored) or ``disabled``."""
        if self.mode != "enabled":
            return self.mode
        return "passed" if self.passed else "failed"

    def reason(self) -> str:
        """One sentence: the decision and, when checks failed, which and why."""
        if self.mode == "disabled":
            return "validation disabled: no check ran"
        failed = "; ".join(f"{check.name}: {check.detail}" for check in self.failed)
        if self.mode == "dry_run":
            summary = f"failed {failed}" if failed else "every check held"
            return f"validation dry run (nothing blocked): {summary}"
        if failed:
            return f"validation failed: {failed}"
        return f"validation passed: {len(self.checks)} checks held"


def metric_bounds(
    metrics: Mapping[str, float],
    minimums: Mapping[str, float],
    maximums: Mapping[str, float],
) -> list[Check]:
    """A check per floor and ceiling.

    Raises:
        ConfigError: A bound names a metric the evaluation does not compute.
    """
    unknown = sorted((set(minimums) | set(maximums)) - set(metrics))
    if unknown:
        raise ConfigError(
            f"{CONFIG_FILE}: min_metrics/max_metrics name {unknown}, which this model's "
            f"evaluation does not compute; it computes {sorted(metrics)}"
        )
    checks = [
        Check(f"min_{name}", metrics[name] >= bound, f"{name}={metrics[name]:.4f}, floor {bound}")
        for name, bound in minimums.items()
    ]
    checks += [
        Check(f"max_{name}", metrics[name] <= bound, f"{name}={metrics[name]:.4f}, ceiling {bound}")
        for name, bound in maximums.items()
    ]
    return checks


def regression(candidate: Candidate, max_regression: float) -> Check:
    """The champion metric no worse than the champion's by more than ``max_regression``."""
    value, champion = candidate.metrics[candidate.metric], candidate.champion_metric
    if champion is None:
        return Check(
            "regression", True, f"no champion to compare with; {candidate.metric}={value:.4f}"
        )
    worse_by = (champion - value) if candidate.greater_is_better else (value - champion)
    relative = worse_by / abs(champion) if champion else (math.inf if worse_by > 0 else 0.0)
    return Check(
        "regression",
        relative <= max_regression,
        f"{candidate.metric}={value:.4f} against the champion's {champion:.4f} "
        f"({-relative:+.1%}; at most {max_regression:.0%} worse allowed)",
    )


def latency(ms_per_row: float, budget: float) -> Check:
    """Prediction time per row within the budget."""
    return Check(
        "latency", ms_per_row <= budget, f"{ms_per_row:.3f} ms per row, budget {budget} ms"
    )


def signature(inputs: Mapping[str, str], champion_inputs: Mapping[str, str] | None) -> Check:
    """The version takes every input the champion takes, with the same types, and no new one."""
    if champion_inputs is None:
        return Check("signature", True, "no champion to compare with")
    missing = sorted(set(champion_inputs) - set(inputs))
    added = sorted(set(inputs) - set(champion_inputs))
    retyped = sorted(
        f"{name} ({champion_inputs[name]} -> {inputs[name]})"
        for name in set(inputs) & set(champion_inputs)
        if inputs[name] != champion_inputs[name]
    )
    problems = [
        f"{label} {names}"
        for label, names in (("drops", missing), ("adds", added), ("retypes", retyped))
        if names
    ]
    if problems:
        return Check("signature", False, "against the champion's inputs it " + ", ".join(problems))
    return Check("signature", True, f"the champion's {len(inputs)} inputs, same types")


def every_class(classes: Sequence[Any], predicted: Sequence[Any]) -> Check:
    """Each class of the test set predicted at least once."""
    never = sorted({str(name) for name in classes} - {str(name) for name in predicted})
    if never:
        return Check("every_class", False, f"never predicted on the test set: {never}")
    return Check("every_class", True, f"all {len(set(classes))} classes predicted")


def run_gate(candidate: Candidate, settings: ValidationSettings, task: str) -> GateResult:
    """Apply every configured check to ``candidate``."""
    if settings.mode == "disabled":
        return GateResult("disabled", [])
    checks = metric_bounds(candidate.metrics, settings.min_metrics, settings.max_metrics)
    checks.append(regression(candidate, settings.max_regression))
    if settings.max_latency_ms_per_row is not None:
        checks.append(latency(candidate.ms_per_row, settings.max_latency_ms_per_row))
    if settings.compatible_signature:
        checks.append(signature(candidate.inputs, candidate.champion_inputs))
    if settings.every_class_predicted and task == "classification":
        checks.append(every_class(candidate.classes, candidate.predicted))
    return GateResult(settings.mode, checks)
