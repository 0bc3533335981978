"""Reading whole request bodies: through gunicorn's own body reader, and through Flask."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from flask import Flask, request
from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import SocketUnreader
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from {{ cookiecutter.package_name }}.serving.request_body import read_body

BODY = b'[{"x": 1.5}]' * 20_000  # 240 kB: many socket reads


class CountingReader(LengthReader):  # type: ignore[misc]
    """gunicorn's reader of a body of known length, noting the size of every read."""

    def __init__(self, unreader: SocketUnreader, length: int) -> None:
        super().__init__(unreader, length)
        self.sizes: list[int] = []

    def read(self, size: int) -> bytes:
        self.sizes.append(size)
        data: bytes = super().read(size)
        return data


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1_000_000
    return app


@pytest.fixture
def connection() -> Iterator[tuple[socket.socket, socket.socket]]:
    client, server = socket.socketpair()
    with client, server:
        yield client, server


def send(client: socket.socket, data: bytes) -> threading.Thread:
    """Send ``data`` from another thread (it is more than a socket buffer holds), then close."""

    def write() -> None:
        client.sendall(data)
        client.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=write)
    sender.start()
    return sender


def gunicorn_read(
    app: Flask, server: socket.socket, length: int
) -> tuple[bytes | Exception, CountingReader]:
    reader = CountingReader(SocketUnreader(server), length)
    environ = {"wsgi.input": Body(reader), "CONTENT_LENGTH": str(length)}
    with app.test_request_context("/", method="POST", environ_overrides=environ):
        try:
            return read_body(request), reader
        except (ClientDisconnected, RequestEntityTooLarge) as error:
            return error, reader


def test_a_gunicorn_body_is_read_whole_in_one_call(
    app: Flask, connection: tuple[socket.socket, socket.socket]
) -> None:
    client, server = connection
    sender = send(client, BODY + b"next request")

    data, reader = gunicorn_read(app, server, len(BODY))
    sender.join()

    assert data == BODY
    assert reader.sizes == [len(BODY)]  # not 1 KB at a time
    assert reader.unreader.read() == b"next request"  # what follows stays for gunicorn


def test_a_gunicorn_body_cut_short_is_a_client_error(
    app: Flask, connection: tuple[socket.socket, socket.socket]
) -> None:
    client, server = connection
    sender = send(client, BODY[:1000])

    error, _ = gunicorn_read(app, server, len(BODY))
    sender.join()

    assert isinstance(error, ClientDisconnected)
    assert error.code == 400
    assert error.description == (
        f"the body ended after 1000 of the {len(BODY)} bytes its Content-Length announced"
    )


def test_a_gunicorn_body_over_the_limit_is_refused_unread(
    app: Flask, connection: tuple[socket.socket, socket.socket]
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000

    error, reader = gunicorn_read(app, connection[1], len(BODY))

    assert isinstance(error, RequestEntityTooLarge)
    assert reader.sizes == []


def test_other_servers_bodies_are_read_by_flask(app: Flask) -> None:
    with app.test_request_context("/", method="POST", data=BODY):
        assert read_body(request) == BODY

    app.config["MAX_CONTENT_LENGTH"] = 1000
    with (
        app.test_request_context("/", method="POST", data=BODY),
        pytest.raises(RequestEntityTooLarge),
    ):
        read_body(request)
