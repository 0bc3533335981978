"""Slow tier: a team's own tables through the default (tabular) project, by configuration only.

One baked, installed project. scikit-learn's bundled wine (three classes), breast
cancer (two) and diabetes (regression) tables are written as the files a team
would bring: CSV and Parquet, with missing values, a rare category, a date column
and unlabelled rows. Each gets a `conf/data/<name>.yaml` of a few lines and is
selected in `conf/config.yaml`; no code is edited. Sources are files, an S3 prefix
on moto_server, and SQL queries on SQLite and on PostgreSQL. Every file in
`data/sources/` must be byte-identical after every `make` target.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.checks import bake_for_e2e
from tests.servers import (
    MOTO_KEYS,
    REGION,
    MotoServer,
    PostgresServer,
    start_postgres,
    tree_hashes,
)
from tools.project import install, make, run, use_dataset
from tools.servers import serve_and_predict

pytestmark = pytest.mark.e2e

BUCKET = "team-data"
STAGES = ("raw", "raw_aligned", "processed", "experiment")
ENV = {**MOTO_KEYS, "AWS_DEFAULT_REGION": REGION}

# Runs in the project's environment: the tables a team would hand over, in data/sources/.
MAKE_SOURCES = """
import sqlite3, sys
import numpy as np, pandas as pd
from sklearn import datasets

rng = np.random.default_rng(0)
out = sys.argv[1]

wine = datasets.load_wine(as_frame=True).frame  # `target`: 0, 1, 2
for column in ("alcohol", "magnesium", "hue"):
    wine.loc[rng.random(len(wine)) < 0.08, column] = np.nan
vineyards, shares = ["north", "south", "east", "tiny-plot"], [0.4, 0.35, 0.24, 0.01]
wine["vineyard"] = rng.choice(vineyards, len(wine), p=shares)  # a rare category
days = pd.to_timedelta(rng.integers(0, 900, len(wine)), "D")
wine["harvest_date"] = (pd.Timestamp("2020-09-01") + days).strftime("%Y-%m-%d")
wine.to_csv(f"{out}/wine.csv", index=False)

cancer = datasets.load_breast_cancer(as_frame=True).frame
cancer["diagnosis"] = np.where(cancer.pop("target") == 1, "benign", "malignant")
cancer.loc[rng.choice(len(cancer), 10, replace=False), "diagnosis"] = None  # unlabelled rows
cancer.loc[rng.random(len(cancer)) < 0.05, "mean radius"] = np.nan
cancer.to_parquet(f"{out}/cancer.parquet", index=False)
with sqlite3.connect(f"{out}/clinic.db") as db:
    cancer.to_sql("biopsies", db, index=False)

diabetes = datasets.load_diabetes(as_frame=True, scaled=False).frame  # `target`: a number
diabetes["sex"] = diabetes["sex"].map({1.0: "f", 2.0: "m"})
diabetes.loc[rng.random(len(diabetes)) < 0.05, "bmi"] = np.nan
diabetes.to_csv(f"{out}/diabetes.csv", index=False)
"""

DATASETS = {
    "wine": "source: data/sources/wine.csv\nlabel: target\n",
    "cancer": (
        "source: data/sources/cancer.parquet\nlabel: diagnosis\n"
        "split:\n  strategy: stratified\n  test_size: 0.3\n"
    ),
    "diabetes": "source: data/sources/diabetes.csv\nlabel: target\n",
    "clinic": (
        'source:\n  sql: SELECT * FROM biopsies WHERE "mean area" > 0\n'
        "  url: sqlite:///data/sources/clinic.db\nlabel: diagnosis\n"
    ),
}


def sources_hashes(project: Path) -> dict[str, str]:
    folder = project / "data" / "sources"
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


class OwnDataProject:
    """The project, and the make targets run with a check that no user file changed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.user_files = sources_hashes(root)

    def make(self, target: str, *, check: bool = True, env: dict[str, str] | None = None) -> Any:
        result = make(self.root, target, env={**ENV, **(env or {})}, check=check, timeout=1800)
        assert sources_hashes(self.root) == self.user_files, f"make {target} changed data/sources"
        return result

    def use(self, name: str, conf: str) -> None:
        """Describe and select a dataset: configuration only."""
        use_dataset(self.root, name, conf)

    def metrics(self) -> dict[str, float]:
        metrics: dict[str, float] = json.loads((self.root / "results/metrics.json").read_text())
        return metrics

    def predict(self, source: str) -> list[str]:
        """Score a source file with the configured dataset's champion; the predictions."""
        output = self.root / "scored.csv"
        run(
            ["poetry", "run", "my-ml-project-predict", source, "--output", str(output)],
            self.root,
            env=ENV,
        )
        header, *rows = output.read_text().splitlines()
        assert header.endswith(",prediction")
        return [row.rsplit(",", 1)[1] for row in rows]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, moto: MotoServer) -> Iterator[OwnDataProject]:
    moto.client().create_bucket(Bucket=BUCKET)
    root = bake_for_e2e(
        tmp_path_factory.mktemp("own-data"), {"s3_bucket": BUCKET, "s3_endpoint_url": moto.url}
    )
    install(root)
    run(["poetry", "run", "python", "-c", MAKE_SOURCES, "data/sources"], root)
    yield OwnDataProject(root)


