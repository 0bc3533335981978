"""Fixtures: each test's own global state (Hydra, MLflow, cwd), and the configured data.

The tests follow the configuration: ``configured_table`` is a sample of the
dataset ``conf/config.yaml`` selects, and ``trained_project`` runs the pipeline's
modelling stages on it once per session, so the same tests check any table the
project is pointed at, classification or regression.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import pandas as pd
import pytest
import requests
from hydra.core.global_hydra import GlobalHydra
from mlflow import MlflowClient
from moto.server import ThreadedMotoServer
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.config import compose_config
from {{ cookiecutter.package_name }}.data.dataset import DatasetConfig, dataset_config
from {{ cookiecutter.package_name }}.data.experiment import (
    TEST_FILE,
    TRAIN_FILE,
    ExperimentData,
)
from {{ cookiecutter.package_name }}.data.tables import TABLE_FILE
from {{ cookiecutter.package_name }}.metadata import (
    METADATA_FILE,
    STAGES,
    Metadata,
    load_metadata,
)
from {{ cookiecutter.package_name }}.stages.align import align
from {{ cookiecutter.package_name }}.stages.build_experiment import build_experiment
from {{ cookiecutter.package_name }}.stages.evaluate import evaluate
from {{ cookiecutter.package_name }}.stages.ingest import ingest
from {{ cookiecutter.package_name }}.stages.process import process
from {{ cookiecutter.package_name }}.stages.train import train

from .sample_settings import DATA_STAGE_OVERRIDES

if TYPE_CHECKING:
    from .champion import Champion

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ROWS = 1000  # at most this many rows of the configured table
TRAIN_OVERRIDES = ["train.cv_folds=2"]


CONFIGURED_DATA_FIXTURES = {"configured_table", "staged"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``configured_data`` the tests that read the configured dataset.

    ``pytest -m configured_data`` then checks a newly configured table in a part of
    the suite's time: the other tests cannot change with the table.
    """
    for item in items:
        if CONFIGURED_DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.configured_data)


