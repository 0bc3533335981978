"""The model registry: register a trained version, record its validation, move its aliases.

One champion per dataset: the registered model is ``<tracking.registered_model_name>-<dataset>``
(see :mod:`.tracking`), so a model of another table never competes with this one's.

Two aliases (names in ``conf/tracking/``): ``challenger``, the latest version that
passed the validation gate (:mod:`.validation`), and ``champion``, the version
``make serve`` and batch scoring load. Every version is registered, gate passed or
not, with the gate's checks as tags and its verdict as the description. Where the
environment promotes by itself (``env.promote_champion``: dev), a version that
passed and beats the champion on the champion metric becomes champion at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from .tracking import RUN_DESCRIPTION_TAG, TrackingTarget
from .validation import GateResult

HISTORY_TAG = "champion_history"  # on the registered model: the champion's versions, oldest first


@dataclass(frozen=True)
class ChampionDecision:
    """Whether a new model version beats the champion, and why."""

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


def alias_version(client: MlflowClient, model_name: str, alias: str) -> str | None:
    """The version ``alias`` points to, or None when none does."""
    try:
        return str(client.get_model_version_by_alias(model_name, alias).version)
    except MlflowException:
        return None


def champion_history(client: MlflowClient, model_name: str) -> list[str]:
    """The versions the champion alias pointed to, oldest first (what rollback walks back)."""
    tags = client.get_registered_model(model_name).tags
    return [str(version) for version in json.loads(tags.get(HISTORY_TAG, "[]"))]


def move_champion(client: MlflowClient, model_name: str, alias: str, version: str) -> None:
    """Point the champion ``alias`` at ``version`` and add it to the champion's history."""
    history = champion_history(client, model_name)
    previous = alias_version(client, model_name, alias)
    if previous is not None and history[-1:] != [previous]:
        history.append(previous)  # the alias was moved by hand, outside this project's commands
    client.set_registered_model_alias(model_name, alias, version)
    client.set_registered_model_tag(model_name, HISTORY_TAG, json.dumps([*history, version]))


@dataclass(frozen=True)
class CurrentChampion:
    """The version an alias points to: its number, its metric and the inputs it takes."""

    version: str
    metric: float | None
    inputs: dict[str, str] | None


def signature_inputs(model_uri: str) -> dict[str, str] | None:
    """The input columns of a logged model and their types, or None without a signature."""
    signature = mlflow.models.get_model_info(model_uri).signature
    if signature is None:
        return None
    return {
        str(spec.name): str(getattr(spec.type, "name", spec.type))
        for spec in signature.inputs.inputs
    }


def current_champion(
    client: MlflowClient, model_name: str, alias: str, metric: str
) -> CurrentChampion | None:
    """The version holding ``alias``, or None when no version does."""
    number = alias_version(client, model_name, alias)
    if number is None:
        return None
    version = client.get_model_version(model_name, number)
    value = client.get_run(version.run_id).data.metrics.get(metric) if version.run_id else None
    source = client.get_model_version_download_uri(model_name, str(version.version))
    return CurrentChampion(
        str(version.version),
        float(value) if value is not None else None,
        signature_inputs(source),
    )


@dataclass(frozen=True)
class Aliases:
    """The registry's alias names and whether ``champion`` may move without a person."""

    champion: str
    challenger: str
    promote_champion: bool


@dataclass(frozen=True)
class Registration:
    """The registered version, its gate and champion decisions, and the aliases moved."""

    version: str
    gate: GateResult
    decision: ChampionDecision
    challenger: bool
    champion: bool

    def summary(self, model_name: str, aliases: Aliases, env: str) -> str:
        """What happened, for the stage's output."""
        if not self.gate.passed:
            outcome = "no alias moved"
        elif self.champion:
            outcome = f"'{aliases.challenger}' and '{aliases.champion}' now point to it"
        else:
            outcome = f"'{aliases.challenger}' now points to it; '{aliases.champion}' stays"
            if self.decision.promote:
                outcome += f" (in env={env} a person promotes: make promote VERSION={self.version})"
        return (
            f"Registered {model_name} version {self.version}: {self.gate.reason()}; "
            f"{self.decision.reason}; {outcome}."
        )


def describe(gate: GateResult, decision: ChampionDecision) -> str:
    """The version's description: the gate's verdict, each check, the champion rule."""
    lines = [gate.reason() + "."]
    lines += [
        f"- {check.name}: {'passed' if check.passed else 'FAILED'} ({check.detail})"
        for check in gate.checks
    ]
    lines.append(f"Champion rule: {decision.reason}.")
    return "\n".join(lines)


def register(
    model_uri: str,
    run_id: str,
    target: TrackingTarget,
    gate: GateResult,
    decision: ChampionDecision,
    aliases: Aliases,
    *,
    tags: Mapping[str, str] | None = None,
    model_description: str | None = None,
) -> Registration:
    """Register a version with its validation record; move the aliases it has earned.

    ``tags`` (the metric, the data version) go on the version with the gate's and the
    champion rule's; ``model_description`` describes the registered model itself.
    """
    client = MlflowClient()
    name = target.model_name
    version_tags = {
        **(tags or {}),
        "run_id": run_id,
        "validation_status": gate.status,
        **{f"validation.{check.name}": str(check.passed).lower() for check in gate.checks},
        "champion_decision": "promote" if decision.promote else "keep",
        "champion_reason": decision.reason,
    }
    version = str(mlflow.register_model(model_uri, name, tags=version_tags).version)
    if model_description is not None:
        client.update_registered_model(name, description=model_description)
    description = describe(gate, decision)
    client.update_model_version(name, version, description=description)
    run = client.get_run(run_id)
    earlier = run.data.tags.get(RUN_DESCRIPTION_TAG)
    client.set_tag(
        run_id, RUN_DESCRIPTION_TAG, f"{earlier}\n\n{description}" if earlier else description
    )
    client.set_tag(run_id, "validation_status", gate.status)
    challenger = gate.passed
    champion = gate.passed and decision.promote and aliases.promote_champion
    if challenger:
        client.set_registered_model_alias(name, aliases.challenger, version)
    if champion:
        move_champion(client, name, aliases.champion, version)
    return Registration(version, gate, decision, challenger, champion)
