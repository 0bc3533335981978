"""Where runs go: the tracking URI, the flattening of settings into params, and workers
writing the same records at the same moment."""

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.data.pandas_dataset import from_pandas

from {{ cookiecutter.package_name }}.config import ConfigError
from {{ cookiecutter.package_name }}.metadata import METADATA_FILE, load_metadata
from {{ cookiecutter.package_name }}.tracking import (
    EXPERIMENT_KIND_TAG,
    MODEL_DEVELOPMENT,
    TrackingUnavailable,
    check_reachable,
    configure_tracking,
    flatten,
    log_table_input,
    resolve_tracking_uri,
)

from .at_once import ROUNDS, at_once
from .conftest import worker_config

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


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_dead_tracking_server_is_reported_at_once_in_one_line() -> None:
    uri = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()

    with pytest.raises(TrackingUnavailable) as raised:
        check_reachable(uri)

    message = str(raised.value)
    assert uri in message and "Connection refused" in message
    assert "MLFLOW_TRACKING_URI" in message and "\n" not in message
    assert time.monotonic() - started < 10  # MLflow's own retries take minutes


def test_a_server_that_does_not_answer_in_time_is_reported() -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        uri = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(TrackingUnavailable, match=r"did not answer within 0\.5 s"):
            check_reachable(uri, timeout=0.5)


class Refusing(BaseHTTPRequestHandler):
    """A server that is there but wants a password."""

    def do_GET(self) -> None:
        self.send_response(401)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def password_protected() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_any_answer_means_the_server_is_there(password_protected: str) -> None:
    check_reachable(password_protected)  # 401: up, the credentials are MLflow's business


def test_local_stores_are_not_probed() -> None:
    check_reachable(f"sqlite:///{PROJECT_ROOT}/mlruns.db")
    check_reachable(str(PROJECT_ROOT / "mlruns"))


def configure_new_experiment(number: int, root: Path) -> None:
    """Point MLflow at a new experiment, as each sweep worker does first."""
    config = worker_config(root).copy()
    config.tracking.experiment_name = f"new-{number}"
    configure_tracking(config, load_metadata(root / METADATA_FILE))


@pytest.mark.slow
def test_workers_starting_together_on_a_new_experiment_both_go_on(
    tracking_uri: str, scratch_project: Path
) -> None:
    assert at_once(configure_new_experiment, scratch_project) == []

    kinds = {
        experiment.name: experiment.tags.get(EXPERIMENT_KIND_TAG)
        for experiment in MlflowClient(tracking_uri).search_experiments()
    }
    assert [kinds[f"new-{number}"] for number in range(ROUNDS)] == [MODEL_DEVELOPMENT] * ROUNDS


def log_new_table(number: int, experiment: str) -> None:
    """Log a table no run has logged before as a new run's input, as a sweep's first trial."""
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]})
    dataset = from_pandas(frame, name=f"table-{number}", digest=f"v{number}")
    with mlflow.start_run(experiment_id=experiment):
        log_table_input(dataset, context="training")


@pytest.mark.slow
@pytest.mark.usefixtures("scratch_project")
def test_workers_logging_the_same_new_table_together_share_its_record(tracking_uri: str) -> None:
    experiment = mlflow.set_experiment("tables").experiment_id
    assert at_once(log_new_table, experiment) == []

    runs = MlflowClient(tracking_uri).search_runs([experiment], max_results=1000)
    logged = sorted(run.inputs.dataset_inputs[0].dataset.name for run in runs if run.inputs)
    assert logged == sorted(f"table-{number}" for number in range(ROUNDS) for _ in range(2))
