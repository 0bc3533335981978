"""Run a task in two processes at the same moment, as two workers on two machines would."""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.config import compose_config

WORKERS = 2
# Each round is a fresh chance for the two to collide; they do in one round of five
# to twenty where a write is not safe, so sixty rounds catch it almost surely.
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


@functools.cache
def worker_config(root: Path) -> DictConfig:
    """The configuration of the project at ``root`` with a search space, composed once
    per process: composing in every round would part the two processes' moments.

    A round that changes it changes a copy.
    """
    return compose_config(["hparams_search=optuna"], root=root)
