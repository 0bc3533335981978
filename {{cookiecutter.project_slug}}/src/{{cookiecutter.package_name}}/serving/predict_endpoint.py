"""POST /predict: a body's rows to the model and its predictions back, in a thread or event loop.

gunicorn's worker reads each request whole in its event loop (``asgi``). A
prediction that then went through the Flask application paid for a pool thread,
Flask's request machinery and a thread blocked on the model's answer. So once
the model is ready, ``LoopPredictions`` answers POST /predict in the event loop
itself, which awaits the model's answer instead of a thread waiting for it. On
the example model, at 8 connections, that took a worker's CPU per request from
2.2-2.6 ms to 1.5-1.6 ms, the request's log line, metrics and prediction log
included. Every other request, and predictions while the model is loading or
after it was lost, go to the Flask application. Its /predict route (``app``: the
application run in-process, and Flask's test client) answers the same requests
the same way: both use ``PredictEndpoint`` for everything but the wait, and
``envelope`` for what every answer carries.

The body's checks run in the loop too, so while a large batch is checked (about
3 ms for 1000 rows of the example's columns, parsing included, as fast or slow as
the machine) the worker's other connections wait; in a thread they would wait
about as long, for Python's global lock.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from werkzeug.http import parse_options_header

from ..prediction_log import PredictionLog
from . import metrics
from .asgi import Scope, WholeAnswer, header, route_path
from .batching import Submit
from .body import Batch, BodyReader, NotJsonError, RequestError
from .envelope import (
    CLIENT_LEFT,
    INTERNAL_ERROR,
    JSON_TYPE,
    REQUEST_ID_HEADER,
    answer_headers,
    client_key,
    error_payload,
    json_bytes,
    record_request,
    resolve_request_id,
)
from .model import ModelCard
from .model_client import ModelUnavailable

log = logging.getLogger(__name__)

PREDICT_PATH = "/predict"


@dataclass(frozen=True)
class Answer:
    """An answer's status and JSON."""

    status: int
    payload: dict[str, Any]


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: such predictions become null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


class PredictEndpoint:
    """The checks before the model's call and the answer after it, for one loaded model."""

    def __init__(
        self,
        card: ModelCard,
        reader: BodyReader,
        submit: Submit,
        prediction_log: PredictionLog | None,
    ) -> None:
        """Answer for the model ``card`` describes; ``submit`` queues rows for its calls."""
        self.card = card
        self.reader = reader
        self._submit = submit
        self.prediction_log = prediction_log

    def check(
        self, mimetype: str, data: bytes, request_id: str, timings: dict[str, float]
    ) -> Batch | Answer:
        """The body's rows, or the answer refusing them (415, 400); ``parse`` timed."""
        if mimetype != JSON_TYPE:
            message = f"send the rows as {JSON_TYPE}, not '{mimetype or 'none'}'"
            return Answer(415, error_payload(message, request_id))
        started = time.perf_counter()
        try:
            batch = self.reader.read(data)
        except NotJsonError as error:
            problems = [str(error)]
            return Answer(400, error_payload("the body is not valid JSON", request_id, problems))
        except RequestError as error:
            if error.missing_fraction is not None:
                metrics.INPUT_MISSING.observe(error.missing_fraction)
            message = "the rows do not match the model's input schema"
            return Answer(400, error_payload(message, request_id, error.problems))
        finally:
            timings["parse"] = time.perf_counter() - started
        metrics.INPUT_MISSING.observe(batch.missing_fraction)
        return batch

    def submit(self, batch: Batch, client: Hashable | None) -> Future[list[Any]]:
        """Queue the batch's rows for a model call; the future holds the predictions or error."""
        return self._submit(batch.rows, client)

    def answer(self, batch: Batch, done: Future[list[Any]], request_id: str) -> Answer:
        """The answer to ``batch`` once ``done`` (from ``submit``) is: predictions, or the error.

        Writes the sampled predictions to the prediction log before the answer leaves.
        """
        error = done.exception()
        if error is not None:
            return self._failed(error, request_id)
        predictions = [_clean(value) for value in done.result()]
        metrics.ROWS_PREDICTED.inc(len(predictions))
        if self.prediction_log is not None and self.prediction_log.sampled():
            # One write to this worker's own file before the answer leaves (prediction_log.py).
            names = [column.name for column in self.card.columns]
            records = [dict(zip(names, row, strict=True)) for row in batch.rows]
            if self.prediction_log.write(request_id, records, predictions):
                metrics.LOGGED_ROWS.inc(len(predictions))
            else:
                metrics.LOG_DROPPED.inc()
        non_null = sum(value is not None for value in predictions) / len(predictions)
        metrics.OUTPUT_NON_NULL.observe(non_null)
        model = {"name": self.card.info["name"], "version": self.card.info["version"]}
        return Answer(200, {"predictions": predictions, "model": model, "request_id": request_id})

    def _failed(self, error: BaseException, request_id: str) -> Answer:
        if isinstance(error, ValueError):  # the model's own input checks (e.g. float32 overflow)
            log.warning("model rejected input", extra={"request_id": request_id})
            problems = [str(error)]
            return Answer(400, error_payload("the model rejected the rows", request_id, problems))
        if isinstance(error, ModelUnavailable):
            return Answer(503, error_payload(str(error), request_id))
        log.error("model failed", exc_info=error, extra={"request_id": request_id})
        message = "the model failed; quote the request id when reporting it"
        return Answer(500, error_payload(message, request_id))


