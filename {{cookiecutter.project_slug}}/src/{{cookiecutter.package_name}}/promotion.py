"""Promotion and rollback of the champion: explicit, recorded, and only for validated versions.

    make promote VERSION=4      # the champion alias moves to version 4
    make rollback               # it moves back to the version it held before

In ``env=dev`` a version that passes the validation gate and beats the champion
is promoted by the ``evaluate`` stage itself; in ``staging`` and ``prod``
(``env.promote_champion: false``) a person promotes with this command. It refuses
a version whose gate did not pass (tag ``validation_status``), and records on the
version who promoted it and when (tags ``promoted_by``, ``promoted_at``) and, on the
registered model, the champion's history (tag ``champion_history``), which
``rollback`` walks back.

When the version was registered on another server (``env.promote_from``: staging's
tracking URI, in ``conf/env/prod.yaml``), it is first copied into this
environment's registry (:func:`copy_version`): the model, the run's params and
metrics, the monitor's reference and the validation record, as a new version
whose tag ``copied_from`` names the original.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts
from mlflow.entities import Metric, Param
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from .config import ConfigError, compose_config
from .metadata import MetadataError, load_metadata
from .registry import HISTORY_TAG, alias_version, champion_history, move_champion
from .tracking import tracking_target

VALIDATED = "passed"
MODEL_ARTIFACTS = "model"  # where a copied version's model goes in its new run


class PromotionError(RuntimeError):
    """A promotion or rollback that must not happen; the message says why."""


@dataclass(frozen=True)
class Move:
    """The champion alias moved from one version (None: none held it) to another."""

    model_name: str
    alias: str
    previous: str | None
    current: str


def _stamp(client: MlflowClient, model_name: str, version: str, action: str) -> None:
    client.set_model_version_tag(model_name, version, f"{action}_by", getpass.getuser())
    client.set_model_version_tag(
        model_name,
        version,
        f"{action}_at",
        datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def copy_version(
    source: MlflowClient, target: MlflowClient, model_name: str, version: str, experiment: str
) -> str:
    """Copy ``version`` of ``model_name`` from the ``source`` registry to ``target``'s.

    Returns the version number it gets in ``target``. Raises PromotionError when the
    source has no such version or it did not pass the gate (nothing is copied then).
    """
    found = _validated(source, model_name, version)
    origin = source.get_run(str(found.run_id))
    experiment_id = _experiment_id(target, experiment)
    copied_from = f"{source.tracking_uri} {model_name} version {version}"
    tags = {  # the run's own tags; MLflow's (mlflow.*) describe the original run, not this one
        key: value for key, value in origin.data.tags.items() if not key.startswith("mlflow.")
    }
    run = target.create_run(
        experiment_id, run_name=origin.info.run_name, tags={**tags, "copied_from": copied_from}
    )
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    target.log_batch(
        run_id,
        metrics=[Metric(key, value, now, 0) for key, value in origin.data.metrics.items()],
        params=[Param(key, value) for key, value in origin.data.params.items()],
    )
    with tempfile.TemporaryDirectory() as folder:
        model = download_artifacts(
            artifact_uri=source.get_model_version_download_uri(model_name, version),
            dst_path=str(Path(folder) / "model"),
            tracking_uri=source.tracking_uri,
        )
        target.log_artifacts(run_id, model, MODEL_ARTIFACTS)
        for path in source.list_artifacts(origin.info.run_id):
            if path.is_dir and path.path != MODEL_ARTIFACTS:  # the reference, the plots
                local = download_artifacts(
                    run_id=origin.info.run_id,
                    artifact_path=path.path,
                    dst_path=folder,
                    tracking_uri=source.tracking_uri,
                )
                target.log_artifacts(run_id, local, path.path)
    target.set_terminated(run_id)
    if not target.search_registered_models(f"name = '{model_name}'"):
        target.create_registered_model(model_name)
    copy = target.create_model_version(
        model_name,
        f"{target.get_run(run_id).info.artifact_uri}/{MODEL_ARTIFACTS}",
        run_id=run_id,
        tags={**found.tags, "run_id": run_id, "copied_from": copied_from},
        description=found.description,
    )
    return str(copy.version)


def _validated(client: MlflowClient, model_name: str, version: str) -> ModelVersion:
    try:
        found = client.get_model_version(model_name, version)
    except MlflowException as error:
        raise PromotionError(f"{model_name} has no version {version}: {error.message}") from None
    status = found.tags.get("validation_status", "not validated")
    if status != VALIDATED:
        raise PromotionError(
            f"{model_name} version {version} did not pass the validation gate "
            f"(validation_status: {status}); see its description in MLflow, fix the model "
            "and run `make pipeline` with validation.mode=enabled"
        )
    return found


def _experiment_id(client: MlflowClient, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    return experiment.experiment_id if experiment else client.create_experiment(name)


def promote(client: MlflowClient, model_name: str, version: str, alias: str) -> Move:
    """Point ``alias`` at ``version``, which must have passed the validation gate.

    Raises:
        PromotionError: No such version, or it did not pass the gate.
    """
    _validated(client, model_name, version)
    previous = alias_version(client, model_name, alias)
    if previous == version:
        raise PromotionError(f"{model_name} version {version} is already '{alias}'")
    move_champion(client, model_name, alias, version)
    _stamp(client, model_name, version, "promoted")
    return Move(model_name, alias, previous, version)


def rollback(client: MlflowClient, model_name: str, alias: str) -> Move:
    """Point ``alias`` back at the version that held it before the current one.

    Raises:
        PromotionError: No earlier version is on record.
    """
    current = alias_version(client, model_name, alias)
    history = champion_history(client, model_name)
    if current is not None and history and history[-1] == current:
        history.pop()
    if not history:
        raise PromotionError(
            f"no earlier '{alias}' of {model_name} is on record to roll back to; "
            "promote a version by number instead (make promote VERSION=<n>)"
        )
    previous = history[-1]
    client.set_registered_model_alias(model_name, alias, previous)
    client.set_registered_model_tag(model_name, HISTORY_TAG, json.dumps(history))  # walked back
    if current is not None:
        _stamp(client, model_name, current, "rolled_back")
    return Move(model_name, alias, current, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``promote --version N`` or ``rollback``, then Hydra overrides."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=["promote", "rollback"])
    parser.add_argument("--version", help="the version to promote (promote only)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. env=prod")
    args = parser.parse_intermixed_args(argv)  # overrides may follow --version
    if args.command == "promote" and not args.version:
        parser.error("promote needs --version N (make promote VERSION=N)")
    try:
        metadata = load_metadata()
        config = compose_config(args.overrides, metadata.root)
        target = tracking_target(config, metadata)
        client = MlflowClient(tracking_uri=target.uri, registry_uri=target.uri)
        alias = str(config.tracking.champion_alias)
        if args.command == "promote":
            version = str(args.version)
            if config.env.promote_from and config.env.promote_from != target.uri:
                source = MlflowClient(config.env.promote_from, config.env.promote_from)
                version = copy_version(
                    source, client, target.model_name, version, target.experiment_name
                )
                print(f"Copied version {args.version} from {config.env.promote_from}: {version}")
            move = promote(client, target.model_name, version, alias)
        else:
            move = rollback(client, target.model_name, alias)
    except (PromotionError, ConfigError, MetadataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"{move.model_name}: '{move.alias}' moved from version {move.previous or '(none)'} "
        f"to {move.current} at {target.uri}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