def test_multi_class_csv_with_gaps_a_rare_category_and_dates(project: OwnDataProject) -> None:
    project.use("wine", DATASETS["wine"])

    result = project.make("pipeline")

    assert "task: classification, inferred from the label 'target'" in result.stdout + result.stderr
    assert set(project.metrics()) >= {"accuracy", "f1_macro", "f1_0", "f1_1", "f1_2"}
    assert project.metrics()["f1_macro"] > 0.8
    schema = json.loads((project.root / "data/raw_aligned/wine/schema.json").read_text())
    assert (schema["vineyard"], schema["harvest_date"], schema["alcohol"]) == (
        "categorical",
        "date",
        "numeric",
    )
    assert set(project.predict("data/sources/wine.csv")) <= {"0", "1", "2"}


def test_binary_parquet_with_unlabelled_rows(project: OwnDataProject) -> None:
    project.use("cancer", DATASETS["cancer"])

    project.make("pipeline")

    report = json.loads((project.root / "data/processed/cancer/report.json").read_text())
    assert (report["rows_in"], report["dropped_missing_label"]) == (569, 10)
    assert project.metrics()["f1_macro"] > 0.85
    assert set(project.predict("data/sources/cancer.parquet")) <= {"benign", "malignant"}


def test_regression_is_inferred_scored_and_served(project: OwnDataProject) -> None:
    project.use("diabetes", DATASETS["diabetes"])

    result = project.make("pipeline")

    assert "task: regression, inferred from the label 'target'" in result.stdout + result.stderr
    metrics = project.metrics()
    assert set(metrics) == {"rmse", "mae", "r2"}
    assert 0.2 < metrics["r2"] < 0.8
    plots = {path.name for path in (project.root / "results/plots").iterdir()}
    assert plots == {"predictions.csv", "predicted_vs_actual.png", "residuals.png"}
    assert all(float(value) > 0 for value in project.predict("data/sources/diabetes.csv"))
    answer = serve_and_predict(project.root, {"sex": "m", "age": 50, "bmi": None})
    assert answer["model"]["name"] == "my-ml-project-diabetes"
    assert isinstance(answer["predictions"][0], float)
    # The project's own tests that read the configured table, now diabetes. Those marked
    # slow start processes whose work no table changes (the model process, racing sweep
    # workers); the answer above came through the model process, and the PostgreSQL
    # test below runs two sweep workers on this table.
    selected = "configured_data and not slow"
    tests = run(["poetry", "run", "pytest", "-m", selected], project.root, timeout=1800)
    assert " passed" in tests.stdout and " deselected" in tests.stdout


def test_a_query_on_sqlite(project: OwnDataProject) -> None:
    project.use("clinic", DATASETS["clinic"])

    project.make("pipeline")

    manifest = json.loads((project.root / "data/raw/clinic/source.json").read_text())
    assert manifest["rows"] == 569
    assert project.metrics()["f1_macro"] > 0.85


