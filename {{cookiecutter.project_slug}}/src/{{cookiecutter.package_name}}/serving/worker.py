"""The gunicorn worker the service runs: gunicorn's asyncio worker, refusing in JSON.

gunicorn refuses some requests itself, before the application sees them: a
request line over ``limit_request_line`` (414), headers over
``limit_request_fields`` or ``limit_request_field_size`` (431), a request its
parser cannot read (400). It answers those in plain text. Clients of this service
read every other error as JSON (``{"error": ..., "request_id": ...}``, with the
same security headers), so this worker answers these the same way, counts them
in the metrics (endpoint ``<unread>``) and logs them.

gunicorn has no setting for these answers. Its worker serves each connection
with an ``ASGIProtocol`` made by the event loop's ``create_server``; here the
loop makes ``JSONErrorProtocol`` instead, which overrides the one method that
writes them (``_send_error_response``, gunicorn's own, not a public API).
``tests/serving/test_worker.py`` feeds gunicorn's real parser bad requests and
expects JSON, so a gunicorn release that changes this fails a test instead of
silently answering in text again.

With several workers, each accepts the connections of the socket they share
through ``accepts.BalancedAccepts``, so that they share the connections evenly.

The loop is asyncio's own, whatever gunicorn's ``asgi_loop`` setting says: gunicorn
would pick uvloop when it is installed, which on the example model served no more
requests a second. HTTP/2 (off unless gunicorn's ``http_protocols`` allows it)
answers its errors in its own frames, in text.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers.gasgi import ASGIWorker

from .accepts import BalancedAccepts

log = logging.getLogger(__name__)
UNREAD = "<unread>"  # the endpoint these requests are counted under: none was read


# Why each refusal, for the client, after gunicorn's own message.
_REASONS = {
    400: "the service cannot read this as an HTTP/1.1 request",
    414: "the service accepts request lines (method, path and query) of at most"
    " {cfg.limit_request_line} bytes (gunicorn's limit_request_line)",
    431: "the service accepts at most {cfg.limit_request_fields} headers (gunicorn's"
    " limit_request_fields) of at most {cfg.limit_request_field_size} bytes each"
    " (limit_request_field_size)",
}


class JSONErrorProtocol(ASGIProtocol):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's connection protocol, with its own refusals in JSON."""

    def _send_error_response(self, status: int, message: str) -> None:
        """Answer a refusal as the application answers errors, saying why; count and log it."""
        reason = _REASONS.get(status)
        if reason is None:  # a 500: the application failed, and gunicorn logs why
            super()._send_error_response(status, message)
            return
        # Imported here: gunicorn imports this module in its master process, which must
        # not load the application (each worker loads it; the metrics need their folder).
        from . import metrics
        from .envelope import JSON_TYPE, SECURITY_HEADERS, error_payload

        error = f"{message}: {reason.format(cfg=self.cfg)}"
        body = json.dumps(error_payload(error, None)).encode()  # no request, so no id
        headers = {
            "Content-Type": JSON_TYPE,
            "Content-Length": str(len(body)),
            "Connection": "close",  # gunicorn closes the connection after these
            **SECURITY_HEADERS,
        }
        head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        self._safe_write(head.encode("latin-1") + body)
        if self._current_request is not None:
            return  # a body that broke off: the application has the request, and counts it
        metrics.REQUESTS.labels(UNREAD, str(status)).inc()
        log.warning(
            "request refused by gunicorn",
            extra={"status": status, "error": error, "client": _address(self.transport)},
        )


def _address(transport: asyncio.BaseTransport | None) -> str | None:
    """The client's address as ``host:port`` (``[host]:port`` for IPv6), if known."""
    peer = transport.get_extra_info("peername") if transport is not None else None
    if not isinstance(peer, tuple):
        return None
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _ProtocolLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose servers serve their connections with ``protocol``.

    Given ``held`` (the connections the worker holds), a server on a listening
    socket shares it with other workers: it accepts through ``BalancedAccepts``.
    """

    def __init__(
        self, protocol: Callable[[], asyncio.BaseProtocol], held: Callable[[], int] | None
    ) -> None:
        super().__init__()
        self._protocol = protocol
        self._held = held

    async def create_server(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], *args: Any, **kwargs: Any
    ) -> asyncio.Server:
        """Serve with this loop's protocol, in place of gunicorn's ``ASGIProtocol``."""
        listener = kwargs.get("sock")
        if self._held is None or listener is None:
            return await super().create_server(self._protocol, *args, **kwargs)
        server = await super().create_server(
            self._protocol, *args, **{**kwargs, "start_serving": False}
        )
        BalancedAccepts(self, listener, server, self._protocol, self._held, kwargs.get("ssl"))
        return server


class Worker(ASGIWorker):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's asyncio worker (``worker_class = "asgi"``), refusing in JSON.

    With other workers, it takes its share of their socket's connections in turns.
    """

    def _setup_event_loop(self) -> None:
        held = (lambda: self.nr_conns) if self.cfg.workers > 1 else None  # alone: at once
        self.loop = _ProtocolLoop(lambda: JSONErrorProtocol(self), held)
        asyncio.set_event_loop(self.loop)