@pytest.fixture(autouse=True)
def fresh_hydra() -> Iterator[None]:
    """No test inherits another's Hydra initialisation."""
    GlobalHydra.instance().clear()
    yield
    GlobalHydra.instance().clear()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real S3 API on 127.0.0.1 (moto's server), empty; returns a boto3 client of it.

    The project's code reaches it through ``AWS_ENDPOINT_URL_S3``, with throwaway keys.
    """
    import boto3

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # moto keeps its buckets in the process: start each test from none.
    requests.post(f"http://{host}:{port}/moto-api/reset", timeout=10).raise_for_status()
    settings = {
        "AWS_ENDPOINT_URL_S3": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # pragma: allowlist secret
        "AWS_MAX_ATTEMPTS": "2",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield boto3.client("s3", endpoint_url=settings["AWS_ENDPOINT_URL_S3"], region_name="us-east-1")
    server.stop()


@pytest.fixture
def iam_checks(s3: Any) -> Iterator[dict[str, str]]:
    """The project's bucket, then moto's IAM checks on: the environment's keys are refused.

    Yields the keys of a user allowed everything in S3, as environment variables.
    """
    import boto3

    storage = load_metadata().storage
    create_bucket(s3, storage.bucket, storage.region)
    endpoint = s3.meta.endpoint_url
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    iam.create_user(UserName="allowed")
    iam.put_user_policy(
        UserName="allowed",
        PolicyName="s3",
        PolicyDocument='{"Version": "2012-10-17", "Statement": '
        '[{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
    )
    key = iam.create_access_key(UserName="allowed")["AccessKey"]
    switch = f"{endpoint}/moto-api/reset-auth"  # how many requests pass unchecked
    requests.post(switch, data="0", headers={"Content-Type": "text/plain"}, timeout=10)
    yield {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    requests.post(switch, data="inf", headers={"Content-Type": "text/plain"}, timeout=10)


def create_bucket(client: Any, name: str, region: str) -> None:
    """Create a bucket in ``region`` (us-east-1 takes no location constraint)."""
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    client.create_bucket(
        Bucket=name, **({"CreateBucketConfiguration": location} if location else {})
    )


def make_scratch_project(root: Path) -> Metadata:
    """A copy of the project's metadata and configuration, with empty data folders.

    ``data/sources`` links to the project's own, so a configured source is found there.
    """
    root.mkdir(parents=True)
    shutil.copyfile(PROJECT_ROOT / METADATA_FILE, root / METADATA_FILE)
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf")
    metadata = load_metadata(root / METADATA_FILE)
    for stage in STAGES:
        metadata.stage_dir(stage).mkdir(parents=True)
    if (PROJECT_ROOT / "data" / "sources").is_dir():
        (root / "data" / "sources").symlink_to(PROJECT_ROOT / "data" / "sources")
    return metadata


@pytest.fixture
def scratch_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch copy of the project (see ``make_scratch_project``); the test runs inside it."""
    root = tmp_path / "project"
    make_scratch_project(root)
    monkeypatch.chdir(root)
    return root


@pytest.fixture(scope="session")
def migrated_tracking_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow SQLite store, created (and migrated) once per test session."""
    path = tmp_path_factory.mktemp("mlflow") / "empty.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@contextmanager
def tracking_store_copy(
    source: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Track into a copy of the SQLite store ``source``, made in ``folder``; yield its URI.

    MLflow's tracking URI is global: on leaving, open runs are ended and the URI is
    put back as it was, so no later test reads or writes this store.
    """
    previous = mlflow.get_tracking_uri()
    database = folder / "mlflow.db"
    shutil.copyfile(source, database)
    uri = f"sqlite:///{database}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("tests")
    try:
        yield uri
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(previous)


@pytest.fixture
def tracking_uri(
    migrated_tracking_store: Path, scratch_project: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A private MLflow store for one test (a copy of the empty one) in the scratch project.

    Runs log artifacts below the working directory, so they stay in the scratch project too.
    """
    with tracking_store_copy(migrated_tracking_store, scratch_project, monkeypatch) as uri:
        yield uri


@functools.cache
def worker_config(root: Path) -> DictConfig:
    """The configuration of the project at ``root`` with a search space, composed once
    per process: composing in every round would part the two processes' moments.

    A round that changes it changes a copy.
    """
    return compose_config(["hparams_search=optuna"], root=root)


def source_overrides(source: object) -> list[str]:
    """A file or glob source made absolute, so a scratch project reads the project's files."""
    if (
        isinstance(source, str)
        and not source.startswith("s3://")
        and not Path(source).is_absolute()
    ):
        return [f"data.source={PROJECT_ROOT / source}"]
    return []


def run_data_stages(root: Path) -> DatasetConfig:
    """Run ingest, align and process on the configured source, in the project at ``root``.

    The scratch project's working directory must be ``root``; the source is the
    project's own (a relative path made absolute), with ``DATA_STAGE_OVERRIDES``.
    """
    source = compose_config(root=PROJECT_ROOT).data.source
    config = compose_config([*source_overrides(source), *DATA_STAGE_OVERRIDES], root=root)
    for stage in (ingest, align, process):
        stage(config)
    return dataset_config(config)


@pytest.fixture
def staged(scratch_project: Path) -> tuple[DatasetConfig, Metadata]:
    """The configured dataset after ingest, align and process in the scratch project."""
    return run_data_stages(scratch_project), load_metadata()


@pytest.fixture(scope="session")
def configured_table(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """A sample of the configured dataset's processed table (what ``process`` writes).

    The project's own processed table when the pipeline has made it; otherwise the
    data stages run on the configured source in a scratch project.
    """
    name = dataset_config(compose_config(root=PROJECT_ROOT)).name
    processed = load_metadata(PROJECT_ROOT / METADATA_FILE).stage_dir("processed") / name
    if not (processed / TABLE_FILE).is_file():
        root = tmp_path_factory.mktemp("data-stages") / "project"
        metadata = make_scratch_project(root)
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.chdir(root)
            run_data_stages(root)
        processed = metadata.stage_dir("processed") / name
    table = pd.read_parquet(processed / TABLE_FILE)
    if len(table) > SAMPLE_ROWS:
        table = table.sample(n=SAMPLE_ROWS, random_state=0).sort_index()
    return table.reset_index(drop=True)


@dataclass(frozen=True)
class TrainedProject:
    """The modelling stages' results on ``configured_table``, run once per session."""

    root: Path
    store: Path  # an MLflow SQLite store: the model registered as version 1, champion
    model_name: str
    experiment: ExperimentData
    train_set: pd.DataFrame
    test_set: pd.DataFrame
    cv_score: float
    test_metrics: dict[str, float]

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns of an experiment table, as stored (dates as dates)."""
        return frame[list(self.experiment.features)]


@pytest.fixture(scope="session")
def trained_project(
    configured_table: pd.DataFrame,
    migrated_tracking_store: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> TrainedProject:
    """build_experiment, train and evaluate, on the configured table, in a scratch project."""
    root = tmp_path_factory.mktemp("trained") / "project"
    metadata = make_scratch_project(root)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(root)  # the run's artifacts go below the working directory
        with tracking_store_copy(migrated_tracking_store, root, monkeypatch):
            config = compose_config(TRAIN_OVERRIDES, root=root)
            name = dataset_config(config).name
            (metadata.stage_dir("processed") / name).mkdir(parents=True)
            configured_table.to_parquet(metadata.stage_dir("processed") / name / TABLE_FILE)
            build_experiment(config)
            cv_score = train(config)
            results = evaluate(config)
    folder = metadata.stage_dir("experiment") / name
    return TrainedProject(
        root=root,
        store=root / "mlflow.db",
        model_name=metadata.registered_model_name(name),
        experiment=ExperimentData.read(folder),
        train_set=pd.read_parquet(folder / TRAIN_FILE),
        test_set=pd.read_parquet(folder / TEST_FILE),
        cv_score=cv_score,
        test_metrics=results,
    )


@pytest.fixture(scope="module")
def champion(trained_project: TrainedProject, tmp_path_factory: pytest.TempPathFactory) -> Champion:
    """The trained project's champion and its rows (``champion.py``), loaded once per module."""
    from .champion import load_champion  # champion.py reads this module's TrainedProject

    return load_champion(trained_project, tmp_path_factory.mktemp("champion"))


@pytest.fixture
def registered_model(
    trained_project: TrainedProject, scratch_project: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The configured dataset's model name, in a private copy of the trained project's store."""
    with tracking_store_copy(trained_project.store, scratch_project, monkeypatch):
        yield trained_project.model_name
