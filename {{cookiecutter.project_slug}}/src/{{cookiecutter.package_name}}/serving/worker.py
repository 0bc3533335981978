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

The loop is asyncio's own. gunicorn would pick uvloop when it is installed; it
is not a dependency: on the example model it served no more requests a second.
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

from . import metrics
from .app import JSON_TYPE, SECURITY_HEADERS

log = logging.getLogger(__name__)
UNREAD = "<unread>"  # the endpoint these requests are counted under: none was read


# Why each refusal, for the client, after gunicorn's own message.
_REASONS = {
    400: "not an HTTP request the service can read",
    414: "the service accepts request lines (method, path and query) of at most"
    " {cfg.limit_request_line} bytes (gunicorn's limit_request_line)",
    431: "the service accepts at most {cfg.limit_request_fields} headers (gunicorn's"
    " limit_request_fields) of at most {cfg.limit_request_field_size} bytes each"
    " (limit_request_field_size)",
}


class JSONErrorProtocol(ASGIProtocol):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's connection protocol, with its own refusals in JSON."""

    def _send_error_response(self, status: int, message: str) -> None:
        """Answer ``status`` as the application answers errors, saying why; count and log it."""
        reason = _REASONS.get(status)
        error = f"{message}: {reason.format(cfg=self.cfg)}" if reason else message
        body = json.dumps({"error": error, "request_id": None}).encode()
        headers = {
            "Content-Type": JSON_TYPE,
            "Content-Length": str(len(body)),
            "Connection": "close",  # gunicorn closes the connection after these
            **SECURITY_HEADERS,
        }
        head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        self._safe_write(head.encode("latin-1") + body)
        metrics.REQUESTS.labels(UNREAD, str(status)).inc()
        peer = self.transport.get_extra_info("peername") if self.transport else None
        client = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else None
        log.warning(
            "request refused by gunicorn",
            extra={"status": status, "error": error, "client": client},
        )


class _ProtocolLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose servers serve their connections with ``protocol``."""

    def __init__(self, protocol: Callable[[], asyncio.BaseProtocol]) -> None:
        super().__init__()
        self._protocol = protocol

    async def create_server(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], *args: Any, **kwargs: Any
    ) -> asyncio.Server:
        """Serve with this loop's protocol, in place of gunicorn's ``ASGIProtocol``."""
        return await super().create_server(self._protocol, *args, **kwargs)


class Worker(ASGIWorker):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's asyncio worker (``worker_class = "asgi"``), refusing in JSON."""

    def _setup_event_loop(self) -> None:
        self.loop = _ProtocolLoop(lambda: JSONErrorProtocol(self))
        asyncio.set_event_loop(self.loop)
