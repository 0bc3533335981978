"""Hyper-parameter search with Optuna: workers share one study, trials are MLflow child runs.

A sweep worker asks the study for a trial, trains it (cross-validated, logged as
a child of the sweep's MLflow parent run) and tells the study its score, until
the study holds ``n_trials`` trials. Workers that share the study's storage
cooperate on one study, wherever they run:

    make sweep               # one worker, trials one after another
    make sweep WORKERS=4     # four processes on this machine (launcher=joblib)
    make sweep STORAGE=postgresql://... STUDY=churn-june   # one of a team's workers

The search space, the number of trials and the storage are in
``conf/hparams_search/optuna.yaml``; left without a storage, the workers of one
command share an Optuna journal file in the command's output folder. The
storage is a database URL (the team's PostgreSQL, as the MLflow server's) or the
path of a journal file on a file system every worker sees. A study continued
(same storage and name) runs only the trials it still lacks.

The worker given trial 0 opens the sweep's parent run and records its id in
the study, where the other workers read it: one parent per study, however many
workers start at once. Each worker logs the best trial so far on the parent
when it stops, so the last to stop leaves the study's best there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import optuna
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.types import RunMode
from hydra.utils import instantiate
from mlflow import MlflowClient
from mlflow.entities import Metric, RunTag
from omegaconf import DictConfig, OmegaConf
from optuna.storages.journal import JournalFileBackend
from sqlalchemy.exc import SQLAlchemyError

from .config import ConfigError, run_stage
from .data.experiment import ExperimentData
from .metadata import load_metadata
from .modeling import champion_metric
from .stages.train import experiment_dir, train
from .tracking import configure_tracking

log = logging.getLogger(__name__)

PARENT_RUN_ATTR = "mlflow_parent_run_id"  # the study's user attribute naming its parent run
TRIAL_TAG = "optuna_trial"  # a child run's trial number
PARENT_WAIT_SECONDS = 300  # how long a worker waits for trial 0's worker to open the parent
JOURNAL_FILE = "optuna.journal"
MISSING_SETTING = object()
STUDY_ATTEMPTS = 5  # tries at opening the study while other workers create its tables

Trainer = Callable[[DictConfig, str], float]


@dataclass(frozen=True)
class SweepResult:
    """What one worker did: the trials it ran, and the study's best when it stopped."""

    study_name: str
    parent_run_id: str
    trials: list[int]
    best_value: float
    best_params: dict[str, Any]


