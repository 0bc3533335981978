"""Fixtures that keep every test's global state (Hydra, MLflow, cwd) to itself."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from hydra.core.global_hydra import GlobalHydra
from mlflow import MlflowClient
from mlflow.models import infer_signature
from skops.io import dumps, get_untrusted_types

from {{ cookiecutter.package_name }}.metadata import METADATA_FILE, STAGES, load_metadata

from .sample_model import FEATURES, fit_sample_model

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fresh_hydra() -> Iterator[None]:
    """No test inherits another's Hydra initialisation."""
    GlobalHydra.instance().clear()
    yield
    GlobalHydra.instance().clear()


@pytest.fixture(scope="session")
def migrated_tracking_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow SQLite store, created (and migrated) once per test session."""
    path = tmp_path_factory.mktemp("mlflow") / "empty.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def scratch_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's metadata and configuration, with empty data folders.

    The test runs inside it, so stages read and write there, never in the real project.
    """
    root = tmp_path / "project"
    root.mkdir()
    shutil.copyfile(PROJECT_ROOT / METADATA_FILE, root / METADATA_FILE)
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf")
    metadata = load_metadata(root / METADATA_FILE)
    for stage in STAGES:
        metadata.stage_dir(stage).mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


def use_tracking_store(source: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Track into a copy of the SQLite store ``source``, made in ``folder``; return its URI."""
    database = folder / "mlflow.db"
    shutil.copyfile(source, database)
    uri = f"sqlite:///{database}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("tests")
    return uri


@pytest.fixture
def tracking_uri(
    migrated_tracking_store: Path, scratch_project: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A private MLflow store for one test (a copy of the empty one) in the scratch project.

    Runs log artifacts below the working directory, so they stay in the scratch project too.
    """
    yield use_tracking_store(migrated_tracking_store, scratch_project, monkeypatch)
    while mlflow.active_run():
        mlflow.end_run()


RegisterModel = Callable[[Any, pd.DataFrame], str]


def register(model: Any, features: pd.DataFrame, name: str) -> None:
    """Log ``model`` in a new run and register it as ``name``, version 1, alias ``champion``."""
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(features, model.predict(features)),
            input_example=features.head(2),
            registered_model_name=name,
            pip_requirements=["scikit-learn"],  # skips MLflow's slow requirement inference
            skops_trusted_types=get_untrusted_types(data=dumps(model)),
        )
    MlflowClient().set_registered_model_alias(name, "champion", "1")


@pytest.fixture
def register_model(tracking_uri: str) -> RegisterModel:
    """Register a fitted model as the project's model, version 1, with alias ``champion``."""

    def register_as_project_model(model: Any, features: pd.DataFrame) -> str:
        name = load_metadata().tracking.registered_model_name
        register(model, features, name)
        return name

    return register_as_project_model


@pytest.fixture(scope="session")
def sample_model_store(
    migrated_tracking_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A store whose project model (version 1, alias ``champion``) is the sample classifier.

    Registering takes a while, so it happens once per session; each test that needs the
    model gets its own copy of the database, and reads the model's files from here.
    """
    folder = tmp_path_factory.mktemp("sample-model")
    name = load_metadata(PROJECT_ROOT / METADATA_FILE).tracking.registered_model_name
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(folder)  # the run's artifacts go below the working directory
        use_tracking_store(migrated_tracking_store, folder, monkeypatch)
        register(fit_sample_model(), FEATURES, name)
    return folder / "mlflow.db"


@pytest.fixture
def registered_model(
    sample_model_store: Path, scratch_project: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The project's model name, in a private store where the sample classifier is champion."""
    use_tracking_store(sample_model_store, scratch_project, monkeypatch)
    return load_metadata().tracking.registered_model_name
