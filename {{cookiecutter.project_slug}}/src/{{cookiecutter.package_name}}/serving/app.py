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
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from ..prediction_log import LogSettings, PredictionLog
from . import metrics
from .asgi import BufferedWSGI
from .batching import MergingPredictor, Predict
from .body import BodyReader, NotJsonError, RequestError
from .logs import configure_logging
from .model import ServedModel, load_served_model
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
    """The model of one worker process: None until loaded, then loaded for good."""

    def __init__(self, settings: ServeSettings) -> None:
        """Remember what to load; nothing is loaded yet."""
        self.settings = settings
        self.model: ServedModel | None = None
        self.predict: Predict | None = None
        self.reader: BodyReader | None = None
        self.openapi: dict[str, Any] | None = None
        self.log: PredictionLog | None = None
        self.error: str | None = None
        self.settled = threading.Event()  # set once loading succeeded or failed

    def wait(self) -> ServedModel | None:
        """The model, waiting up to ``load_wait_seconds`` while it is still loading.

        Every gunicorn worker loads its own copy: a request that reaches a worker
        still loading waits for it instead of failing, so a service that is ready
        anywhere answers everywhere.
        """
        if self.model is None:
            self.settled.wait(self.settings.load_wait_seconds)
        return self.model

    def use(self, model: ServedModel) -> None:
        """Serve ``model`` from now on."""
        self.openapi = openapi_document(
            model.columns, model.info, self.settings.max_batch_rows, model.input_example
        )
        self.reader = BodyReader(model.columns, self.settings.max_batch_rows)
        self.predict = (
            MergingPredictor(model.predict, self.settings.max_batch_rows)
            if self.settings.merge_requests
            else model.predict
        )
        self.log = self._prediction_log(model)
        self.model = model
        self.settled.set()

    def _prediction_log(self, model: ServedModel) -> PredictionLog | None:
        settings = self.settings
        if settings.prediction_log_dir is None or settings.log_sample_rate == 0:
            return None
        log_settings = LogSettings(
            settings.prediction_log_dir,
            settings.log_sample_rate,
            settings.log_max_bytes,
            settings.log_max_age_seconds,
        )
        info = model.info
        return PredictionLog(log_settings, info["name"], info.get("version"), info.get("run_id"))

    def load(self) -> None:
        """Load the configured model; a failure is logged and kept for ``/ready``."""
        started = time.perf_counter()
        try:
            self.use(load_served_model(self.settings))
        except Exception as error:
            self.error = f"cannot load {self.settings.uri}: {error}"
            self.settled.set()
            log.exception("model load failed", extra={"model_uri": self.settings.uri})
            raise
        info = self.model.info if self.model else {}
        log.info(
            "model loaded",
            extra={
                "model_uri": info.get("uri"),
                "model_version": info.get("version"),
                "seconds": round(time.perf_counter() - started, 3),
            },
        )


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, allow_nan=False), status=status, mimetype=JSON_TYPE)


def _error(status: int, message: str, problems: list[str] | None = None) -> Response:
    payload: dict[str, Any] = {"error": message, "request_id": g.get("request_id")}
    if problems is not None:
        payload["problems"] = problems
    return _json(payload, status)


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
) -> Flask:
    """Build the service.

    Args:
        settings: What to serve and the request limits; read from ``conf/serve`` and
            the environment (``settings.load_settings``) when not given.
        model: An already loaded model to serve (tests); skips loading.
        load: ``"now"`` loads the model before returning, ``"background"`` in a
            thread (``/health`` answers meanwhile, ``/ready`` says 503), ``"never"``
            leaves it unloaded.
    """
    configure_logging()
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    state = ServiceState(settings)
    _register_hooks(app)
    _register_routes(app, state)
    if model is not None:
        state.use(model)
    elif load == "now":
        state.load()
    elif load == "background":
        threading.Thread(target=_load_quietly, args=(state,), daemon=True).start()
    return app


def create_asgi_app(settings: ServeSettings | None = None, *, load: str = "now") -> BufferedWSGI:
    """The service as gunicorn's asyncio worker runs it (``gunicorn_conf``).

    Requests are read whole in the event loop, then answered by ``create_app``'s
    application in ``settings.threads`` threads (see ``asgi``). Arguments as for
    ``create_app``.
    """
    settings = settings or load_settings()
    return BufferedWSGI(
        create_app(settings, load=load),
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
        return Response(index_page(state.model.info if state.model else None), mimetype="text/html")

    @app.get("/health")
    def health() -> Response:
        return _json({"status": "alive"})

    @app.get("/ready")
    def ready() -> Response:
        if state.model is None:
            return _error(503, state.error or "the model is still loading")
        return _json({"status": "ready", "model": state.model.info["uri"]})

    @app.get("/model")
    def model_card() -> Response:
        model = state.wait()
        if model is None:
            return _error(503, state.error or "the model is still loading")
        return _json(
            {
                **model.info,
                "columns": [vars(column) for column in model.columns],
                "max_batch_rows": state.settings.max_batch_rows,
                "input_example": model.input_example,
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
        model = state.wait()
        predict, reader = state.predict, state.reader
        if model is None or predict is None or reader is None:
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
            with _timed("model"):  # with merging, includes the wait for the shared call
                predictions = [_clean(value) for value in predict(batch.rows)]
        except ValueError as error:  # the model's own input checks (e.g. float32 overflow)
            log.warning("model rejected input", extra={"request_id": g.request_id})
            return _error(400, "the model rejected the rows", [str(error)])
        except Exception:
            log.exception("model failed", extra={"request_id": g.request_id})
            return _error(500, "the model failed; quote the request id when reporting it")
        metrics.ROWS_PREDICTED.inc(len(predictions))
        if state.log is not None and state.log.sampled():
            # One write to this worker's own file before the answer leaves (prediction_log.py).
            names = [column.name for column in model.columns]
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
                "model": {"name": model.info["name"], "version": model.info["version"]},
                "request_id": g.request_id,
            }
        )
