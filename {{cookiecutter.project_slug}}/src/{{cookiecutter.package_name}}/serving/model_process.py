"""The one process that holds the model for all of a service's workers, and merges their requests.

When every gunicorn worker loaded its own copy of the model, a model call could
merge only the requests that met in one worker: connections spread over the
workers unevenly (one may hold six of eight), and a request that reached an idle
worker ran alone. This process loads the model once (one copy in memory, however
many workers) and answers all the workers' requests through one
``batching.Batcher``, so a call holds the rows of every request that arrived
together, whichever worker read it.

``gunicorn_conf`` starts it before the workers (``python -m
<package>.serving.model_process <socket> <pid of gunicorn's master>``). On
SIGTERM it goes on answering until every worker has closed its connection, so
that a stop sent to the whole service (systemd, a process group) still lets the
workers finish the requests they hold, then removes its socket and exits: a
socket left behind tells the master that the process ended otherwise (killed,
out of memory). It exits by itself when the master is gone (killed). Workers reach it through a Unix
socket in a folder only its user may open (``model_client``), with
``multiprocessing.connection`` messages, ``(kind, id, payload)``:

- ``("card", id, None)``: answered once the model is loaded, or failed to load;
- ``("predict", id, (rows, client))``: rows checked by the worker, values in
  column order, and the client that sent them (its connection), or None.

Answers are ``("ok", id, card or predictions)``, ``("refused", id, message)``
(the model's own input checks raised ``ValueError``), ``("failed", id, message)``
(any other error of the model) or ``("unavailable", id, message)`` (no model).
"""

from __future__ import annotations

import gc
import itertools
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any

from ..inputs import Row
from .batching import Batcher
from .logs import configure_logging
from .model import ModelCard, load_served_model
from .settings import ServeSettings, load_settings

log = logging.getLogger(__name__)

Send = Callable[[tuple[str, int, Any]], None]
PARENT_CHECK_SECONDS = 1.0


class ModelHost:
    """The loaded model (or why it could not load), answering each worker's connection."""

    def __init__(self, settings: ServeSettings, socket_path: Path) -> None:
        """Remember what to load (``load`` loads it) and the socket to remove when stopped."""
        self.settings = settings
        self.socket_path = socket_path
        self.card: ModelCard | None = None
        self.batcher: Batcher | None = None
        self.error: str | None = None
        self.settled = threading.Event()  # set once loading succeeded or failed
        self._connections = 0  # workers connected
        self._stopping = False
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model, call it once, start its batcher; a failure is kept and answered."""
        started = time.perf_counter()
        settings = self.settings
        try:
            model = load_served_model(settings)
        except Exception as error:
            self.error = f"cannot load {settings.uri}: {error}"
            log.exception("model load failed", extra={"model_uri": settings.uri})
        else:
            model.warm_up()
            # The model's objects live as long as the process. Out of the collector's
            # sight, a full collection no longer goes through them all: one took 230 ms
            # on the example model, while the requests of the call waited.
            gc.collect()
            gc.freeze()
            self.batcher = model.batcher(settings)
            self.card = model.card
            log.info(
                "model loaded",
                extra={
                    "model_uri": model.card.info.get("uri"),
                    "model_version": model.card.info.get("version"),
                    "seconds": round(time.perf_counter() - started, 3),
                },
            )
        finally:
            self.settled.set()

    def answer(self, connection: Connection, worker: int) -> None:
        """Answer the messages of worker number ``worker`` until it disconnects."""
        lock = threading.Lock()

        def send(message: tuple[str, int, Any]) -> None:
            with lock:
                connection.send(message)

        try:
            while True:
                kind, request_id, payload = connection.recv()
                self.settled.wait()  # what comes before the model is loaded waits for it
                if kind == "card":
                    if self.card is None:
                        send(("unavailable", request_id, self.error))
                    else:
                        send(("ok", request_id, self.card))
                elif kind == "predict":
                    rows, client = payload
                    self._predict(request_id, rows, (worker, client) if client else None, send)
        except (EOFError, OSError):
            return  # the worker stopped
        finally:
            connection.close()
            with self._lock:
                self._connections -= 1
                last = self._stopping and self._connections == 0
            if last:
                self._exit()

    def connected(self) -> None:
        """Count a worker's new connection (``answer`` counts it out)."""
        with self._lock:
            self._connections += 1

    def stop(self) -> None:
        """Stop once the last worker has closed its connection: at once if none is open."""
        with self._lock:
            self._stopping = True
            idle = self._connections == 0
        if idle:
            self._exit()

    def _exit(self) -> None:
        """End the process as asked: no socket left (``gunicorn_conf.on_exit`` looks)."""
        self.socket_path.unlink(missing_ok=True)
        os._exit(0)

    def _predict(
        self, request_id: int, rows: list[Row], client: Hashable | None, send: Send
    ) -> None:
        if self.batcher is None:
            send(("unavailable", request_id, self.error))
            return

        def reply(done: Future[list[Any]]) -> None:
            error = done.exception()
            if error is None:
                message: tuple[str, int, Any] = ("ok", request_id, done.result())
            elif isinstance(error, ValueError):
                message = ("refused", request_id, str(error))
            else:
                log.error("model failed", exc_info=error)
                message = ("failed", request_id, f"{type(error).__name__}: {error}")
            try:
                send(message)
            except OSError:
                return  # the worker stopped while its request was predicted

        self.batcher.submit(rows, client).add_done_callback(reply)


def _exit_with(parent: int) -> None:
    """End this process once ``parent`` is no longer its parent (killed, it could not say)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    log.warning("the service that started the model process is gone; stopping")
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    """Serve the configured model on a socket path, for as long as the given parent runs.

    Arguments: the socket path, and the process id of the parent (given rather
    than read here, where the parent might already have gone).
    """
    configure_logging()
    path, parent = sys.argv[1:] if argv is None else argv
    threading.Thread(target=_exit_with, args=(int(parent),), daemon=True).start()
    host = ModelHost(load_settings(), Path(path))
    # In a thread of its own: a signal handler must not wait for a lock its thread may hold.
    signal.signal(
        signal.SIGTERM, lambda *_: threading.Thread(target=host.stop, daemon=True).start()
    )
    with Listener(path, family="AF_UNIX", backlog=64) as listener:
        threading.Thread(target=host.load, name="load", daemon=True).start()
        for worker in itertools.count():
            connection = listener.accept()
            host.connected()
            threading.Thread(target=host.answer, args=(connection, worker), daemon=True).start()


if __name__ == "__main__":
    main()
