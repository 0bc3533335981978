"""Requests merged into one model call: answers, errors, limits and waiting, per request."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.serving.batching import Batcher


class SlowModel:
    """Doubles each row's one value; each call takes a while and is recorded; negatives refused."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.call_sizes: list[int] = []
        self.running = 0
        self.most_running = 0
        self.lock = threading.Lock()

    def predict(self, rows: list[list[Any]]) -> list[Any]:
        with self.lock:
            self.call_sizes.append(len(rows))
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            time.sleep(self.seconds)
            if any(value < 0 for (value,) in rows):
                raise ValueError("x must not be negative")
            return [2 * value for (value,) in rows]
        finally:
            with self.lock:
                self.running -= 1


def rows(*values: float) -> list[list[Any]]:
    return [[value] for value in values]


def run_together(predictor: Batcher, requests: list[list[list[Any]]]) -> list[Any]:
    """Call ``predictor`` from one thread per request at once; each call's result or error."""
    start = threading.Barrier(len(requests))

    def call(rows: list[list[Any]]) -> Any:
        start.wait()
        try:
            return predictor(rows)
        except ValueError as error:
            return error

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(call, requests))


def test_an_idle_model_predicts_at_once() -> None:
    model = SlowModel()
    predictor = Batcher(model.predict, max_rows=100)

    assert predictor(rows(1.0, 2.0)) == [2.0, 4.0]
    assert predictor(rows(3.0)) == [6.0]
    assert model.call_sizes == [2, 1]


def test_concurrent_requests_share_calls_and_each_gets_its_own_rows() -> None:
    model = SlowModel()
    predictor = Batcher(model.predict, max_rows=100)
    requests = [rows(float(i), float(i) + 0.5) for i in range(12)]

    results = run_together(predictor, requests)

    assert results == [[2.0 * i, 2.0 * i + 1.0] for i in range(12)]
    assert sum(model.call_sizes) == 24
    assert len(model.call_sizes) < 12  # merged: fewer calls than requests
    assert model.most_running == 1  # the model is never called from two threads at once


def test_a_refused_request_fails_alone() -> None:
    model = SlowModel()
    predictor = Batcher(model.predict, max_rows=100)
    requests = [rows(1.0), rows(-1.0), rows(2.0), rows(3.0)]

    results = run_together(predictor, requests)

    assert [results[0], results[2], results[3]] == [[2.0], [4.0], [6.0]]
    assert isinstance(results[1], ValueError)
    assert str(results[1]) == "x must not be negative"


def test_a_merged_call_never_exceeds_the_row_limit() -> None:
    model = SlowModel()
    predictor = Batcher(model.predict, max_rows=5)
    requests = [rows(*[float(i)] * 3) for i in range(8)]

    results = run_together(predictor, requests)

    assert results == [[2.0 * i] * 3 for i in range(8)]
    assert max(model.call_sizes) <= 5
    assert sum(model.call_sizes) == 24


@pytest.mark.parametrize("workers", [2, 16])
def test_every_request_is_answered_under_sustained_load(workers: int) -> None:
    model = SlowModel(seconds=0.001)
    predictor = Batcher(model.predict, max_rows=1000)

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda i: predictor(rows(float(i))), range(400)))

    assert results == [[2.0 * i] for i in range(400)]
    assert predictor.calls == len(model.call_sizes)


def test_after_a_merged_call_the_next_waits_for_requests_on_their_way() -> None:
    entered, release = threading.Event(), threading.Event()
    call_sizes: list[int] = []

    def predict(rows: list[list[Any]]) -> list[Any]:
        entered.set()
        release.wait()
        call_sizes.append(len(rows))
        return [2 * value for (value,) in rows]

    predictor = Batcher(predict, max_rows=100, wait_seconds=0.5)
    busy = predictor.submit(rows(1.0))
    assert entered.wait(10)  # the model is busy with the first request alone
    queued = [predictor.submit(rows(2.0)), predictor.submit(rows(3.0))]
    release.set()
    assert [future.result() for future in [busy, *queued]] == [[2.0], [4.0], [6.0]]
    assert call_sizes == [1, 2]  # the queued two in one call: the load is up

    first = predictor.submit(rows(4.0))
    time.sleep(0.1)  # well within the wait: the second request joins the first's call
    second = predictor.submit(rows(5.0))

    assert (first.result(), second.result()) == ([8.0], [10.0])
    assert call_sizes == [1, 2, 2]


def test_a_lone_request_after_a_lone_call_does_not_wait() -> None:
    model = SlowModel(seconds=0.01)
    predictor = Batcher(model.predict, max_rows=100, wait_seconds=5.0)
    assert predictor(rows(1.0)) == [2.0]

    started = time.monotonic()
    assert predictor(rows(2.0)) == [4.0]

    assert time.monotonic() - started < 2.5  # far below the 5 s it would wait otherwise


def test_without_merging_each_request_is_a_call_of_its_own() -> None:
    model = SlowModel()
    predictor = Batcher(model.predict, max_rows=100, wait_seconds=0.5, merge=False)

    results = run_together(predictor, [rows(float(i), float(i)) for i in range(6)])

    assert results == [[2.0 * i, 2.0 * i] for i in range(6)]
    assert model.call_sizes == [2] * 6
    assert model.most_running == 1


def test_close_answers_what_was_queued_then_stops() -> None:
    model = SlowModel()
    predictor = Batcher(model.predict, max_rows=100)
    futures = [predictor.submit(rows(float(i))) for i in range(5)]

    predictor.close()

    assert [future.result(timeout=0) for future in futures] == [[2.0 * i] for i in range(5)]
