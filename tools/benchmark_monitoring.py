"""Benchmark the monitoring loop of the generated project: the monitor and the prediction log.

Bakes the default project (or reuses one given with ``--project``) and runs its
pipeline, then prints, side by side:

1. the monitor over 1,000,000 logged predictions (training rows, resampled, written
   through the project's own ``PredictionLog``): the whole ``-monitor`` command as
   ``make monitor`` runs it (``poetry run``), first with the model's reference fetched
   from MLflow, then with the copy the first run kept, and its parts (reading the log,
   comparing with the reference), against the target of 10 s;
2. the service's single-row requests per second with the prediction log at sample
   rate 1.0 against logging off (``LOG_SAMPLE_RATE=0``), same workers and load, in
   alternating rounds whose ratios pair figures taken seconds apart; target 0.9.

It prints figures and ratios; it asserts nothing.

    python -m tools.benchmark_monitoring [--project PATH] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from tools.benchmark_serving import prepared_project, server
from tools.project import run
from tools.servers import HOST, free_port, ready_in_a_row
from tools.wrk import run_wrk

MONITOR_TARGET_SECONDS = 10.0
LOGGING_TARGET_RATIO = 0.9

# In the project: log ``rows`` predictions of resampled training rows under the
# champion's name, version and run, as the service would; print the log folder.
WRITE_LOG = """
import sys, time
import mlflow, pandas as pd
from mlflow import MlflowClient
from {package}.config import compose_config
from {package}.data.column_types import model_input
from {package}.data.experiment import TRAIN_FILE, ExperimentData
from {package}.metadata import load_metadata
from {package}.prediction_log import LogSettings, PredictionLog
from {package}.tracking import resolve_tracking_uri, registered_model_name
metadata = load_metadata()
mlflow.set_tracking_uri(resolve_tracking_uri(metadata))
config = compose_config(root=metadata.root)
name = registered_model_name(config, metadata)
version = MlflowClient().get_model_version_by_alias(name, "champion")
folder = metadata.stage_dir("experiment") / str(config.data.name)
experiment = ExperimentData.read(folder)
rows = int(sys.argv[1])
train = model_input(pd.read_parquet(folder / TRAIN_FILE), experiment.features)
sample = train.sample(n=rows, replace=True, random_state=0).reset_index(drop=True)
model = mlflow.pyfunc.load_model(f"models:/{{name}}/{{version.version}}")
predictions = list(model.predict(sample))
log_dir = metadata.prediction_log_dir(name)
settings = LogSettings(log_dir, max_bytes=256 * 1024 * 1024)
log = PredictionLog(settings, name, version.version, version.run_id)
records = sample.to_dict("records")
started = time.perf_counter()
for start in range(0, rows, 1000):
    log.write(f"bench-{{start}}", records[start:start + 1000], predictions[start:start + 1000])
