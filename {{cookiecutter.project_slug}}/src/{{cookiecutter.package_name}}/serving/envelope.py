"""What every answer of the service carries, and what every request leaves behind.

Every answer has an ``X-Request-ID`` header (the client's own, if it sent a
valid one), ``X-Content-Type-Options: nosniff``, ``Cache-Control: no-store``,
and the time the service spent on it (``Server-Timing: app;dur=<ms>``, with
the steps of a prediction before it). Every request is counted in the metrics
and logged as one JSON line with its latency. The Flask application's hooks
(``app``) and the prediction requests answered in the event loop
(``predict_endpoint``) both do it through these functions.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from . import metrics

log = logging.getLogger(__name__)

JSON_TYPE = "application/json"
REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# On every answer: browsers must not guess another content type than the one sent,
# and no cache (browser or proxy) keeps predictions, which describe someone's data.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
INTERNAL_ERROR = "internal error; quote the request id when reporting it"
CLIENT_LEFT = 499  # the status logged for a request whose client left before its answer


def resolve_request_id(given: str | None) -> str:
    """The request's id: the client's ``X-Request-ID`` if it is a valid one, else a new one."""
    return given if given and VALID_REQUEST_ID.match(given) else uuid.uuid4().hex


def client_key(address: str | None, port: object) -> str | None:
    """The request's client as the model's merged calls know it: its connection, ``host:port``."""
    return f"{address}:{port}" if address and port else None


def error_payload(
    message: str, request_id: str | None, problems: list[str] | None = None
) -> dict[str, Any]:
    """The JSON of every error answer (the worker's refusals too: ``worker.py``)."""
    payload: dict[str, Any] = {"error": message, "request_id": request_id}
    if problems is not None:
        payload["problems"] = problems
    return payload


def json_bytes(payload: Any) -> bytes:
    """An answer's JSON; NaN and infinity are not JSON and raise ``ValueError``."""
    return json.dumps(payload, allow_nan=False).encode()


def answer_headers(request_id: str, timings: dict[str, float]) -> dict[str, str]:
    """The headers every answer carries; ``timings`` in seconds, the whole (``app``) last."""
    timing = ", ".join(f"{step};dur={seconds * 1000:.3f}" for step, seconds in timings.items())
    return {REQUEST_ID_HEADER: request_id, **SECURITY_HEADERS, "Server-Timing": timing}


def record_request(
    request_id: str,
    method: str,
    path: str,
    endpoint: str,
    status: int,
    latency: float,
    rows: int | None,
) -> None:
    """Count the request in the metrics (under ``endpoint``, its route) and log its line."""
    metrics.REQUESTS.labels(endpoint, str(status)).inc()
    metrics.LATENCY.labels(endpoint).observe(latency)
    log.info(
        "request",
        extra={
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "latency_ms": round(latency * 1000, 3),
            "rows": rows,
        },
    )
