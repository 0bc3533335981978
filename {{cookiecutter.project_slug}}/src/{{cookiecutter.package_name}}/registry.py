"""The model registry: register a trained version and decide whether it becomes champion.

One champion per dataset: the registered model is ``<tracking.registered_model_name>-<dataset>``
(see :mod:`.tracking`), so a model of another table never competes with this one's.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from .tracking import TrackingTarget


@dataclass(frozen=True)
class ChampionDecision:
    """Whether a new model version takes the champion alias, and why."""

    promote: bool
    reason: str


def decide_champion(
    metric: str, candidate: float, champion: float | None, *, greater_is_better: bool
) -> ChampionDecision:
    """Compare a candidate's metric with the current champion's."""
    if champion is None:
        return ChampionDecision(True, f"no champion yet; {metric}={candidate:.4f}")
    better = candidate > champion if greater_is_better else candidate < champion
    comparison = "beats" if better else "does not beat"
    return ChampionDecision(
        better, f"{metric}={candidate:.4f} {comparison} the champion's {champion:.4f}"
    )


def alias_metric(client: MlflowClient, model_name: str, alias: str, metric: str) -> float | None:
    """Return the metric of the version holding ``alias``, or None when none does."""
    try:
        version = client.get_model_version_by_alias(model_name, alias)
    except MlflowException:
        return None
    if version.run_id is None:
        return None
    value = client.get_run(version.run_id).data.metrics.get(metric)
    return float(value) if value is not None else None


@dataclass(frozen=True)
class Registration:
    """The registered model version and the champion decision taken for it."""

    version: str
    decision: ChampionDecision
    promoted: bool


def register_and_promote(
    model_uri: str,
    run_id: str,
    target: TrackingTarget,
    *,
    metric: str,
    value: float,
    greater_is_better: bool,
    alias: str,
    allow_promotion: bool = True,
) -> Registration:
    """Register a model version; move ``alias`` to it only when it beats the champion."""
    client = MlflowClient()
    current = alias_metric(client, target.model_name, alias, metric)
    version = mlflow.register_model(model_uri, target.model_name, tags={"run_id": run_id}).version
    decision = decide_champion(metric, value, current, greater_is_better=greater_is_better)
    promoted = decision.promote and allow_promotion
    if promoted:
        client.set_registered_model_alias(target.model_name, alias, str(version))
    return Registration(str(version), decision, promoted)
