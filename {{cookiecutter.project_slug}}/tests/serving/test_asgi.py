"""Requests read whole before a thread answers them: limits, time-outs and the WSGI environ."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask, Response, request

from {{ cookiecutter.package_name }}.serving.asgi import BufferedWSGI, wsgi_environ

LIMIT = 100


def echo_app() -> Flask:
    """Answers with what it was given: the body's length, the path, query and a header."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = LIMIT

    @app.route("/<path:path>", methods=["GET", "POST"])
    def echo(path: str) -> Response:
        body = request.get_data()
        return Response(
            json.dumps(
                {
                    "length": len(body),
                    "path": path,
                    "query": request.args.get("q"),
                    "tag": request.headers.get("X-Tag"),
                    "content_length": request.content_length,
                }
            ),
            status=201,
            headers={"X-Answer": "yes"},
            mimetype="application/json",
        )

    @app.errorhandler(Exception)
    def error(error: Any) -> Response:
        code = getattr(error, "code", 500)
        return Response(json.dumps({"error": code}), status=code, mimetype="application/json")

    return app


def http_scope(
    path: str = "/echo",
    headers: Iterable[tuple[bytes, bytes]] = (),
    query: bytes = b"",
    method: str = "POST",
) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": list(headers),
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }


def serve(
    scope: dict[str, Any],
    messages: list[dict[str, Any]],
    *,
    stall: bool = False,
    timeout: float = 5.0,
    app: Any = None,
) -> tuple[int, dict[bytes, bytes], dict[str, Any]]:
    """Run one request through ``BufferedWSGI``; ``stall`` leaves the body unfinished."""
    adapter = BufferedWSGI(
        app or echo_app(), max_body_bytes=LIMIT, body_timeout_seconds=timeout, threads=2
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        if stall:
            await asyncio.sleep(3600)  # a client that stopped sending
        raise AssertionError("the adapter read past the end of the body")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(adapter(scope, receive, send))
    adapter.executor.shutdown()
    start, body = sent
    return start["status"], dict(start["headers"]), json.loads(body["body"])


def chunk(data: bytes, more: bool) -> dict[str, Any]:
    return {"type": "http.request", "body": data, "more_body": more}


def test_a_body_in_chunks_reaches_the_application_whole() -> None:
    parts = [chunk(b"a" * 30, True), chunk(b"", True), chunk(b"b" * 40, False)]
    status, headers, answer = serve(http_scope(), parts)
    assert status == 201 and headers[b"x-answer"] == b"yes"
    assert answer["length"] == 70
    assert answer["content_length"] == 70  # what arrived, though no length was announced


def test_path_query_and_headers_reach_the_application() -> None:
    scope = http_scope("/a/b", [(b"x-tag", b"one"), (b"x-tag", b"two")], b"q=caf%C3%A9")
    status, _, answer = serve(scope, [chunk(b"", False)])
    assert status == 201
    assert answer["path"] == "a/b" and answer["query"] == "café"
    assert answer["tag"] == "one,two"  # repeated headers are joined, as WSGI servers do


def test_a_chunked_body_over_the_limit_is_refused_with_413() -> None:
    parts = [chunk(b"x" * 60, True), chunk(b"x" * 60, True), chunk(b"x" * 60, False)]
    status, _, answer = serve(http_scope(), parts)
    assert (status, answer) == (413, {"error": 413})
    assert not parts  # the rest was read and dropped after the answer, not kept


def test_an_announced_length_over_the_limit_is_refused_unread() -> None:
    parts = [chunk(b"x" * 60, True), chunk(b"x" * 60, False)]
    seen: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append(len(parts))  # how much was left unread when the application ran
        answer: Iterable[bytes] = echo_app()(environ, start_response)
        return answer

    status, _, _ = serve(http_scope(headers=[(b"content-length", b"120")]), parts, app=app)
    assert status == 413
    assert seen == [2]  # not a byte of it was read before the answer


def test_the_rest_of_a_refused_body_is_dropped_for_a_limited_time() -> None:
    status, _, _ = serve(http_scope(), [chunk(b"x" * 120, True)], stall=True, timeout=0.2)
    assert status == 413  # and the drain gave up on the stalled client after 0.2 s


def test_a_body_that_stops_arriving_gets_408() -> None:
    status, _, answer = serve(http_scope(), [chunk(b"x" * 10, True)], stall=True, timeout=0.2)
    assert (status, answer) == (408, {"error": 408})


def test_a_body_cut_short_gets_400() -> None:
    parts = [chunk(b"x" * 10, True), {"type": "http.disconnect"}]
    status, _, answer = serve(http_scope(headers=[(b"content-length", b"50")]), parts)
    assert (status, answer) == (400, {"error": 400})


def test_the_environ_follows_pep_3333() -> None:
    scope = http_scope("/api/predict", [(b"content-type", b"application/json")])
    scope["root_path"] = "/api"
    environ = wsgi_environ(scope, io.BytesIO(b"{}"))
    assert environ["SCRIPT_NAME"] == "/api" and environ["PATH_INFO"] == "/predict"
    assert environ["CONTENT_TYPE"] == "application/json" and environ["CONTENT_LENGTH"] == "2"
    assert environ["REMOTE_ADDR"] == "127.0.0.1" and environ["SERVER_PORT"] == "8000"
    assert environ["wsgi.url_scheme"] == "http" and environ["wsgi.input_terminated"]


def test_the_lifespan_is_acknowledged() -> None:
    adapter = BufferedWSGI(echo_app(), max_body_bytes=LIMIT, body_timeout_seconds=1, threads=1)
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(adapter({"type": "lifespan"}, receive, send))
    assert [message["type"] for message in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


def test_websockets_are_refused() -> None:
    adapter = BufferedWSGI(echo_app(), max_body_bytes=LIMIT, body_timeout_seconds=1, threads=1)

    async def receive() -> dict[str, Any]:
        raise AssertionError("nothing is read")

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("nothing is sent")

    with pytest.raises(ValueError, match="websocket"):
        asyncio.run(adapter({"type": "websocket"}, receive, send))
