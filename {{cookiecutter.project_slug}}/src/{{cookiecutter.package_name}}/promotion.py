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
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from .config import ConfigError, compose_config
from .metadata import MetadataError, load_metadata
from .registry import HISTORY_TAG, alias_version, champion_history, move_champion
from .tracking import tracking_target

VALIDATED = "passed"


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
        model_name, version, f"{action}_at", datetime.now(UTC).isoformat(timespec="seconds")
    )


def promote(client: MlflowClient, model_name: str, version: str, alias: str) -> Move:
    """Point ``alias`` at ``version``, which must have passed the validation gate.

    Raises:
        PromotionError: No such version, or it did not pass the gate.
    """
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
    args = parser.parse_args(argv)
    if args.command == "promote" and not args.version:
        parser.error("promote needs --version N (make promote VERSION=N)")
    try:
        metadata = load_metadata()
        config = compose_config(args.overrides, metadata.root)
        target = tracking_target(config, metadata)
        client = MlflowClient(tracking_uri=target.uri, registry_uri=target.uri)
        alias = str(config.tracking.champion_alias)
        if args.command == "promote":
            move = promote(client, target.model_name, str(args.version), alias)
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
