"""Promotion and rollback against a real MLflow registry (a SQLite store)."""

import shutil
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts

from {{ cookiecutter.package_name }}.data.column_types import model_input
from {{ cookiecutter.package_name }}.monitoring.lineage import Lineage
from {{ cookiecutter.package_name }}.promotion import (
    PromotionError,
    copy_version,
    main,
    promote,
    rollback,
)
from {{ cookiecutter.package_name }}.registry import alias_version, move_champion

from .conftest import TrainedProject

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


def empty_registry(migrated_tracking_store: Path, folder: Path) -> str:
    """A second registry (production's), empty, in ``folder``; its URI."""
    shutil.copyfile(migrated_tracking_store, folder / "prod.db")
    return f"sqlite:///{folder / 'prod.db'}"


def predictions(client: MlflowClient, name: str, version: str, rows: object) -> list[object]:
    path = download_artifacts(
        artifact_uri=client.get_model_version_download_uri(name, version),
        tracking_uri=client.tracking_uri,
    )
    return list(mlflow.pyfunc.load_model(path).predict(rows))


def test_a_version_is_copied_to_another_registry_and_promoted_there(
    registered_model: str,
    trained_project: TrainedProject,
    migrated_tracking_store: Path,
    tmp_path: Path,
) -> None:
    staging_uri = mlflow.get_tracking_uri()
    prod_uri = empty_registry(migrated_tracking_store, tmp_path)
    staging, prod = MlflowClient(staging_uri, staging_uri), MlflowClient(prod_uri, prod_uri)

    version = copy_version(staging, prod, registered_model, "1", "production")

    original, copied = (
        staging.get_model_version(registered_model, "1"),
        prod.get_model_version(registered_model, version),
    )
    assert copied.tags["validation_status"] == "passed"
    assert copied.tags["copied_from"] == f"{staging_uri} {registered_model} version 1"
    assert copied.description == original.description
    copied_run = prod.get_run(str(copied.run_id))
    assert copied_run.data.metrics == staging.get_run(str(original.run_id)).data.metrics
    rows = model_input(
        trained_project.features(trained_project.test_set).head(20),
        trained_project.experiment.features,
    )
    assert predictions(prod, registered_model, version, rows) == predictions(
        staging, registered_model, "1", rows
    )
    reference = Lineage(prod_uri).fetch_reference(
        tmp_path / "references", copied_run.info.run_id, registered_model, version
    )
    assert reference.test_metrics == pytest.approx(trained_project.test_metrics)
    assert promote(prod, registered_model, version, "champion").current == version
    assert alias_version(staging, registered_model, "champion") == "1"  # staging untouched


@pytest.mark.usefixtures("trained_project")
def test_make_promote_copies_from_the_configured_source_registry(
    registered_model: str,
    migrated_tracking_store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    staging_uri = mlflow.get_tracking_uri()
    prod_uri = empty_registry(migrated_tracking_store, tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", prod_uri)

    status = main(["promote", "--version", "1", f"env.promote_from={staging_uri}"])

    assert status == 0, capsys.readouterr().err
    prod = MlflowClient(prod_uri, prod_uri)
    champion = prod.get_model_version_by_alias(registered_model, "champion")
    assert champion.tags["copied_from"].startswith(staging_uri)
    assert f"Copied version 1 from {staging_uri}" in capsys.readouterr().out
