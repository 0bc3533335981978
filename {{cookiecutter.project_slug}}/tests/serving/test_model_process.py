"""The model process, run for real: its card and predictions over its socket, failures named."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.serving.app import create_app
from {{ cookiecutter.package_name }}.serving.model import load_served_model
from {{ cookiecutter.package_name }}.serving.model_client import (
    ModelClient,
    ModelRefused,
    ModelUnavailable,
)
from {{ cookiecutter.package_name }}.serving.model_process import main as serve_model
from {{ cookiecutter.package_name }}.serving.settings import ServeSettings

from ..champion import Champion

# Each test but one starts a model process, which loads MLflow and the model (about 10 s).
pytestmark = pytest.mark.slow

MODULE = serve_model.__module__  # run as ``python -m``
START_SECONDS = 120.0  # to start and load the model, on a busy machine


@pytest.fixture
def socket_path() -> Iterator[Path]:
    """A socket path in a private folder: short, as Unix socket paths must be."""
    folder = Path(tempfile.mkdtemp(prefix="model-"))
    yield folder / "model.sock"
    shutil.rmtree(folder, ignore_errors=True)


def start(socket_path: Path, **environ: str) -> subprocess.Popen[bytes]:
    """The model process of the project in the working directory, serving on ``socket_path``."""
    return subprocess.Popen(
        [sys.executable, "-m", MODULE, str(socket_path), str(os.getpid())],
        env={**os.environ, **environ},
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(30)


@pytest.fixture
def model_process(registered_model: str, socket_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = start(socket_path)
    yield process
    stop(process)


@pytest.fixture
def connect(socket_path: Path) -> Iterator[Callable[..., ModelClient]]:
    """Connect as a worker does; the connections close first when the test ends."""
    clients: list[ModelClient] = []

    def connected(**options: Any) -> ModelClient:
        clients.append(ModelClient(socket_path, START_SECONDS, **options))
        return clients[-1]

    yield connected
    for client in clients:
        client.close()


def test_the_card_and_predictions_are_those_of_the_model_loaded_here(
    model_process: subprocess.Popen[bytes],
    connect: Callable[..., ModelClient],
    registered_model: str,
    champion: Champion,
) -> None:
    client = connect()
    records = champion.records(champion.test_rows(5))

    card = client.card()

    assert card == load_served_model(ServeSettings(registered_model)).card
    champion.assert_predictions(
        client.submit(champion.rows(records)).result(), champion.predict(records)
    )


def test_the_service_predicts_through_the_model_process_until_it_stops(
    model_process: subprocess.Popen[bytes],
    socket_path: Path,
    registered_model: str,
    champion: Champion,
) -> None:
    settings = ServeSettings(
        registered_model, model_socket=socket_path, load_wait_seconds=START_SECONDS
    )
    lost = threading.Event()
    client = create_app(settings, on_model_lost=lambda _: lost.set()).test_client()
    records = champion.records(champion.test_rows(3))

    response = client.post("/predict", json=records)

    assert client.get("/ready").status_code == 200
    assert response.status_code == 200
    champion.assert_predictions(response.get_json()["predictions"], champion.predict(records))

    model_process.send_signal(signal.SIGKILL)
    assert lost.wait(30)
    gone = client.post("/predict", json=records)
    assert (gone.status_code, gone.get_json()["error"]) == (503, "the model process stopped")
    assert client.get("/ready").get_json()["error"] == "the model process stopped"


def test_the_requests_of_several_workers_each_get_their_own_answers(
    model_process: subprocess.Popen[bytes], connect: Callable[..., ModelClient], champion: Champion
) -> None:
    workers = [connect() for _ in range(2)]
    workers[0].card()  # loaded
    records = champion.records(champion.test_rows(12))
    expected = champion.predict(records)
    calls = [(workers[i % 2], [row]) for i, row in enumerate(champion.rows(records))]

    with ThreadPoolExecutor(len(calls)) as pool:
        answers = list(pool.map(lambda call: call[0].submit(call[1]).result(), calls))

    champion.assert_predictions([answer[0] for answer in answers], expected)


def test_rows_the_model_refuses_are_refused_with_its_message(
    model_process: subprocess.Popen[bytes], connect: Callable[..., ModelClient], champion: Champion
) -> None:
    date = champion.features_of_type("date")[0]
    record = {**champion.records(champion.test_rows(1))[0], date: "not a date"}
    client = connect()

    with pytest.raises(ModelRefused):
        client.submit(champion.rows([record])).result()


def test_a_model_that_cannot_load_is_named_to_every_worker(
    registered_model: str, socket_path: Path
) -> None:
    process = start(socket_path, MODEL_ALIAS="no-such-alias")
    client = ModelClient(socket_path, START_SECONDS)
    try:
        with pytest.raises(ModelUnavailable, match=f"cannot load models:/{registered_model}"):
            client.card()
        with pytest.raises(ModelUnavailable, match="no-such-alias"):
            client.submit([[1.0]]).result()
    finally:
        client.close()
        stop(process)


def test_a_worker_learns_when_the_model_process_stops(
    model_process: subprocess.Popen[bytes], connect: Callable[..., ModelClient]
) -> None:
    lost: list[str] = []
    told = threading.Event()

    def on_lost(reason: str) -> None:
        lost.append(reason)
        told.set()

    client = connect(on_lost=on_lost)
    client.card()
    model_process.send_signal(signal.SIGKILL)

    assert told.wait(30)
    assert lost == ["the model process stopped"]
    with pytest.raises(ModelUnavailable, match="the model process stopped"):
        client.submit([[1.0]]).result()


def test_asked_to_stop_it_answers_until_the_workers_close_then_removes_its_socket(
    model_process: subprocess.Popen[bytes],
    connect: Callable[..., ModelClient],
    socket_path: Path,
    champion: Champion,
) -> None:
    records = champion.records(champion.test_rows(1))
    client = connect()
    client.card()

    model_process.terminate()
    time.sleep(1)
    still_running = model_process.poll() is None
    answer = client.submit(champion.rows(records)).result()
    client.close()

    assert still_running
    champion.assert_predictions(answer, champion.predict(records))
    assert model_process.wait(30) == 0
    assert not socket_path.exists()  # stopped as asked (a crash leaves it)


def test_no_model_process_is_named_after_the_wait(socket_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match=f"no model process answers at {socket_path}"):
        ModelClient(socket_path, wait_seconds=0.2)


def test_the_model_process_stops_when_what_started_it_is_gone(
    registered_model: str, socket_path: Path
) -> None:
    # A parent that starts the model process, prints its pid and exits at once.
    starts = (
        "import os, subprocess, sys; "
        f"command = [sys.executable, '-m', '{MODULE}', sys.argv[1], str(os.getpid())]; "
        "print(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid)"
    )
    parent = subprocess.run(
        [sys.executable, "-c", starts, str(socket_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(parent.stdout)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)

    assert not _alive(pid)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs: an ended process nobody has reaped yet (a zombie) does not."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
