"""Run a task in two processes at the same moment, as two workers on two machines would."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

WORKERS = 2
# Each round is a fresh chance for the two to collide: where a write was not safe,
# 1 to 24 rounds of 60 failed (at 20 rounds, some runs saw no collision at all).
ROUNDS = 60
WAIT_SECONDS = 120  # for a process to start (imports) or to report


def _run_rounds(
    task: Callable[..., None], args: tuple[Any, ...], rounds: int, start: Any, errors: Any
) -> None:
    """Run the rounds in this process, each when the other process is ready too."""
    for number in range(rounds):
        start.wait(timeout=WAIT_SECONDS)
        try:
            task(number, *args)
        except Exception as error:  # reported to the test, which shows it
            errors.put(f"round {number}: {type(error).__name__}: {error}")
    errors.put(None)


def at_once(task: Callable[..., None], *args: Any, rounds: int = ROUNDS) -> list[str]:
    """Run ``task(round, *args)`` in two fresh processes, both starting each round together.

    The processes start as separate machines would (``spawn``), so ``task`` is a
    module-level function. Returns the errors the processes met, one line each.
    """
    context = multiprocessing.get_context("spawn")
    start, errors = context.Barrier(WORKERS), context.Queue()
    workers = [
        context.Process(target=_run_rounds, args=(task, args, rounds, start, errors))
        for _ in range(WORKERS)
    ]
    for process in workers:
        process.start()
    met, finished = [], 0
    while finished < WORKERS:
        message = errors.get(timeout=WAIT_SECONDS)
        if message is None:
            finished += 1
        else:
            met.append(message)
    for process in workers:
        process.join(timeout=WAIT_SECONDS)
    assert [process.exitcode for process in workers] == [0] * WORKERS
    return met