log.close()
print(log_dir)
print(f"{{time.perf_counter() - started:.2f}}", file=sys.stderr)
"""

# In the project: time the monitor's parts on the log just written.
MONITOR_PARTS = """
import json, sys, tempfile, time
from pathlib import Path
from {package}.config import compose_config
from {package}.metadata import load_metadata
from {package}.monitoring.comparison import compare
from {package}.monitoring.lineage import Lineage
from {package}.monitoring.samples import profile
from {package}.monitoring.settings import Thresholds
from {package}.prediction_log import file_model, log_files, read_logs
from {package}.tracking import resolve_tracking_uri, registered_model_name
metadata = load_metadata()
name = registered_model_name(compose_config(root=metadata.root), metadata)
files = log_files(metadata.prediction_log_dir(name))
run_id, version = file_model(files[0])
lineage = Lineage(resolve_tracking_uri(metadata))
reference = lineage.fetch_reference(Path(tempfile.mkdtemp()), run_id, name, version)
started = time.perf_counter()
logged = read_logs(files, reference.feature_types)
read = time.perf_counter() - started
started = time.perf_counter()
columns = dict(reference.feature_types)
result = compare(profile(reference.inputs, columns), logged.inputs, columns, Thresholds())
compared = time.perf_counter() - started
print(json.dumps({{"rows": len(logged), "read": read, "compare": compared}}))
"""


def package_of(project: Path) -> str:
    return next(path.name for path in (project / "src").iterdir() if path.is_dir())


def monitor_figures(project: Path, rows: int) -> dict[str, float]:
    """Seconds to write the log, to run the whole monitor command (twice), and its parts."""
    package = package_of(project)
    python = ["poetry", "run", "python", "-c"]
    for old in (project / "monitoring").rglob("*.jsonl*"):
        old.unlink()
    written = run([*python, WRITE_LOG.format(package=package), str(rows)], project, timeout=3600)
    shutil.rmtree(project / "monitoring" / "references", ignore_errors=True)
    command = {}
    for state in ("cold", "warm"):  # cold: the reference comes from MLflow; warm: its copy
        started = time.perf_counter()
        result = run(["poetry", "run", f"{project.name}-monitor"], project, check=False)
        command[state] = time.perf_counter() - started
        if result.returncode not in (0, 3):
            raise RuntimeError(result.stdout + result.stderr)
    parts = json.loads(
        run([*python, MONITOR_PARTS.format(package=package)], project, timeout=3600).stdout
    )
    return {
        "write": float(written.stderr.strip().splitlines()[-1]),
        "cold": command["cold"],
        "warm": command["warm"],
        "read": parts["read"],
        "compare": parts["compare"],
        "rows": parts["rows"],
    }


def logging_rates(
    project: Path, rounds: int, seconds: int, connections: int, workers: int
) -> list[tuple[float, float]]:
    """Requests per second with logging on and off, one pair per round (order alternating)."""
    body = None
    pairs = []
    for number in range(rounds):
        rates = {}
        for rate in ("1.0", "0") if number % 2 == 0 else ("0", "1.0"):
            port = free_port()
            env = {
                "PORT": str(port),
                "HOST": HOST,
                "WORKERS": str(workers),
                "LOG_SAMPLE_RATE": rate,
            }
            with server(["make", "--no-print-directory", "serve"], project, env) as process:
                ready_in_a_row(port, "/ready", process, timeout=300)
                if body is None:
                    body = json.dumps(_example(port)).encode()
                url = f"http://{HOST}:{port}/predict"
                run_wrk(url, body, connections, 1)  # warm up
                rates[rate] = run_wrk(url, body, connections, seconds).rate
        pairs.append((rates["1.0"], rates["0"]))
    return pairs


def _example(port: int) -> object:
    import http.client

    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    connection.request("GET", "/model")
    card = json.loads(connection.getresponse().read())
    connection.close()
    return card["input_example"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--project", type=Path, help="a baked project with a champion model")
    parser.add_argument("--output", type=Path, default=Path("build/benchmark-monitoring"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=6, help="per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    project = prepared_project(args.output.resolve(), args.project)

    figures = monitor_figures(project, args.rows)
    print(f"\nThe monitor over {int(figures['rows']):,} logged predictions:")
    print(f"  writing the log (PredictionLog) {figures['write']:>8.2f} s")
    print(f"  reading the log                 {figures['read']:>8.2f} s")
    print(f"  comparing with the reference    {figures['compare']:>8.2f} s")
    for state, what in (("cold", "first run, reference from MLflow"), ("warm", "reference copied")):
        seconds = figures[state]
        print(
            f"  the -monitor command, {what:<33} {seconds:>6.2f} s   target "
            f"{MONITOR_TARGET_SECONDS:.0f} s   ratio {seconds / MONITOR_TARGET_SECONDS:.2f}"
        )

    pairs = logging_rates(project, args.rounds, args.seconds, args.connections, args.workers)
    print(
        f"\nSingle-row requests/s, {args.workers} workers, wrk with {args.connections} connections:"
    )
    for number, (on, off) in enumerate(pairs, 1):
        print(f"  round {number}: logging on {on:>8.1f}   off {off:>8.1f}   ratio {on / off:.3f}")
    ratio = statistics.median(on / off for on, off in pairs)
    print(f"  median ratio {ratio:.3f}   target >= {LOGGING_TARGET_RATIO}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
