"""Benchmark the generated prediction service against `mlflow models serve`.

Bakes the default project (or reuses one given with ``--project``), runs its
pipeline, then serves the same champion model twice on 127.0.0.1 with the same
number of workers: our service (`make serve`, gunicorn) and MLflow's own
scoring server (`mlflow models serve --env-manager local`), one after the other.
The same load generator (threads, keep-alive http.client) sends single-row
requests to each; then a 1000-row batch, sent as records and in pandas' split
orientation, is timed against the bare model's ``predict`` on the same rows, in
short rounds whose ratios pair figures taken seconds apart, so that load from
elsewhere on the machine falls on both. It prints figures and ratios; it asserts
nothing.

    python -m tools.benchmark_serving [--project PATH] [--requests 3000] [--threads 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.project import bake, default_package_index_url, make, project_env, run
from tools.servers import HOST, free_port, ready_in_a_row, stop_process_group

BATCH_ROWS = 1000
WARM_UP = 3  # untimed calls before each run of timed ones, so that each is timed warm

# The bare model in a process of its own: each line read is a number of predicts to
# time back to back; it answers with their times (seconds) as a JSON list.
BARE_PREDICT = """
import json, sys, time
import mlflow, pandas as pd
from {package}.tracking import resolve_tracking_uri
from {package}.metadata import load_metadata
mlflow.set_tracking_uri(resolve_tracking_uri(load_metadata()))
model = mlflow.sklearn.load_model(sys.argv[1])
rows = pd.read_json(sys.argv[2], orient="records")
model.predict(rows)
print("ready", flush=True)
for line in sys.stdin:
    times = []
    for _ in range(int(line)):
        started = time.perf_counter()
        model.predict(rows)
        times.append(time.perf_counter() - started)
    print(json.dumps(times), flush=True)
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


def timed_post(port: int, path: str, body: bytes) -> dict[str, float]:
    """One POST's times in seconds.

    ``client`` is the whole request as the client sees it; the others come from the
    service's ``Server-Timing`` header: ``app`` is its own time for the request, and
    ``read``, ``parse`` and ``model`` are the parts of it.
    """
    started = time.perf_counter()
    status, raw, headers = request(port, "POST", path, body)
    times = {"client": time.perf_counter() - started}
    if status != 200:
        raise RuntimeError(f"batch request failed with {status}: {raw[:500]!r}")
    for metric in headers["Server-Timing"].split(", "):
        step, milliseconds = metric.split(";dur=")
        times[step] = float(milliseconds) / 1000
    return times


@contextmanager
def bare_model(
    project: Path, package: str, uri: str, rows_file: Path, env: dict[str, str]
) -> Iterator[Callable[[int], list[float]]]:
    """A function that times ``n`` bare ``model.predict`` calls on the rows in ``rows_file``."""
    command = ["poetry", "run", "python", "-c", BARE_PREDICT.format(package=package)]
    process = subprocess.Popen(
        [*command, uri, str(rows_file.resolve())],
        cwd=project,
        env=project_env(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    def predict(n: int) -> list[float]:
        stdin.write(f"{n}\n")
        stdin.flush()
        times: list[float] = json.loads(stdout.readline())
        return times

    try:
        if stdout.readline().strip() != "ready":
            raise RuntimeError("the bare model did not load; see the error above")
        yield predict
    finally:
        stdin.close()
        process.wait(timeout=60)


@dataclass(frozen=True)
class BatchFigures:
    """Times of one batch body, and its service time over the bare predict's."""

    medians: dict[str, float]  # seconds: client, app, read, parse, model
    ratios: list[float]  # per round: the body's median app time / the bare median

    @property
    def ratio(self) -> float:
        """The median of the rounds' ratios."""
        return statistics.median(self.ratios)


def batch_figures(
    port: int,
    bodies: dict[str, bytes],
    bare: Callable[[int], list[float]],
    rounds: int,
    per_round: int,
) -> tuple[dict[str, BatchFigures], float]:
    """Each body's figures, and the median bare predict time in seconds.

    Every round times ``per_round`` requests of each body and as many bare predicts,
    each series back to back after ``WARM_UP`` untimed calls, so every figure is that
    of a warm process; the series take turns at going first. A round's ratio pairs
    a body with the bare predict timed seconds apart, so a change in the machine's
    speed between rounds (up to 1.7x within the hour here) falls on both sides.
    """
    series: list[str | None] = [*bodies, None]  # None: the bare predict
    times: dict[str, dict[str, list[float]]] = {shape: {} for shape in bodies}
    ratios: dict[str, list[float]] = {shape: [] for shape in bodies}
    bare_times: list[float] = []
    for number in range(rounds):
        turn = number % len(series)
        round_app: dict[str, float] = {}
        round_bare = 0.0
        for shape in series[turn:] + series[:turn]:
            if shape is None:
                timed_bare = bare(WARM_UP + per_round)[WARM_UP:]
                bare_times += timed_bare
                round_bare = statistics.median(timed_bare)
                continue
            apps = []
            for call in range(WARM_UP + per_round):
                timed = timed_post(port, "/predict", bodies[shape])
                if call < WARM_UP:
                    continue
                apps.append(timed["app"])
                for step, seconds in timed.items():
                    times[shape].setdefault(step, []).append(seconds)
            round_app[shape] = statistics.median(apps)
        for shape, app in round_app.items():
            ratios[shape].append(app / round_bare)
    figures = {
        shape: BatchFigures(
            {step: statistics.median(values) for step, values in times[shape].items()},
            ratios[shape],
        )
        for shape in bodies
    }
    return figures, statistics.median(bare_times)


def prepared_project(output: Path, existing: Path | None) -> Path:
    """A baked, installed project whose pipeline has registered a champion."""
    if existing is not None:
        return existing
    folder = output / "project"  # a fresh bake each run, so the current template is measured
    if folder.exists():
        print(f"Removing the project of an earlier run: {folder}", flush=True)
        shutil.rmtree(folder)
    project = bake(folder, {"package_index_url": default_package_index_url()})
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
    parser.add_argument("--batch-rounds", type=int, default=12)
    parser.add_argument("--batch-repeats", type=int, default=5, help="per round")
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
        split = {"columns": names, "data": [[row[name] for name in names] for row in rows]}
        bodies = {"records": json.dumps(rows).encode(), "split": json.dumps(split).encode()}
        rows_file = args.output / "batch_rows.json"
        rows_file.write_bytes(bodies["records"])
        bare_env = {"MLFLOW_TRACKING_URI": tracking_uri}
        with bare_model(project, package, uri, rows_file, bare_env) as bare:
            batches, bare_batch = batch_figures(
                ours_port, bodies, bare, args.batch_rounds, args.batch_repeats
            )

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

    print(f"\nSingle-row requests: {args.requests} per server, {args.threads} client threads,")
    print(f"{args.workers} workers each, model {uri}, on {os.cpu_count()} CPU(s)")
    print(describe("our service (gunicorn)", ours))
    print(describe("mlflow models serve", theirs))
    rate_ratio = ours.rate / theirs.rate
    p99_ratio = ours.percentile(0.99) / theirs.percentile(0.99)
    print(f"  requests/s ratio ours/mlflow: {rate_ratio:.2f}  (target >= 2.0)")
    print(f"  p99 ratio ours/mlflow:        {p99_ratio:.2f}  (target <= 0.5)")
    print(
        f"\n{BATCH_ROWS}-row batch ({args.batch_rounds} rounds of {args.batch_repeats} calls"
        " of each series; medians):"
    )
    print(f"  bare model.predict:           {bare_batch * 1000:8.1f} ms")
    for shape, figures in batches.items():
        size = len(bodies[shape]) / 1000
        seconds = figures.medians
        parts = ", ".join(
            f"{step} {seconds[step] * 1000:.1f}" for step in ("read", "parse", "model")
        )
        spread = f"{min(figures.ratios):.2f}-{max(figures.ratios):.2f}"
        print(f"  {shape} body ({size:.0f} kB):")
        print(f"    service's own time:         {seconds['app'] * 1000:8.1f} ms  (Server-Timing)")
        print(f"      of which (ms):            {parts}")
        print(f"    whole request:              {seconds['client'] * 1000:8.1f} ms  (client side)")
        print(f"    ratio whole request/bare:   {seconds['client'] / bare_batch:.2f}")
        print(f"    ratio service time/bare:    {seconds['app'] / bare_batch:.2f}  (medians)")
        print(
            f"    the same, paired by round:  {figures.ratio:.2f}  (median; rounds {spread})"
            "  (target <= 1.5)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
