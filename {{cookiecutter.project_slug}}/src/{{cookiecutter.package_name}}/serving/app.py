"""The Flask application: health, readiness, model card, predictions, metrics, OpenAPI.

Every answer is JSON (except ``/metrics`` and the pages for people, ``/`` and
``/docs/``) and carries what ``envelope`` says: the request id, security headers
and the time the service spent on it (a prediction also says where that time
went: ``parse`` and ``model``); every request is counted and logged as one JSON
line with its latency. Bad requests get a 4xx naming every problem; a 5xx means
the model itself failed, and the error is logged with the request id.

Under gunicorn (``create_asgi_app``), prediction requests are answered in the
worker's event loop once the model is ready (``predict_endpoint``), the same
way as the /predict route here answers them.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent import futures
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from ..prediction_log import LogSettings, PredictionLog
from . import metrics
from .asgi import BufferedWSGI
from .batching import Submit
from .body import BodyReader
from .envelope import (
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
from .logs import configure_logging
from .model import ModelCard, ServedModel, load_served_model
from .model_client import ModelClient, ModelUnavailable
from .openapi import openapi_document
from .pages import docs_blueprint, index_page
from .predict_endpoint import PREDICT_PATH, Answer, LoopPredictions, PredictEndpoint
from .settings import ServeSettings, load_settings

log = logging.getLogger(__name__)


class ServiceState:
    """The model as one worker process sees it: no card until loaded, then loaded for good."""

    def __init__(
        self, settings: ServeSettings, on_model_lost: Callable[[str], None] | None = None
    ) -> None:
        """Remember what to load, and whom to tell if the model process goes away."""
        self.settings = settings
        self.on_model_lost = on_model_lost
        self.card: ModelCard | None = None
        self.endpoint: PredictEndpoint | None = None
        self.openapi: dict[str, Any] | None = None
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

    def use(self, card: ModelCard, submit: Submit) -> None:
        """Answer predictions through ``submit`` from now on, for the model ``card`` describes."""
        max_rows = self.settings.max_batch_rows
        self.openapi = openapi_document(card.columns, card.info, max_rows, card.input_example)
        reader = BodyReader(card.columns, max_rows)
        self.endpoint = PredictEndpoint(card, reader, submit, self._prediction_log(card))
        self.card = card
        self.settled.set()

    def ready_endpoint(self) -> PredictEndpoint | None:
        """The prediction endpoint if the model is ready now (loaded, and not lost since)."""
        return self.endpoint if self.error is None else None

    def serve(self, model: ServedModel) -> None:
        """Hold ``model`` in this process, its calls merged by a ``Batcher`` of its own."""
        self.use(model.card, model.batcher(self.settings).submit)

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
                self.use(client.card(), client.submit)
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
    return Response(json_bytes(payload), status=status, mimetype=JSON_TYPE)


def _error(status: int, message: str, problems: list[str] | None = None) -> Response:
    return _json(error_payload(message, g.get("request_id"), problems), status)


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
    app, _ = _service(settings or load_settings(), model, load, on_model_lost)
    return app


def create_asgi_app(
    settings: ServeSettings | None = None, *, model: ServedModel | None = None, load: str = "now"
) -> BufferedWSGI:
    """The service as gunicorn's asyncio worker runs it (``gunicorn_conf``).

    Requests are read whole in the event loop. Prediction requests are answered
    there once the model is ready (``predict_endpoint``); the others by
    ``create_app``'s application in ``settings.threads`` threads (see ``asgi``).
    Arguments as for ``create_app``; a worker that loses the model process stops
    the service.
    """
    settings = settings or load_settings()
    app, state = _service(settings, model, load, stop_service)
    return BufferedWSGI(
        app,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_seconds=settings.body_timeout_seconds,
        threads=settings.threads,
        in_loop=LoopPredictions(state.ready_endpoint),
    )


def _service(
    settings: ServeSettings,
    model: ServedModel | None,
    load: str,
    on_model_lost: Callable[[str], None] | None,
) -> tuple[Flask, ServiceState]:
    """The Flask application and the model's state it answers from (see ``create_app``)."""
    configure_logging()
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
    return app, state


def _load_quietly(state: ServiceState) -> None:
    try:
        state.load()
    except Exception:  # already logged; /ready keeps answering 503 with the reason
        return


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.request_id = resolve_request_id(request.headers.get(REQUEST_ID_HEADER))
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
        request_id = g.get("request_id", "")
        timings = {**g.get("timings", {}), "app": latency}  # app: the whole, last
        response.headers.update(answer_headers(request_id, timings))
        status, rows = response.status_code, g.get("rows")
        record_request(request_id, request.method, request.path, endpoint, status, latency, rows)
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
        return _error(500, INTERNAL_ERROR)


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

    @app.post(PREDICT_PATH)
    def predict() -> Response:
        state.wait()
        endpoint = state.ready_endpoint()
        if endpoint is None:
            return _error(503, state.error or "the model is still loading")
        checked = endpoint.check(request.mimetype, request.get_data(), g.request_id, g.timings)
        if isinstance(checked, Answer):
            return _json(checked.payload, checked.status)
        g.rows = len(checked.rows)
        client = client_key(request.remote_addr, request.environ.get("REMOTE_PORT"))
        done = endpoint.submit(checked, client)
        waited = time.perf_counter()  # the model step includes the wait for the merged call
        futures.wait([done])
        g.timings["model"] = time.perf_counter() - waited
        answer = endpoint.answer(checked, done, g.request_id)
        return _json(answer.payload, answer.status)
