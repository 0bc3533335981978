"""Serve the Flask application over ASGI, reading each request whole before answering it.

Why: a threaded server gives a connection to a thread as soon as its first bytes
arrive, and the thread then waits for the rest. A few clients that send their
headers or body slowly (a bad network, or on purpose) hold every thread, and the
service stops answering anyone. gunicorn's asyncio worker (``worker_class =
"asgi"`` in ``gunicorn_conf``) waits for headers in its event loop, where a
waiting connection costs nothing; ``BufferedWSGI`` reads the body there too, so
only a request that has fully arrived is answered:

- a body larger than ``max_body_bytes`` is refused (413) as soon as it passes
  the limit, whether it announced its length or came in chunks;
- a body that has not arrived ``body_timeout_seconds`` after its headers is
  refused (408), and the connection is closed; one cut short gets 400;
- then an ``in_loop`` handler may answer it in the event loop itself, without a
  thread (``predict_endpoint``: predictions); what it leaves (None) goes to the
  Flask application, in a pool of ``threads`` threads.

The refusals are the Flask application's own answers (JSON with the request id,
counted in the metrics and logged): it is called with a body that raises the
HTTP error when read. Generic adapters (asgiref, a2wsgi) enforce neither limit.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from werkzeug.exceptions import (
    ClientDisconnected,
    HTTPException,
    RequestEntityTooLarge,
    RequestTimeout,
)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
WholeAnswer = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, headers, body
# Given a request and its whole body, its answer; or None to leave it to the WSGI application.
InLoop = Callable[[Scope, bytes], Awaitable[WholeAnswer | None]]


class RefusedBody(io.RawIOBase):
    """A request body that was not accepted: reading it raises the HTTP error to answer."""

    def __init__(self, error: HTTPException) -> None:
        """Keep the error to raise."""
        super().__init__()
        self.error = error

    def readable(self) -> bool:
        """The application may try to read it (and then gets the error)."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Raise the error instead of reading."""
        raise self.error


class BufferedWSGI:
    """An ASGI application answering requests read whole: ``in_loop``, else a WSGI application."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        max_body_bytes: int,
        body_timeout_seconds: float,
        threads: int,
        in_loop: InLoop | None = None,
    ) -> None:
        """Wrap ``app``; its threads start when the first request comes."""
        self.app = app
        self.in_loop = in_loop
        self.max_body_bytes = max_body_bytes
        self.body_timeout_seconds = body_timeout_seconds
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one ASGI connection scope: ``http``, or the server's ``lifespan``."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets: not served
            raise ValueError(f"unsupported ASGI scope type {scope['type']!r}")
        body = await self._read_body(scope, receive)
        answer = None
        if self.in_loop is not None and isinstance(body, io.BytesIO):
            answer = await self.in_loop(scope, body.getvalue())
        if answer is None:
            answer = await asyncio.get_running_loop().run_in_executor(
                self.executor, self._run, wsgi_environ(scope, body)
            )
        status, headers, content = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        if isinstance(body, RefusedBody) and isinstance(body.error, RequestEntityTooLarge):
            await self._discard_rest(receive)

    async def _discard_rest(self, receive: Receive) -> None:
        """Read and drop what the client still sends, for up to ``body_timeout_seconds``.

        Most clients send the whole body before they read the answer; closing the
        connection on unread data would reset it, and they would see a broken
        connection instead of the 413. Dropped data costs no memory.
        """

        async def drain() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect" or not message.get("more_body"):
                    return

        draining = asyncio.ensure_future(drain())
        await asyncio.wait({draining}, timeout=self.body_timeout_seconds)
        draining.cancel()

    async def _read_body(self, scope: Scope, receive: Receive) -> io.IOBase:
        """The body, whole; or a ``RefusedBody`` if it is too large, too slow or cut short."""
        length = header(scope, "Content-Length")
        declared = int(length) if length is not None and length.isdigit() else None
        if declared is not None and declared > self.max_body_bytes:
            return RefusedBody(RequestEntityTooLarge())  # without reading a byte of it
        reading = asyncio.ensure_future(self._receive_all(receive, declared))
        done, _ = await asyncio.wait({reading}, timeout=self.body_timeout_seconds)
        if done:
            return reading.result()
        reading.cancel()
        seconds = self.body_timeout_seconds
        return RefusedBody(RequestTimeout(f"the body did not arrive within {seconds:g} s"))

    async def _receive_all(self, receive: Receive, declared: int | None) -> io.IOBase:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":  # answered, in case the client still reads
                announced = f" of the {declared} bytes its Content-Length announced"
                ended = f"the body ended after {size}{announced if declared else ' bytes'}"
                return RefusedBody(ClientDisconnected(ended))
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return RefusedBody(RequestEntityTooLarge())
            chunks.append(chunk)
            if not message.get("more_body", False):
                return io.BytesIO(b"".join(chunks))

    def _run(self, environ: dict[str, Any]) -> WholeAnswer:
        """Call the WSGI application in a pool thread; its status, headers and whole body."""
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            started[:] = [status, headers]

        result = self.app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        encoded = [
            (name.lower().encode("latin-1"), text.encode("latin-1")) for name, text in headers
        ]
        return int(status.split(" ", 1)[0]), encoded, content

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Acknowledge start-up and shut-down; the model loads when the application is built."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.executor.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return


def header(scope: Scope, name: str) -> str | None:
    """A request header's value (several joined by commas, as in WSGI); None if not sent."""
    wanted = name.lower().encode("latin-1")
    values = [
        bytes(value).decode("latin-1").strip()
        for key, value in scope.get("headers", ())
        if bytes(key).lower() == wanted
    ]
    return ",".join(values) if values else None


def route_path(scope: Scope) -> str:
    """The request's path below the application's root (ASGI paths include the root path)."""
    root, path = scope.get("root_path", ""), str(scope["path"])
    return path[len(root) :] if root and path.startswith(root) else path


def wsgi_environ(scope: Scope, body: io.IOBase) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of an ASGI HTTP scope whose body has been read."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    root, path = scope.get("root_path", ""), route_path(scope)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf-8").decode("latin-1"),  # PEP 3333: bytes as latin-1
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": bytes(scope.get("query_string", b"")).decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] if server[1] is not None else 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = str(client[0]), str(client[1])
    if isinstance(body, io.BytesIO):
        environ["CONTENT_LENGTH"] = str(len(body.getbuffer()))
    for raw_name, raw_value in scope.get("headers", ()):
        name = bytes(raw_name).decode("latin-1").upper().replace("-", "_")
        value = bytes(raw_value).decode("latin-1")
        if name == "CONTENT_LENGTH":
            environ.setdefault(name, value)  # the length read wins over the one announced
            continue
        key = name if name == "CONTENT_TYPE" else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ
