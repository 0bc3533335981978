"""Benchmark the generated prediction service against `mlflow models serve`.

Bakes the default project (or reuses one given with ``--project``), runs its
pipeline, then serves the same champion model twice on 127.0.0.1 with the same
number of workers: our service (`make serve`, gunicorn) and MLflow's own
scoring server (`mlflow models serve --env-manager local`), one after the other.
The same load generator (threads, keep-alive http.client) sends single-row
requests to each; then a 1000-row batch, sent as records and in pandas' split
orientation, is timed against the bare model's ``predict`` on the same rows. It
prints figures and ratios; it asserts nothing.

    python -m tools.benchmark_serving [--project PATH] [--requests 3000] [--threads 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.project import bake, default_package_index_url, make, project_env, run
from tools.servers import HOST, free_port, ready_in_a_row, stop_process_group

BATCH_ROWS = 1000

BARE_PREDICT = """
import json, sys, time
import mlflow, pandas as pd
from {package}.tracking import resolve_tracking_uri
from {package}.metadata import load_metadata
mlflow.set_tracking_uri(resolve_tracking_uri(load_metadata()))
model = mlflow.sklearn.load_model(sys.argv[1])
rows = pd.read_json(sys.argv[2], orient="records")
model.predict(rows)
times = []
for _ in range(int(sys.argv[3])):
    started = time.perf_counter()
    model.predict(rows)
    times.append(time.perf_counter() - started)
print(json.dumps(times))
"""


@dataclass(frozen=True)
class LoadResult:
    """Figures of one load run."""

    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds

    def percentile(self, fraction: float) -> float:
        """Latency (seconds) below which ``fraction`` of the requests finished."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def request(
    port: int, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes, dict[str, str]]:
    """One request on a fresh connection: status, body and headers."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request(method, path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


@contextmanager
def server(
    command: Sequence[str], project: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` in its own process group; stop the whole group afterwards."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            list(command),
            cwd=project,
            env=project_env(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        except RuntimeError:
            log.seek(0)
            print(log.read().decode(errors="replace")[-3000:])
            raise
        finally:
            stop_process_group(process, timeout=60)


def load(port: int, path: str, body: bytes, total: int, threads: int) -> LoadResult:
    """Send ``total`` POSTs from ``threads`` keep-alive clients; time each one."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client(count: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        mine, failed = [], 0
        for _ in range(count):
            started = time.perf_counter()
            try:
                connection.request("POST", path, body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                failed += response.status != 200
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    per_thread = total // threads
    workers = [threading.Thread(target=client, args=(per_thread,)) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return LoadResult(per_thread * threads, errors[0], time.perf_counter() - started, latencies)


def batch_seconds(port: int, path: str, body: bytes, repeats: int) -> dict[str, float]:
    """Medians of one large POST sent ``repeats`` times, one after the other, in seconds.

    ``client`` is the whole request as the client sees it; the others come from the
    service's ``Server-Timing`` header: ``app`` is its own time for the request, and
    ``read``, ``parse`` and ``model`` are the parts of it.
    """
    times: dict[str, list[float]] = {}
    for _ in range(repeats):
        started = time.perf_counter()
        status, raw, headers = request(port, "POST", path, body)
        times.setdefault("client", []).append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"batch request failed with {status}: {raw[:500]!r}")
        for metric in headers["Server-Timing"].split(", "):
            step, milliseconds = metric.split(";dur=")
            times.setdefault(step, []).append(float(milliseconds) / 1000)
    return {step: statistics.median(values) for step, values in times.items()}


def prepared_project(output: Path, existing: Path | None) -> Path:
    """A baked, installed project whose pipeline has registered a champion."""
    if existing is not None:
        return existing
    project = bake(output, {"package_index_url": default_package_index_url()})
    make(project, "install")
    make(project, "pipeline", timeout=1800)
    return project


def describe(name: str, result: LoadResult) -> str:
    """One line of the single-row table."""
    return (
        f"  {name:<22} {result.rate:>9.1f} req/s   p50 {result.percentile(0.5) * 1000:>7.1f} ms"
        f"   p99 {result.percentile(0.99) * 1000:>7.1f} ms   errors {result.errors}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--project", type=Path, help="a baked project with a champion model")
    parser.add_argument("--output", type=Path, default=Path("build/benchmark-serving"))
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-repeats", type=int, default=10)
    args = parser.parse_args(argv)

    args.output.mkdir(parents=True, exist_ok=True)
    project = prepared_project(args.output, args.project)
    package = project.name.replace("-", "_")
    uri = f"models:/{project.name}@champion"
    tracking_uri = run(
        ["poetry", "run", "python", "-m", f"{package}.tracking"], project
    ).stdout.strip()
    env = {"MLFLOW_TRACKING_URI": tracking_uri, "WORKERS": str(args.workers), "HOST": HOST}

    ours_port = free_port()
    ours_env = {**env, "PORT": str(ours_port)}
    with server(["make", "--no-print-directory", "serve"], project, ours_env) as process:
        ready_in_a_row(ours_port, "/ready", process, timeout=600)
        example: list[dict[str, Any]] = json.loads(request(ours_port, "GET", "/model")[1])[
            "input_example"
        ]
        ours = load(
            ours_port, "/predict", json.dumps(example).encode(), args.requests, args.threads
        )
        print(describe("our service (gunicorn)", ours), flush=True)
        rows = example * BATCH_ROWS
        names = list(example[0])
        bodies = {
            "records": json.dumps(rows),
            "split": json.dumps({"columns": names, "data": [[r[n] for n in names] for r in rows]}),
        }
        batches = {
            shape: batch_seconds(ours_port, "/predict", body.encode(), args.batch_repeats)
            for shape, body in bodies.items()
        }

    mlflow_port = free_port()
    mlflow_command = [
        "poetry", "run", "mlflow", "models", "serve", "--env-manager", "local", "-m", uri,
        "-h", HOST, "-p", str(mlflow_port), "--workers", str(args.workers),
    ]  # fmt: skip
    with server(mlflow_command, project, env) as process:
        ready_in_a_row(mlflow_port, "/ping", process, timeout=600)
        body = json.dumps({"dataframe_records": example}).encode()
        theirs = load(mlflow_port, "/invocations", body, args.requests, args.threads)
        print(describe("mlflow models serve", theirs), flush=True)

    rows_file = args.output / "batch_rows.json"
    rows_file.write_text(bodies["records"], encoding="utf-8")
    script = BARE_PREDICT.format(package=package)
    command = ["poetry", "run", "python", "-c", script, uri, str(rows_file.resolve())]
    command.append(str(args.batch_repeats))
    output = run(command, project, env={"MLFLOW_TRACKING_URI": tracking_uri}).stdout
    bare = json.loads(output.strip().splitlines()[-1])
    bare_batch = statistics.median(bare)

    print(f"\nSingle-row requests: {args.requests} per server, {args.threads} client threads,")
    print(f"{args.workers} workers each, model {uri}, on {os.cpu_count()} CPU(s)")
    print(describe("our service (gunicorn)", ours))
    print(describe("mlflow models serve", theirs))
    rate_ratio = ours.rate / theirs.rate
    p99_ratio = ours.percentile(0.99) / theirs.percentile(0.99)
    print(f"  requests/s ratio ours/mlflow: {rate_ratio:.2f}  (target >= 2.0)")
    print(f"  p99 ratio ours/mlflow:        {p99_ratio:.2f}  (target <= 0.5)")
    print(f"\n{BATCH_ROWS}-row batch (median of {args.batch_repeats}):")
    print(f"  bare model.predict:           {bare_batch * 1000:8.1f} ms")
    for shape, seconds in batches.items():
        size = len(bodies[shape].encode()) / 1000
        parts = ", ".join(
            f"{step} {seconds[step] * 1000:.1f}" for step in ("read", "parse", "model")
        )
        print(f"  {shape} body ({size:.0f} kB):")
        print(f"    service's own time:         {seconds['app'] * 1000:8.1f} ms  (Server-Timing)")
        print(f"      of which (ms):            {parts}")
        print(f"    whole request:              {seconds['client'] * 1000:8.1f} ms  (client side)")
        print(f"    ratio service time/bare:    {seconds['app'] / bare_batch:.2f}  (target <= 1.5)")
        print(f"    ratio whole request/bare:   {seconds['client'] / bare_batch:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
