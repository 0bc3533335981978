"""Where runs go: the tracking URI and the flattening of settings into params."""

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.config import ConfigError
from {{ cookiecutter.package_name }}.metadata import load_metadata
from {{ cookiecutter.package_name }}.tracking import flatten, resolve_tracking_uri

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_tracking_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.mark.usefixtures("no_tracking_env")
def test_default_uri_is_the_project_sqlite_file() -> None:
    metadata = load_metadata(PROJECT_ROOT / "metadata.yaml")

    uri = resolve_tracking_uri(metadata)

    if metadata.tracking.uri.startswith("sqlite:///"):
        assert uri.startswith(f"sqlite:///{PROJECT_ROOT}")
    else:
        assert uri == metadata.tracking.uri


@pytest.mark.usefixtures("no_tracking_env")
def test_configured_uri_beats_metadata() -> None:
    metadata = load_metadata(PROJECT_ROOT / "metadata.yaml")

    assert resolve_tracking_uri(metadata, "http://tracking:5000") == "http://tracking:5000"


def test_environment_variable_beats_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example.com")
    metadata = load_metadata(PROJECT_ROOT / "metadata.yaml")

    assert resolve_tracking_uri(metadata, "http://other", "prod") == "https://mlflow.example.com"


@pytest.mark.usefixtures("no_tracking_env")
@pytest.mark.parametrize("env", ["staging", "prod"])
def test_shared_environments_refuse_to_track_locally(env: str) -> None:
    metadata = load_metadata(PROJECT_ROOT / "metadata.yaml")

    with pytest.raises(ConfigError, match="set MLFLOW_TRACKING_URI"):
        resolve_tracking_uri(metadata, None, env)


def test_flatten_joins_nested_keys() -> None:
    assert flatten({"model": {"name": "rf", "estimator": {"depth": 3}}, "seed": 1}) == {
        "model.name": "rf",
        "model.estimator.depth": 3,
        "seed": 1,
    }