def test_a_prefix_on_s3(project: OwnDataProject, moto: MotoServer) -> None:
    body = (project.root / "data/sources/wine.csv").read_bytes()
    half = body.index(b"\n", len(body) // 2) + 1
    header = body[: body.index(b"\n") + 1]
    moto.client().put_object(Bucket=BUCKET, Key="exports/wine/part-1.csv", Body=body[:half])
    moto.client().put_object(
        Bucket=BUCKET, Key="exports/wine/part-2.csv", Body=header + body[half:]
    )
    project.use("wine_s3", f"source: s3://{BUCKET}/exports/wine/\nlabel: target\n")

    project.make("pipeline")

    raw = project.root / "data/raw/wine_s3"
    assert (raw / "part-1.csv").read_bytes() + (raw / "part-2.csv").read_bytes()[
        len(header) :
    ] == body
    assert project.metrics()["f1_macro"] > 0.8


def test_a_query_on_postgresql_and_a_sweep_sharing_it(
    project: OwnDataProject, tmp_path: Path
) -> None:
    server: PostgresServer = start_postgres(tmp_path)
    try:
        server.psql(
            "CREATE TABLE patients (age float, sex text, bmi float, bp float, target float)"
        )
        rows = [
            line.split(",")
            for line in (project.root / "data/sources/diabetes.csv").read_text().splitlines()[1:]
        ]
        values = ", ".join(f"({r[0]}, '{r[1]}', {r[2] or 'NULL'}, {r[3]}, {r[-1]})" for r in rows)
        server.psql(f"INSERT INTO patients VALUES {values}")
        # The driver, where the README says to add it.
        run(["poetry", "add", "--group", "train", "psycopg[binary]"], project.root)
        project.use(
            "patients",
            "source:\n  sql: SELECT * FROM patients\n"
            f"  url: postgresql+psycopg://$DB_USER@127.0.0.1:{server.port}/postgres\n"
            "label: target\n",
        )

        project.make("pipeline", env={"DB_USER": server.user})
        # A sweep's two workers (processes) sharing one study in the same PostgreSQL.
        sweep = {"TRIALS": "4", "WORKERS": "2", "STUDY": "patients-pg", "STORAGE": server.url()}
        project.make("sweep", env=sweep)
        numbers = server.psql("SELECT string_agg(number::text, ' ' ORDER BY number) FROM trials")
        trials = numbers.splitlines()[2].split()  # below psql's header and its rule
    finally:
        server.stop()

    assert "$DB_USER" in (project.root / "params.yaml").read_text()  # no secret written down
    assert json.loads((project.root / "data/raw/patients/source.json").read_text())["rows"] == 442
    assert set(project.metrics()) == {"rmse", "mae", "r2"}
    assert len(trials) >= 4 and trials == [str(n) for n in range(len(trials))]
    sweep = json.loads(run(["poetry", "run", "python", "-c", SWEEP_RUNS], project.root).stdout)
    assert sweep["trials"] == sorted(int(n) for n in trials)  # one child run per trial
    assert sweep["best_cv_rmse"] == min(sweep["children_cv_rmse"])  # lower is better


# The sweep's parent run and its children in the project's MLflow store, as JSON.
SWEEP_RUNS = """
import json, mlflow
from mlflow import MlflowClient
from my_ml_project.metadata import load_metadata
from my_ml_project.tracking import resolve_tracking_uri
client = MlflowClient(resolve_tracking_uri(load_metadata()))
experiments = [e.experiment_id for e in client.search_experiments()]
(parent,) = client.search_runs(experiments, "tags.optuna_study = 'patients-pg'")
children = client.search_runs(
    experiments, f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
)
print(json.dumps({
    "trials": sorted(int(run.data.tags["optuna_trial"]) for run in children),
    "best_cv_rmse": parent.data.metrics["best_cv_rmse"],
    "children_cv_rmse": [run.data.metrics["cv_rmse"] for run in children],
}))
"""


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        (
            "source: data/sources/wine.csv\nlabel: colour\n",
            "the label column 'colour' is not in the table",
        ),
        (
            "source: data/sources/nowhere.csv\nlabel: target\n",
            "nothing found at 'data/sources/nowhere.csv'",
        ),
        (
            "source: data/sources/wine.csv\nlabel: target\nsplit:\n  strategy: group\n",
            "needs `group`",
        ),
        (
            "source:\n  sql: SELECT * FROM nothing\n"
            "  url: sqlite:///data/sources/clinic.db\nlabel: x\n",
            "the query failed",
        ),
        ("source: data/sources/wine.csv\nlabel: target\nfeatures: [radius]\n", "'radius'"),
    ],
)
def test_bad_configurations_are_named_and_leave_the_last_outputs(
    project: OwnDataProject, conf: str, message: str
) -> None:
    project.use("wine", DATASETS["wine"])
    project.make("pipeline")
    outputs = [f"data/{stage}/wine" for stage in STAGES] + ["models/wine", "results"]
    before = tree_hashes(project.root, outputs)
    project.use("wine", conf)

    result = project.make("pipeline", check=False)

    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert tree_hashes(project.root, outputs) == before  # DVC left them; no stage half-wrote


def test_a_label_with_one_class_is_refused(project: OwnDataProject) -> None:
    run(
        [
            "poetry",
            "run",
            "python",
            "-c",
            "import pandas as pd; f = pd.read_csv('data/sources/wine.csv'); f['target'] = 1; "
            "f.to_csv('data/sources/one-class.csv', index=False)",
        ],
        project.root,
    )
    project.user_files = sources_hashes(project.root)
    project.use(
        "one_class", "source: data/sources/one-class.csv\nlabel: target\ntask: classification\n"
    )

    result = project.make("pipeline", check=False)

    assert "the label 'target' has a single class" in result.stdout + result.stderr
