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
            return predictor.submit(rows).result()
        except ValueError as error:
            return error

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(call, requests))


def test_an_idle_model_predicts_at_once() -> None:
    model = SlowModel()
    predictor = Batcher(model.predict, max_rows=100)

    assert predictor.submit(rows(1.0, 2.0)).result() == [2.0, 4.0]
    assert predictor.submit(rows(3.0)).result() == [6.0]
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
        results = list(pool.map(lambda i: predictor.submit(rows(float(i))).result(), range(400)))

    assert results == [[2.0 * i] for i in range(400)]
    assert predictor.calls == len(model.call_sizes)


def closed_loop(predictor: Batcher, requests: dict[str, int]) -> float:
    """Clients that each send their next request as soon as they have an answer; seconds taken.

    ``requests``: how many requests each client (named by its key) sends.
    """

    def client(name: str) -> None:
        for number in range(requests[name]):
            assert predictor.submit(rows(float(number)), name).result() == [2.0 * number]

    started = time.monotonic()
    with ThreadPoolExecutor(len(requests)) as pool:
        list(pool.map(client, requests))
    return time.monotonic() - started


def test_clients_that_come_straight_back_share_one_call() -> None:
    model = SlowModel(seconds=0.02)
    predictor = Batcher(model.predict, max_rows=100, wait_seconds=1.0)

    seconds = closed_loop(predictor, {f"client-{i}": 12 for i in range(6)})

    # The first calls take whoever is queued (the clients are not known yet); then
    # every call waits for the clients the call before answered, and holds all six
    # (but the last: one client was a request ahead since the first call).
    assert model.call_sizes[-6:-1] == [6] * 5
    # Waiting ends as the last one is back, not after a second: at most one full
    # wait (for a client that sent its last request one call earlier than the rest).
    assert seconds < 5.0


def test_a_client_that_leaves_is_not_waited_for_again() -> None:
    model = SlowModel(seconds=0.02)
    predictor = Batcher(model.predict, max_rows=100, wait_seconds=1.0)

    seconds = closed_loop(predictor, {"stays-a": 15, "stays-b": 15, "stays-c": 15, "leaves": 3})

    assert model.call_sizes[-6:-1] == [3] * 5  # those that stayed, together
    assert seconds < 5.0  # waited for the one that left once or twice, not every call


def test_clients_that_left_are_forgotten() -> None:
    model = SlowModel(seconds=0.001)
    predictor = Batcher(model.predict, max_rows=100, wait_seconds=0.05)

    for number in range(10):  # each comes straight back once, then leaves
        for _ in range(2):
            assert predictor.submit(rows(1.0), f"left-{number}").result() == [2.0]
        time.sleep(0.1)  # longer than the wait: too late to be waited for by the next call
    assert predictor.submit(rows(1.0), "new").result() == [2.0]

    assert predictor.clients_tracked == 1  # the new one, answered just now


def test_clients_that_connect_together_merge_once_one_came_straight_back() -> None:
    model = SlowModel(seconds=0.1)
    predictor = Batcher(model.predict, max_rows=100, wait_seconds=1.0)

    def client(name: str) -> None:
        time.sleep(0.0 if name == "first" else 0.02)  # the others come during the first call
        for number in range(4):
            assert predictor.submit(rows(float(number)), name).result() == [2.0 * number]
            time.sleep(0.05)  # the way back: the answer travels, the next request comes

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(client, ["first", "b", "c", "d", "e", "f"]))

    # The first call holds the first client, the second the five others. The first
    # is back during the second call, having taken 50 ms; the third call waits up to
    # twice that for the five it does not know yet (without that wait: [1, 5, 1]).
    assert model.call_sizes[:3] == [1, 5, 6]


def test_new_connections_beside_a_client_that_comes_back_are_not_waited_for() -> None:
    model = SlowModel(seconds=0.01)
    predictor = Batcher(model.predict, max_rows=100, wait_seconds=2.0)
    latencies: list[float] = []

    def client(name: str, requests: int) -> None:
        for number in range(requests):
            # One connection throughout, or a new one for every request (``once-<n>``).
            sender = name if name == "stays" else f"{name}-{number}"
            started = time.monotonic()
            assert predictor.submit(rows(float(number)), sender).result() == [2.0 * number]
            if name == "once":
                latencies.append(time.monotonic() - started)
            time.sleep(0.3)  # both come back 0.3 s after their answer, within the wait

    with ThreadPoolExecutor(2) as pool:  # "stays" goes on after "once" has finished
        list(pool.map(client, ["stays", "once"], [8, 6]))

    # A request on a new connection may wait for "stays" to come back (0.3 s at
    # most). Waiting for the new connection the call before answered, twice the
    # 0.3 s "stays" took to come back, happens once: when "stays", then new
    # itself, first came straight back. The threshold sits halfway, so that a
    # loaded machine's late wake-ups do not cross it.
    assert sum(latency > 0.45 for latency in latencies) <= 1


def test_new_connections_are_not_waited_for() -> None:
    model = SlowModel(seconds=0.01)
    predictor = Batcher(model.predict, max_rows=100, wait_seconds=5.0)
    started = time.monotonic()

    with ThreadPoolExecutor(4) as pool:  # a new client for every request
        results = list(
            pool.map(lambda i: predictor.submit(rows(float(i)), f"new-{i}").result(), range(40))
        )

    assert results == [[2.0 * i] for i in range(40)]
    assert time.monotonic() - started < 2.5  # far below one 5 s wait


@pytest.mark.parametrize("client", ["the-same-client", None])
def test_a_lone_client_is_predicted_at_once(client: str | None) -> None:
    model = SlowModel(seconds=0.01)
    predictor = Batcher(model.predict, max_rows=100, wait_seconds=5.0)
    started = time.monotonic()

    for number in range(5):  # each time, the client the call before answered is this one
        assert predictor.submit(rows(float(number)), client).result() == [2.0 * number]

    assert model.call_sizes == [1] * 5
    assert time.monotonic() - started < 2.5  # far below one 5 s wait


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
