"""Slow tier: the default project, installed as shipped, and its golden path run for real.

One baked project per module, installed with `make install` exactly as a user
runs it (bytecode compiled up front); the tests run in file order and build on
each other: the pipeline, a no-op rerun, batch inference, the service image's
environment, a DVC experiment with the other model, a hyper-parameter search,
batch scoring on Spark (local mode, then Spark's standalone cluster), then the
project's own tests (Spark's among them), lint, docs and commands.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.checks import GIT_IDENTITY, assert_own_checks_pass, bake_for_e2e
from tests.servers import MOTO_KEYS, MotoServer, start_spark_cluster
from tools.image import assemble
from tools.lock import TEMPLATE_LOCK
from tools.project import TOOLS_BIN, make, project_env, run
from tools.servers import HOST, free_port, predict_example, start

pytestmark = pytest.mark.e2e

PACKAGE = "my_ml_project"
SLUG = "my-ml-project"
DATASET = "churn"  # the tabular pipeline's example dataset (conf/data/churn.yaml)
MODEL_NAME = f"{SLUG}-{DATASET}"

# Runs inside the project's environment and prints what MLflow recorded, as JSON.
MLFLOW_SUMMARY = """
import json, mlflow
from mlflow import MlflowClient
from my_ml_project.config import compose_config
from my_ml_project.metadata import load_metadata
from my_ml_project.tracking import resolve_tracking_uri
metadata = load_metadata()
dataset = compose_config(root=metadata.root).data.name
mlflow.set_tracking_uri(resolve_tracking_uri(metadata))
client = MlflowClient()
experiment = client.get_experiment_by_name(metadata.tracking.experiment_name)
runs = client.search_runs([experiment.experiment_id])
name = metadata.registered_model_name(dataset)
versions = client.search_model_versions(f"name='{name}'")
aliases = {}
for alias in ("champion", "challenger"):
    try:
        aliases[alias] = int(client.get_model_version_by_alias(name, alias).version)
    except Exception:
        aliases[alias] = None
print(json.dumps({
    "runs": [{"id": r.info.run_id, "parent": r.data.tags.get("mlflow.parentRunId"),
              "metrics": r.data.metrics, "params": r.data.params, "tags": r.data.tags,
              "inputs": [[i.dataset.name, i.dataset.digest]
                         for i in (r.inputs.dataset_inputs if r.inputs else [])]}
             for r in runs],
    "versions": sorted(int(v.version) for v in versions),
    "version_tags": {v.version: v.tags for v in versions},
    "champion": aliases["champion"],
    "challenger": aliases["challenger"],
}))
"""


def mlflow_summary(project: Path) -> dict[str, Any]:
    result = run(["poetry", "run", "python", "-c", MLFLOW_SUMMARY], project)
    summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The default project, installed as shipped, after its first `make pipeline`."""
    root = bake_for_e2e(tmp_path_factory.mktemp("golden"))
    installed = make(root, "install", timeout=1800)
    (root.parent / INSTALL_LOG).write_text(installed.stdout + installed.stderr)
    make(root, "pipeline")
    yield root


INSTALL_LOG = "install.log"  # beside the project: what `make install` printed


def test_make_install_shows_progress_without_noise(project: Path) -> None:
    printed = (project.parent / INSTALL_LOG).read_text()

    assert "Installing" in printed and "mlflow-skinny" in printed  # Poetry's progress
    noise = [line for line in printed.splitlines() if line.endswith(" over existing file")]
    assert not noise, noise[:3]  # mlflow and mlflow-skinny share files
    assert len(printed.splitlines()) < 600, printed[-3000:]


def test_pipeline_writes_every_stage_and_the_metrics(project: Path) -> None:
    for stage in ("raw", "raw_aligned", "processed"):
        assert any((project / "data" / stage / DATASET).rglob("*.*")), stage
    assert (project / f"data/experiment/{DATASET}/train.parquet").is_file()
    assert (project / f"data/experiment/{DATASET}/test.parquet").is_file()
    assert (project / f"models/{DATASET}/model/MLmodel").is_file()
    metrics = json.loads((project / "results/metrics.json").read_text())
    assert 0.5 < metrics["f1_macro"] < 0.95  # the example's classes overlap, as real ones do
    assert (project / "results/plots/confusion_matrix.png").stat().st_size > 0


