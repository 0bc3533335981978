"""Print the tabular pipeline's figures on a large table of a team's own, with target ratios.

Run with `make benchmark-data`. Two measurements, in one run:

1. The data stages (ingest, align, process, build_experiment) of the default
   project on generated tables of 100,000 and 1,000,000 rows and 30 columns
   (numeric, categorical, dates; 5 % of the cells missing): wall time and peak
   memory of each stage, each in its own process as `dvc repro` runs it, and how
   both grow from one size to the other (10x the rows: linear growth is 10x).
   Targets: the non-training stages together within 15 s at 1M rows, peak memory
   under 4 GB.
2. "Own CSV to served prediction": bake a project, install it (Poetry's cache is
   warm after the first run), describe a 5,000-row CSV in two lines of
   `conf/data/`, `make pipeline`, start `make serve`, and get one prediction.
   Target: within 120 s.

Figures, not pass/fail: this machine is shared, so compare ratios across runs.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from tools.project import TEMPLATE_DIR, bake, default_package_index_url, make, run, use_dataset
from tools.servers import serve_and_predict

OUTPUT = TEMPLATE_DIR / "build" / "benchmark-data"
SIZES = (100_000, 1_000_000)
DATA_STAGES = ("ingest", "align", "process", "build_experiment")
STAGES_TARGET_S = 15.0
MEMORY_TARGET_MB = 4096.0
OWN_CSV_TARGET_S = 120.0

# Runs in the project's environment: a table with every column type and 5 % gaps.
MAKE_TABLE = """
import sys
import numpy as np, pandas as pd
rows, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
columns = {}
for index in range(20):
    columns[f"x{index}"] = rng.normal(index, 1 + index, rows).round(4)
for index in range(6):
    levels = [f"level-{level}" for level in range(3 + 10 * index)]
    columns[f"c{index}"] = rng.choice(levels, rows)
for index in range(3):
    days = rng.integers(0, 3000, rows).astype("timedelta64[D]")
    columns[f"d{index}"] = pd.Series(np.datetime64("2018-01-01") + days).dt.strftime("%Y-%m-%d")
frame = pd.DataFrame(columns)
signal = frame["x0"] + 0.5 * frame["x1"] - (frame["c0"] == "level-1") + rng.normal(0, 2, rows)
frame["label"] = np.where(signal > signal.median(), "high", "low")
gaps = rng.random((rows, len(columns))) < 0.05
frame[list(columns)] = frame[list(columns)].mask(gaps)
frame.to_csv(path, index=False)
"""

# Runs one command and prints its wall time and the peak memory of its process tree.
MEASURE = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:]).returncode
seconds = time.perf_counter() - started
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"MEASURED {code} {seconds:.3f} {peak_kb / 1024:.1f}")
"""


def measure(project: Path, command: list[str]) -> tuple[float, float]:
    """Seconds and peak megabytes of ``command``, run in ``project`` in a fresh process."""
    python = str(project / ".venv" / "bin" / "python")
    result = run([python, "-c", MEASURE, *command], project)
    code, seconds, megabytes = result.stdout.strip().splitlines()[-1].split()[1:]
    if code != "0":
        raise RuntimeError(f"{command} exited {code}:\n{result.stdout}\n{result.stderr}")
    return float(seconds), float(megabytes)


def fresh_project(folder: Path) -> Path:
    """Bake the default project into ``folder`` (replacing an earlier run's) and install it."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    project = bake(folder, {"package_index_url": default_package_index_url()})
    make(project, "install", timeout=1800)
    return project


def stage_figures(project: Path, rows: int) -> dict[str, tuple[float, float]]:
    """Seconds and peak megabytes of each data stage on a table of ``rows`` rows."""
    source = project / "data" / "sources" / f"large-{rows}.csv"
    run(["poetry", "run", "python", "-c", MAKE_TABLE, str(rows), str(source)], project)
    use_dataset(project, f"large{rows}", f"source: {source.relative_to(project)}\nlabel: label\n")
    make(project, "params")
    package = "my_ml_project"
    return {
        stage: measure(
            project,
            [
                str(project / ".venv" / "bin" / "python"),
                "-m",
                f"{package}.stages.{stage}",
                "--config-dir",
                ".",
                "--config-name",
                "params",
            ],
        )
        for stage in DATA_STAGES
    }


def own_csv_to_prediction(folder: Path) -> dict[str, float]:
    """Seconds of each step from a baked template to one served prediction."""
    steps: dict[str, float] = {}
    started = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    project = bake(folder, {"package_index_url": default_package_index_url()})
    steps["bake"] = time.perf_counter() - started
    make(project, "install", timeout=1800)
    steps["install"] = time.perf_counter() - started - sum(steps.values())
    source = project / "data" / "sources" / "visits.csv"
    run(["poetry", "run", "python", "-c", MAKE_TABLE, "5000", str(source)], project)
    use_dataset(project, "visits", "source: data/sources/visits.csv\nlabel: label\n")
    steps["configure"] = time.perf_counter() - started - sum(steps.values())
    make(project, "pipeline", timeout=1800)
    steps["pipeline"] = time.perf_counter() - started - sum(steps.values())
    serve_and_predict(project)
    steps["serve and predict"] = time.perf_counter() - started - sum(steps.values())
    return steps


def main(argv: list[str] | None = None) -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    print("Own CSV to served prediction (bake, install, configure, pipeline, serve, predict)")
    steps = own_csv_to_prediction(args.output / "own-csv")
    for step, seconds in steps.items():
        print(f"  {step:<18} {seconds:7.1f} s")
    total = sum(steps.values())
    print(
        f"  total              {total:7.1f} s  (target <= {OWN_CSV_TARGET_S:.0f} s: ratio "
        f"{total / OWN_CSV_TARGET_S:.2f})"
    )

    project = fresh_project(args.output / "large")
    figures = {rows: stage_figures(project, rows) for rows in SIZES}
    small, large = SIZES
    print(f"\nData stages on {small:,} and {large:,} rows x 30 columns (seconds, peak MB)")
    print(f"  {'stage':<18} {small:>10,} {large:>14,}   growth (x{large // small} rows)")
    for stage in DATA_STAGES:
        (s_small, m_small), (s_large, m_large) = figures[small][stage], figures[large][stage]
        print(
            f"  {stage:<18} {s_small:6.1f} s {m_small:6.0f} MB {s_large:6.1f} s {m_large:6.0f} MB"
            f"   time x{s_large / s_small:.1f}, memory x{m_large / m_small:.1f}"
        )
    seconds = sum(figures[large][stage][0] for stage in DATA_STAGES)
    peak = max(figures[large][stage][1] for stage in DATA_STAGES)
    print(
        f"  all data stages at {large:,} rows: {seconds:.1f} s "
        f"(target <= {STAGES_TARGET_S:.0f} s: ratio {seconds / STAGES_TARGET_S:.2f}); "
        f"peak {peak:.0f} MB (target < {MEMORY_TARGET_MB:.0f} MB: ratio "
        f"{peak / MEMORY_TARGET_MB:.2f})"
    )
    print("  (each stage's time includes starting Python and importing its libraries: 0.3-1.5 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