def storage(url: str | None, default: Path) -> optuna.storages.BaseStorage | str:
    """Optuna's storage for ``url``: a database URL as is, else a journal file's path."""
    if url and "://" in url:
        return url
    path = Path(url) if url else default
    path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def open_study(
    name: str, where: optuna.storages.BaseStorage | str, sampler: optuna.samplers.BaseSampler
) -> optuna.Study:
    """Create the study, or load it when another worker has.

    Workers starting together on an empty database race to create Optuna's tables:
    the loser tries again once they exist.
    """
    for attempt in range(STUDY_ATTEMPTS):
        try:
            return optuna.create_study(
                study_name=name,
                storage=where,
                sampler=sampler,
                direction="maximize",  # trials return the metric negated when lower is better
                load_if_exists=True,
            )
        except SQLAlchemyError:
            if attempt == STUDY_ATTEMPTS - 1:
                raise
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def search_space(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parse ``params`` (Hydra's sweep syntax: ``int(interval(1, 8))``, ``choice(a, b)``).

    Raises:
        ConfigError: A value is not Hydra sweep syntax; the message names its key.
    """
    parser = OverridesParser.create()
    space: dict[str, Any] = {}
    for name, text in params.items():
        try:
            space[name] = parser.parse_override(f"{name}={text}")
        except HydraException as error:
            raise ConfigError(
                f"hparams_search.params.{name}: {text!r} is not a search range "
                f"(e.g. int(interval(1, 8)), interval(0.01, 1.0), choice(a, b)): {error}"
            ) from error
    return space


def suggest(trial: optuna.Trial, name: str, override: Any) -> Any:
    """The trial's value for ``name``: Optuna's suggestion over the range ``override`` gives."""
    value = override.value()
    if override.is_interval_sweep():
        log_scale = "log" in value.tags
        if isinstance(value.start, int) and isinstance(value.end, int):
            return trial.suggest_int(name, value.start, value.end, log=log_scale)
        return trial.suggest_float(name, float(value.start), float(value.end), log=log_scale)
    if override.is_choice_sweep() or override.is_range_sweep():
        return trial.suggest_categorical(name, list(override.sweep_iterator()))
    return value  # a fixed value: the same in every trial


def with_values(config: DictConfig, values: Mapping[str, Any]) -> DictConfig:
    """``config`` with a trial's values set.

    Raises:
        ConfigError: A searched setting does not exist in the configuration.
    """
    trial_config = config.copy()
    for name, value in values.items():
        if OmegaConf.select(config, name, default=MISSING_SETTING) is MISSING_SETTING:
            raise ConfigError(
                f"hparams_search.params.{name}: the configuration has no setting {name} "
                f"(model: {config.model.name}); search the settings of conf/model/"
            )
        OmegaConf.update(trial_config, name, value)
    return trial_config


def parent_run(study: optuna.Study, trial: optuna.Trial, experiment_name: str, env: str) -> str:
    """The study's MLflow parent run: opened by trial 0's worker, read from the study by others.

    Raises:
        ConfigError: No worker opened it within ``PARENT_WAIT_SECONDS``.
    """
    known = study.user_attrs.get(PARENT_RUN_ATTR)
    if known:
        return str(known)
    if trial.number == 0:
        experiment = mlflow.get_experiment_by_name(experiment_name)
        assert experiment is not None  # configure_tracking created it
        run = MlflowClient().create_run(
            experiment.experiment_id,
            run_name=f"sweep-{study.study_name}",
            tags={"sweep": "optuna", "optuna_study": study.study_name, "env": env},
        )
        study.set_user_attr(PARENT_RUN_ATTR, run.info.run_id)
        return str(run.info.run_id)
    deadline = time.monotonic() + PARENT_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.5)
        known = study.user_attrs.get(PARENT_RUN_ATTR)
        if known:
            return str(known)
    raise ConfigError(
        f"study {study.study_name!r}: the worker given trial 0 has not opened the sweep's "
        f"MLflow parent run in {PARENT_WAIT_SECONDS} s; check that worker's log"
    )


def run_worker(config: DictConfig, default_journal: Path, trainer: Trainer = train) -> SweepResult:
    """Run trials of the configured study until it holds ``n_trials``; see the module doc."""
    search = config.hparams_search
    space = search_space(search.params)
    tracking = configure_tracking(config, load_metadata())
    study_name = search.study_name or f"{config.data.name}-{config.model.name}"
    sampler = instantiate(search.sampler, seed=int(search.sampler.seed) + int(search.worker))
    study = open_study(study_name, storage(search.storage, default_journal), sampler)
    parent, ran = "", []
    while len(study.trials) < int(search.n_trials):
        trial = study.ask()
        parent = parent or parent_run(study, trial, tracking.experiment_name, config.env.name)
        values = {name: suggest(trial, name, override) for name, override in space.items()}
        trial_config = with_values(config, values)
        try:
            score = trainer(trial_config, parent)
        except BaseException:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        study.tell(trial, score)
        child = mlflow.last_active_run()  # the trial's run, just ended in this process
        if child is not None:
            MlflowClient().set_tag(child.info.run_id, TRIAL_TAG, str(trial.number))
        ran.append(trial.number)
        log.info("Trial %d: %.4f with %s", trial.number, score, values)
    parent = parent or str(study.user_attrs.get(PARENT_RUN_ATTR, ""))
    best = study.best_trial
    assert best.value is not None  # the best trial is a complete one
    if parent:
        report_best(config, parent, best.number, best.value, best.params)
    return SweepResult(study_name, parent, ran, best.value, dict(best.params))


def report_best(
    config: DictConfig, parent: str, number: int, score: float, params: Mapping[str, Any]
) -> None:
    """Log the study's best trial on the parent run (the metric in its own sign)."""
    folder = experiment_dir(config, load_metadata())
    metric, greater_is_better = champion_metric(config.tracking, ExperimentData.read(folder).task)
    value = score if greater_is_better else -score
    client = MlflowClient()
    # One batch: workers stopping together write the same tags, and MLflow retries
    # a batch's tags when another writes them at once (a single set_tag fails then).
    # The trial's settings are tags, as a later worker may find a better one.
    client.log_batch(
        parent,
        metrics=[Metric(f"best_cv_{metric}", value, int(time.time() * 1000), step=0)],
        tags=[
            RunTag("best_trial", str(number)),
            *(RunTag(f"best.{name}", str(param)) for name, param in params.items()),
        ],
    )
    client.set_terminated(parent)
    log.info("Best trial so far: %d, cv %s=%.4f with %s", number, metric, value, dict(params))


def sweep(config: DictConfig) -> SweepResult:
    """Hydra application: one sweep worker; a multirun's jobs share one default journal.

    Raises:
        ConfigError: No search space was chosen (``hparams_search=optuna``).
    """
    if config.get("hparams_search") is None:
        raise ConfigError("choose a search space: add hparams_search=optuna (see conf/README.md)")
    hydra = HydraConfig.get()
    folder = hydra.sweep.dir if hydra.mode == RunMode.MULTIRUN else hydra.runtime.output_dir
    return run_worker(config, Path(folder) / JOURNAL_FILE)


def main() -> None:
    """Run a sweep worker from the command line (Hydra overrides, ``-m`` for several)."""
    run_stage(sweep)


if __name__ == "__main__":
    main()