def test_run_is_tracked_validated_and_the_model_is_champion(project: Path) -> None:
    summary = mlflow_summary(project)

    assert summary["versions"] == [1]
    assert summary["champion"] == summary["challenger"] == 1
    assert summary["version_tags"]["1"]["validation_status"] == "passed"
    gate = json.loads((project / "results/validation.json").read_text())
    assert gate["version"] == "1" and gate["status"] == "passed" and gate["champion"] is True
    assert {check["name"] for check in gate["checks"]} >= {"regression", "latency", "signature"}
    (training,) = summary["runs"]
    assert training["params"]["model.name"] == "random_forest"
    assert "test_f1_macro" in training["metrics"]
    assert "cv_f1_macro" in training["metrics"]
    assert training["tags"]["mlflow.source.git.commit"]
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    (experiment,) = [
        out["md5"]
        for out in lock["stages"]["build_experiment"]["outs"]
        if out["path"] == f"data/experiment/{DATASET}"
    ]
    assert sorted(training["inputs"]) == [  # lineage: DVC's hash of the experiment's tables
        [f"{DATASET}-test", experiment],
        [f"{DATASET}-train", experiment],
    ]


def test_second_repro_does_nothing(project: Path) -> None:
    lock_before = (project / "dvc.lock").read_text()

    result = run(["poetry", "run", "dvc", "repro"], project)

    assert "Data and pipelines are up to date." in result.stdout
    assert (project / "dvc.lock").read_text() == lock_before
    assert mlflow_summary(project)["versions"] == [1]


def test_batch_inference_scores_the_test_set(project: Path) -> None:
    test_set = project / f"data/experiment/{DATASET}/test.parquet"
    output = project / "scored.csv"

    result = run(
        ["poetry", "run", f"{SLUG}-predict", str(test_set), "--output", str(output)], project
    )

    assert "Wrote" in result.stdout
    header, *rows = output.read_text().splitlines()
    assert header.endswith(",prediction")
    assert rows and all(row.rsplit(",", 1)[1] in {"yes", "no"} for row in rows)


def test_batch_inference_scores_the_raw_source_file(project: Path) -> None:
    source, output = project / "data/sources/churn.csv", project / "scored-source.csv"

    run(["poetry", "run", f"{SLUG}-predict", str(source), "--output", str(output)], project)

    with source.open() as raw, output.open() as scored:
        rows, scored_rows = list(csv.DictReader(raw)), list(csv.DictReader(scored))
    assert len(scored_rows) == len(rows)
    # Columns the model does not take are kept; missing values are imputed, not refused.
    assert [row["customer_id"] for row in scored_rows] == [row["customer_id"] for row in rows]
    assert any(row["usage_hours"] == "" for row in rows)
    assert {row["prediction"] for row in scored_rows} == {"yes", "no"}


