"""Answer the rows of many requests with one model call: a queue and the one thread that calls.

Many models cost nearly as much for one row as for a hundred: the example's
random forest spends about 34 ms on a call whether it holds one row or thirty,
most of it in the preprocessing's per-call work. Answering the requests that
arrive together with one call multiplies what the service can serve.

Requests put their rows in a queue; one thread calls the model, taking the
oldest request and every one queued behind it, up to ``max_rows`` rows. A lone
request on an idle service is predicted at once.

Most clients send their next request as soon as they have an answer. Those a
call answered are back a moment after it, but a moment too late for the next
call, which has already started with whoever was queued meanwhile: the clients
split into groups that take turns, each paying for a call of its own. So a call
waits, up to ``wait_seconds``, for the clients the call before answered that
came straight back last time (each request names its client: its connection).
A client that does not come back in time is not waited for until it comes
straight back again, so a client that leaves costs one wait. The call before's
other clients (new connections, or late last time) are waited for only if a
client like them (not known to come straight back) did come straight back
during that call, and for at most twice the time it took: clients that connect
together merge a call sooner, while requests that each come on a new
connection, which no client comes back on, never wait, even beside clients that
do come back.

If a merged call fails, each of its requests is predicted alone, so an error
reaches only the request whose rows caused it.

Merging assumes a row's prediction does not depend on the other rows of the
call, which holds for scikit-learn estimators; turn it off in ``conf/serve``
otherwise (each request is then a call of its own, in turn).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from ..inputs import Row

Predict = Callable[[list[Row]], list[Any]]  # the model: rows in, a prediction per row out
# A request: its rows and the client that sent them (None: unknown) in, the future of its
# predictions out (``Batcher.submit``, and ``ModelClient.submit`` through the model process).
Submit = Callable[[list[Row], Hashable | None], Future[list[Any]]]


@dataclass(eq=False)
class _Job:
    """One request's rows, and the future its predictions (or the model's error) go to."""

    rows: list[Row]
    client: Hashable | None = None
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
        self._lock = threading.Lock()  # guards the four below, shared with ``submit``
        self._answered: dict[Hashable, float] = {}  # clients not back yet: when answered
        self._returning: set[Hashable] = set()  # clients that came straight back last time
        self._last_call: set[Hashable] = set()  # the clients the last call answered
        # Seconds: the slowest straight return, since the last call, of a client not
        # known to come straight back (evidence that such clients come back).
        self._new_return = 0.0
        self.calls = 0  # model calls made, for tests and curiosity
        self._thread = threading.Thread(target=self._run, name="model", daemon=True)
        self._thread.start()

    @property
    def clients_tracked(self) -> int:
        """How many clients the batcher remembers (answered lately, or coming straight back)."""
        with self._lock:
            return len(self._answered.keys() | self._returning)

    def submit(self, rows: list[Row], client: Hashable | None = None) -> Future[list[Any]]:
        """Queue ``client``'s ``rows``; the future holds their predictions, or the model's error."""
        job = _Job(rows, client)
        if client is not None:
            with self._lock:
                answered = self._answered.pop(client, None)
                took = time.monotonic() - answered if answered is not None else None
                if took is not None and took <= self._wait_seconds:
                    if client not in self._returning:
                        self._new_return = max(self._new_return, took)
                    self._returning.add(client)
                else:
                    self._returning.discard(client)
        self._queue.put(job)
        return job.future

    def close(self) -> None:
        """Stop the thread once the requests queued so far are answered."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while not self._closing:
            first = self._held or self._queue.get()
            self._held = None
            if first is None:
                return
            batch = [first]
            if self._merge:
                self._gather(batch)
            self._settle(batch)

    def _gather(self, batch: list[_Job]) -> None:
        """Add queued jobs to ``batch`` up to ``max_rows``; wait for the clients expected back."""
        # Clients not back yet that came straight back before: all answered by the last
        # call, since those of earlier calls were waited for then, and came or were dropped.
        with self._lock:
            self._forget_answers_before(time.monotonic() - self._wait_seconds)
            expected = self._returning & self._answered.keys()
            unknown = (self._last_call & self._answered.keys()) - self._returning
            unknown_wait = min(2 * self._new_return, self._wait_seconds)
            self._new_return = 0.0
        rows = len(batch[0].rows)
        started = time.monotonic()
        deadline = started + self._wait_seconds
        unknown_deadline = started + unknown_wait
        try:
            while rows < self._max_rows:
                if expected:
                    left = deadline - time.monotonic()
                elif unknown:
                    left = unknown_deadline - time.monotonic()
                else:
                    left = 0.0
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
                expected.discard(job.client)
                unknown.discard(job.client)
        finally:
            with self._lock:  # those not back are not waited for until they come straight back
                self._returning -= expected

    def _settle(self, batch: list[_Job]) -> None:
        self.calls += 1
        try:
            predictions = self._predict(list(chain.from_iterable(job.rows for job in batch)))
        except Exception as error:
            if len(batch) == 1:
                self._answering(batch)
                batch[0].future.set_exception(error)
            else:  # find out whose rows the model refused: each request alone
                for job in batch:
                    self._settle([job])
            return
        self._answering(batch)
        start = 0
        for job in batch:
            job.future.set_result(predictions[start : start + len(job.rows)])
            start += len(job.rows)

    def _forget_answers_before(self, moment: float) -> None:
        """Forget the clients answered before ``moment``: too late to come straight back now.

        Their next request, if any, finds no answer to time and would drop them from
        ``_returning`` then; dropping them now keeps clients that left from piling up.
        """
        for client in [c for c, answered in self._answered.items() if answered < moment]:
            del self._answered[client]
            self._returning.discard(client)

    def _answering(self, batch: list[_Job]) -> None:
        """Note when the clients of ``batch`` are answered: before, as one may be back at once."""
        if not self._merge:
            return
        now = time.monotonic()
        clients = {job.client for job in batch if job.client is not None}
        with self._lock:
            self._answered.update(dict.fromkeys(clients, now))
            self._last_call = clients
