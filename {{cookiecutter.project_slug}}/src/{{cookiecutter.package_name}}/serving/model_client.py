"""A worker's line to the model process: the model's card, and predictions for its requests.

One connection per worker process, shared by its threads and its event loop:
each message carries an id, and one thread reads the answers and sets each on
the future its sender holds (a thread waits on it; the event loop awaits it).
The messages are described in ``model_process``.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from multiprocessing.connection import Client, Connection
from pathlib import Path
from typing import Any

from ..inputs import Row
from .model import ModelCard

CONNECT_RETRY_SECONDS = 0.05


class ModelUnavailable(RuntimeError):
    """The model process cannot predict: it is gone, or the model did not load."""


class ModelFailed(RuntimeError):
    """The model raised an error other than refusing its input; the message is the model's."""


class ModelRefused(ValueError):
    """The model's own input checks refused the rows (a ``ValueError`` in the model process)."""


ERRORS: dict[str, type[Exception]] = {
    "refused": ModelRefused,
    "failed": ModelFailed,
    "unavailable": ModelUnavailable,
}


def _connect(path: Path, wait_seconds: float) -> Connection:
    """Connect to the model process's socket, waiting up to ``wait_seconds`` for it to appear."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return Client(str(path), family="AF_UNIX")
        except (FileNotFoundError, ConnectionRefusedError) as error:
            if time.monotonic() >= deadline:
                raise ModelUnavailable(
                    f"no model process answers at {path} after {wait_seconds:g} s: {error}"
                ) from None
            time.sleep(CONNECT_RETRY_SECONDS)


class ModelClient:
    """The model process, as this worker's threads and event loop call it."""

    def __init__(
        self, path: Path, wait_seconds: float, on_lost: Callable[[str], None] | None = None
    ) -> None:
        """Connect to the socket at ``path``; ``on_lost`` is told if the process goes away."""
        self._connection = _connect(path, wait_seconds)
        self._lock = threading.Lock()  # guards sending, ``_pending`` and ``_lost``
        self._pending: dict[int, Future[Any]] = {}
        self._ids = itertools.count()
        self._lost: str | None = None
        self._on_lost = on_lost
        self._closed = False
        threading.Thread(target=self._receive, name="model-client", daemon=True).start()

    def card(self) -> ModelCard:
        """The model's card, once the model process has loaded the model.

        Raises:
            ModelUnavailable: The model did not load (the message says why) or the process is gone.
        """
        card: ModelCard = self._send("card", None).result()
        return card

    def submit(self, rows: list[Row], client: Hashable | None = None) -> Future[list[Any]]:
        """Send ``rows`` of ``client``, to be merged by the model process with others'.

        The future holds the predictions, or the error: ``ModelRefused`` (the model's
        input checks refused the rows), ``ModelFailed`` (the model failed otherwise)
        or ``ModelUnavailable`` (the model process is gone).
        """
        return self._send("predict", (rows, client))

    def close(self) -> None:
        """Close the connection (the model process stops once every worker has closed it)."""
        if self._closed:
            return
        self._closed = True
        # Shut the socket down rather than only close it: the reading thread is
        # blocked on it, and a close alone would neither wake it nor tell the peer.
        with socket.fromfd(self._connection.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as end:
            end.shutdown(socket.SHUT_RDWR)
        self._connection.close()

    def _send(self, kind: str, payload: Any) -> Future[Any]:
        """Send a message; the future holds its answer (set by the reading thread) or the error."""
        future: Future[Any] = Future()
        with self._lock:
            if self._lost is not None:
                future.set_exception(ModelUnavailable(self._lost))
                return future
            request_id = next(self._ids)
            try:
                self._connection.send((kind, request_id, payload))
            except OSError as error:  # the reading thread will say so too
                future.set_exception(ModelUnavailable(f"the model process stopped: {error}"))
                return future
            self._pending[request_id] = future
        return future

    def _receive(self) -> None:
        """Set each answer on the future waiting for it, until the connection ends."""
        try:
            while True:
                kind, request_id, payload = self._connection.recv()
                with self._lock:
                    future = self._pending.pop(request_id)
                if kind == "ok":
                    future.set_result(payload)
                else:
                    future.set_exception(ERRORS[kind](payload))
        except (EOFError, OSError):
            lost = "the model process stopped"
            with self._lock:
                self._lost = lost
                pending, self._pending = list(self._pending.values()), {}
            for future in pending:
                future.set_exception(ModelUnavailable(lost))
            if self._on_lost is not None and not self._closed:
                self._on_lost(lost)
