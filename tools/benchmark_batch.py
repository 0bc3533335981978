"""Benchmark batch scoring: the pandas command (a batch of rows at a time) against Spark.

Bakes the default project (or reuses one given with ``--project``, installed with
its ``spark`` group and trained), makes Parquet files of 1M, 3M and 10M rows from
the example's source (its rows drawn again and again), and scores each with the
champion twice: ``<slug>-predict`` (pandas, 100,000 rows at a time, one process) and
``<slug>-predict --engine spark --master local[2]``. For each run it prints the wall
time, and the peak memory and CPU time of the command and every process it started
(Spark's JVM, and its Python workers, which run in a session of their own;
proportional set sizes, so pages forked workers share count once), sampled every 100
ms; then the ratios, how memory grows from one size to the next, and where Spark's
time line crosses pandas' (each fitted through its two largest sizes, past Spark's
warm-up: its workers start, load the model and compile as the first tasks run), and
each engine's CPU time per row there, which says how many cores Spark needs to score
faster. It asserts nothing.

Targets (#15): Spark's peak memory stays flat as rows grow; the pandas command's
peak memory at 10M rows is bounded (it streams).

    python -m tools.benchmark_batch [--project PATH] [--rows 1000000,3000000,10000000]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tools.project import bake, default_package_index_url, make, project_env, run
from tools.servers import stop_process_group, tree_cpu_seconds, tree_memory_bytes

PACKAGE = "my_ml_project"
SAMPLE_SECONDS = 0.1  # a sample reads /proc: 10-20 ms on this machine during a Spark run

# Writes a Parquet file of argv[2] rows drawn from the example's source, 500,000 at a time.
MAKE_INPUT = """
import sys
import numpy as np, pandas as pd, pyarrow as pa, pyarrow.parquet as pq
source = pd.read_csv("data/sources/churn.csv", dtype={"customer_id": str})
rows, rng, writer = int(sys.argv[2]), np.random.default_rng(0), None
for start in range(0, rows, 500_000):
    part = source.iloc[rng.integers(0, len(source), min(500_000, rows - start))]
    table = pa.Table.from_pandas(part.reset_index(drop=True), preserve_index=False)
    writer = writer or pq.ParquetWriter(sys.argv[1], table.schema)
    writer.write_table(table)
