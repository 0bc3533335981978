"""Predictions answered in the event loop: the Flask route's answers, without a thread."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from {{ cookiecutter.package_name }}.inputs import Row
from {{ cookiecutter.package_name }}.serving.app import create_app, create_asgi_app
from {{ cookiecutter.package_name }}.serving.asgi import BufferedWSGI
from {{ cookiecutter.package_name }}.serving.model import ServedModel
from {{ cookiecutter.package_name }}.serving.model_client import ModelUnavailable
from {{ cookiecutter.package_name }}.serving.settings import ServeSettings

from ..champion import Champion
from .test_asgi import http_scope

MAX_ROWS = 3
Answer = tuple[int, dict[str, str], dict[str, Any]]  # status, headers, JSON


@pytest.fixture
def settings(registered_model: str) -> ServeSettings:
    return ServeSettings(registered_model, max_batch_rows=MAX_ROWS)


@pytest.fixture
def loop_app(settings: ServeSettings) -> Iterator[BufferedWSGI]:
    """The service as gunicorn runs it, with a WSGI application that must not be reached."""
    service = create_asgi_app(settings)

    def unreachable(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise AssertionError(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} left the loop")

    service.app = unreachable
    yield service
    service.executor.shutdown()


@pytest.fixture
def client(settings: ServeSettings) -> FlaskClient:
    return create_app(settings).test_client()


async def asgi_call(
    service: BufferedWSGI, body: bytes, headers: dict[str, str], method: str = "POST"
) -> Answer:
    """One request through the ASGI application, its body in one message."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await service(http_scope("/predict", raw, method=method), receive, send)
    start, content = sent
    answer_headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return start["status"], answer_headers, json.loads(content["body"])


def asgi_request(
    service: BufferedWSGI, body: bytes, headers: dict[str, str], method: str = "POST"
) -> Answer:
    return asyncio.run(asgi_call(service, body, headers, method))


def flask_request(client: FlaskClient, body: bytes, headers: dict[str, str]) -> Answer:
    response = client.post("/predict", data=body, headers=headers)
    answer_headers = {name.lower(): value for name, value in response.headers.items()}
    return response.status_code, answer_headers, response.get_json()


def bodies(champion: Champion) -> dict[str, tuple[bytes, dict[str, str]]]:
    """A request of each kind the endpoint answers differently: body and headers."""
    records = champion.records(champion.test_rows(MAX_ROWS + 1))
    row = records[0]
    first = next(iter(row))
    json_type = {"Content-Type": "application/json"}
    return {
        "one row": (json.dumps(row).encode(), json_type),
        "a batch": (json.dumps(records[:MAX_ROWS]).encode(), json_type),
        "too many rows": (json.dumps(records).encode(), json_type),
        "not JSON": (b'{"rows": [1, 2', json_type),
        "a column missing": (
            json.dumps({k: v for k, v in row.items() if k != first}).encode(),
            json_type,
        ),
        "a list for a value": (json.dumps({**row, first: [1, 2]}).encode(), json_type),
        "text": (json.dumps(row).encode(), {"Content-Type": "text/plain"}),
        "no content type": (json.dumps(row).encode(), {}),
        "a charset": (
            json.dumps(row).encode(),
            {"Content-Type": "application/json; charset=utf-8"},
        ),
        "the client's request id": (
            json.dumps(row).encode(),
            {**json_type, "X-Request-ID": "client-7"},
        ),
        "an invalid request id": (
            json.dumps(row).encode(),
            {**json_type, "X-Request-ID": "no spaces allowed"},
        ),
    }


def assert_alike(loop: Answer, flask: Answer, kind: str) -> None:
    """The same answer but for the request id (unless the client gave it) and timings."""
    (loop_status, loop_headers, loop_json), (status, flask_headers, flask_json) = loop, flask
    assert loop_status == status, kind
    assert set(loop_headers) == set(flask_headers), kind
    varying = {"x-request-id", "server-timing", "content-length"}
    assert {k: v for k, v in loop_headers.items() if k not in varying} == {
        k: v for k, v in flask_headers.items() if k not in varying
    }, kind
    assert loop_headers["x-request-id"] == loop_json["request_id"], kind
    if loop_json["request_id"] != "client-7":  # each path made its own
        assert loop_json.pop("request_id") != flask_json.pop("request_id"), kind
    assert loop_json == flask_json, kind