def test_batch_inference_names_missing_columns(project: Path) -> None:
    bad = project / "bad.csv"
    bad.write_text("monthly_fee\n70.0\n")

    result = run(["poetry", "run", f"{SLUG}-predict", str(bad)], project, check=False)

    assert result.returncode == 2
    assert "missing column 'plan'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_nightly_scoring_job_scores_yesterdays_file_into_s3_and_ships_its_log(
    project: Path, moto: MotoServer, tmp_path: Path
) -> None:
    """The CronJob's own command (deploy/k8s/jobs), run here against moto_server's S3."""
    manifest = subprocess.run(
        [str(TOOLS_BIN / "kubectl"), "kustomize", str(project / "deploy/k8s/jobs")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (cron,) = [doc for doc in yaml.safe_load_all(manifest) if doc["kind"] == "CronJob"]
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {variable["name"]: variable["value"] for variable in container["env"]}
    bucket, _, prefix = env["INPUT_PREFIX"].removeprefix("s3://").partition("/")
    s3 = moto.client()
    s3.create_bucket(Bucket=bucket)
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    test_set = project / f"data/experiment/{DATASET}/test.parquet"
    s3.upload_file(str(test_set), bucket, f"{prefix}/{day}.parquet")

    result = run(
        ["sh", "-c", container["args"][0]],
        project,
        env={
            **env,
            **MOTO_KEYS,
            "AWS_ENDPOINT_URL_S3": moto.url,
            "HOME": str(tmp_path),
            "PATH": f"{project / '.venv/bin'}:{project_env()['PATH']}",
        },
    )

    output_prefix = env["OUTPUT_PREFIX"].removeprefix(f"s3://{bucket}/")
    scored = tmp_path / "scored.parquet"
    s3.download_file(bucket, f"{output_prefix}/{day}.parquet", str(scored))
    summary = run(["poetry", "run", "python", "-c", ROWS_AND_PREDICTIONS, str(scored)], project)
    rows = run(["poetry", "run", "python", "-c", ROWS_AND_PREDICTIONS, str(test_set)], project)
    assert summary.stdout.split()[0] == rows.stdout.split()[0]  # every row of the file
    assert set(summary.stdout.split()[1:]) <= {"yes", "no"}
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert any("/monitoring/predictions/" in key for key in keys), keys  # the log, shipped
    assert "Wrote s3://" in result.stdout


# Prints a Parquet file's row count and the distinct values of its prediction column.
ROWS_AND_PREDICTIONS = """
import sys
import pandas as pd
table = pd.read_parquet(sys.argv[1])
print(len(table), *sorted(set(table.get("prediction", pd.Series(dtype=str)).astype(str))))
"""


def canonical(name: str) -> str:
    """A distribution's name as Poetry's lock file writes it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_image_serves_without_training_packages(project: Path, tmp_path: Path) -> None:
    image = assemble(project, tmp_path / "app")  # the Dockerfile's steps, no Docker engine
    python = str(image.venv / "bin/python")
    listing = "import importlib.metadata as m; print(*(d.name for d in m.distributions()))"
    installed = {
        canonical(name) for name in run([python, "-c", listing], image.root).stdout.split()
    }
    groups = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["poetry"]["group"]
    left_out = {canonical(name) for group in groups.values() for name in group["dependencies"]}
    assert {"mlflow", "optuna", "matplotlib", "dvc"} <= left_out  # train, dev
    assert not left_out & installed  # no package of the train, dev or docs groups
    assert {"mlflow-skinny", "gunicorn", "scikit-learn", SLUG} <= installed

    port = free_port()
    service = start(
        "image",
        image.command,
        tmp_path / "service.log",
        ready_url=f"http://{HOST}:{port}/ready",
        env={
            **image.env,
            "HOST": HOST,
            "PORT": str(port),
            "WORKERS": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        },
        cwd=image.root,
        timeout=300,
    )
    try:
        answer = predict_example(f"http://{HOST}:{port}")
    finally:
        service.stop()
    assert answer["predictions"][0] in {"yes", "no"}


def test_dvc_experiment_with_the_other_model(project: Path) -> None:
    result = run(
        ["poetry", "run", "dvc", "exp", "run", "-S", "model=logistic_regression"],
        project,
        env=GIT_IDENTITY,
    )

    assert f"Registered {MODEL_NAME} version 2" in result.stdout
    shown = run(["poetry", "run", "dvc", "exp", "show", "--json"], project).stdout
    assert "logistic_regression" in shown
    summary = mlflow_summary(project)
    assert summary["versions"] == [1, 2]
    by_version = {run["params"]["model.name"] for run in summary["runs"]}
    assert by_version == {"random_forest", "logistic_regression"}


def test_two_sweep_workers_share_one_study_and_one_parent_run(project: Path) -> None:
    """Two worker processes started together on one journal file, as two machines would."""
    before = {run["id"] for run in mlflow_summary(project)["runs"]}
    journal = project / "multirun" / "shared.journal"
    worker = [
        *("poetry", "run", "python", "-m", f"{PACKAGE}.sweeps", "hparams_search=optuna"),
        *("hparams_search.n_trials=4", f"hparams_search.storage={journal}"),
    ]

    workers = [
        subprocess.Popen(
            [*worker, f"hparams_search.worker={number}"],
            cwd=project,
            env=project_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for number in range(2)
    ]
    printed = [process.communicate(timeout=900)[0] for process in workers]

    failed = [
        output for process, output in zip(workers, printed, strict=True) if process.returncode
    ]
    if failed:  # the whole output: an assertion's message would be cut to its ends
        pytest.fail("a sweep worker failed:\n" + "\n---\n".join(failed), pytrace=False)
    trials = json.loads(
        run(["poetry", "run", "python", "-c", STUDY_TRIALS, str(journal)], project).stdout
    )
    new = [run for run in mlflow_summary(project)["runs"] if run["id"] not in before]
    (parent,) = [run for run in new if run["parent"] is None]
    children = [run for run in new if run["parent"] == parent["id"]]
    assert len(trials) >= 4  # workers starting together may run one more each
    assert sorted(trials) == list(range(len(trials)))  # no trial number given twice
    assert sorted(int(child["tags"]["optuna_trial"]) for child in children) == sorted(trials)
    assert parent["metrics"]["best_cv_f1_macro"] == max(
        child["metrics"]["cv_f1_macro"] for child in children
    )


def test_sweep_workers_go_to_slurm_as_one_job_array(project: Path, tmp_path: Path) -> None:
    """launcher=slurm renders the submission script; this machine's stand-in for sbatch
    keeps it and refuses the job, as no cluster is here."""
    bin_dir, script = tmp_path / "bin", tmp_path / "submitted.sh"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")  # submitit looks for it
    (bin_dir / "sbatch").write_text(
        f'#!/bin/sh\ncp "$1" {script}\necho "sbatch: no controller" >&2\nexit 1\n'
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)

    result = run(
        [
            *("poetry", "run", "python", "-m", f"{PACKAGE}.sweeps", "-m", "hparams_search=optuna"),
            *("launcher=slurm", "hparams_search.worker=range(3)", f"hydra.sweep.dir={tmp_path}"),
        ],
        project,
        env={"PATH": f"{bin_dir}:{project_env()['PATH']}"},
        check=False,
    )

    assert result.returncode != 0 and "sbatch: no controller" in result.stderr
    lines = script.read_text().splitlines()
    assert {"#SBATCH --array=0-2%3", "#SBATCH --cpus-per-task=4", "#SBATCH --mem=16GB"} <= set(
        lines
    )
    assert "#SBATCH --time=60" in lines  # conf/launcher/slurm.yaml's timeout_min
    assert any(line.startswith("srun ") and "submitit.core._submit" in line for line in lines)


# The trial numbers of the (only) study in an Optuna journal file, as JSON.
STUDY_TRIALS = """
import json, sys, optuna
from optuna.storages.journal import JournalFileBackend
storage = optuna.storages.JournalStorage(JournalFileBackend(sys.argv[1]))
print(json.dumps([t.number for t in optuna.load_study(study_name=None, storage=storage).trials]))
"""


def test_spark_scores_the_source_as_the_pandas_command_through_spark_submit(
    project: Path,
) -> None:
    """The optional spark group, then the cluster's way in: spark-submit runs the launcher.

    Runs before the project's own tests, which then include its Spark tests.
    """
    run(["poetry", "install", "--with", "spark"], project, timeout=1800)
    source, output = project / "data/sources/churn.csv", project / "scored-spark"
    python = run(["poetry", "env", "info", "--executable"], project).stdout.strip()

    result = run(
        [
            *("poetry", "run", "spark-submit", "--master", "local[2]"),
            *("--conf", f"spark.pyspark.python={python}", "deploy/spark/predict.py"),
            *("--engine", "spark", str(source), "--output", str(output)),
        ],
        project,
    )

    assert_scored_as_the_pandas_command(project, source, result.stdout, output)


def test_spark_scores_a_table_in_s3_on_a_standalone_cluster(
    project: Path, moto: MotoServer, tmp_path: Path
) -> None:
    """The README's way onto a cluster, on Spark's own standalone cluster on 127.0.0.1.

    The tasks run in an executor the cluster's worker starts, not in the driver,
    and reach S3 with the worker machine's credentials (its environment here).
    """
    s3 = moto.client()
    s3.create_bucket(Bucket="cluster")
    source = project / "data/sources/churn.csv"
    s3.upload_file(str(source), "cluster", "incoming/churn.csv")
    python = run(["poetry", "env", "info", "--executable"], project).stdout.strip()
    spark_home = run(["poetry", "run", "python", "-c", SPARK_HOME], project).stdout.strip()
    cluster = start_spark_cluster(Path(spark_home), tmp_path, worker_env=MOTO_KEYS)
    try:
        result = run(
            [
                *("poetry", "run", "spark-submit", "--master", cluster.url),
                *("--conf", f"spark.pyspark.python={python}", "deploy/spark/predict.py"),
                *("--engine", "spark", "s3://cluster/incoming/churn.csv"),
                *("--output", "s3://cluster/scored"),
            ],
            project,
            env={**MOTO_KEYS, "AWS_ENDPOINT_URL_S3": moto.url, "SPARK_LOCAL_IP": HOST},
        )
        executors = cluster.worker.output()
    finally:
        cluster.stop()

    assert "Launch command" in executors  # the worker started an executor for the tasks
    assert "on Spark (spark://" in result.stdout, result.stdout
    output = tmp_path / "scored"
    for item in s3.list_objects_v2(Bucket="cluster", Prefix="scored/")["Contents"]:
        if item["Key"].endswith(".parquet"):
            (output / item["Key"]).parent.mkdir(parents=True, exist_ok=True)
            s3.download_file("cluster", item["Key"], str(output / item["Key"]))
    assert_scored_as_the_pandas_command(project, source, result.stdout, output)


def assert_scored_as_the_pandas_command(
    project: Path, source: Path, printed: str, output: Path
) -> None:
    """Spark scored every row of the CSV ``source`` into ``output`` (Parquet) as pandas does.

    ``printed`` is the Spark command's output, which names the model version used.
    """
    with source.open() as raw:
        rows = sum(1 for _ in csv.DictReader(raw))
    scored = re.search(rf"{rows} rows scored by models:/{MODEL_NAME}/(\d+) on Spark", printed)
    assert scored, printed
    pandas_output = output.parent / f"{output.name}-pandas.csv"
    run(
        [
            *("poetry", "run", f"{SLUG}-predict", str(source)),
            *("--version", scored.group(1), "--output", str(pandas_output)),
        ],
        project,
    )
    compared = run(
        ["poetry", "run", "python", "-c", SAME_PREDICTIONS, str(output), str(pandas_output)],
        project,
    )
    assert compared.stdout.split() == [str(rows), "True"]


SPARK_HOME = "import os, pyspark; print(os.path.dirname(pyspark.__file__))"

# Spark's predictions and the pandas command's, matched by customer id.
SAME_PREDICTIONS = """
import sys
import pandas as pd
spark = pd.read_parquet(sys.argv[1]).set_index("customer_id")["prediction"]
pandas = pd.read_csv(sys.argv[2], dtype=str).set_index("customer_id")["prediction"]
print(len(spark), spark.sort_index().equals(pandas.sort_index()))
"""


def test_own_tests_lint_and_poetry_check_pass(project: Path) -> None:
    assert_own_checks_pass(project)


def test_lock_file_pins_every_tool(project: Path) -> None:
    locked = {
        package["name"]
        for package in tomllib.loads((project / "poetry.lock").read_text())["package"]
    }

    assert {"pytest", "ruff", "mypy", "pdoc", "pydantic", "pyyaml", "mlflow-skinny"} <= locked


def test_the_project_keeps_the_versions_the_template_locked(project: Path) -> None:
    def versions(lock: Path) -> dict[str, str]:
        packages = tomllib.loads(lock.read_text(encoding="utf-8"))["package"]
        return {package["name"]: package["version"] for package in packages}

    shipped, installed = versions(TEMPLATE_LOCK), versions(project / "poetry.lock")
    printed = (project.parent / INSTALL_LOG).read_text()

    # Baked with a package index, so `make install` locked again, from the shipped lock.
    assert "locking again" in printed
    moved = {
        name: (shipped[name], version)
        for name, version in installed.items()
        if name in shipped and shipped[name] != version
    }
    assert len(moved) <= len(shipped) // 50, moved  # a re-lock, not a fresh resolution


def test_docs_cover_every_public_module(project: Path) -> None:
    make(project, "docs")

    root = project / "src" / PACKAGE
    # Every public module, subpackages (stages/, data/, ...) and their modules included:
    # pdoc writes `a/b.py` and the package `a/b/__init__.py` alike to `a/b.html`.
    modules = sorted(
        (path.parent if path.name == "__init__.py" else path.with_suffix("")).relative_to(root)
        for path in root.rglob("*.py")
        if path.name == "__init__.py" or path.stem[0] != "_"
    )
    api = project / "docs" / "api"
    assert (api / f"{PACKAGE}.html").is_file()
    assert {"stages", "data"} <= {str(module.parts[0]) for module in modules if module.parts}
    for module in modules:
        if module.parts:
            assert (api / PACKAGE / f"{module}.html").is_file(), module


def test_the_plots_page_is_drawn_offline_for_the_last_evaluation(project: Path) -> None:
    make(project, "plots")

    page = (project / "dvc_plots/index.html").read_text()
    validation = json.loads((project / "results/validation.json").read_text())
    assert page.count("<svg") == 2  # a classification's confusion matrix and class scores
    assert f"{validation['model']} version {validation['version']}" in page
    assert str(validation["data_version"])[:8] in page  # the data the model was evaluated on
    assert "<script" not in page and not re.findall(r'(?:src|href)="https?://', page)
    status = run(["git", "status", "--porcelain"], project).stdout
    assert "dvc_plots" not in status  # git-ignored


def test_make_help_lists_the_commands(project: Path) -> None:
    result = make(project, "help")

    for target in ("install", "test", "lint", "docs", "retrain", "promote", "rollback"):
        assert target in result.stdout
