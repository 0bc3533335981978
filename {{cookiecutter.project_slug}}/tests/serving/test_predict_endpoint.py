"""Predictions answered in the event loop: the Flask route's answers, without a thread."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from {{ cookiecutter.package_name }}.serving.app import create_app, create_asgi_app
from {{ cookiecutter.package_name }}.serving.asgi import BufferedWSGI
from {{ cookiecutter.package_name }}.serving.settings import ServeSettings

from ..champion import Champion

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


def asgi_request(
    service: BufferedWSGI, body: bytes, headers: dict[str, str], method: str = "POST"
) -> Answer:
    """One request through the ASGI application, its body in one message."""
    scope = {
        "type": "http",
        "method": method,
        "path": "/predict",
        "root_path": "",
        "query_string": b"",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(service(scope, receive, send))
    start, content = sent
    answer_headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return start["status"], answer_headers, json.loads(content["body"])


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


def test_the_loop_answers_as_the_flask_route_does(
    loop_app: BufferedWSGI, client: FlaskClient, champion: Champion
) -> None:
    for kind, (body, headers) in bodies(champion).items():
        loop_status, loop_headers, loop_json = asgi_request(loop_app, body, headers)
        status, flask_headers, flask_json = flask_request(client, body, headers)

        assert loop_status == status, kind
        assert set(loop_headers) == set(flask_headers), kind
        assert loop_headers["content-type"] == flask_headers["content-type"], kind
        assert loop_headers["x-request-id"] == loop_json["request_id"], kind
        if "client-7" in headers.values():
            assert loop_json["request_id"] == flask_json["request_id"] == "client-7"
        else:
            assert loop_json.pop("request_id") != flask_json.pop("request_id"), kind
        assert loop_json == flask_json, kind
        steps = [step.split(";")[0] for step in loop_headers["server-timing"].split(", ")]
        expected = ["parse", "model", "app"] if status == 200 else ["parse", "app"]
        assert steps == (expected if kind not in ("text", "no content type") else ["app"]), kind


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


def test_other_requests_go_to_the_flask_application(settings: ServeSettings) -> None:
    service = create_asgi_app(settings)
    try:
        status, _, answer = asgi_request(service, b"", {}, method="GET")
    finally:
        service.executor.shutdown()

    assert status == 405
    assert answer["error"] == "GET is not allowed on /predict"
