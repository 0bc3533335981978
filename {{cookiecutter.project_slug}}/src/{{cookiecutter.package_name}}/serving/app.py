"""The Flask application: health, readiness, model card, predictions, metrics, OpenAPI.

Every answer is JSON (except ``/metrics`` and the pages for people, ``/`` and
``/docs/``), carries an ``X-Request-ID`` header,
``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store``, and
the time the service spent on it (``Server-Timing: app;dur=<ms>``; a prediction
also says where that time went: ``read``, ``parse`` and ``model``), and is logged
as one JSON line with its latency. Bad requests get a 4xx naming every
problem; a 5xx means the model itself failed, and the error is logged with the
request id.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from ..prediction_log import LogSettings, PredictionLog
from . import metrics
from .asgi import BufferedWSGI
from .batching import PredictFor
from .body import BodyReader, NotJsonError, RequestError
from .logs import configure_logging
from .model import ModelCard, ServedModel, load_served_model
from .model_client import ModelClient, ModelUnavailable
from .openapi import openapi_document
from .pages import docs_blueprint, index_page
from .settings import ServeSettings, load_settings

log = logging.getLogger(__name__)

JSON_TYPE = "application/json"
REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# On every answer: browsers must not guess another content type than the one sent,
# and no cache (browser or proxy) keeps predictions, which describe someone's data.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


class ServiceState:
    """The model as one worker process sees it: no card until loaded, then loaded for good."""

    def __init__(
        self, settings: ServeSettings, on_model_lost: Callable[[str], None] | None = None
    ) -> None:
        """Remember what to load, and whom to tell if the model process goes away."""
        self.settings = settings
        self.on_model_lost = on_model_lost
        self.card: ModelCard | None = None
        self.predict: PredictFor | None = None
        self.reader: BodyReader | None = None
        self.openapi: dict[str, Any] | None = None
        self.log: PredictionLog | None = None
        self.error: str | None = None
        self.settled = threading.Event()  # set once loading succeeded or failed

    def wait(self) -> ModelCard | None:
        """The model's card, waiting up to ``load_wait_seconds`` while it is still loading.

        A request that reaches a worker before the model is ready waits for it
        instead of failing, so a service that is ready anywhere answers everywhere.
        """
        if self.card is None:
            self.settled.wait(self.settings.load_wait_seconds)
        return self.card

    def use(self, card: ModelCard, predict: PredictFor) -> None:
        """Answer predictions with ``predict`` from now on, for the model ``card`` describes."""
        self.openapi = openapi_document(
            card.columns, card.info, self.settings.max_batch_rows, card.input_example
        )
        self.reader = BodyReader(card.columns, self.settings.max_batch_rows)
        self.predict = predict
        self.log = self._prediction_log(card)
        self.card = card
        self.settled.set()

    def serve(self, model: ServedModel) -> None:
        """Hold ``model`` in this process, its calls merged by a ``Batcher`` of its own."""
        self.use(model.card, model.batcher(self.settings))

    def _prediction_log(self, card: ModelCard) -> PredictionLog | None:
        settings = self.settings
        if settings.prediction_log_dir is None or settings.log_sample_rate == 0:
            return None
        log_settings = LogSettings(
            settings.prediction_log_dir,
            settings.log_sample_rate,
            settings.log_max_bytes,
            settings.log_max_age_seconds,
        )
        info = card.info
        return PredictionLog(log_settings, info["name"], info.get("version"), info.get("run_id"))

    def load(self) -> None:
        """Get the model: from the model process if there is one, else load it here.

        A failure is logged and kept for ``/ready``.
        """
        settings = self.settings
        started = time.perf_counter()
        try:
            if settings.model_socket is not None:
                client = ModelClient(
                    settings.model_socket, settings.load_wait_seconds, on_lost=self._model_lost
                )
                self.use(client.card(), client.predict)
            else:
                self.serve(load_served_model(settings))
        except Exception as error:
            unavailable = isinstance(error, ModelUnavailable)  # says what it could not load
            self.error = str(error) if unavailable else f"cannot load {settings.uri}: {error}"
            self.settled.set()
            log.error("model load failed: %s", self.error, exc_info=not unavailable)
            raise
        info = self.card.info if self.card else {}
        log.info(
            "model ready",
            extra={
                "model_uri": info.get("uri"),
                "model_version": info.get("version"),
                "seconds": round(time.perf_counter() - started, 3),
            },
        )

    def _model_lost(self, reason: str) -> None:
        """The model process is gone: predictions get 503 from now on."""
        self.error = reason
        if self.on_model_lost is None:
            log.error("%s: predictions get 503", reason)
        else:
            self.on_model_lost(reason)


def stop_service(reason: str) -> None:
    """Stop the whole service (gunicorn's master): what a worker does without a model process.

    No worker can predict any more; a service that stops says so, and whatever
    runs it (a container platform, systemd) starts it again.
    """
    log.error("%s: stopping the service so that it can be started again", reason)
    os.kill(os.getppid(), signal.SIGTERM)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, allow_nan=False), status=status, mimetype=JSON_TYPE)


def error_payload(
    message: str, request_id: str | None, problems: list[str] | None = None
) -> dict[str, Any]:
    """The JSON of every error answer (the worker's refusals too: ``worker.py``)."""
    payload: dict[str, Any] = {"error": message, "request_id": request_id}
    if problems is not None:
        payload["problems"] = problems
    return payload


def _error(status: int, message: str, problems: list[str] | None = None) -> Response:
    return _json(error_payload(message, g.get("request_id"), problems), status)


def _client() -> str | None:
    """The request's client, as the model's merged calls know it: its connection (address, port)."""
    port = request.environ.get("REMOTE_PORT")
    return f"{request.remote_addr}:{port}" if port else None


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: such predictions become null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


@contextmanager
def _timed(step: str) -> Iterator[None]:
    """Add the time spent in the block to the request's ``Server-Timing`` as ``step``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        g.timings[step] = time.perf_counter() - started


def _server_timing(timings: dict[str, float]) -> str:
    return ", ".join(f"{step};dur={seconds * 1000:.3f}" for step, seconds in timings.items())


def create_app(
    settings: ServeSettings | None = None,
    *,
    model: ServedModel | None = None,
    load: str = "now",
    on_model_lost: Callable[[str], None] | None = None,
) -> Flask:
    """Build the service.

    Args:
        settings: What to serve and the request limits; read from ``conf/serve`` and
            the environment (``settings.load_settings``) when not given.
        model: An already loaded model to serve (tests); skips loading.
        load: ``"now"`` loads the model before returning, ``"background"`` in a
            thread (``/health`` answers meanwhile, ``/ready`` says 503), ``"never"``
            leaves it unloaded.
        on_model_lost: Called with the reason if the model process (``settings.model_socket``)
            goes away; by default the error is logged and predictions get 503.
    """
    configure_logging()
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    state = ServiceState(settings, on_model_lost)
    _register_hooks(app)
    _register_routes(app, state)
    if model is not None:
        state.serve(model)
    elif load == "now":
        state.load()
    elif load == "background":
        threading.Thread(target=_load_quietly, args=(state,), daemon=True).start()
    return app


def create_asgi_app(settings: ServeSettings | None = None, *, load: str = "now") -> BufferedWSGI:
    """The service as gunicorn's asyncio worker runs it (``gunicorn_conf``).

    Requests are read whole in the event loop, then answered by ``create_app``'s
    application in ``settings.threads`` threads (see ``asgi``). Arguments as for
    ``create_app``; a worker that loses the model process stops the service.
    """
    settings = settings or load_settings()
    return BufferedWSGI(
        create_app(settings, load=load, on_model_lost=stop_service),
        max_body_bytes=settings.max_body_bytes,
        body_timeout_seconds=settings.body_timeout_seconds,
        threads=settings.threads,
    )


def _load_quietly(state: ServiceState) -> None:
    try:
        state.load()
    except Exception:  # already logged; /ready keeps answering 503 with the reason
        return


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        g.started = time.perf_counter()
        g.timings = {}
        metrics.IN_PROGRESS.inc()
        g.counted = True

    @app.teardown_request
    def done(_: BaseException | None) -> None:
        if g.pop("counted", False):
            metrics.IN_PROGRESS.dec()

    @app.after_request
    def record(response: Response) -> Response:
        latency = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "<unmatched>"
        metrics.REQUESTS.labels(endpoint, str(response.status_code)).inc()
        metrics.LATENCY.labels(endpoint).observe(latency)
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        response.headers.update(SECURITY_HEADERS)
        timings = {**g.get("timings", {}), "app": latency}  # app: the whole, last
        response.headers["Server-Timing"] = _server_timing(timings)
        log.info(
            "request",
            extra={
                "request_id": g.get("request_id"),
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "latency_ms": round(latency * 1000, 3),
                "rows": g.get("rows"),
            },
        )
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        messages = {
            404: f"no such endpoint: {request.method} {request.path}",
            405: f"{request.method} is not allowed on {request.path}",
            413: f"the body is larger than the limit of {app.config['MAX_CONTENT_LENGTH']} bytes",
        }
        code = error.code or 500
        return _error(code, messages.get(code, error.description or error.name))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unexpected error", extra={"request_id": g.get("request_id")})
        return _error(500, "internal error; quote the request id when reporting it")


def _register_routes(app: Flask, state: ServiceState) -> None:
    app.register_blueprint(docs_blueprint(f"{state.settings.model_name} prediction service"))

    @app.get("/")
    def index() -> Response:
        return Response(index_page(state.card.info if state.card else None), mimetype="text/html")

    @app.get("/health")
    def health() -> Response:
        return _json({"status": "alive"})

    @app.get("/ready")
    def ready() -> Response:
        if state.card is None or state.error is not None:  # not loaded, or the process is gone
            return _error(503, state.error or "the model is still loading")
        return _json({"status": "ready", "model": state.card.info["uri"]})

    @app.get("/model")
    def model_card() -> Response:
        card = state.wait()
        if card is None:
            return _error(503, state.error or "the model is still loading")
        return _json(
            {
                **card.info,
                "columns": [vars(column) for column in card.columns],
                "max_batch_rows": state.settings.max_batch_rows,
                "input_example": card.input_example,
            }
        )

    @app.get("/openapi.json")
    def openapi() -> Response:
        if state.wait() is None or state.openapi is None:
            return _error(503, state.error or "the model is still loading")
        return _json(state.openapi)

    @app.get("/metrics")
    def prometheus() -> Response:
        body, content_type = metrics.render()
        return Response(body, content_type=content_type)

    @app.post("/predict")
    def predict() -> Response:
        card = state.wait()
        predict, reader = state.predict, state.reader
        if card is None or predict is None or reader is None:
            return _error(503, state.error or "the model is still loading")
        if request.mimetype != JSON_TYPE:
            return _error(415, f"send the rows as {JSON_TYPE}, not '{request.mimetype or 'none'}'")
        try:
            with _timed("read"):
                data = request.get_data()  # whole already: BufferedWSGI read it
            with _timed("parse"):
                batch = reader.read(data)
        except NotJsonError as error:
            return _error(400, "the body is not valid JSON", [str(error)])
        except RequestError as error:
            if error.missing_fraction is not None:
                metrics.INPUT_MISSING.observe(error.missing_fraction)
            return _error(400, "the rows do not match the model's input schema", error.problems)
        metrics.INPUT_MISSING.observe(batch.missing_fraction)
        g.rows = len(batch.rows)
        try:
            with _timed("model"):  # includes the wait for the merged call
                predictions = [_clean(value) for value in predict(batch.rows, _client())]
        except ValueError as error:  # the model's own input checks (e.g. float32 overflow)
            log.warning("model rejected input", extra={"request_id": g.request_id})
            return _error(400, "the model rejected the rows", [str(error)])
        except ModelUnavailable as error:
            return _error(503, str(error))
        except Exception:
            log.exception("model failed", extra={"request_id": g.request_id})
            return _error(500, "the model failed; quote the request id when reporting it")
        metrics.ROWS_PREDICTED.inc(len(predictions))
        if state.log is not None and state.log.sampled():
            # One write to this worker's own file before the answer leaves (prediction_log.py).
            names = [column.name for column in card.columns]
            records = [dict(zip(names, row, strict=True)) for row in batch.rows]
            if state.log.write(g.request_id, records, predictions):
                metrics.LOGGED_ROWS.inc(len(predictions))
            else:
                metrics.LOG_DROPPED.inc()
        non_null = sum(value is not None for value in predictions) / len(predictions)
        metrics.OUTPUT_NON_NULL.observe(non_null)
        return _json(
            {
                "predictions": predictions,
                "model": {"name": card.info["name"], "version": card.info["version"]},
                "request_id": g.request_id,
            }
        )
