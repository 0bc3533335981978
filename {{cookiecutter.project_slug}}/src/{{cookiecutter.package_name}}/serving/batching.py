"""Merge the predictions a worker's threads ask for at the same time into one model call.

Many models cost nearly as much for one row as for a hundred: a scikit-learn
random forest spends most of a one-row ``predict`` on per-tree overhead. When
several requests reach a worker together, answering them with one call instead
of one call each multiplies what the worker can serve and cuts the time requests
spend queueing.

Nothing waits for a batch to fill: a request that finds the model idle is
predicted at once. Requests that arrive while the model is busy queue up, and
the next call takes all of them (up to ``max_rows`` rows). A thread whose own
rows are done answers its client instead of serving the queue; the oldest
queued request leads the next call. If a merged call fails, each request is
predicted alone, so an error reaches only the request whose rows caused it.

Merging assumes a row's prediction does not depend on the other rows of the call,
which holds for scikit-learn estimators; turn it off in ``conf/serve`` otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

Row = list[Any]  # one row's values, in the model's column order
Predict = Callable[[list[Row]], list[Any]]


@dataclass(eq=False)
class _Job:
    """One request's rows, and their predictions or error once the model has run."""

    rows: list[Row]
    settled: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # set with ``settled`` when this job must run the next call
    predictions: list[Any] | None = None
    error: BaseException | None = None

    def outcome(self) -> list[Any]:
        """The predictions, or the model's error raised in the request's own thread."""
        if self.error is not None:
            raise self.error
        assert self.predictions is not None
        return self.predictions


class MergingPredictor:
    """Call ``predict`` once for the rows of all requests that arrive while it is busy."""

    def __init__(self, predict: Predict, max_rows: int) -> None:
        """Wrap ``predict``; a merged call carries at most ``max_rows`` rows."""
        self._predict = predict
        self._max_rows = max_rows
        self._lock = threading.Lock()
        self._queue: list[_Job] = []
        self._busy = False  # invariant: not busy => queue empty
        self.calls = 0  # model calls made, for tests and curiosity

    def __call__(self, rows: list[Row]) -> list[Any]:
        """The predictions for ``rows``, possibly computed together with other requests'."""
        job = _Job(rows)
        with self._lock:
            self._queue.append(job)
            waits = self._busy
            self._busy = True
        if waits:
            job.settled.wait()
            if not job.leads:
                return job.outcome()
        self._run_next_call()
        return job.outcome()

    def _run_next_call(self) -> None:
        """Predict the oldest queued jobs together, then hand the queue to its next job."""
        with self._lock:
            batch: list[_Job] = []
            size = 0
            for job in self._queue:
                if batch and size + len(job.rows) > self._max_rows:
                    break
                batch.append(job)
                size += len(job.rows)
            del self._queue[: len(batch)]
        try:
            self._settle(batch)
        finally:  # whatever happened, the queue gets a leader or the model goes idle
            with self._lock:
                if self._queue:
                    self._queue[0].leads = True
                    self._queue[0].settled.set()
                else:
                    self._busy = False

    def _settle(self, batch: list[_Job]) -> None:
        self.calls += 1
        try:
            if len(batch) == 1:
                batch[0].predictions = self._predict(batch[0].rows)
            else:
                predictions = self._predict(list(chain.from_iterable(job.rows for job in batch)))
                start = 0
                for job in batch:
                    job.predictions = predictions[start : start + len(job.rows)]
                    start += len(job.rows)
        except Exception as error:
            if len(batch) == 1:
                batch[0].error = error
            else:  # find out whose rows the model refused: each request alone
                for job in batch:
                    self._settle([job])
        for job in batch:
            job.settled.set()