class LoopPredictions:
    """Answers POST /predict in the event loop (``asgi.BufferedWSGI``'s ``in_loop``).

    ``endpoint`` says whether the model is ready: None leaves the request to the
    Flask application, which waits for a loading model or says why there is none.
    """

    def __init__(self, endpoint: Callable[[], PredictEndpoint | None]) -> None:
        """Answer with the endpoint ``endpoint`` returns at each request."""
        self._endpoint = endpoint

    async def __call__(self, scope: Scope, data: bytes) -> WholeAnswer | None:
        """The answer to a prediction request read whole; None for any other request."""
        path = route_path(scope)
        endpoint = self._endpoint()
        if endpoint is None or path != PREDICT_PATH or scope["method"] != "POST":
            return None
        started = time.perf_counter()
        request_id = resolve_request_id(header(scope, REQUEST_ID_HEADER))
        timings: dict[str, float] = {}
        rows: int | None = None
        metrics.IN_PROGRESS.inc()
        try:
            mimetype = parse_options_header(header(scope, "Content-Type"))[0].lower()
            checked = endpoint.check(mimetype, data, request_id, timings)
            if isinstance(checked, Answer):
                answer = checked
            else:
                rows = len(checked.rows)
                done = endpoint.submit(checked, client_key(*(scope.get("client") or (None, None))))
                waited = time.perf_counter()  # the model step includes the wait for the merged call
                await _woken_when_done(done)
                timings["model"] = time.perf_counter() - waited
                answer = endpoint.answer(checked, done, request_id)
            content = json_bytes(answer.payload)
        except asyncio.CancelledError:  # the client left (gunicorn cancels its request)
            latency = time.perf_counter() - started
            record_request(request_id, "POST", path, PREDICT_PATH, CLIENT_LEFT, latency, rows)
            raise
        except Exception:
            log.exception("unexpected error", extra={"request_id": request_id})
            answer = Answer(500, error_payload(INTERNAL_ERROR, request_id))
            content = json_bytes(answer.payload)
        finally:
            metrics.IN_PROGRESS.dec()
        latency = time.perf_counter() - started
        record_request(request_id, "POST", path, PREDICT_PATH, answer.status, latency, rows)
        headers = {
            "Content-Type": JSON_TYPE,
            "Content-Length": str(len(content)),
            **answer_headers(request_id, {**timings, "app": latency}),
        }
        return (
            answer.status,
            [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()],
            content,
        )


def _woken_when_done(done: Future[Any]) -> asyncio.Future[None]:
    """A future of the event loop, set once ``done`` is (in another thread).

    Awaiting it neither reads ``done`` (``PredictEndpoint.answer`` does) nor, if
    the request is cancelled, cancels it: the model's side still sets ``done``.
    """
    loop = asyncio.get_running_loop()
    woken: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not woken.done():  # cancelled: the request was abandoned
            woken.set_result(None)

    done.add_done_callback(lambda _: loop.call_soon_threadsafe(wake))
    return woken
