"""The service's gunicorn worker: gunicorn's own parser and limits, its refusals in JSON."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger
from prometheus_client import REGISTRY

from {{ cookiecutter.package_name }}.serving.worker import UNREAD, Worker


async def _no_content(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI application that answers every request 204."""
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def worker() -> Iterator[Any]:
    """The worker with gunicorn's default settings, its loop set up, serving ``_no_content``."""
    config = Config()
    worker = Worker(0, os.getpid(), [], None, 30, config, Logger(config))
    worker.asgi = _no_content
    worker._setup_event_loop()
    yield worker
    unfinished = asyncio.all_tasks(worker.loop)  # connections the server was still closing
    for task in unfinished:
        task.cancel()
    worker.loop.run_until_complete(asyncio.gather(*unfinished, return_exceptions=True))
    worker.loop.close()
    asyncio.set_event_loop(None)


def exchange(worker: Any, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` to a server of the worker's loop; the status, headers and body."""

    async def send() -> bytes:
        server = await worker.loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        reply = await asyncio.wait_for(reader.read(), 10)  # the server closes the connection
        writer.close()
        server.close()
        return reply

    head, _, body = worker.loop.run_until_complete(send()).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "reason"),
    [
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "4094 bytes"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431, "8190 bytes"),
        (b"GET / HTTP/1.1\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", 431, "100 headers"),
        (b"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400, "cannot read this as an HTTP/1.1"),
        (b"\x16\x03\x01 not http\r\n\r\n", 400, "cannot read this as an HTTP/1.1"),
    ],
)
def test_requests_gunicorn_refuses_are_answered_in_json(
    worker: Any, request_bytes: bytes, status: int, reason: str
) -> None:
    counted = {"endpoint": UNREAD, "status": str(status)}
    before = REGISTRY.get_sample_value("model_requests_total", counted) or 0.0

    got, headers, body = exchange(worker, request_bytes)

    assert got == status
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert int(headers["content-length"]) == len(body)
    answer = json.loads(body)
    assert reason in answer["error"]
    assert answer["request_id"] is None
    assert REGISTRY.get_sample_value("model_requests_total", counted) == before + 1


def test_a_body_that_breaks_off_is_answered_in_json_and_left_to_the_application_to_count(
    worker: Any,
) -> None:
    counted = {"endpoint": UNREAD, "status": "400"}
    before = REGISTRY.get_sample_value("model_requests_total", counted) or 0.0
    request = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nnot a size\r\n"

    status, headers, _ = exchange(worker, request)

    assert (status, headers["content-type"]) == (400, "application/json")
    assert (REGISTRY.get_sample_value("model_requests_total", counted) or 0.0) == before


def test_gunicorns_master_process_does_not_load_the_application() -> None:
    """gunicorn imports the worker class in its master: the application loads in workers."""
    check = (
        "import sys, {{ cookiecutter.package_name }}.serving.worker; "
        "print(sorted(m for m in ('flask', 'mlflow', 'prometheus_client') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    ).stdout

    assert loaded.strip() == "[]"


def test_a_good_request_reaches_the_application(worker: Any) -> None:
    status, _, _ = exchange(worker, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

    assert status == 204
