"""Prometheus metrics of the service, correct under gunicorn's several worker processes.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``gunicorn_conf`` sets it), every worker
writes its samples to files in that folder and ``GET /metrics`` adds them up, so
the counters are the service's, not one worker's.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
FRACTION_BUCKETS = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

REQUESTS = Counter(
    "model_requests", "HTTP requests served, by endpoint and status code", ["endpoint", "status"]
)
LATENCY = Histogram(
    "model_request_latency_seconds",
    "Time to answer a request, by endpoint",
    ["endpoint"],
    buckets=LATENCY_BUCKETS,
)
IN_PROGRESS = Gauge(
    "model_requests_in_progress",
    "Requests being answered right now, over all workers (the service's load)",
    multiprocess_mode="livesum",
)
ROWS_PREDICTED = Counter("model_rows_predicted", "Rows the model made predictions for")
INPUT_MISSING = Histogram(
    "model_input_missing_fraction",
    "Per prediction request: fraction of the model's input cells missing or null",
    buckets=FRACTION_BUCKETS,
)
OUTPUT_NON_NULL = Histogram(
    "model_output_non_null_fraction",
    "Per prediction request: fraction of predictions that are not null or NaN",
    buckets=FRACTION_BUCKETS,
)

LOGGED_ROWS = Counter("model_prediction_log_rows", "Rows written to the prediction log")
LOG_DROPPED = Counter(
    "model_prediction_log_dropped_requests",
    "Sampled requests the prediction log could not write (full disk, permissions)",
)


def render() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
