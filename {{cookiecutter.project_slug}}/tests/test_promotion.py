"""Promotion and rollback against a real MLflow registry (a SQLite store)."""

import pytest
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.promotion import (
    PromotionError,
    main,
    promote,
    rollback,
)
from {{ cookiecutter.package_name }}.registry import alias_version, move_champion

NAME = "promotion-model"


def add_version(client: MlflowClient, status: str) -> str:
    """A registered version whose gate ended in ``status``."""
    if not client.search_registered_models(f"name = '{NAME}'"):
        client.create_registered_model(NAME)
    version = client.create_model_version(
        NAME, "s3://models/promotion-model", tags={"validation_status": status}
    )
    return str(version.version)


@pytest.fixture
def client(tracking_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def test_a_validated_version_is_promoted_and_the_promotion_recorded(client: MlflowClient) -> None:
    first, second = add_version(client, "passed"), add_version(client, "passed")
    move_champion(client, NAME, "champion", first)  # what evaluate does in dev

    move = promote(client, NAME, second, "champion")

    assert (move.previous, move.current) == (first, second)
    assert alias_version(client, NAME, "champion") == second
    tags = client.get_model_version(NAME, second).tags
    assert tags["promoted_by"] and tags["promoted_at"].endswith("+00:00")


@pytest.mark.parametrize("status", ["failed", "dry_run", "disabled"])
def test_a_version_that_did_not_pass_the_gate_is_refused(client: MlflowClient, status: str) -> None:
    version = add_version(client, status)

    with pytest.raises(PromotionError, match=f"validation_status: {status}"):
        promote(client, NAME, version, "champion")
    assert alias_version(client, NAME, "champion") is None


def test_rollback_walks_the_champion_back_one_version_at_a_time(client: MlflowClient) -> None:
    versions = [add_version(client, "passed") for _ in range(3)]
    move_champion(client, NAME, "champion", versions[0])
    client.set_registered_model_alias(NAME, "champion", versions[1])  # moved by hand
    promote(client, NAME, versions[2], "champion")

    assert rollback(client, NAME, "champion").current == versions[1]
    assert rollback(client, NAME, "champion").current == versions[0]
    assert alias_version(client, NAME, "champion") == versions[0]
    assert client.get_model_version(NAME, versions[1]).tags["rolled_back_by"]
    with pytest.raises(PromotionError, match="no earlier 'champion'"):
        rollback(client, NAME, "champion")


@pytest.mark.usefixtures("scratch_project")
def test_the_command_names_the_model_and_refuses_clearly(
    client: MlflowClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["promote", "--version", "7"]) == 1
    assert "has no version 7" in capsys.readouterr().err