writer.close()
"""


@dataclass(frozen=True)
class Run:
    """One scoring command: its wall time, and the peak memory and CPU time of its processes."""

    seconds: float
    peak_mb: float
    cpu_seconds: float


def measured(command: list[str], project: Path, log: Path) -> Run:
    """Run ``command`` in a process group of its own, sampling its process tree.

    CPU time is each process's as last seen (a process that ends between two
    samples loses its last 100 ms at most).

    What it prints goes to ``log`` (Spark's progress would fill a pipe no one reads).
    """
    started = time.perf_counter()
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=project,
            env=project_env({"MLFLOW_DISABLE_TELEMETRY": "true"}),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        peak, cpu = 0, {}
        try:
            while process.poll() is None:
                peak = max(peak, tree_memory_bytes(process.pid))
                cpu.update(tree_cpu_seconds(process.pid))
                time.sleep(SAMPLE_SECONDS)
        finally:
            stop_process_group(process)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        printed = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(command)} failed:\n{printed}")
    return Run(seconds, peak / 2**20, sum(cpu.values()))


def prepared_project(given: Path | None, workdir: Path) -> Path:
    """The project to measure: ``given`` as it is, or a new one installed and trained."""
    if given:
        return given
    project = bake(workdir, {"package_index_url": default_package_index_url()})
    make(project, "install", timeout=1800)
    run(["poetry", "install", "--with", "spark"], project, timeout=1800)
    make(project, "pipeline", timeout=1800)
    return project


def crossover(small: int, large: int, pandas: tuple[Run, Run], spark: tuple[Run, Run]) -> str:
    """Where the two time lines (each through its two points) cross, in words."""
    slope_pandas = (pandas[1].seconds - pandas[0].seconds) / (large - small)
    slope_spark = (spark[1].seconds - spark[0].seconds) / (large - small)
    start_pandas = pandas[0].seconds - slope_pandas * small
    start_spark = spark[0].seconds - slope_spark * small
    if slope_spark >= slope_pandas:
        return "never: Spark's time per row is not below pandas' here"
    rows = (start_spark - start_pandas) / (slope_pandas - slope_spark)
    return f"about {max(rows, 0):,.0f} rows (Spark's start-up {start_spark:.1f} s)"


def main() -> None:
    """Measure and print; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="an installed, trained project to reuse")
    parser.add_argument("--rows", default="1000000,3000000,10000000", help="table sizes")
    args = parser.parse_args()
    sizes = sorted({int(rows) for rows in args.rows.split(",")})
    if len(sizes) < 2:
        parser.error("--rows: give at least two different table sizes, comma-separated")
    workdir = Path(tempfile.mkdtemp(prefix="benchmark-batch-"))
    try:
        project = prepared_project(args.project, workdir)
        pandas, spark = [], []
        for rows in sizes:
            source = workdir / f"rows-{rows}.parquet"
            run(["poetry", "run", "python", "-c", MAKE_INPUT, str(source), str(rows)], project)
            predict = ["poetry", "run", "python", "-m", f"{PACKAGE}.predict", str(source)]
            log = workdir / "command.log"
            pandas_output = workdir / "pandas.parquet"
            pandas.append(measured([*predict, "--output", str(pandas_output)], project, log))
            spark_output = workdir / f"spark-{rows}"
            spark_options = ["--engine", "spark", "--master", "local[2]"]
            spark_command = [*predict, *spark_options, "--output", str(spark_output)]
            spark.append(measured(spark_command, project, log))
            shutil.rmtree(spark_output)
            source.unlink()
            pandas_output.unlink()
            print(
                f"{rows:>12,} rows  pandas {pandas[-1].seconds:7.1f} s {pandas[-1].peak_mb:7.0f} MB"
                f" {pandas[-1].cpu_seconds:6.0f} CPU s   spark local[2] {spark[-1].seconds:7.1f} s"
                f" {spark[-1].peak_mb:7.0f} MB {spark[-1].cpu_seconds:6.0f} CPU s"
                f"   time spark/pandas {spark[-1].seconds / pandas[-1].seconds:.2f}",
                flush=True,
            )
        print("\nPeak memory as rows grow (flat: close to 1):")
        for index in range(1, len(sizes)):
            print(
                f"  {sizes[index]:>12,} vs {sizes[index - 1]:,} rows: pandas x"
                f"{pandas[index].peak_mb / pandas[index - 1].peak_mb:.2f}, spark x"
                f"{spark[index].peak_mb / spark[index - 1].peak_mb:.2f}"
            )
        where = crossover(sizes[-2], sizes[-1], (pandas[-2], pandas[-1]), (spark[-2], spark[-1]))
        print(f"Spark faster from: {where}")
        apart = sizes[-1] - sizes[-2]
        cpu_pandas = (pandas[-1].cpu_seconds - pandas[-2].cpu_seconds) / apart * 1e6
        cpu_spark = (spark[-1].cpu_seconds - spark[-2].cpu_seconds) / apart * 1e6
        cores = (pandas[-1].cpu_seconds - pandas[-2].cpu_seconds) / (
            pandas[-1].seconds - pandas[-2].seconds
        )
        print(
            f"CPU per row from {sizes[-2]:,} to {sizes[-1]:,} rows: pandas {cpu_pandas:.1f} us"
            f" (on {cores:.2f} cores), Spark {cpu_spark:.1f} us: Spark scores rows faster only"
            f" with more than {cpu_spark / cpu_pandas * cores:.1f} cores, if it used them all"
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