def test_the_loop_answers_as_the_flask_route_does(
    loop_app: BufferedWSGI, client: FlaskClient, champion: Champion
) -> None:
    for kind, (body, headers) in bodies(champion).items():
        loop = asgi_request(loop_app, body, headers)

        assert_alike(loop, flask_request(client, body, headers), kind)
        steps = [step.split(";")[0] for step in loop[1]["server-timing"].split(", ")]
        expected = ["parse", "model", "app"] if loop[0] == 200 else ["parse", "app"]
        assert steps == (expected if kind not in ("text", "no content type") else ["app"]), kind


def failing(error: Exception) -> Any:
    def predict(self: ServedModel, rows: list[Row]) -> list[Any]:
        raise error

    return predict


@pytest.mark.parametrize(
    ("model", "status"),
    [
        pytest.param(failing(ValueError("out of range for float32")), 400, id="refused"),
        pytest.param(failing(RuntimeError("model exploded")), 500, id="failed"),
        pytest.param(failing(ModelUnavailable("the model process stopped")), 503, id="gone"),
        pytest.param(lambda self, rows: [{"p": math.nan}] * len(rows), 500, id="not JSON"),
    ],
)
def test_model_errors_are_answered_alike(
    settings: ServeSettings,
    champion: Champion,
    monkeypatch: pytest.MonkeyPatch,
    model: Any,
    status: int,
) -> None:
    monkeypatch.setattr(ServedModel, "predict", model)  # before the batcher takes it
    service, client = create_asgi_app(settings), create_app(settings).test_client()
    row = champion.records(champion.test_rows(1))[0]
    request = (json.dumps(row).encode(), {"Content-Type": "application/json"})
    try:
        loop = asgi_request(service, *request)
    finally:
        service.executor.shutdown()

    assert loop[0] == status
    assert_alike(loop, flask_request(client, *request), f"HTTP {status}")


def test_the_loop_counts_and_logs_its_answers(
    loop_app: BufferedWSGI, champion: Champion, caplog: pytest.LogCaptureFixture
) -> None:
    labels = {"endpoint": "/predict", "status": "200"}
    before = REGISTRY.get_sample_value("model_requests_total", labels) or 0.0
    row = champion.records(champion.test_rows(1))[0]
    headers = {"Content-Type": "application/json", "X-Request-ID": "counted-1"}

    status, _, answer = asgi_request(loop_app, json.dumps(row).encode(), headers)

    assert status == 200
    champion.assert_predictions(answer["predictions"], champion.predict([row]))
    assert REGISTRY.get_sample_value("model_requests_total", labels) == before + 1
    lines = [r for r in caplog.records if getattr(r, "request_id", None) == "counted-1"]
    assert [(r.getMessage(), getattr(r, "rows", None)) for r in lines] == [("request", 1)]


def test_a_request_whose_client_left_is_counted_and_the_next_answered(
    settings: ServeSettings, champion: Champion, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = ServedModel.predict

    def slow(self: ServedModel, rows: list[Row]) -> list[Any]:
        time.sleep(0.3)
        return original(self, rows)

    monkeypatch.setattr(ServedModel, "predict", slow)
    service = create_asgi_app(settings)
    row = champion.records(champion.test_rows(1))[0]
    request = (json.dumps(row).encode(), {"Content-Type": "application/json"})
    left = {"endpoint": "/predict", "status": "499"}
    before = REGISTRY.get_sample_value("model_requests_total", left) or 0.0
    busy = REGISTRY.get_sample_value("model_requests_in_progress")

    async def leave_then_ask() -> Answer:
        leaving = asyncio.ensure_future(asgi_call(service, *request))
        await asyncio.sleep(0.1)  # the model is answering it
        leaving.cancel()  # what gunicorn does when the client disconnects
        with pytest.raises(asyncio.CancelledError):
            await leaving
        return await asgi_call(service, *request)

    try:
        status, _, answer = asyncio.run(leave_then_ask())
    finally:
        service.executor.shutdown()

    assert status == 200
    champion.assert_predictions(answer["predictions"], champion.predict([row]))
    assert REGISTRY.get_sample_value("model_requests_total", left) == before + 1
    assert REGISTRY.get_sample_value("model_requests_in_progress") == busy


def test_requests_the_loop_leaves_go_to_the_flask_application(registered_model: str) -> None:
    settings = ServeSettings(registered_model, load_wait_seconds=0)
    loading, ready = create_asgi_app(settings, load="never"), create_asgi_app(settings)
    try:
        still_loading = asgi_request(loading, b"{}", {"Content-Type": "application/json"})
        wrong_method = asgi_request(ready, b"", {}, method="GET")
    finally:
        loading.executor.shutdown()
        ready.executor.shutdown()

    assert (still_loading[0], still_loading[2]["error"]) == (503, "the model is still loading")
    assert (wrong_method[0], wrong_method[2]["error"]) == (405, "GET is not allowed on /predict")
