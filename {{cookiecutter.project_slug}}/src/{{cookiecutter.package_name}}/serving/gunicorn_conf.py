"""gunicorn settings for the service: ``gunicorn -c python:<package>.serving.gunicorn_conf``.

``PORT`` (default 8000), ``HOST`` (default 127.0.0.1: this machine only; the image
sets 0.0.0.0) and ``WORKERS`` (default: one per CPU, at most 4) come from the
environment; threads per worker and the body limits from ``conf/serve``.
The model lives in one process of its own, started before the workers and
stopped after them (``model_process``): one copy in memory, and one place where
the requests of all workers are merged into model calls. If it stops, the
workers stop the service, for whatever runs it to start it again.
Workers are gunicorn's asyncio workers: a connection waiting for its headers or
body costs no thread, and a request reaches the application's threads only once
it has arrived whole (``asgi.py``), so slow or silent clients cannot stop the
service; the requests gunicorn refuses itself are answered in JSON
(``worker.py``). The workers share one listening socket and take its connections
in turns, the one holding the fewest first (``accepts.py``). Prometheus
metrics are shared between workers through files in ``PROMETHEUS_MULTIPROC_DIR``
(a fresh temporary folder unless set); a worker's files are marked dead when it
exits, so its counts stay but its gauges go.
"""

from __future__ import annotations

import gc
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# Set before anything imports prometheus_client: it picks its storage on import,
# and the workers forked from this process inherit that choice.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if not os.environ.get(MULTIPROC_ENV):
    os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="prometheus-")


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{_int_env('PORT', 8000)}"
workers = _int_env("WORKERS", min(os.cpu_count() or 1, 4))
# gunicorn's asyncio worker (gunicorn 26 or later), answering its own refusals in JSON.
worker_class = "{{ cookiecutter.package_name }}.serving.worker.Worker"
# One socket, shared by the workers, which accept its connections in turns, the one
# holding the fewest first (accepts.py). A socket per worker (SO_REUSEPORT) left the
# split to a hash of each connection's addresses: 6-2 or worse for 8 connections over
# 2 workers in about a third of runs.
reuse_port = False
timeout = _int_env("TIMEOUT", 60)
graceful_timeout = 10  # on SIGTERM, finish requests in flight for at most this long
keepalive = 5
accesslog = None  # the application logs every request as JSON
# gunicorn's control socket (gunicornc) is one file per user by default, which a
# second service on the same machine would replace, and stopping either removes it.
control_socket_disable = True
# The application factory, called in each worker. The model loads in the background,
# so /health answers at once and /ready turns 200 once the model is in memory. A call
# rather than a module-level app: importing the package (pdoc, tests) loads nothing.
wsgi_app = "{{ cookiecutter.package_name }}.serving.app:create_asgi_app(load='background')"


def port_taken(address: str) -> bool:
    """Whether another program listens on ``address`` (``host:port``).

    gunicorn would find out too, but only after retrying for five seconds, and it
    would not say which setting to change.
    """
    host, _, port = address.rpartition(":")
    family, kind, _, _, where = socket.getaddrinfo(
        host.strip("[]"), int(port), type=socket.SOCK_STREAM
    )[0]
    with socket.socket(family, kind) as probe:
        # As gunicorn's own sockets: connections of a stopped service waiting out
        # TIME_WAIT do not count, listeners do.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(where)
        except OSError:
            return True
    return False


def on_starting(server: Any) -> None:
    """Refuse a port in use, saying how to choose another; start from empty metric files."""
    if port_taken(bind):
        server.log.error(
            "Port %s is in use by another program: stop it, or choose another port (PORT=...)",
            bind,
        )
        sys.exit(1)
    folder = Path(os.environ[MULTIPROC_ENV])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


MODEL_PROCESS = "{{ cookiecutter.package_name }}.serving.model_process"
# The model process of this service, once started (hooks run in gunicorn's master).
_model_process: subprocess.Popen[bytes] | None = None


def when_ready(server: Any) -> None:
    """Start the model process; the workers, forked next, find its socket in ``MODEL_SOCKET``."""
    global _model_process
    folder = Path(tempfile.mkdtemp(prefix="model-"))  # only this user may open it
    os.environ["MODEL_SOCKET"] = str(folder / "model.sock")
    _model_process = subprocess.Popen(
        [sys.executable, "-m", MODEL_PROCESS, os.environ["MODEL_SOCKET"], str(os.getpid())]
    )
    server.log.info("Started the model process (pid: %s)", _model_process.pid)


def on_exit(server: Any) -> None:
    """Stop the model process after the workers; exit 1 if it had ended unasked (a crash).

    A model process that stops as asked removes its socket; one that was killed
    (out of memory, a crash) leaves it behind.
    """
    if _model_process is None:
        return
    socket_path = Path(os.environ["MODEL_SOCKET"])
    if _model_process.poll() is None:
        _model_process.terminate()  # it stops once no worker is connected: at once, now
        try:
            _model_process.wait(graceful_timeout)
        except subprocess.TimeoutExpired:
            _model_process.kill()
            _model_process.wait()
    crashed = socket_path.exists()
    shutil.rmtree(socket_path.parent, ignore_errors=True)
    if crashed:
        server.log.error("The model process ended unasked (see its log above)")
        sys.exit(1)  # a failure, for whatever runs the service to start it again


def post_worker_init(worker: Any) -> None:
    """Once a worker has loaded the application, put what it holds out of the collector's sight.

    Modules and the application live as long as the worker. A full garbage
    collection went through all of them, about 130 ms each time measured under
    load, while every request of the worker waited.
    """
    gc.collect()
    gc.freeze()


def child_exit(server: Any, worker: Any) -> None:
    """Mark the files of a worker that exited, as prometheus-client's docs require."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
