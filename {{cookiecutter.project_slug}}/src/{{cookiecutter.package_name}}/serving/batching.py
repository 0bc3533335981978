"""Answer the rows of many requests with one model call: a queue and the one thread that calls.

Many models cost nearly as much for one row as for a hundred: the example's
random forest spends about 34 ms on a call whether it holds one row or thirty,
most of it in the preprocessing's per-call work. Answering the requests that
arrive together with one call multiplies what the service can serve.

Requests put their rows in a queue; one thread calls the model. It takes the
oldest request and, when the call before merged several requests (a sign that
others are on their way), waits up to ``wait_seconds`` for more, up to
``max_rows`` rows in all. A lone request on an idle service is predicted at
once. If a merged call fails, each of its requests is predicted alone, so an
error reaches only the request whose rows caused it.

Merging assumes a row's prediction does not depend on the other rows of the
call, which holds for scikit-learn estimators; turn it off in ``conf/serve``
otherwise (each request is then a call of its own, in turn).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from ..inputs import Row

Predict = Callable[[list[Row]], list[Any]]


@dataclass(eq=False)
class _Job:
    """One request's rows, and the future its predictions (or the model's error) go to."""

    rows: list[Row]
    future: Future[list[Any]] = field(default_factory=Future)


class Batcher:
    """Call ``predict`` from one thread for the rows of the requests queued together."""

    def __init__(
        self, predict: Predict, max_rows: int, wait_seconds: float = 0.0, *, merge: bool = True
    ) -> None:
        """Start the thread that calls ``predict``; a merged call has at most ``max_rows`` rows."""
        self._predict = predict
        self._max_rows = max_rows
        self._wait_seconds = wait_seconds
        self._merge = merge
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._held: _Job | None = None  # taken from the queue, but too large for the last call
        self._closing = False  # the queue's end was taken while gathering a call
        self.calls = 0  # model calls made, for tests and curiosity
        self._thread = threading.Thread(target=self._run, name="model", daemon=True)
        self._thread.start()

    def submit(self, rows: list[Row]) -> Future[list[Any]]:
        """Queue ``rows``; the future holds their predictions, or the error the model raised."""
        job = _Job(rows)
        self._queue.put(job)
        return job.future

    def __call__(self, rows: list[Row]) -> list[Any]:
        """The predictions for ``rows``, once the model has answered them."""
        return self.submit(rows).result()

    def close(self) -> None:
        """Stop the thread once the requests queued so far are answered."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        merged = 1  # requests in the previous call
        while not self._closing:
            first = self._held or self._queue.get()
            self._held = None
            if first is None:
                return
            batch = [first]
            if self._merge:
                self._gather(batch, self._wait_seconds if merged > 1 else 0.0)
            merged = len(batch)
            self._settle(batch)

    def _gather(self, batch: list[_Job], wait_seconds: float) -> None:
        """Add queued jobs to ``batch`` until ``max_rows``, waiting up to ``wait_seconds``."""
        rows = len(batch[0].rows)
        deadline = time.monotonic() + wait_seconds
        while rows < self._max_rows:
            left = deadline - time.monotonic()
            try:
                job = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                return
            if job is None:
                self._closing = True  # after this call
                return
            if rows + len(job.rows) > self._max_rows:
                self._held = job  # leads the next call
                return
            batch.append(job)
            rows += len(job.rows)

    def _settle(self, batch: list[_Job]) -> None:
        self.calls += 1
        try:
            predictions = self._predict(list(chain.from_iterable(job.rows for job in batch)))
        except Exception as error:
            if len(batch) == 1:
                batch[0].future.set_exception(error)
            else:  # find out whose rows the model refused: each request alone
                for job in batch:
                    self._settle([job])
            return
        start = 0
        for job in batch:
            job.future.set_result(predictions[start : start + len(job.rows)])
            start += len(job.rows)
