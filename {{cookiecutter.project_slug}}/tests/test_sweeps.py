"""Hyper-parameter sweeps: search ranges, and workers in separate processes sharing one study.

The workers' trials here score their settings instead of training (``scored_trial``),
each still logged as an MLflow child run: what is tested is how workers share the
study and its parent run. The golden path runs real training trials.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import mlflow
import optuna
import pytest
from mlflow import MlflowClient
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.config import ConfigError, compose_config
from {{ cookiecutter.package_name }}.sweeps import (
    PARENT_RUN_ATTR,
    TRIAL_TAG,
    report_best,
    run_worker,
    search_space,
    storage,
    suggest,
    with_values,
)

from .at_once import ROUNDS, at_once
from .conftest import TrainedProject, tracking_store_copy, worker_config

TRIALS = 6


def test_search_ranges_become_optuna_suggestions() -> None:
    space = search_space(
        {
            "a": "int(interval(1, 8))",
            "b": "tag(log, interval(0.001, 1.0))",
            "c": "choice(gini, entropy)",
            "d": "range(1, 4)",
            "e": "5",
        }
    )
    trial = optuna.create_study().ask()

    values = {name: suggest(trial, name, override) for name, override in space.items()}

    assert trial.distributions["a"] == optuna.distributions.IntDistribution(1, 8)
    assert trial.distributions["b"] == optuna.distributions.FloatDistribution(0.001, 1.0, log=True)
    assert trial.distributions["c"] == optuna.distributions.CategoricalDistribution(
        ("gini", "entropy")
    )
    assert trial.distributions["d"] == optuna.distributions.CategoricalDistribution((1, 2, 3))
    assert values["e"] == 5
    assert "e" not in trial.distributions


def test_a_bad_range_names_its_setting() -> None:
    with pytest.raises(ConfigError, match=r"hparams_search\.params\.model\.max_depth: 'int\("):
        search_space({"model.max_depth": "int(interval(3,"})


def test_a_searched_setting_the_model_lacks_is_named(scratch_project: Path) -> None:
    config = compose_config(["model=logistic_regression"], root=scratch_project)

    with pytest.raises(ConfigError, match=r"no setting model\.n_estimators"):
        with_values(config, {"model.n_estimators": 100})


def scored_trial(config: DictConfig, parent: str) -> float:
    """A trial that scores its settings (best at depth 7) and logs a child run.

    It lasts half a second, as a short training would, so the workers take turns.
    """
    depth = int(config.model.max_depth)
    with mlflow.start_run(run_name="trial", parent_run_id=parent):
        mlflow.log_param("model.max_depth", depth)
    time.sleep(0.5)
    return -abs(depth - 7)


def worker(
    root: Path, overrides: list[str], journal: Path, number: int, start: Any, ran: Any
) -> None:
    """One sweep worker in its own process, in the project at ``root``.

    It starts when the other worker is ready too, and reports the trials it ran.
    """
    os.chdir(root)
    config = compose_config([*overrides, f"hparams_search.worker={number}"], root=root)
    start.wait()
    ran.put((number, run_worker(config, journal, trainer=scored_trial).trials))


@pytest.mark.slow
def test_workers_in_separate_processes_share_one_study_and_one_parent_run(
    trained_project: TrainedProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = tmp_path / "study.journal"
    overrides = ["hparams_search=optuna", f"hparams_search.n_trials={TRIALS}"]
    with tracking_store_copy(trained_project.store, tmp_path, monkeypatch) as uri:
        context = multiprocessing.get_context("spawn")  # fresh processes, as separate machines
        start, ran = context.Barrier(2), context.Queue()
        workers = [
            context.Process(
                target=worker, args=(trained_project.root, overrides, journal, n, start, ran)
            )
            for n in range(2)
        ]
        for process in workers:
            process.start()
        trials_of = dict(ran.get(timeout=600) for _ in workers)
        for process in workers:
            process.join(timeout=60)
        assert [process.exitcode for process in workers] == [0, 0]

        study = optuna.load_study(study_name=None, storage=storage(str(journal), journal))
        client = MlflowClient(uri)
        parent = client.get_run(study.user_attrs[PARENT_RUN_ATTR])
        experiment = parent.info.experiment_id
        children = client.search_runs(
            [experiment], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
        )
        parents = client.search_runs([experiment], "tags.sweep = 'optuna'")

    numbers = [trial.number for trial in study.trials]
    assert trials_of[0] and trials_of[1]  # both workers ran trials of the one study
    assert sorted(trials_of[0] + trials_of[1]) == numbers
    assert len(numbers) >= TRIALS  # workers starting together may run one more each
    assert sorted(numbers) == list(range(len(numbers)))  # no trial number given twice
    assert sorted(int(run.data.tags[TRIAL_TAG]) for run in children) == numbers
    assert [run.info.run_id for run in parents] == [parent.info.run_id]
    best = max(trial.value for trial in study.trials if trial.value is not None)
    assert parent.data.tags["best_trial"] == str(study.best_trial.number)
    assert any(metric.startswith("best_cv_") for metric in parent.data.metrics)
    assert study.best_value == best


def report_on_parent(number: int, root: Path, parents: list[str]) -> None:
    """Report a best trial on the round's parent run, as each worker does when it stops."""
    os.chdir(root)
    report_best(worker_config(root), parents[number], number, 0.5, {"model.max_depth": number})


@pytest.mark.slow
def test_workers_stopping_together_both_report_on_the_parent(
    trained_project: TrainedProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tracking_store_copy(trained_project.store, tmp_path, monkeypatch) as uri:
        client = MlflowClient(uri)
        experiment = mlflow.set_experiment("sweeps").experiment_id
        parents = [client.create_run(experiment).info.run_id for _ in range(ROUNDS)]

        assert at_once(report_on_parent, trained_project.root, parents) == []

        reported = [client.get_run(parent) for parent in parents]
    assert [run.data.tags["best_trial"] for run in reported] == [str(n) for n in range(ROUNDS)]
    assert [run.data.tags["best.model.max_depth"] for run in reported] == [
        str(n) for n in range(ROUNDS)
    ]
    assert all(run.info.status == "FINISHED" for run in reported)
    assert all(any(name.startswith("best_cv_") for name in run.data.metrics) for run in reported)
